"""Query counts on the big tables: the pages cost the same with 1,000 raters as with 10."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aggregation.models import RaterScore
from quality.dashboard_services import dashboard_snapshot_compute
from quality.dashboards import calibration_table
from raters.models import Membership
from tasks.models import Item
from tests.factories import MembershipFactory, ProjectFactory, UserFactory


def crowd_rows(project, n, prefix):
    """n annotators, each with two score snapshots (the page must read only the newest)."""
    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"{prefix}{i}") for i in range(n)])
    Membership.objects.bulk_create(
        [
            Membership(
                project=project, user=u, role="annotator", gold_n=20, gold_score_sum=15 + i % 6
            )
            for i, u in enumerate(users)
        ]
    )
    now = timezone.now()
    RaterScore.objects.bulk_create(
        [
            RaterScore(
                project=project,
                rater=u,
                computed_at=now - timezone.timedelta(hours=h),
                n_annotations=50 + h,
                mace_competence=0.9,
                fast_fraction=0.3 if i % 50 == 0 else 0.0,
                duration_ms_median=8000,
                straightline_streak=3,
                modal_share=0.4,
            )
            for i, u in enumerate(users)
            for h in (0, 5)
        ]
    )


@pytest.fixture
def boss(db):
    return UserFactory(username="boss")


def page_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_calibration_table_takes_three_queries_for_a_thousand_raters(
    boss, django_assert_num_queries
):
    project = ProjectFactory()
    crowd_rows(project, 1000, "r")
    with django_assert_num_queries(3):
        rows = calibration_table([project])
    assert len(rows) == 1000
    assert sum(r.fast for r in rows) == 20
    assert {r.items_done for r in rows} == {50}


def test_the_calibration_page_costs_the_same_with_1000_raters_as_with_10(
    client, boss, django_assert_num_queries
):
    small, big = ProjectFactory(), ProjectFactory()
    for p in (small, big):
        MembershipFactory(project=p, user=boss, role="manager")
    crowd_rows(small, 10, "s")
    crowd_rows(big, 1000, "b")
    client.force_login(boss)
    n = page_queries(client, reverse("dashboards:project-raters", args=[small.pk]))
    with django_assert_num_queries(n):
        client.get(reverse("dashboards:project-raters", args=[big.pk]))
    n = page_queries(client, reverse("dashboards:api-project-raters", args=[small.pk]))
    with django_assert_num_queries(n):
        client.get(reverse("dashboards:api-project-raters", args=[big.pk]))
    # Across projects: one more project does not add queries either.
    with django_assert_num_queries(page_queries(client, reverse("dashboards:raters"))):
        client.get(reverse("dashboards:raters"))


def test_the_project_dashboard_costs_the_same_with_many_items_as_with_few(
    client, boss, django_assert_num_queries
):
    small, big = ProjectFactory(), ProjectFactory()
    for p in (small, big):
        MembershipFactory(project=p, user=boss, role="manager")
    Item.objects.bulk_create([Item(project=small, data={"text": "x"}) for _ in range(5)])
    Item.objects.bulk_create(
        [Item(project=big, data={"text": "x"}, n_done=i % 3) for i in range(5000)]
    )
    for p in (small, big):
        dashboard_snapshot_compute(project_id=p.pk)
    client.force_login(boss)
    n = page_queries(client, reverse("dashboards:project", args=[small.pk]))
    with django_assert_num_queries(n):
        client.get(reverse("dashboards:project", args=[big.pk]))
    with django_assert_num_queries(
        page_queries(client, reverse("dashboards:api-project", args=[small.pk]))
    ):
        data = client.get(reverse("dashboards:api-project", args=[big.pk])).json()
    assert data["progress"]["in_progress"] == 3333


def test_the_rater_page_has_a_fixed_number_of_queries(client, boss, django_assert_num_queries):
    project = ProjectFactory()
    MembershipFactory(project=project, user=boss, role="manager")
    crowd_rows(project, 3, "r")
    client.force_login(boss)
    a, b = Membership.objects.filter(project=project, role="annotator")[:2]
    RaterScore.objects.filter(rater=b.user).update(n_annotations=5000)
    n = page_queries(client, reverse("dashboards:rater", args=[project.pk, a.pk]))
    with django_assert_num_queries(n):
        client.get(reverse("dashboards:rater", args=[project.pk, b.pk]))
