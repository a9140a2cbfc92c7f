"""Every page a role may use can be reached by links from the pages it already sees."""

from django.urls import reverse

from raters.models import Membership, Stage
from tests.factories import MembershipFactory, UserFactory


def test_a_manager_reaches_dashboards_review_calibration_export_and_run_now(
    client, manager, project
):
    client.force_login(manager)
    home = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("dashboards:raters")}">Dashboards</a>' in home
    assert f'href="{reverse("dashboards:project", args=[project.pk])}">Dashboard</a>' in home
    page = client.get(reverse("tasks:project-detail", args=[project.pk])).content.decode()
    for name in ("dashboards:project", "dashboards:project-raters"):
        assert f'href="{reverse(name, args=[project.pk])}"' in page
    assert f'href="{reverse("dashboards:review", args=[project.pk])}?list=1"' in page
    assert 'href="#export"' in page and 'id="export"' in page
    run_now = reverse("dashboards:run-now", args=[project.pk])
    form = page[page.index(f'action="{run_now}"') :]
    assert "csrfmiddlewaretoken" in form[: form.index("</form>")]
    for url in (
        reverse("dashboards:raters"),
        reverse("dashboards:project", args=[project.pk]),
        reverse("dashboards:project-raters", args=[project.pk]),
        reverse("dashboards:review", args=[project.pk]) + "?list=1",
    ):
        assert client.get(url).status_code == 200, url


def test_an_annotator_sees_no_dashboards_and_a_reviewer_sees_the_review_queue(
    client, rater, project
):
    client.force_login(rater)
    home = client.get(reverse("home")).content.decode()
    assert "Dashboards</a>" not in home and "Review queue" not in home
    reviewer = UserFactory(username="rev")
    MembershipFactory(
        project=project,
        user=reviewer,
        role=Membership.Role.ANNOTATOR,
        is_reviewer=True,
        stage=Stage.QUALIFIED,
    )
    client.force_login(reviewer)
    home = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("dashboards:review", args=[project.pk])}">Review queue</a>' in home
    assert "Dashboards</a>" not in home
    assert (
        client.get(reverse("dashboards:review", args=[project.pk]) + "?list=1").status_code == 200
    )
