"""Span tagging in the browser: spans made by keyboard and by mouse, stored as code points."""

import pytest

from tests.browser.test_workbench_kinds import open_workbench, setup_project, shown_item, stored

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = "Ada Lovelace wrote to Charles Babbage in London."


def test_spans_are_tagged_by_keyboard_and_mouse_and_stored_as_code_points(
    live_server, page, screenshot
):
    project, rater = setup_project(
        "span_tagging",
        {"labels": [{"value": "PER", "label": "Person"}, {"value": "LOC", "label": "Place"}]},
        [{"text": TEXT, "context": "From a letter"}],
    )
    for text in ("🙂 Zoë met Ada.", "Nothing <b>here</b>."):
        project.items.create(data={"text": text})
    open_workbench(page, live_server.url, project, "span-tagging", screenshot)

    # Keyboard: the cursor starts on the first word.
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("1")  # Ada Lovelace: Person
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("1")  # Charles Babbage: Person
    page.keyboard.press("ArrowRight")
    page.keyboard.press("2")  # London: Place
    page.keyboard.press("1")  # the full stop, by mistake...
    page.keyboard.press("x")  # ...and taken back
    assert page.locator("#wb-item-slot .span-list li").count() == 3
    screenshot("workbench-span-tagging-tagged")
    on_screen = page.locator("#wb-item-slot .wb-panel").get_attribute("data-item")
    page.keyboard.press("Enter")
    (first,) = stored(rater, 1)
    assert first.value == {
        "spans": [
            {"start": 0, "end": 12, "label": "PER", "text": "Ada Lovelace"},
            {"start": 22, "end": 37, "label": "PER", "text": "Charles Babbage"},
            {"start": 41, "end": 47, "label": "LOC", "text": "London"},
        ]
    }

    # Mouse: a double click selects a word; its offsets count the emoji as one character.
    page.wait_for_function(
        "id => document.querySelector('#wb-item-slot .wb-panel')?.dataset.item != id",
        arg=on_screen,
    )
    item_id = shown_item(page)
    texts = {i.pk: i.data["text"] for i in project.items.all()}
    if texts[item_id].startswith("Nothing"):
        page.keyboard.press("Enter")  # nothing to tag here
        stored(rater, 2)
        page.locator("#wb-item-slot .tok", has_text="Zoë").wait_for()
    page.locator("#wb-item-slot .tok", has_text="Zoë").dblclick()
    page.locator("#wb-item-slot .span-label", has_text="Person").click()
    page.keyboard.press("Enter")
    rows = stored(rater, 2)
    zoe = next(r for r in rows if texts[r.item_id].startswith("🙂"))
    assert zoe.value == {"spans": [{"start": 2, "end": 5, "label": "PER", "text": "Zoë"}]}

    if len(rows) == 2:
        slot = page.locator("#wb-item-slot")
        slot.locator(".tok", has_text="here").wait_for()
        assert "<b>" not in slot.locator(".span-text").inner_html()
        page.keyboard.press("Enter")
        rows = stored(rater, 3)
    empty = next(r for r in rows if texts[r.item_id].startswith("Nothing"))
    assert empty.value == {"spans": []}
