from django.urls import reverse
from django.utils import timezone

from aggregation.models import RaterScore
from raters.models import Membership
from tasks import schema as schemas
from tests.factories import MembershipFactory, ProjectFactory, UserFactory


def test_a_rater_who_prefers_the_left_side_is_flagged_and_their_page_draws_the_rate(client, db):
    project = ProjectFactory(
        kind=schemas.PAIRWISE, schema=schemas.schema_validate(schemas.PAIRWISE, {})
    )
    boss, lefty = UserFactory(username="boss"), UserFactory(username="lefty")
    MembershipFactory(project=project, user=boss, role=Membership.Role.MANAGER)
    m = MembershipFactory(project=project, user=lefty)
    RaterScore.objects.create(
        project=project,
        rater=lefty,
        computed_at=timezone.now(),
        n_annotations=50,
        position_left=45,
        position_right=5,
        position_share_left=0.9,
        position_p_value=1e-8,
    )
    client.force_login(boss)
    rows = client.get(reverse("dashboards:api-project-raters", args=[project.pk])).json()
    row = rows["results"][0]
    assert row["position_bias"] and row["at_risk"] and "position bias" in row["risk"]
    html = client.get(reverse("dashboards:rater", args=[project.pk, m.pk])).content.decode()
    assert "Left / right choices" in html and "90% left" in html
    data = client.get(reverse("dashboards:api-rater", args=[project.pk, m.pk])).json()
    assert data["position"] == {"left": 45, "right": 5, "share_left": 0.9, "p_value": 1e-8}
