"""Model in the loop, in the product: model runs in, Vox's noisy cross-validation, the
suspects page and API, and sending suspects back for more labels."""

import io
import json

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from aggregation.services import aggregation_run_execute, aggregation_run_request
from annotation.models import Annotation
from modelruns.models import ModelPrediction, ModelRun
from modelruns.services import (
    ModelRunRejected,
    model_run_load,
    model_run_upload,
    noisy_cv_request,
    noisy_cv_run,
)
from quality.models import RelabelRequest
from raters.models import Membership
from tasks import schema as schemas
from tasks.models import Item
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

SPORTS = ["match", "goal", "team", "coach", "league", "striker", "referee", "stadium"]
COOKING = ["recipe", "oven", "flour", "sauce", "garlic", "simmer", "butter", "pan"]


def jsonl(*records) -> SimpleUploadedFile:
    body = "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records)
    return SimpleUploadedFile("preds.jsonl", body.encode())


def noisy_cv_done(project, user):
    """Vox's noisy cross-validation, requested and run to the end as its job would."""
    run = noisy_cv_request(project=project, user=user)
    noisy_cv_run(run_id=run.pk)
    return run


def upload(project, user, file, **kwargs):
    return model_run_upload(
        project=project, user=user, name="bert", version="1", file=file, **kwargs
    )


@pytest.fixture
def text_project(manager, project):
    """60 texts about sports or cooking, labelled by two raters each; item 7 is about sports
    and both raters call it cooking: the planted wrong label."""
    rng = np.random.default_rng(3)
    project.schema = schemas.schema_validate(
        schemas.SINGLE_CHOICE, {"choices": ["sports", "cooking"]}
    )
    project.save()
    raters = []
    for i in range(2):
        user = UserFactory(username=f"labeller{i}")
        MembershipFactory(project=project, user=user, role=Membership.Role.ANNOTATOR)
        raters.append(user)
    items, votes = [], []
    for j in range(60):
        topic = "sports" if j % 2 else "cooking"
        words = rng.choice(SPORTS if topic == "sports" else COOKING, size=6)
        item = ItemFactory(project=project, data={"text": " ".join(words)}, external_id=f"t{j}")
        items.append(item)
        label = "cooking" if j == 7 else topic
        for r in raters:
            votes.append(
                Annotation(
                    project=project, item=item, rater=r, value=label, idempotency_key=f"{r}-{j}"
                )
            )
    Annotation.objects.bulk_create(votes)
    run = aggregation_run_request(project=project, method="majority")
    aggregation_run_execute(run_id=run.pk, then_score=False)
    return project, items


# --- Upload validation ------------------------------------------------------------------------


def test_a_jsonl_upload_saves_one_prediction_per_item_in_schema_order(project, manager, items):
    run = upload(
        project,
        manager,
        jsonl(
            {"item_id": items[0].pk, "probs": {"no": 0.25, "yes": 0.75}},
            {"item_id": items[1].pk, "probs": [0.1, 0.9]},
        ),
    )
    assert run.status == "done" and run.n_items == 2 and run.labels == ["yes", "no"]
    got = dict(ModelPrediction.objects.values_list("item_id", "probs"))
    assert got == {items[0].pk: [0.75, 0.25], items[1].pk: [0.1, 0.9]}
    assert not run.file  # the upload is not kept once loaded


def test_every_error_names_its_line_and_field_and_nothing_is_saved(project, manager, items):
    with pytest.raises(ModelRunRejected) as caught:
        upload(
            project,
            manager,
            jsonl(
                {"item_id": items[0].pk, "probs": [0.5, 0.5]},
                {"item_id": items[1].pk, "probs": [0.5, 0.6]},
                "{not json",
                {"item_id": 999_999, "probs": [0.5, 0.5]},
                {"item_id": items[2].pk, "probs": ["a", 1.0]},
                {"item_id": items[3].pk, "probs": [-0.5, 1.5]},
                {"item_id": items[0].pk, "probs": [0.5, 0.5]},
            ),
        )
    errors = {(e.line, e.field): e.message for e in caught.value.errors}
    assert "sums to 1.1" in errors[(2, "probs")]
    assert "not valid JSON" in errors[(3, "(line)")]
    assert "not an item of this project" in errors[(4, "item_id")]
    assert "numbers only" in errors[(5, "probs")]
    assert "negative" in errors[(6, "probs")]
    assert not ModelRun.objects.exists() and not ModelPrediction.objects.exists()


def test_unknown_and_repeated_items_are_named_by_line(project, manager, items):
    with pytest.raises(ModelRunRejected) as caught:
        upload(
            project,
            manager,
            jsonl(
                {"item_id": items[0].pk, "probs": [0.5, 0.5]},
                {"external_id": "nope", "probs": [0.5, 0.5]},
                {"item_id": items[0].pk, "probs": [0.5, 0.5]},
            ),
        )
    errors = {(e.line, e.field): e.message for e in caught.value.errors}
    assert "'nope' is not an item of this project" in errors[(2, "external_id")]
    assert "repeats the item of line 1" in errors[(3, "item_id")]
    assert not ModelRun.objects.exists()


def test_a_label_set_that_does_not_match_the_schema_is_refused(project, manager, items):
    with pytest.raises(ModelRunRejected) as caught:
        upload(
            project, manager, jsonl({"item_id": items[0].pk, "probs": {"yes": 0.5, "maybe": 0.5}})
        )
    (error,) = caught.value.errors
    assert (error.line, error.field) == (1, "probs")
    assert "missing 'no'" in error.message and "not in the schema: 'maybe'" in error.message
    with pytest.raises(ModelRunRejected) as caught:
        upload(project, manager, jsonl({"item_id": items[0].pk, "probs": [0.2, 0.3, 0.5]}))
    assert "the schema has 2 labels" in caught.value.errors[0].message
    assert not ModelPrediction.objects.exists()


def test_a_project_whose_items_are_not_classified_takes_no_model_run(manager, db):
    ranking = ProjectFactory(kind="ranking", schema={})
    MembershipFactory(project=ranking, user=manager, role=Membership.Role.MANAGER)
    with pytest.raises(ModelRunRejected) as caught:
        upload(ranking, manager, jsonl({"item_id": 1, "probs": [1.0]}))
    (error,) = caught.value.errors
    assert error.field == "project" and "single choice, pairwise preference" in error.message


def test_a_npy_upload_reads_rows_by_the_ids_file_and_checks_epochs(project, manager, items):
    probs = np.array([[0.7, 0.3], [0.2, 0.8]])
    buf = io.BytesIO()
    np.save(buf, probs)
    epochs = io.BytesIO()
    np.save(epochs, np.stack([probs, probs[:, ::-1]]))
    ids = f"{items[3].pk}\n{items[4].pk}\n".encode()
    run = upload(
        project,
        manager,
        SimpleUploadedFile("p.npy", buf.getvalue()),
        ids_file=SimpleUploadedFile("ids.txt", ids),
        epochs_file=SimpleUploadedFile("e.npy", epochs.getvalue()),
    )
    assert run.n_items == 2 and run.n_epochs == 2
    assert ModelPrediction.objects.get(item=items[4]).epochs == [[0.2, 0.8], [0.8, 0.2]]
    bad = io.BytesIO()
    np.save(bad, np.array([[0.7, 0.3, 0.0]]))
    with pytest.raises(ModelRunRejected) as caught:
        upload(
            project,
            manager,
            SimpleUploadedFile("p.npy", bad.getvalue()),
            ids_file=SimpleUploadedFile("ids.txt", ids),
        )
    assert caught.value.errors[0].field == "file" and "(n, 2)" in caught.value.errors[0].message
    nan = io.BytesIO()
    np.save(nan, np.array([[0.7, 0.3], [np.nan, 1.0]]))
    with pytest.raises(ModelRunRejected) as caught:
        upload(
            project,
            manager,
            SimpleUploadedFile("p.npy", nan.getvalue()),
            ids_file=SimpleUploadedFile("ids.txt", ids),
        )
    (error,) = caught.value.errors
    assert (error.line, error.field) == (2, "probs") and "not finite" in error.message


def test_a_big_upload_loads_in_a_job_once_even_if_delivered_twice(
    project, manager, items, settings, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("modelruns.services.SYNC_MAX_LINES", 2)
    lines = [{"item_id": i.pk, "probs": [0.6, 0.4]} for i in items]
    with django_capture_on_commit_callbacks(execute=True):
        run = upload(project, manager, jsonl(*lines))
    run.refresh_from_db()
    assert run.status == "done" and run.n_items == 5
    model_run_load(run_id=run.pk)
    assert ModelPrediction.objects.filter(run=run).count() == 5


def test_a_big_upload_with_an_error_fails_with_its_lines_and_saves_nothing(
    project, manager, items, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("modelruns.services.SYNC_MAX_LINES", 2)
    lines = [{"item_id": i.pk, "probs": [0.6, 0.4]} for i in items]
    lines[3]["probs"] = [0.6, 0.6]
    with django_capture_on_commit_callbacks(execute=True):
        run = upload(project, manager, jsonl(*lines))
    run.refresh_from_db()
    assert run.status == "failed" and run.errors[0]["line"] == 4
    assert not ModelPrediction.objects.exists()


def test_the_upload_api_answers_400_with_lines_and_201_with_the_run(
    client, project, manager, items
):
    client.force_login(manager)
    url = reverse("modelruns:api-list", args=[project.pk])
    bad = client.post(url, {"name": "m", "file": jsonl({"item_id": items[0].pk, "probs": [1, 1]})})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["line"] == 1 and bad.json()["errors"][0]["field"] == "probs"
    ok = client.post(url, {"name": "m", "file": jsonl({"item_id": items[0].pk, "probs": [1, 0]})})
    assert ok.status_code == 201 and ok.json()["n_items"] == 1
    assert [r["name"] for r in client.get(url).json()] == ["m"]


def test_the_upload_form_on_the_model_runs_page_saves_or_says_why(client, project, manager, items):
    client.force_login(manager)
    url = reverse("modelruns:list", args=[project.pk])
    res = client.post(
        url, {"name": "m", "file": jsonl({"item_id": items[0].pk, "probs": [2, 1]})}, follow=True
    )
    assert "Nothing saved. line 1, probs: sums to 3" in res.content.decode()
    res = client.post(
        url, {"name": "m", "file": jsonl({"item_id": items[0].pk, "probs": [1, 0]})}, follow=True
    )
    assert "1 predictions saved" in res.content.decode() and ModelRun.objects.count() == 1


# --- Vox's noisy cross-validation and the suspects ------------------------------------------


def test_noisy_cross_validation_ranks_the_planted_wrong_label_near_the_top(
    text_project, manager, client
):
    project, items = text_project
    run = noisy_cv_done(project, manager)
    noisy_cv_run(run_id=run.pk)  # a redelivered job finds the run done
    run.refresh_from_db()
    assert run.name == "vox-noisy-cv" and run.status == "done", run.errors
    assert run.n_items == 60 and run.n_epochs == 5
    assert ModelPrediction.objects.filter(run=run).count() == 60
    client.force_login(manager)
    body = client.get(reverse("modelruns:api-suspects", args=[project.pk])).json()
    top = [r["item_id"] for r in body["results"][:3]]
    assert items[7].pk in top
    planted = next(r for r in body["results"] if r["item_id"] == items[7].pk)
    assert planted["label"] == "cooking" and planted["model_label"] == "sports"
    assert planted["rank"] == 1 and "confident_learning" in planted["reasons"]
    only = client.get(
        reverse("modelruns:api-suspects", args=[project.pk]), {"reason": "confident_learning"}
    ).json()
    assert [r["item_id"] for r in only["results"]] == [items[7].pk] and only["count"] == 1
    # The items export carries the same flags and scores.
    from tasks.export import export_jsonl

    lines = [json.loads(x) for x in "".join(export_jsonl(project)).splitlines()]
    flagged = {x["item_id"]: x["label_quality"] for x in lines}
    assert "confident_learning" in flagged[items[7].pk]["reasons"]
    assert flagged[items[7].pk]["score"] == max(q["score"] for q in flagged.values() if q)
    assert flagged[items[7].pk]["model_run"] == run.pk


def test_noisy_cross_validation_also_predicts_silent_gold_and_unlabelled_items_without_dynamics(
    text_project, manager, client
):
    from modelruns.suggestions import suggestion_status
    from quality.models import GoldItem
    from quality.services import gold_create, policy_update

    project, items = text_project
    gold = gold_create(
        project=project,
        data={"text": "goal striker stadium referee"},
        pool=GoldItem.Pool.INJECTION,
        answer="sports",
    )
    training = gold_create(
        project=project, data={"text": "oven flour"}, pool=GoldItem.Pool.TRAINING, answer="cooking"
    )
    fresh = ItemFactory(project=project, data={"text": "garlic butter sauce simmer pan"})
    policy_update(project=project, suggest_share=100)
    run = noisy_cv_done(project, manager)
    run.refresh_from_db()
    predicted = dict(ModelPrediction.objects.filter(run=run).values_list("item_id", "epochs"))
    # Learned from the 60 labelled items; predicted for the silent gold and the new item only
    # (training gold is never served in the live queue), with no training dynamics for them.
    assert len(predicted) == 62 and training.item_id not in predicted
    assert predicted[gold.item_id] is None and predicted[fresh.pk] is None
    assert all(predicted[i.pk] is not None for i in items)
    probs = dict(ModelPrediction.objects.filter(run=run).values_list("item_id", "probs"))
    assert probs[gold.item_id][0] > 0.5 and probs[fresh.pk][1] > 0.5  # sports, cooking
    assert run.stats["n_predicted_only"] == 2
    # Suspects are only the labelled items, and suggestions can run on this model.
    client.force_login(manager)
    body = client.get(reverse("modelruns:api-suspects", args=[project.pk])).json()
    assert body["count"] == 60
    assert suggestion_status(project)["active"]


def test_the_suspects_page_shows_escaped_items_a_data_map_and_filters_by_reason(
    text_project, manager, client
):
    project, items = text_project
    Item.objects.filter(pk=items[7].pk).update(data={"text": "<script>alert(1)</script> oven"})
    noisy_cv_done(project, manager)
    client.force_login(manager)
    url = reverse("modelruns:suspects", args=[project.pk])
    html = client.get(url).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert 'class="chart data-map"' in html and "csrfmiddlewaretoken" in html
    filtered = client.get(url, {"reason": "never_learned"}).content.decode()
    assert filtered.count('type="checkbox" name="item_ids"') <= html.count(
        'type="checkbox" name="item_ids"'
    )
    detail = client.get(reverse("tasks:project-detail", args=[project.pk])).content.decode()
    assert url in detail


def test_annotators_and_outsiders_get_404_from_model_runs_and_suspects(
    client, project, rater, outsider, items
):
    urls = [
        reverse("modelruns:list", args=[project.pk]),
        reverse("modelruns:suspects", args=[project.pk]),
        reverse("modelruns:api-list", args=[project.pk]),
        reverse("modelruns:api-suspects", args=[project.pk]),
    ]
    for user in (rater, outsider):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 404, url
        res = client.post(
            reverse("modelruns:suspects-relabel", args=[project.pk]),
            {"item_ids": [items[0].pk], "extra_labels": 2},
        )
        assert res.status_code == 404
    assert not RelabelRequest.objects.exists()


def test_one_click_and_the_bulk_action_send_suspects_back_for_more_labels(
    text_project, manager, client
):
    project, items = text_project
    noisy_cv_done(project, manager)
    client.force_login(manager)
    url = reverse("modelruns:suspects-relabel", args=[project.pk])
    res = client.post(url, {"item_ids": [items[7].pk], "extra_labels": "2"}, follow=True)
    assert "1 item(s) sent back for more labels" in res.content.decode()
    res = client.post(url, {"item_ids": [items[1].pk, items[2].pk], "extra_labels": "3"})
    assert res.status_code == 302
    asked = dict(RelabelRequest.objects.values_list("item_id", "extra_labels"))
    assert asked == {items[7].pk: 2, items[1].pk: 3, items[2].pk: 3}
    # The API equivalent is the item browser's bulk endpoint.
    api = client.post(
        reverse("api:item-bulk", args=[project.pk]),
        {"action": "relabel", "item_ids": [items[3].pk], "extra_labels": 2},
        "application/json",
    )
    assert api.status_code == 200 and RelabelRequest.objects.filter(item=items[3]).exists()


def test_a_rows_own_button_sends_that_item_alone_and_the_page_says_what_was_sent_back(
    text_project, manager, client
):
    project, items = text_project
    noisy_cv_done(project, manager)
    client.force_login(manager)
    url = reverse("modelruns:suspects-relabel", args=[project.pk])
    ticked = {"item_ids": [items[1].pk, items[2].pk], "extra_labels": "3"}
    res = client.post(f"{url}?one={items[7].pk}", ticked, follow=True)
    assert "1 item(s) sent back for more labels" in res.content.decode()
    assert dict(RelabelRequest.objects.values_list("item_id", "extra_labels")) == {items[7].pk: 3}

    def sent_back_cell():
        page = client.get(reverse("modelruns:suspects", args=[project.pk])).content.decode()
        assert "{#" not in page and "comment %}" not in page  # no template comment leaks
        row = page.split(f'data-item="{items[7].pk}"', 1)[1].split("</tr>", 1)[0]
        return " ".join(row.split('class="sent-back">', 1)[1].split("</td>", 1)[0].split())

    assert sent_back_cell() == '<span class="flag">waiting</span> 0 of 3 more'
    RelabelRequest.objects.update(resolved_at=timezone.now())
    assert sent_back_cell() == "done: 3 more"
    res = client.post(f"{url}?one=x", ticked, follow=True)
    assert "Tick at least one item" in res.content.decode()


def test_the_suspects_api_says_so_when_there_is_no_model_run(client, project, manager):
    client.force_login(manager)
    body = client.get(reverse("modelruns:api-suspects", args=[project.pk])).json()
    assert body["model_run"] is None and body["results"] == [] and "No model run" in body["note"]


def test_the_suspects_page_reads_a_fixed_number_of_queries_whatever_the_rows(
    text_project, manager, client, django_assert_max_num_queries
):
    project, _ = text_project
    noisy_cv_done(project, manager)
    client.force_login(manager)
    url = reverse("modelruns:suspects", args=[project.pk])
    client.get(url)
    # Session, user, project and role, the run, labels, predictions, votes, one page of items.
    with django_assert_max_num_queries(16):
        assert client.get(url).status_code == 200


def test_the_watchdog_runs_again_a_load_whose_worker_died_and_fails_it_past_the_attempts(
    project, manager, items, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from modelruns.services import model_runs_fail_stale

    monkeypatch.setattr("modelruns.services.SYNC_MAX_LINES", 2)
    lines = [{"item_id": i.pk, "probs": [0.6, 0.4]} for i in items]
    run = upload(project, manager, jsonl(*lines))  # queued; on_commit never fires here
    old = timezone.now() - timedelta(seconds=settings.VOX_JOB_STALE_S + 5)
    ModelRun.objects.filter(pk=run.pk).update(status="running", attempts=1, heartbeat_at=old)
    with django_capture_on_commit_callbacks(execute=True):
        assert model_runs_fail_stale() == {"failed": 0, "requeued": 1}
    run.refresh_from_db()
    assert run.status == "done" and ModelPrediction.objects.filter(run=run).count() == 5
    stuck = ModelRun.objects.create(project=project, name="x", labels=["yes", "no"])
    ModelRun.objects.filter(pk=stuck.pk).update(
        status="running", attempts=settings.VOX_JOB_MAX_ATTEMPTS, heartbeat_at=old
    )
    assert model_runs_fail_stale()["failed"] == 1
    stuck.refresh_from_db()
    assert stuck.status == "failed" and "stopped" in stuck.errors[0]["message"]


def test_ids_past_the_database_range_are_named_by_line_not_an_error_page(
    client, project, manager, items
):
    with pytest.raises(ModelRunRejected) as caught:
        upload(project, manager, jsonl({"item_id": 10**30, "probs": [0.5, 0.5]}))
    assert (caught.value.errors[0].line, caught.value.errors[0].field) == (1, "item_id")
    client.force_login(manager)
    res = client.post(
        reverse("modelruns:suspects-relabel", args=[project.pk]),
        {"item_ids": ["9" * 30], "extra_labels": "2"},
        follow=True,
    )
    assert res.status_code == 200 and "Tick at least one item" in res.content.decode()
    assert not RelabelRequest.objects.exists()


def test_noisy_cross_validation_without_text_fails_saying_why(text_project, manager):
    project, _ = text_project
    Item.objects.filter(project=project).update(data={"n": 1})
    run = noisy_cv_done(project, manager)
    run.refresh_from_db()
    assert run.status == "failed" and "no text fields" in run.errors[0]["message"]
    assert not ModelPrediction.objects.exists()


def test_a_pinned_run_is_the_model_every_door_reads_until_it_is_unpinned(
    text_project, manager, client
):
    from modelruns.selectors import model_run_in_use, suspects_for_project
    from modelruns.suggestions import suggestion_status

    project, items = text_project
    cv = noisy_cv_done(project, manager)
    # A newer upload that doubts item 3 instead: the latest run.
    newer = upload(
        project,
        manager,
        jsonl(
            *(
                {"item_id": it.pk, "probs": [0.01, 0.99] if n == 3 else [0.5, 0.5]}
                for n, it in enumerate(items)
            )
        ),
    )
    assert model_run_in_use(project) == newer
    client.force_login(manager)
    pin_url = reverse("modelruns:api-pin", args=[project.pk, cv.pk])
    res = client.post(pin_url, {"pinned": True}, "application/json")
    assert res.status_code == 200 and res.json()["pinned"] is True
    assert model_run_in_use(project).pk == cv.pk
    assert suspects_for_project(project).run.pk == cv.pk
    assert suggestion_status(project)["run"].pk == cv.pk
    assert suspects_for_project(project).item_ids[0] == items[7].pk  # noisy CV's planted item
    # The page says which run is in use; pinning another moves the pin, one per project.
    page = client.get(reverse("modelruns:list", args=[project.pk])).content.decode()
    assert "<strong>in use</strong> (pinned)" in page
    client.post(reverse("modelruns:pin", args=[project.pk, newer.pk]), {"pinned": "1"})
    assert list(ModelRun.objects.filter(pinned=True)) == [newer]
    client.post(reverse("modelruns:pin", args=[project.pk, newer.pk]), {"pinned": "0"})
    assert not ModelRun.objects.filter(pinned=True).exists()
    assert model_run_in_use(project) == newer  # the latest again
    # Only a finished run can be pinned.
    failed = ModelRun.objects.create(project=project, name="broken", status=ModelRun.Status.FAILED)
    res = client.post(
        reverse("modelruns:api-pin", args=[project.pk, failed.pk]),
        {"pinned": True},
        "application/json",
    )
    assert res.status_code == 400 and res.json()["errors"][0]["field"] == "run"


def test_the_suspects_table_is_scored_once_per_model_run_and_aggregation_run(
    text_project, manager, django_assert_max_num_queries
):
    from modelruns.selectors import suspects_for_project

    project, items = text_project
    noisy_cv_done(project, manager)
    first = suspects_for_project(project)
    assert first.item_ids[0] == items[7].pk
    # Again: the run in use, the schema and the current aggregation run, then the cache.
    with django_assert_max_num_queries(3):
        again = suspects_for_project(project)
    np.testing.assert_array_equal(again.item_ids, first.item_ids)
    # The raters fix item 7; the next aggregation run scores the table afresh.
    Annotation.objects.filter(item=items[7]).update(value="sports")
    run = aggregation_run_request(project=project, method="majority")
    aggregation_run_execute(run_id=run.pk, then_score=False)
    fresh = suspects_for_project(project)
    row = int(np.flatnonzero(fresh.item_ids == items[7].pk)[0])
    assert fresh.labels[fresh.given[row]] == "sports" and row > 0


@pytest.mark.parametrize(
    "body",
    [
        '{"pinned": "\\u0000"}',
        '{"pinned": 99999999999999999999999}',
        "[" * 5000 + "]" * 5000,
        "\x00",
        '{"pinned": {"a": 1}}',
    ],
)
def test_malformed_pin_requests_get_a_4xx_and_change_nothing(project, manager, client, body):
    run = ModelRun.objects.create(project=project, name="m", status=ModelRun.Status.DONE)
    client.force_login(manager)
    url = reverse("modelruns:api-pin", args=[project.pk, run.pk])
    assert 400 <= client.post(url, body, content_type="application/json").status_code < 500
    past_bigint = "99999999999999999999999"
    api = f"/api/projects/{project.pk}/model-runs/{past_bigint}/pin/"
    assert (
        400
        <= client.post(api, '{"pinned": true}', content_type="application/json").status_code
        < 500
    )
    page = f"/projects/{project.pk}/model-runs/{past_bigint}/pin/"
    assert 400 <= client.post(page, {"pinned": "1"}).status_code < 500
    assert not ModelRun.objects.filter(pinned=True).exists()
