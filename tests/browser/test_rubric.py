"""Rubric rating by keyboard only, per assistant turn, checked in the database."""

import time

import pytest

from annotation.models import Annotation
from tests.browser.test_workbench_kinds import open_workbench, setup_project, stored

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCHEMA = {
    "target": "turns",
    "scale": 5,
    "low_label": "Bad",
    "high_label": "Great",
    "criteria": [
        {"name": "helpfulness", "description": "Does it move the user forward?"},
        {"name": "honesty", "rationale": "required"},
    ],
}
CONVERSATION = {
    "conversation": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "How do I loop in Python?"},
        {
            "role": "assistant",
            "content": "Use `for`:\n\n```python\nfor i in range(3):\n    print(i)\n```",
        },
        {"role": "user", "content": "And <script>alert(1)</script>?"},
        {"role": "assistant", "content": "That is **not** Python."},
    ]
}


def rubric_project():
    return setup_project("rubric", SCHEMA, [CONVERSATION])


def message(page) -> str:
    box = page.locator("#wb-item-slot .client-error")
    box.wait_for()
    return box.inner_text()


def test_a_conversation_is_rated_turn_by_turn_by_keyboard_only(live_server, page, screenshot):
    project, rater = rubric_project()
    open_workbench(page, live_server.url, project, "rubric", screenshot)
    slot = page.locator("#wb-item-slot")
    assert "<script>" not in slot.inner_html() and slot.locator("pre code").is_visible()
    # 4 rates turn 1's helpfulness and moves on to its honesty; 2 rates that and moves on
    # to turn 2. Up goes back to turn 1's honesty to write why; digits typed there are text.
    for key in ("4", "2", "ArrowUp", "r"):
        page.keyboard.press(key)
    page.keyboard.type("hedged 3 times")
    page.keyboard.press("Escape")
    for key in ("ArrowDown", "5", "3", "r"):
        page.keyboard.press(key)
    page.keyboard.type("plain")
    page.keyboard.press("Escape")
    screenshot("workbench-rubric-answered")
    page.keyboard.press("Enter")
    (row,) = stored(rater, 1)
    assert row.value == {
        "ratings": [
            {
                "scores": {"helpfulness": 4, "honesty": 2},
                "rationales": {"honesty": "hedged 3 times"},
            },
            {"scores": {"helpfulness": 5, "honesty": 3}, "rationales": {"honesty": "plain"}},
        ]
    }


def test_enter_without_a_required_rationale_does_not_submit_and_says_why(
    live_server, page, screenshot
):
    project, rater = rubric_project()
    open_workbench(page, live_server.url, project, "rubric-missing", screenshot)
    page.keyboard.press("4")
    page.keyboard.press("Enter")
    assert message(page) == "Rate Honesty (turn 1) first."
    for key in ("2", "5", "3", "Enter"):
        page.keyboard.press(key)
    assert message(page) == (
        "Write why you rated Honesty (turn 1) as you did: a rationale is required."
    )
    screenshot("workbench-rubric-missing-rationale")
    # The check put the cursor in that rationale; Ctrl+Enter submits from it.
    page.keyboard.type("hedged")
    page.keyboard.press("Control+Enter")
    assert message(page) == (
        "Write why you rated Honesty (turn 2) as you did: a rationale is required."
    )
    time.sleep(0.5)
    assert not Annotation.objects.exists()
    page.keyboard.type("plain")
    page.keyboard.press("Control+Enter")
    (row,) = stored(rater, 1)
    assert row.value["ratings"][1]["rationales"] == {"honesty": "plain"}
    assert row.value["ratings"][0]["scores"] == {"helpfulness": 4, "honesty": 2}
