"""Reads of projects and items. Every view and API endpoint gets its objects here.

These selectors are the access chokepoint: each raises Http404 (never 403) when the user
may not see the object, so nobody can even learn that another project's ids exist.
"""

from dataclasses import dataclass

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.functions import Cast
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


def aggregate_for_items(project: Project, item_ids: list[int]) -> dict[int, dict]:
    """The current aggregate of each item, {item_id: result}, its label in canonical form.

    Exports call this per chunk of items. It reads the project's current aggregation run
    (aggregation.selectors: label, confidence, agreement, distribution, method, run_id) and
    returns nothing before the first; items without a result (unlabelled or gold) are left
    out. Adjudicated labels would take precedence here.
    """
    from aggregation.selectors import aggregate_for_items as current_results

    return {
        item_id: {**result, "label": _canonical_label(project.kind, result["label"])}
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


# --- The manager's item browser -------------------------------------------------------------

BROWSE_PAGE = 50
BROWSE_STATES = {
    "untouched": "Untouched",
    "in_progress": "In progress",
    "complete": "Complete",
}
PREVIEW_CHARS = 120
# Long enough for any username or skip reason (Assignment.skip_reason is 500 characters).
FILTER_TEXT_MAX = 500


@dataclass(frozen=True)
class ItemFilters:
    """The browser's filters; the empty value of each means "any"."""

    state: str = ""
    gold: bool | None = None
    confidence_below: float | None = None
    agreement_below: float | None = None
    rater: str = ""
    skip_reason: str = ""
    tag: str = ""
    text: str = ""

    def query(self) -> dict[str, str]:
        """The filters as GET parameters again (for the Next link and the pushed URL)."""
        out = {
            "state": self.state,
            "gold": "" if self.gold is None else ("yes" if self.gold else "no"),
            "confidence_below": ""
            if self.confidence_below is None
            else f"{self.confidence_below:g}",
            "agreement_below": "" if self.agreement_below is None else f"{self.agreement_below:g}",
            "rater": self.rater,
            "skip_reason": self.skip_reason,
            "tag": self.tag,
            "text": self.text,
        }
        return {k: v for k, v in out.items() if v}


def item_filters_parse(params) -> tuple[ItemFilters, list[str]]:
    """ItemFilters from GET parameters, and a message for each value that makes no sense.

    A bad value is dropped (that filter is off) and named, so a typo in a URL shows the
    whole list with a note rather than an error page.
    """
    errors: list[str] = []

    def text(name: str) -> str:
        value = str(params.get(name, "")).strip()
        if "\x00" in value:
            # PostgreSQL refuses NUL in a text parameter: a 500, were it let through.
            errors.append(f"{name}: must not contain a NUL character")
            return ""
        if len(value) > FILTER_TEXT_MAX:
            errors.append(f"{name}: must be at most {FILTER_TEXT_MAX} characters")
            return ""
        return value

    state = text("state")
    if state and state not in BROWSE_STATES:
        errors.append(f"state: must be one of {', '.join(BROWSE_STATES)}")
        state = ""
    gold_raw = text("gold").lower()
    gold = {"yes": True, "no": False, "": None}.get(gold_raw, None)
    if gold_raw not in ("yes", "no", ""):
        errors.append("gold: must be yes or no")

    def share(name: str) -> float | None:
        raw = text(name)
        if not raw:
            return None
        try:
            value = float(raw)
        except ValueError:
            value = None
        if value is None or not 0 <= value <= 1:  # also refuses nan and inf
            errors.append(f"{name}: must be a number between 0 and 1")
            return None
        return value

    filters = ItemFilters(
        state=state,
        gold=gold,
        confidence_below=share("confidence_below"),
        agreement_below=share("agreement_below"),
        rater=text("rater"),
        skip_reason=text("skip_reason"),
        tag=text("tag"),
        text=text("text"),
    )
    return filters, errors


def browse_cursor_parse(raw) -> tuple[int | None, str | None]:
    """The `after` cursor (an item id), or None and a message when it is no id."""
    from config.converters import id_or_none

    if raw in (None, ""):
        return None, None
    after = id_or_none(raw)
    if after is None:
        return None, "after: must be a whole-number item id"
    return after, None


def item_state(item: Item, overlap: int) -> str:
    if item.n_done >= overlap:
        return "complete"
    if item.n_done or item.n_open:
        return "in_progress"
    return "untouched"


def _browse_queryset(
    project: Project, filters: ItemFilters, run, after: int | None = None
) -> QuerySet[Item]:
    from annotation.models import Annotation, Assignment

    qs = Item.objects.filter(project=project)
    results = _results_of(run) if run is not None else None
    if after is not None:
        qs = qs.filter(pk__gt=after)
        if results is not None:
            # Said again on the results: PostgreSQL merge-joins them in item order and does
            # not carry the cursor across, so a page half-way would read the first half.
            results = results.filter(item_id__gt=after)
    if filters.state == "complete":
        qs = qs.filter(n_done__gte=project.overlap)
    elif filters.state == "in_progress":
        qs = qs.filter(Q(n_done__gt=0) | Q(n_open__gt=0), n_done__lt=project.overlap)
    elif filters.state == "untouched":
        qs = qs.filter(n_done=0, n_open=0)
    if filters.gold is not None:
        qs = qs.filter(is_gold=filters.gold)
    if filters.confidence_below is not None:
        if run is None:
            return qs.none()  # no run yet: no item has a confidence to be below anything
        low = results.filter(confidence__lt=filters.confidence_below)
        qs = qs.filter(Exists(low.filter(item_id=OuterRef("pk"))))
    if filters.agreement_below is not None:
        if run is None:
            return qs.none()
        split = results.filter(agreement__lt=filters.agreement_below)
        qs = qs.filter(Exists(split.filter(item_id=OuterRef("pk"))))
    if filters.rater:
        answered = Annotation.objects.filter(
            item_id=OuterRef("pk"), rater_id__in=_raters_named(project, filters.rater)
        )
        qs = qs.filter(Exists(answered))
    if filters.tag:
        qs = _tagged(qs, filters.tag)
    if filters.skip_reason:
        skipped = Assignment.objects.filter(
            item_id=OuterRef("pk"),
            status=Assignment.Status.SKIPPED,
            skip_reason__icontains=filters.skip_reason,
        )
        qs = qs.filter(Exists(skipped))
    if filters.text:
        # data::text ILIKE on PostgreSQL, and the same on SQLite; a sequential read of the
        # project's items in id order, cut short by the page's LIMIT.
        qs = qs.annotate(data_text=Cast("data", TextField())).filter(
            data_text__icontains=filters.text
        )
    return qs


def _page_answers(project: Project, item_ids: list[int]) -> dict[int, list[dict]]:
    """{item id: [{"rater": pseudonym, "answer": short text}]} for one page (one query)."""
    from annotation.models import Annotation
    from raters.pseudonyms import rater_pseudonym

    if not item_ids:
        return {}
    label_kind = kinds.get(project.kind)
    out: dict[int, list[dict]] = {}
    rows = (
        Annotation.objects.filter(item_id__in=item_ids)
        .order_by("item_id", "id")
        .values_list("item_id", "rater_id", "value")
    )
    for item_id, rater_id, value in rows:
        out.setdefault(item_id, []).append(
            {
                "rater": rater_pseudonym(project.pk, rater_id),
                "answer": label_kind.short_text(value),
            }
        )
    return out


def _raters_named(project: Project, name: str) -> list[int]:
    """The users a rater filter names: by pseudonym (as the browser shows answers), else by
    username."""
    from django.contrib.auth import get_user_model

    from raters.pseudonyms import is_pseudonym, rater_pseudonym

    if is_pseudonym(name):
        members = Membership.objects.filter(project=project).values_list("user_id", flat=True)
        return [u for u in members if rater_pseudonym(project.pk, u) == name.upper()]
    return list(get_user_model().objects.filter(username=name).values_list("pk", flat=True))


def _tagged(qs: QuerySet[Item], tag: str) -> QuerySet[Item]:
    """Items whose meta.tags hold `tag` exactly.

    On PostgreSQL, JSON containment, which the item_meta_tags GIN index answers; SQLite has
    no containment lookup, so there the tag list is walked with json_each.
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        return qs.filter(meta__tags__contains=[tag])
    return qs.extra(
        where=[
            "EXISTS (SELECT 1 FROM json_each(tasks_item.meta, '$.tags') AS t WHERE t.value = %s)"
        ],
        params=[tag],
    )


def _results_of(run) -> QuerySet:
    # Imported here: aggregation.selectors imports this module.
    from aggregation.models import ItemResult

    return ItemResult.objects.filter(run=run)


@dataclass(frozen=True)
class BrowsePage:
    rows: list[dict]
    next_after: int | None
    run: object | None


def items_browse(
    project: Project, filters: ItemFilters, after: int | None = None, limit: int = BROWSE_PAGE
) -> BrowsePage:
    """One page of the project's items in id order, with the current aggregate of each.

    Keyset pagination: the page starts after the item id `after`, so a deep page costs
    what the first does (the item_project_id index), where OFFSET would read every row
    before it. Four queries: the current run, the page of items (limit + 1, to know
    whether there is a next page), the page's results in that run, and its answers.
    """
    from aggregation.selectors import aggregation_run_current

    run = aggregation_run_current(project)
    qs = _browse_queryset(project, filters, run, after)
    page = list(qs.order_by("pk")[: limit + 1])
    next_after = page[limit - 1].pk if len(page) > limit else None
    page = page[:limit]
    results = {}
    if run is not None and page:
        results = {
            item_id: (label, confidence, agreement)
            for item_id, label, confidence, agreement in _results_of(run)
            .filter(item_id__in=[i.pk for i in page])
            .values_list("item_id", "label", "confidence", "agreement")
        }
    answers = _page_answers(project, [i.pk for i in page])
    label_kind = kinds.get(project.kind)
    rows = []
    for item in page:
        item.project = project  # item.is_complete and friends without a query each
        summary = item.summary
        result = results.get(item.pk)
        tags = item.meta.get("tags") if isinstance(item.meta, dict) else None
        rows.append(
            {
                "item": item,
                "state": item_state(item, project.overlap),
                "preview": summary[:PREVIEW_CHARS] + ("…" if len(summary) > PREVIEW_CHARS else ""),
                "label": None
                if result is None
                else label_kind.short_text(label_kind.label_from_aggregate(result[0])),
                "confidence": None if result is None else result[1],
                "agreement": None if result is None else result[2],
                "tags": tags if isinstance(tags, list) else [],
                "answers": answers.get(item.pk, []),
            }
        )
    return BrowsePage(rows=rows, next_after=next_after, run=run)


def item_change_refusal(item: Item) -> str | None:
    """Why the item's content may no longer change (answered, leased, gold), or None.

    The rows are checked as well as the counters: an answer leaves an Annotation even
    where a counter lags.
    """
    from annotation.models import Annotation, Assignment

    if item.is_gold:
        return "Gold items are edited on the quality page."
    open_lease = Assignment.objects.filter(
        item_id=item.pk, status__in=(Assignment.Status.ACTIVE, Assignment.Status.QUEUED)
    ).exists()
    if (
        item.n_done
        or item.n_open
        or open_lease
        or Annotation.objects.filter(item_id=item.pk).exists()
    ):
        return f"Item {item.pk} has answers or an open lease; it cannot change."
    return None


def item_for_manager(project: Project, item_id) -> Item:
    """An item of a project the caller already got through project_for_manager; else 404."""
    try:
        item = Item.objects.get(pk=item_id, project=project)
    except (Item.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None
    item.project = project
    return item
