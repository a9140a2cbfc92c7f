"""The model loop in a real browser: a manager uploads a model's predictions, opens the
suspects with their data map, sends three suspects back to the queue, and a rater labels
exactly those three again."""

import json
import time

import pytest

from aggregation.services import aggregation_run_execute, aggregation_run_request
from annotation.models import Annotation
from modelruns.models import ModelRun
from quality.models import RelabelRequest
from raters.models import Membership
from tasks import schema as schemas
from tasks.models import Item
from tests.browser.conftest import log_in
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOPICS = ("sports", "cooking")
WORDS = {"sports": "match goal striker referee", "cooking": "oven flour garlic simmer"}


def _project():
    """12 items labelled by two raters; on items 2, 5 and 9 both raters gave the other topic."""
    project = ProjectFactory(
        overlap=2,
        schema=schemas.schema_validate(schemas.SINGLE_CHOICE, {"choices": list(TOPICS)}),
    )
    MembershipFactory(
        project=project, user=UserFactory(username="mona"), role=Membership.Role.MANAGER
    )
    raters = [UserFactory(username=n) for n in ("ann", "bob", "cat")]
    for user in raters:
        MembershipFactory(project=project, user=user)
    items, planted = [], []
    for j in range(12):
        topic = TOPICS[j % 2]
        item = ItemFactory(project=project, data={"text": f"{WORDS[topic]} no. {j}"})
        items.append((item, topic))
        given = TOPICS[1 - j % 2] if j in (2, 5, 9) else topic
        if j in (2, 5, 9):
            planted.append(item)
        for n, rater in enumerate(raters[:2]):
            Annotation.objects.create(
                project=project, item=item, rater=rater, value=given, idempotency_key=f"{j}-{n}"
            )
    Item.objects.filter(project=project).update(n_done=2)
    run = aggregation_run_request(project=project, method="majority")
    aggregation_run_execute(run_id=run.pk, then_score=False)
    return project, items, planted


def _predictions(items, path):
    """A model that knows each item's topic, with three epochs of training dynamics."""
    lines = []
    for item, topic in items:
        p = [0.95, 0.05] if topic == "sports" else [0.05, 0.95]
        lines.append(json.dumps({"item_id": item.pk, "probs": p, "epochs": [[0.5, 0.5], p, p]}))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_manager_sends_three_suspects_back_and_a_rater_labels_exactly_those(
    live_server, page, screenshot, tmp_path
):
    project, items, planted = _project()
    log_in(page, live_server.url, "mona")
    page.goto(f"{live_server.url}/projects/{project.pk}/model-runs/")
    form = page.locator("#model-run-upload")
    form.locator("input[name=name]").fill("topic-model")
    form.locator("input[name=file]").set_input_files(str(_predictions(items, tmp_path / "p.jsonl")))
    form.get_by_role("button", name="Upload").click()
    page.wait_for_load_state()
    run = ModelRun.objects.get(project=project)
    assert (run.status, run.n_items, run.n_epochs) == ("done", 12, 3)

    page.goto(f"{live_server.url}/projects/{project.pk}/suspects/")
    # The data map: one dot per scored item, drawn on the server.
    assert page.locator("svg circle").count() == 12
    rows = page.locator("#suspects tbody tr")
    top = [int(rows.nth(i).get_attribute("data-item")) for i in range(3)]
    assert sorted(top) == sorted(i.pk for i in planted)
    # The reason filter keeps exactly the planted items.
    page.locator("select[name=reason]").select_option("confident_learning")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_load_state()
    assert sorted(
        int(r.get_attribute("data-item")) for r in page.locator("#suspects tbody tr").all()
    ) == sorted(i.pk for i in planted)
    screenshot("suspects")
    for pk in top:
        page.get_by_label(f"Tick item {pk}").check()
    page.get_by_label("More labels per item").fill("1")
    page.get_by_role("button", name="Send ticked items back for more labels").click()
    page.wait_for_load_state()
    assert "3 item(s) sent back for more labels" in page.content()
    assert sorted(RelabelRequest.objects.values_list("item_id", flat=True)) == sorted(top)
    page.context.clear_cookies()

    # Cat never labelled these items: the queue serves cat the three, then nothing.
    log_in(page, live_server.url, "cat")
    page.goto(f"{live_server.url}/projects/{project.pk}/label/")
    seen = []
    for _ in range(4):
        page.wait_for_load_state()
        if page.get_by_text("There is nothing left for you to label").count():
            break
        panel = page.locator("#wb-item-slot .wb-panel")
        panel.wait_for()
        item = panel.get_attribute("data-item")
        seen.append(panel.locator(".wb-item .field-text").first.inner_text().strip())
        page.keyboard.press("1")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "id => { const p = document.querySelector('#wb-item-slot .wb-panel');"
            " return !p || p.dataset.item !== id; }",
            arg=item,
        )
    assert sorted(seen) == sorted(i.data["text"] for i in planted)
    deadline = time.monotonic() + 10
    while Annotation.objects.filter(rater__username="cat").count() < 3:
        assert time.monotonic() < deadline, "cat's answers were not stored"
        time.sleep(0.1)
    assert sorted(
        Annotation.objects.filter(rater__username="cat").values_list("item_id", flat=True)
    ) == sorted(i.pk for i in planted)
