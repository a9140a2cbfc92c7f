"""The workbench never loses work: a refused answer comes back as typed, with the focus where
it was, a random starting order is never sent as a ranking by accident, and no choice can
take a key the workbench uses."""

import time

import pytest
from django.contrib.auth.models import Permission

from annotation.models import Annotation, Assignment
from tasks import schema as schemas
from tasks.models import Project
from tests.browser.conftest import log_in
from tests.browser.test_workbench_kinds import open_workbench, setup_project, stored
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_refused_demonstration_keeps_its_text_and_focus_so_letters_stay_text(
    live_server, page, screenshot
):
    project, rater = setup_project(
        schemas.DEMONSTRATION,
        {"min_length": 30},
        [{"prompt": "Greet the user", "draft": ""}, {"prompt": "Say goodbye", "draft": ""}],
    )
    open_workbench(page, live_server.url, project, "work-kept", screenshot)
    page.keyboard.press("e")
    page.keyboard.type("Hello there")
    page.keyboard.press("Control+Enter")
    page.locator(".server-error", has_text="at least 30").wait_for()
    box = page.locator("#wb-item-slot .demo-text")
    assert box.input_value() == "Hello there"
    assert box.evaluate("el => el === document.activeElement")
    screenshot("workbench-refused-kept")
    # u would undo and s would skip if the focus had left the box.
    page.keyboard.type(", us and all of you, welcome")
    assert box.input_value() == "Hello there, us and all of you, welcome"
    assert not Annotation.objects.exists()
    assert not Assignment.objects.filter(status=Assignment.Status.SKIPPED).exists()
    page.keyboard.press("Control+Enter")
    (row,) = stored(rater, 1)
    assert row.value == {"text": "Hello there, us and all of you, welcome"}


def test_a_ranking_is_sent_only_once_moved_or_confirmed_as_shown(live_server, page, screenshot):
    project, rater = setup_project(
        schemas.RANKING,
        {},
        [{"prompt": "Name a fruit", "responses": ["apple", "stone", "pear"]}],
    )
    open_workbench(page, live_server.url, project, "ranking-untouched", screenshot)
    shown = [
        int(i)
        for i in page.locator(".rank-card").evaluate_all("cs => cs.map(c => c.dataset.index)")
    ]
    page.keyboard.press("Enter")
    page.locator("#wb-item-slot .client-error", has_text="press c").wait_for()
    time.sleep(0.3)
    assert not Annotation.objects.exists()
    page.keyboard.press("c")
    page.locator("#wb-item-slot .rank-confirmed").wait_for()
    page.keyboard.press("Enter")
    (row,) = stored(rater, 1)
    assert row.value == {"ranking": [[i] for i in shown]}


def test_training_answers_a_pairwise_question_with_the_live_widget_and_its_keys(
    live_server, page, screenshot
):
    from quality.models import GoldResponse
    from quality.services import gold_create, policy_update
    from tasks.services import membership_add
    from tests.browser.conftest import log_in
    from tests.factories import ProjectFactory, UserFactory

    project = ProjectFactory(
        kind="pairwise", schema=schemas.schema_validate("pairwise", {"strength": "labels"})
    )
    gold_create(
        project=project,
        data={"prompt": "Say hi", "response_a": "Hello **there**", "response_b": "k"},
        pool="training",
        answer={"accept": ["A"]},
        explanation="A greets.",
    )
    policy_update(project=project, requires_qualification=True, training_items_required=1)
    UserFactory(username="tom")
    membership_add(project=project, username="tom", role="annotator")
    log_in(page, live_server.url, "tom")
    page.goto(f"{live_server.url}/projects/{project.pk}/me/")
    page.get_by_role("button", name="Start training").click()
    page.locator(".practice-form .response").first.wait_for()
    page.wait_for_load_state()
    assert page.locator(".response strong", has_text="there").count() == 1  # markdown, as live
    page.keyboard.press("Enter")  # nothing chosen yet: the kind's check holds it back
    page.locator(".practice-form .client-error", has_text="Pick A, B").wait_for()
    page.keyboard.press("1")  # A, then the strength step takes number keys as it does live
    page.keyboard.press("3")
    screenshot("training-pairwise")
    page.keyboard.press("Enter")
    page.get_by_text("Session complete").wait_for()
    (response,) = GoldResponse.objects.all()
    assert response.value["choice"] == "A" and response.value["strength"] == 3


def test_the_schema_editor_refuses_a_workbench_key_as_a_hotkey_and_keeps_the_form(
    live_server, page, screenshot
):
    boss = UserFactory(username="mona")
    boss.user_permissions.add(Permission.objects.get(codename="add_project"))
    log_in(page, live_server.url, "mona")
    page.get_by_role("link", name="New project").click()
    page.get_by_label("Name").fill("Hotkeys")
    page.get_by_role("button", name="Add a choice").click()
    for i, (value, key) in enumerate((("spam", "s"), ("ham", "h"))):
        page.get_by_label("Choice value").nth(i).fill(value)
        page.get_by_label("Choice hotkey").nth(i).fill(key)
    page.get_by_role("button", name="Create project").click()
    error = page.get_by_text("is a workbench shortcut")
    error.first.wait_for()
    screenshot("schema-editor-reserved-hotkey")
    assert not Project.objects.exists()
    # Nothing typed is lost: the manager changes the one key and saves.
    assert page.get_by_label("Name").input_value() == "Hotkeys"
    assert page.get_by_label("Choice value").nth(1).input_value() == "ham"
    page.get_by_label("Choice hotkey").nth(0).fill("p")
    page.get_by_role("button", name="Create project").click()
    page.get_by_role("heading", name="Hotkeys").wait_for()
    (project,) = Project.objects.all()
    assert [c["hotkey"] for c in project.schema["choices"]] == ["p", "h"]
