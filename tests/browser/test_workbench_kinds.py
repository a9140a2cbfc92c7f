"""Each label kind driven by keyboard only, checked in the database, at 1280px and 800px."""

import time

import pytest

from annotation.models import Annotation, Assignment
from tasks import schema as schemas
from tasks.ids import decode_item_id, encode_item_id
from tasks.models import Guideline
from tests.browser.conftest import log_in
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CODE = "Use a loop:\n\n```python\nfor i in range(3):\n    print(i)\n```\n\n<script>x</script>"


def setup_project(kind, schema, items, **extra):
    project = ProjectFactory(
        name=f"{schemas.KIND_LABELS[kind]} demo",
        kind=kind,
        schema=schemas.schema_validate(kind, schema),
        overlap=1,
        **extra,
    )
    for data in items:
        ItemFactory(project=project, data=data)
    rater = UserFactory(username="rita")
    MembershipFactory(project=project, user=rater)
    Guideline.objects.create(
        project=project, version=1, body="# Be kind\n\nPrefer **helpful** answers."
    )
    from tasks.models import GuidelineAck

    GuidelineAck.objects.create(guideline=project.guidelines.get(), user=rater)
    return project, rater


def stored(rater, n, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = list(Annotation.objects.filter(rater=rater).order_by("id"))
        if len(rows) >= n:
            return rows
        time.sleep(0.1)
    raise AssertionError(f"expected {n} annotations, found {len(rows)}")


def open_workbench(page, base, project, name, screenshot):
    log_in(page, base, "rita")
    page.goto(f"{base}/projects/{project.pk}/label/")
    page.locator("#wb-item-slot .wb-panel").wait_for()
    screenshot(f"workbench-{name}-1280")
    page.set_viewport_size({"width": 800, "height": 900})
    screenshot(f"workbench-{name}-800")
    page.set_viewport_size({"width": 1280, "height": 800})


def shown_item(page) -> int:
    """The database id of the item on screen (the page shows its public id)."""
    return decode_item_id(int(page.locator("#wb-item-slot .wb-panel").get_attribute("data-item")))


def test_pairwise_by_keyboard_stores_the_derandomised_choice(live_server, page, screenshot):
    project, rater = setup_project(
        schemas.PAIRWISE,
        {"strength": "labels", "flags": ["unsafe"], "rationale": "optional"},
        [
            {
                "prompt": [{"role": "user", "content": "How do I loop?"}],
                "response_a": CODE,
                "response_b": "Just **repeat** it.",
            },
            {"prompt": "Say hi", "response_a": "Hi", "response_b": "Hello there"},
        ],
    )
    open_workbench(page, live_server.url, project, "pairwise", screenshot)
    assert page.locator("pre code").first.is_visible()
    assert "<script>" not in page.locator("#wb-item-slot").inner_html()
    first = shown_item(page)
    swapped = Assignment.objects.get(item_id=first).presentation["swapped"]
    # "1" picks the side shown as A, "3" says much better; r opens the rationale box.
    page.keyboard.press("1")
    page.keyboard.press("3")
    page.keyboard.press("r")
    page.keyboard.type("clearer")
    page.keyboard.press("Escape")
    screenshot("workbench-pairwise-answered")
    page.keyboard.press("Enter")
    page.wait_for_function(
        f"document.querySelector('#wb-item-slot .wb-panel').dataset.item != '{encode_item_id(first)}'"
    )
    second = shown_item(page)
    page.keyboard.press("3")  # tie: no strength step
    page.keyboard.press("Enter")
    rows = stored(rater, 2)
    assert rows[0].item_id == first
    assert rows[0].value == {
        "choice": "B" if swapped else "A",
        "strength": 3,
        "flags": {"A": [], "B": []},
        "rationale": "clearer",
    }
    assert rows[0].presentation == {"swapped": swapped}
    assert rows[1].item_id == second and rows[1].value["choice"] == "tie"


def test_likert_by_keyboard_rates_every_dimension(live_server, page, screenshot):
    project, rater = setup_project(
        schemas.LIKERT,
        {"scale": 5, "dimensions": ["helpfulness", "honesty", "harmlessness"]},
        [{"text": "The answer explains the loop well."}],
    )
    open_workbench(page, live_server.url, project, "likert", screenshot)
    for key in ("4", "5", "2"):
        page.keyboard.press(key)
    page.keyboard.press("ArrowUp")
    page.keyboard.press("3")  # re-rate honesty
    page.keyboard.press("Enter")
    (row,) = stored(rater, 1)
    assert row.value == {"helpfulness": 4, "honesty": 3, "harmlessness": 2}


def test_ranking_by_keyboard_with_a_tie(live_server, page, screenshot):
    project, rater = setup_project(
        schemas.RANKING,
        {"allow_ties": True},
        [{"prompt": "Name a fruit", "responses": ["apple", "stone", "pear", "banana"]}],
    )
    open_workbench(page, live_server.url, project, "ranking", screenshot)
    order = [
        int(i)
        for i in page.locator(".rank-card").evaluate_all("cs => cs.map(c => c.dataset.index)")
    ]
    # Move the card shown last to the top, then tie the card shown third with the one above.
    page.keyboard.press("4")
    for _ in range(3):
        page.keyboard.press("ArrowUp")
    page.keyboard.press("3")
    page.keyboard.press("t")
    screenshot("workbench-ranking-ordered")
    page.keyboard.press("Enter")
    (row,) = stored(rater, 1)
    shown = [order[3], order[0], order[1], order[2]]
    assert row.value == {"ranking": [[shown[0]], [shown[1]], sorted([shown[2], shown[3]])]}


def test_demonstration_by_keyboard_shows_the_diff_and_stores_the_text(
    live_server, page, screenshot
):
    project, rater = setup_project(
        schemas.DEMONSTRATION,
        {},
        [{"prompt": "Greet the user", "draft": "Hello there user"}],
    )
    open_workbench(page, live_server.url, project, "demonstration", screenshot)
    page.keyboard.press("e")
    page.keyboard.press("Control+a")
    page.keyboard.type("Hello there, dear user")
    page.locator(".diff ins").first.wait_for()
    screenshot("workbench-demonstration-diff")
    page.keyboard.press("Control+Enter")
    (row,) = stored(rater, 1)
    assert row.value == {"text": "Hello there, dear user"}


def test_multi_choice_skip_undo_and_guidelines_by_keyboard(live_server, page, screenshot):
    project, rater = setup_project(
        schemas.MULTI_CHOICE,
        {"choices": ["spam", "offensive", "off-topic"]},
        [{"text": f"comment {i}"} for i in range(4)],
    )
    open_workbench(page, live_server.url, project, "multi-choice", screenshot)
    page.keyboard.press("g")
    page.locator("#guidelines").get_by_text("Prefer").wait_for()
    screenshot("workbench-guidelines-drawer")
    page.keyboard.press("Escape")
    first = shown_item(page)
    page.keyboard.press("1")
    page.keyboard.press("3")
    page.keyboard.press("Enter")
    page.wait_for_function(
        f"document.querySelector('#wb-item-slot .wb-panel').dataset.item != '{encode_item_id(first)}'"
    )
    stored(rater, 1)
    page.keyboard.press("u")
    page.wait_for_function(
        f"document.querySelector('#wb-item-slot .wb-panel').dataset.item == '{encode_item_id(first)}'"
    )
    assert Annotation.objects.filter(rater=rater).count() == 0
    assert page.locator('input[value="spam"]').is_checked()  # the undone answer comes back
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    (row,) = stored(rater, 1)
    assert row.value == ["spam", "offensive", "off-topic"]
    skipped = shown_item(page)
    page.keyboard.press("s")
    page.keyboard.type("unreadable")
    page.keyboard.press("Enter")
    page.wait_for_function(
        f"document.querySelector('#wb-item-slot .wb-panel').dataset.item != '{encode_item_id(skipped)}'"
    )
    assert Assignment.objects.get(item_id=skipped, rater=rater).skip_reason == "unreadable"
