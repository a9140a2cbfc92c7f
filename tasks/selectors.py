"""Reads of projects and items. Every view and API endpoint gets its objects here.

These selectors are the access chokepoint: each raises Http404 (never 403) when the user
may not see the object, so nobody can even learn that another project's ids exist.
"""

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from raters.models import Membership
from tasks import kinds
from tasks.models import ExportJob, Guideline, GuidelineAck, ImportJob, Item, Project

MANAGER = Membership.Role.MANAGER
ANNOTATOR = Membership.Role.ANNOTATOR


def user_can_create_projects(user) -> bool:
    return user.is_superuser or user.has_perm("tasks.add_project")


def project_list_for_user(user) -> QuerySet[Project]:
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user).distinct()


def project_list_with_roles(user) -> list[tuple[Project, str]]:
    """The user's projects with their role in each, in one query.

    Progress comes from the projects' kept counters, so the list costs the same with a
    million items as with ten.
    """
    if user.is_superuser:
        return [(p, MANAGER) for p in Project.objects.all()]
    mine = Membership.objects.filter(project=OuterRef("pk"), user=user)
    projects = Project.objects.filter(memberships__user=user).annotate(
        role=Subquery(mine.values("role")[:1]),
        # Reviewers are annotators the manager trusts to review (quality.dashboards); the
        # project list links their review queue.
        is_reviewer=Subquery(mine.values("is_reviewer")[:1]),
    )
    return [(p, p.role) for p in projects]


def project_role(user, project: Project) -> str | None:
    if user.is_superuser:
        return MANAGER
    membership = Membership.objects.filter(project=project, user=user).only("role").first()
    return membership.role if membership else None


def project_for_user(user, project_id, *, role: str | None = None) -> Project:
    """The project if the user is a member (in `role`, when given); else Http404."""
    if not user.is_authenticated:
        raise Http404
    try:
        project = Project.objects.get(pk=project_id)
    except (Project.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    actual = project_role(user, project)
    if actual is None or (role is not None and actual != role):
        raise Http404
    return project


def project_for_manager(user, project_id) -> Project:
    return project_for_user(user, project_id, role=MANAGER)


def project_for_annotator(user, project_id) -> Project:
    return project_for_user(user, project_id, role=ANNOTATOR)


def item_for_user(user, item_id) -> Item:
    """Managers see any item of their projects; annotators only the items served to them."""
    if not user.is_authenticated:
        raise Http404
    try:
        item = Item.objects.select_related("project").get(pk=item_id)
    except (Item.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    role = project_role(user, item.project)
    if role == MANAGER:
        return item
    if role == ANNOTATOR and item.assignments.filter(rater=user).exists():
        return item
    raise Http404


def import_for_manager(user, import_id) -> ImportJob:
    try:
        job = ImportJob.objects.select_related("project").get(pk=import_id)
    except (ImportJob.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    project_for_manager(user, job.project_id)
    return job


def export_for_manager(user, export_id) -> ExportJob:
    try:
        job = ExportJob.objects.select_related("project").get(pk=export_id)
    except (ExportJob.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    project_for_manager(user, job.project_id)
    return job


def aggregate_for_items(project: Project, item_ids: list[int]) -> dict[int, object]:
    """The current aggregated label of each item, {item_id: value in canonical form}.

    Exports call this per chunk of items. It reads the project's current aggregation run
    (aggregation.selectors) and returns nothing before the first; items without a result
    (unlabelled or gold) are left out. Adjudicated labels would take precedence here.
    """
    from aggregation.selectors import aggregate_for_items as current_results

    return {
        item_id: _canonical_label(project.kind, result["label"])
        for item_id, result in current_results(project, item_ids).items()
    }


def adjudications_for_items(project: Project, item_ids: list[int]) -> dict[int, dict]:
    """Final labels set by reviewers, {item_id: {label, decided_by, decided_at}}; these
    override the aggregate in exports and are marked as adjudicated."""
    from quality.dashboards import adjudications_for_items as decisions

    return decisions(project, item_ids)


def _canonical_label(kind: str, label):
    # Exports speak the canonical answer shapes of the kinds, not aggregation's.
    return kinds.get(kind).label_from_aggregate(label)


def project_members(project: Project) -> QuerySet[Membership]:
    return project.memberships.select_related("user").order_by("role", "user__username")


def annotations_by_rater(project: Project) -> list[dict]:
    """Per-annotator counts for the progress table, in one query."""
    return list(
        Membership.objects.filter(project=project, role=ANNOTATOR)
        .annotate(n=Count("user__annotations", filter=Q(user__annotations__project=project)))
        .values("user__username", "n")
        .order_by("-n", "user__username")
    )


def guideline_current(project: Project) -> Guideline | None:
    """The latest published guideline version, or None before the first."""
    return project.guidelines.order_by("-version").first()


def guideline_version_current(project: Project) -> int | None:
    """The current guideline's version number; read with the membership on the queue's
    hot path (`annotation.queue.seat_read`), else one query."""
    try:
        return project.guideline_version_now
    except AttributeError:
        return project.guidelines.aggregate(v=Max("version"))["v"]


def guideline_pending_for(user, project: Project) -> Guideline | None:
    """The current guideline if this user has not acknowledged it yet, else None.

    Annotators must acknowledge each new version before their next item.
    """
    current = guideline_current(project)
    if current is None or current.acks.filter(user=user).exists():
        return None
    return current


def guideline_ack_status(project: Project, guideline: Guideline | None) -> list[dict]:
    """Each annotator with the time they acknowledged `guideline` (None: not yet), in one
    query; those who have not come first."""
    members = Membership.objects.filter(project=project, role=ANNOTATOR).select_related("user")
    if guideline is None:
        return [{"username": m.user.username, "acked_at": None} for m in members]
    acked = GuidelineAck.objects.filter(guideline=guideline, user=OuterRef("user")).values(
        "acked_at"
    )[:1]
    rows = [
        {"username": m.user.username, "acked_at": m.acked_at}
        for m in members.annotate(acked_at=Subquery(acked))
    ]
    return sorted(rows, key=lambda r: (r["acked_at"] is not None, r["username"]))
