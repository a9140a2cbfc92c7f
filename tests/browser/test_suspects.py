"""Model in the loop in a real browser: a manager uploads a model's probabilities through
the model runs page, reads the suspects page (data map, reasons), sends three suspects
back for more labels, and a fresh rater is served exactly those three in the workbench."""

import json

import pytest

from aggregation.models import AggregationRun
from annotation.models import Annotation
from annotation.services import annotation_submit, assignment_next
from modelruns.models import ModelPrediction, ModelRun
from quality.models import RelabelRequest
from raters.models import Membership
from tasks import schema as schemas
from tests.browser.conftest import ARTIFACTS, log_in, wait_for_next_panel, wait_until
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LABELS = ["sports", "cooking"]


def _label_all(project, rater, answer_of):
    """The rater answers every item the queue serves, through the queue's own door."""
    n = 0
    while (lease := assignment_next(rater=rater, project=project)) is not None:
        annotation_submit(
            rater=rater,
            item=lease.item,
            value=answer_of[lease.item_id],
            idempotency_key=f"{rater.username}-{lease.item_id}",
        )
        n += 1
    return n


def _prediction(item_pk, p_sports_by_epoch):
    """A JSONL line: per-epoch probabilities over (sports, cooking), the last one final."""
    epochs = [{"sports": p, "cooking": round(1 - p, 2)} for p in p_sports_by_epoch]
    return json.dumps({"item_id": item_pk, "probs": epochs[-1], "epochs": epochs})


@pytest.fixture
def labelled_project(db):
    """Fourteen items labelled twice. Four sports texts were both called cooking (the
    planted wrong labels); one cooking text the model learns, forgets and learns again."""
    project = ProjectFactory(
        name="Topics",
        overlap=2,
        schema=schemas.schema_validate(schemas.SINGLE_CHOICE, {"choices": LABELS}),
    )
    manager = UserFactory(username="mona")
    MembershipFactory(project=project, user=manager, role=Membership.Role.MANAGER)
    raters = [UserFactory(username=name) for name in ("ann", "bob", "cat")]
    for user in raters:
        MembershipFactory(project=project, user=user)
    planted = [
        ItemFactory(project=project, data={"text": f"Striker scores in the derby {n}"})
        for n in range(4)
    ]
    forgotten = ItemFactory(project=project, data={"text": "Simmer the sauce with garlic"})
    plain = [
        ItemFactory(project=project, data={"text": f"Plain {LABELS[n % 2]} text {n}"})
        for n in range(9)
    ]
    answer = {i.pk: "cooking" for i in planted}
    answer[forgotten.pk] = "cooking"
    answer.update({i.pk: i.data["text"].split()[1] for i in plain})
    # Ann and Bob label everything (cat labels nothing yet): every item then has its overlap.
    for user in raters[:2]:
        assert _label_all(project, user, answer) == 14
    return project, planted, forgotten, plain


def _predictions_file(planted, forgotten, plain) -> bytes:
    # Sports all along, against the given cooking: never learned.
    lines = [
        _prediction(i.pk, [0.8 + d, 0.9, 0.95 - d])
        for d, i in zip((0, 0.01, 0.02, 0.03), planted, strict=True)
    ]
    # Right (cooking), wrong, right again: one forgetting event, never a wrong final answer.
    lines.append(_prediction(forgotten.pk, [0.3, 0.6, 0.2]))
    # Learned, some faster than others, so the dots spread over the map.
    for n, i in enumerate(plain):
        p = [0.55 + 0.03 * n, 0.75 + 0.02 * n, 0.9]
        sports = i.data["text"].split()[1] == "sports"
        lines.append(_prediction(i.pk, p if sports else [round(1 - x, 2) for x in p]))
    return ("\n".join(lines) + "\n").encode()


def _rows(page) -> list[int]:
    return [
        int(x)
        for x in page.locator("#suspects tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.item)"
        )
    ]


def test_a_manager_sends_three_suspects_from_the_data_map_page_and_a_rater_relabels_them(
    live_server, page, labelled_project
):
    project, planted, forgotten, plain = labelled_project
    base = live_server.url

    # The manager aggregates the labels and uploads the model run through the page's form.
    log_in(page, base, "mona")
    page.goto(f"{base}/projects/{project.pk}/")
    page.get_by_role("button", name="Run aggregation now").click()
    page.wait_for_url(f"{base}/projects/{project.pk}/dashboards/")
    latest = AggregationRun.objects.filter(project=project).order_by("-created_at").first()
    assert latest.trigger == "manager" and latest.status == "done"
    page.goto(f"{base}/projects/{project.pk}/")
    page.locator("#model-runs-link").click()
    form = page.locator("#model-run-upload")
    form.get_by_label("Name").fill("topic-bert")
    form.get_by_label("Version").fill("3")
    form.get_by_label("File:", exact=True).set_input_files(
        files=[
            {
                "name": "topics.jsonl",
                "mimeType": "application/jsonl",
                "buffer": _predictions_file(planted, forgotten, plain),
            }
        ]
    )
    form.get_by_role("button", name="Upload").click()
    page.get_by_text("topic-bert 3: 14 predictions saved.").wait_for()
    run = ModelRun.objects.get(project=project)
    assert run.status == "done" and run.n_items == 14 and run.n_epochs == 3
    assert ModelPrediction.objects.filter(run=run).count() == 14
    assert page.locator("#model-runs tbody tr").count() == 1
    in_use = page.locator("#model-runs td.in-use")
    assert in_use.inner_text().split()[:3] == ["in", "use", "(the"]
    # Pinned, the run stays the model in use whatever runs come later.
    page.get_by_role("button", name="Pin topic-bert 3").click()
    page.get_by_text("topic-bert 3 is the model in use.").wait_for()
    assert in_use.inner_text().split()[:3] == ["in", "use", "(pinned)"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#model-runs").screenshot(path=ARTIFACTS / "model-runs-pinned.png")
    assert ModelRun.objects.get(pk=run.pk).pinned

    # The suspects page: a data map with one dot per scored item, the planted labels first.
    page.get_by_role("link", name="Suspects").first.click()
    page.locator("#suspects").wait_for()
    data_map = page.locator("svg.data-map")
    assert data_map.get_attribute("aria-label").startswith("Data map of 14 items")
    assert data_map.locator("circle").count() == 14
    # Red: the given label was never the model's answer, the four planted labels alone.
    assert data_map.locator("circle.dm-wrong").count() == 4
    ranked = _rows(page)
    assert len(ranked) == 14 and set(ranked[:4]) == {i.pk for i in planted}
    # Each dot names its item and its rank among the suspects.
    red = data_map.locator("circle.dm-wrong title").all_text_contents()
    assert sorted(red) == sorted(
        f"suspect #{ranked.index(i.pk) + 1} · item {i.pk}" for i in planted
    )
    assert {t.split(" · ")[0] for t in red} == {
        "suspect #1",
        "suspect #2",
        "suspect #3",
        "suspect #4",
    }
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "suspects-page.png", full_page=True)

    # The reason filter keeps only the rows that carry the reason.
    page.get_by_label("Reason").select_option("forgotten")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**reason=forgotten**")
    assert _rows(page) == [forgotten.pk]
    page.get_by_label("Reason").select_option("never_learned")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**reason=never_learned**")
    assert set(_rows(page)) == {i.pk for i in planted}
    page.get_by_text("Page 1 of 1 · 4 items").wait_for()

    # Three of the four go back to the queue: one by its own button, two by the bulk form.
    # A row's button sends its own item alone, whatever is ticked.
    sent, kept = planted[:3], planted[3]
    page.get_by_label(f"Tick item {kept.pk}").check()
    page.locator(f'#suspects tr[data-item="{sent[0].pk}"]').get_by_role(
        "button", name="More labels"
    ).click()
    page.get_by_text("1 item(s) sent back for more labels.").wait_for()
    row = page.locator(f'#suspects tr[data-item="{sent[0].pk}"] td.sent-back')
    assert row.inner_text().split() == ["waiting", "0", "of", "2", "more"]
    assert page.locator(f'#suspects tr[data-item="{kept.pk}"] td.sent-back').inner_text() == "—"
    # Back on the filtered page it came from.
    assert "reason=never_learned" in page.url
    for item in sent[1:]:
        page.get_by_label(f"Tick item {item.pk}").check()
    page.get_by_label("More labels per item").fill("1")
    page.get_by_role("button", name="Send ticked items back for more labels").click()
    page.get_by_text("2 item(s) sent back for more labels.").wait_for()
    page.locator("#suspects").screenshot(path=ARTIFACTS / "suspects-sent-back.png")
    asked = dict(
        RelabelRequest.objects.filter(resolved_at__isnull=True).values_list(
            "item_id", "extra_labels"
        )
    )
    assert asked == {sent[0].pk: 2, sent[1].pk: 1, sent[2].pk: 1}
    page.context.clear_cookies()

    # Ann labelled them already: she is not served them again.
    log_in(page, base, "ann")
    page.goto(f"{base}/projects/{project.pk}/label/")
    page.get_by_text("There is nothing left for you to label").wait_for()
    page.context.clear_cookies()

    # Cat is served exactly the three sent items, corrects them, and then has nothing left.
    log_in(page, base, "cat")
    page.goto(f"{base}/projects/{project.pk}/label/")
    texts = {i.pk: i.data["text"] for i in planted}
    served = []
    for _ in range(4):
        page.wait_for_load_state()
        if page.get_by_text("There is nothing left for you to label").count():
            break
        panel = page.locator("#wb-item-slot .wb-panel")
        panel.wait_for()
        shown = panel.get_attribute("data-item")
        served.append(panel.locator(".wb-item .field-text").first.inner_text().strip())
        panel.locator("label.choice", has_text="sports").click()
        page.keyboard.press("Enter")
        wait_for_next_panel(page, shown)
    page.get_by_text("There is nothing left for you to label").wait_for()
    assert sorted(served) == sorted(texts[i.pk] for i in sent)
    assert texts[kept.pk] not in served

    cat_votes = Annotation.objects.filter(project=project, rater__username="cat")
    wait_until(lambda: cat_votes.count() == 3)
    assert dict(cat_votes.values_list("item_id", "value")) == {i.pk: "sports" for i in sent}
    assert not Annotation.objects.filter(item=kept, rater__username="cat").exists()


def test_a_manager_with_no_model_of_their_own_starts_noisy_cross_validation_from_the_pages(
    live_server, page, labelled_project
):
    project, *_ = labelled_project
    base = live_server.url
    log_in(page, base, "mona")
    page.goto(f"{base}/projects/{project.pk}/")
    page.get_by_role("button", name="Run aggregation now").click()
    page.wait_for_url(f"{base}/projects/{project.pk}/dashboards/")

    page.goto(f"{base}/projects/{project.pk}/")
    page.locator("#suspects-link").click()
    page.get_by_text("No model run yet: upload one or run Vox's noisy cross-validation.").wait_for()
    assert page.locator("svg.data-map").count() == 0
    page.get_by_role("link", name="Model runs").click()
    page.get_by_role("button", name="Run noisy cross-validation").click()
    page.get_by_text("Vox's noisy cross-validation is running.").wait_for()
    run = ModelRun.objects.get(project=project)
    assert (run.name, run.source, run.status) == ("vox-noisy-cv", "noisy_cv", "done"), run.errors
    row = page.locator("#model-runs tbody tr")
    assert row.count() == 1 and "vox-noisy-cv" in row.inner_text()

    page.get_by_role("link", name="Suspects").first.click()
    page.locator("#suspects").wait_for()
    assert "From vox-noisy-cv" in page.locator(".page-head").inner_text()
    data_map = page.locator("svg.data-map")
    assert data_map.get_attribute("aria-label").startswith("Data map of 14 items")
    assert data_map.locator("circle").count() == 14 and len(_rows(page)) == 14
