import pytest
from django.urls import reverse

from aggregation.models import AggregationRun, RaterScore
from raters.models import Membership
from tests.factories import UserFactory
from tests.quality.dashboard_crowd import crowd_project


@pytest.fixture
def boss(db):
    return UserFactory(username="boss")


@pytest.fixture
def crowd(boss):
    return crowd_project(manager=boss)


def test_the_scoring_job_scores_every_rater_of_the_simulated_crowd(crowd):
    project, users = crowd
    assert RaterScore.objects.filter(project=project).count() == len(users)


def test_spammers_are_at_risk_and_flagged_while_careful_raters_are_not(client, boss, crowd):
    project, _ = crowd
    client.force_login(boss)
    res = client.get(reverse("dashboards:api-project-raters", args=[project.pk]))
    assert res.status_code == 200
    rows = {r["rater"]: r for r in res.json()["results"]}
    assert rows["spam_fast"]["at_risk"] and rows["spam_fast"]["fast"]
    assert rows["spam_same"]["at_risk"] and rows["spam_same"]["straightlining"]
    assert not any(rows[f"careful{i}"]["at_risk"] for i in range(8))
    # The default order puts raters at risk first.
    order = [r["rater"] for r in res.json()["results"]]
    assert set(order[:3]) == {"spam_fast", "spam_same", "sloppy"}


def test_the_calibration_page_highlights_at_risk_rows(client, boss, crowd):
    project, _ = crowd
    client.force_login(boss)
    html = client.get(reverse("dashboards:project-raters", args=[project.pk])).content.decode()
    assert 'class="at-risk" data-rater="spam_fast"' in html
    assert 'class="" data-rater="careful0"' in html


def test_the_table_sorts_and_filters(client, boss, crowd):
    project, _ = crowd
    client.force_login(boss)
    url = reverse("dashboards:api-project-raters", args=[project.pk])
    rows = client.get(url, {"sort": "speed"}).json()["results"]
    assert rows[0]["rater"] == "spam_fast"
    rows = client.get(url, {"flag": "straightlining"}).json()["results"]
    assert [r["rater"] for r in rows] == ["spam_same"]
    rows = client.get(url, {"q": "careful"}).json()["results"]
    assert len(rows) == 8


def test_a_bulk_action_suspends_the_ticked_raters_with_the_reason(client, boss, crowd):
    project, users = crowd
    client.force_login(boss)
    ids = list(
        Membership.objects.filter(project=project, user__username__startswith="spam").values_list(
            "pk", flat=True
        )
    )
    res = client.post(
        reverse("dashboards:raters-bulk"),
        {"membership": ids, "action": "suspend", "reason": "random answers"},
    )
    assert res.status_code == 302
    for m in Membership.objects.filter(pk__in=ids):
        assert m.stage == "suspended"
        assert m.transitions.get().reason == "random answers"
        assert m.transitions.get().actor == boss


def test_a_bulk_action_without_reason_changes_nothing(client, boss, crowd):
    project, _ = crowd
    client.force_login(boss)
    m = Membership.objects.get(project=project, user__username="spam_fast")
    client.post(reverse("dashboards:raters-bulk"), {"membership": [m.pk], "action": "suspend"})
    m.refresh_from_db()
    assert m.stage == "qualified"


def test_a_bulk_calibration_request_reaches_the_rater(client, boss, crowd):
    project, _ = crowd
    client.force_login(boss)
    m = Membership.objects.get(project=project, user__username="sloppy")
    client.post(
        reverse("dashboards:raters-bulk"),
        {"membership": [m.pk], "action": "calibrate", "reason": "accuracy slipping"},
    )
    m.refresh_from_db()
    assert m.calibration_requested
    assert "accuracy slipping" in m.notices.get().message


def test_the_rater_page_draws_trend_confusion_and_speed(client, boss, crowd):
    project, _ = crowd
    client.force_login(boss)
    m = Membership.objects.get(project=project, user__username="spam_fast")
    html = client.get(reverse("dashboards:rater", args=[project.pk, m.pk])).content.decode()
    assert "Dawid–Skene" in html and html.count("<svg") >= 3
    data = client.get(reverse("dashboards:api-rater", args=[project.pk, m.pk])).json()
    assert len(data["confusion"]["matrix"]) == 3
    # The spammer is faster than the project: more of their answers in the first bins.
    rater, whole = data["speed"]["rater"], data["speed"]["project"]
    assert rater[0] / sum(rater) > whole[0] / sum(whole)


def test_the_project_dashboard_shows_progress_alpha_and_disputed_items(client, boss, crowd):
    project, _ = crowd
    client.force_login(boss)
    html = client.get(reverse("dashboards:project", args=[project.pk])).content.decode()
    assert "Krippendorff" in html and "Most disputed items" in html
    data = client.get(reverse("dashboards:api-project", args=[project.pk])).json()
    assert data["progress"]["complete"] == 60 and data["progress"]["untouched"] == 0
    assert data["current_run"]["method"] == "dawid_skene"
    assert sum(data["figures"]["confidence_histogram"]) == 60
    assert [v for v, _, _ in data["figures"]["alpha_by_version"]] == ["1", "2"]
    assert 0 < data["figures"]["alpha"] < 1
    assert sum(n for _, n in data["figures"]["annotations_per_day"]) == 60 * 11
    confidences = [round(d["confidence"], 3) for d in data["disputed"]]
    assert confidences == sorted(confidences)
    # Among equally confident items, the most split votes come first.
    top = data["disputed"][0]
    assert top["entropy"] == max(
        d["entropy"] for d in data["disputed"] if round(d["confidence"], 3) == confidences[0]
    )
    assert top["entropy"] > 0


def test_the_agreement_heatmap_covers_the_raters(client, boss, crowd):
    project, users = crowd
    client.force_login(boss)
    data = client.get(reverse("dashboards:api-agreement", args=[project.pk])).json()
    assert set(data["raters"]) == set(users)
    k = data["raters"].index("careful0")
    s = data["raters"].index("spam_fast")
    j = data["raters"].index("careful1")
    assert data["matrix"][k][j] > data["matrix"][k][s]


def test_run_now_polls_while_the_run_is_queued_and_stops_when_it_is_done(
    client, boss, crowd, django_capture_on_commit_callbacks
):
    project, _ = crowd
    client.force_login(boss)
    with django_capture_on_commit_callbacks(execute=False) as jobs:
        res = client.post(reverse("dashboards:run-now", args=[project.pk]), HTTP_HX_REQUEST="true")
    html = res.content.decode()
    assert res.status_code == 200 and 'data-status="queued"' in html
    assert 'hx-trigger="every 1s"' in html
    run = AggregationRun.objects.filter(project=project).latest("id")
    progress = reverse("dashboards:run-progress", args=[project.pk, run.pk])
    assert progress in html
    with django_capture_on_commit_callbacks(execute=True):
        for job in jobs:
            job()
    html = client.get(progress).content.decode()
    assert 'data-status="done"' in html and "hx-trigger" not in html
