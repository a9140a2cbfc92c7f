"""Reads for the dashboards: rater calibration, the per-rater page, the project view and
the review queue.

Every page reads precomputed rows: RaterScore snapshots (the scoring job) and the newest
DashboardSnapshot (quality.jobs). Each selector costs a fixed number of queries whatever the
number of raters or items; the tests pin those numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import OuterRef, Q, Subquery
from django.http import Http404

from aggregation.models import AggregationRun, ItemResult, RaterScore
from aggregation.selectors import aggregation_run_current
from annotation.models import Annotation, Assignment
from annotation.selectors import project_counts
from quality.dashboard_services import SPEED_EDGES, speed_histogram
from quality.models import Adjudication, DashboardSnapshot, GoldResponse, QualityPolicy
from quality.numeric import trust_posterior
from quality.selectors import (
    Trust,
    calibration_due,
    calibration_overdue,
    policy_for,
    trust_from_counts,
)
from raters.models import Membership, Stage
from raters.pseudonyms import rater_pseudonym
from raters.skills import skills_of
from tasks import kinds
from tasks import schema as schemas
from tasks.models import Item, Project
from tasks.selectors import project_for_manager

# Flag thresholds beyond the project's policy: a share of answers faster than the policy's
# minimum, one answer given this often, and a position-bias p-value this small.
FAST_SHARE = 0.2
MODAL_SHARE = 0.9
POSITION_P = 0.01
LOW_COMPETENCE = 0.5


# --- Access --------------------------------------------------------------------------------


def projects_managed(user):
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(
        memberships__user=user, memberships__role=Membership.Role.MANAGER
    ).distinct()


def project_for_reviewer(user, project_id) -> tuple[Project, bool]:
    """The project if the user manages it or is one of its reviewers; (project, is_manager).

    Http404 for everyone else, annotators who are not reviewers included.
    """
    if not user.is_authenticated:
        raise Http404
    try:
        project = Project.objects.get(pk=project_id)
    except (Project.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if user.is_superuser:
        return project, True
    m = (
        Membership.objects.filter(project=project, user=user)
        .only("role", "stage", "is_reviewer")
        .first()
    )
    if m is None:
        raise Http404
    if m.role == Membership.Role.MANAGER:
        return project, True
    if m.is_reviewer and m.stage in (Stage.QUALIFIED, Stage.WARNED):
        return project, False
    raise Http404


def membership_for_manager(user, project_id, membership_id) -> Membership:
    project = project_for_manager(user, project_id)
    try:
        return Membership.objects.select_related("user", "project").get(
            pk=membership_id, project=project, role=Membership.Role.ANNOTATOR
        )
    except (Membership.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def memberships_for_manager(user, membership_ids: list[int]) -> list[Membership]:
    """The annotator memberships among ``membership_ids`` (checked by the view with
    config.converters.posted_ids) in projects the user manages."""
    return list(
        Membership.objects.filter(
            pk__in=membership_ids,
            role=Membership.Role.ANNOTATOR,
            project__in=projects_managed(user),
        ).select_related("user", "project")
    )


# --- Rater calibration table ---------------------------------------------------------------


@dataclass
class RaterRow:
    membership_id: int
    project_id: int
    project: str
    rater: str
    stage: str
    gold_n: int
    gold_mean: float | None
    gold_lower: float | None
    gold_upper: float | None
    mace: float | None
    agreement: float | None
    kappa: float | None
    items_done: int
    median_seconds: float | None
    fast: bool
    straightlining: bool
    position_bias: bool
    calibrated_at: object
    calibration_due: bool
    calibration_overdue: bool
    is_reviewer: bool
    at_risk: bool
    risk: list[str]
    scored_at: object

    @property
    def band_width(self) -> float:
        """The credible band's width, for the meter drawn in the table."""
        return (self.gold_upper or 0) - (self.gold_lower or 0)

    def as_json(self) -> dict:
        d = dict(self.__dict__)
        for key in ("calibrated_at", "scored_at"):
            d[key] = d[key].isoformat() if d[key] else None
        return d


SORT_KEYS = {
    "rater": lambda r: r.rater.lower(),
    "project": lambda r: r.project.lower(),
    "stage": lambda r: r.stage,
    "gold": lambda r: -1 if r.gold_mean is None else r.gold_mean,
    "mace": lambda r: -1 if r.mace is None else r.mace,
    "agreement": lambda r: -1 if r.agreement is None else r.agreement,
    "kappa": lambda r: -2 if r.kappa is None else r.kappa,
    "items": lambda r: r.items_done,
    "speed": lambda r: -1 if r.median_seconds is None else r.median_seconds,
    "calibrated": lambda r: r.calibrated_at.timestamp() if r.calibrated_at else 0,
    "risk": lambda r: (not r.at_risk, -len(r.risk), r.rater.lower()),
}
FILTERS = ("at_risk", "fast", "straightlining", "position_bias", "due")


def _latest_scores(project_ids) -> dict[tuple[int, int], RaterScore]:
    newest = (
        RaterScore.objects.filter(project_id=OuterRef("project_id"), rater_id=OuterRef("rater_id"))
        .order_by("-computed_at", "-id")
        .values("id")[:1]
    )
    rows = RaterScore.objects.filter(project_id__in=project_ids, id=Subquery(newest)).defer(
        "ds_confusion"
    )
    return {(s.project_id, s.rater_id): s for s in rows}


def _bands(memberships: list[Membership]) -> list[Trust | None]:
    """Each rater's trust (quality.numeric.trust_posterior, the rule every door reads) in one
    vectorised call: per row in pure Python it took most of a 1,000-rater page. None for a
    rater with no gold answers, whose band would only show the prior."""
    if not memberships:
        return []
    post = trust_posterior([m.gold_score_sum for m in memberships], [m.gold_n for m in memberships])
    return [t if t.n > 0 else None for t in post.rows()]


def _row(
    m: Membership, s: RaterScore | None, policy: QualityPolicy, trust: Trust | None = None
) -> RaterRow:
    if trust is None and m.gold_n:
        trust = trust_from_counts(m.gold_score_sum, m.gold_n)
    fast = bool(s and s.fast_fraction is not None and s.fast_fraction >= FAST_SHARE)
    straight = bool(
        s
        and s.n_annotations >= policy.straightline_streak
        and (
            (s.straightline_streak or 0) >= policy.straightline_streak
            or (s.modal_share or 0) >= MODAL_SHARE
        )
    )
    position = bool(s and s.position_p_value is not None and s.position_p_value < POSITION_P)
    due = calibration_due(m, policy) is not None
    overdue = due and calibration_overdue(m, policy)
    risk = []
    if m.stage in (Stage.WARNED, Stage.SUSPENDED):
        risk.append(m.stage)
    if trust and trust.mean < policy.warn_below:
        risk.append("low gold")
    if s and s.mace_competence is not None and s.mace_competence < LOW_COMPETENCE:
        risk.append("low competence")
    if s and s.agreement_penalises and s.agreement_with_aggregate is not None:
        if s.agreement_with_aggregate < 0.5:
            risk.append("low agreement")
    risk += [name for name, on in (("fast", fast), ("straight-lining", straight)) if on]
    if position:
        risk.append("position bias")
    if overdue:
        risk.append("calibration overdue")
    seconds = None
    if s is not None:
        ms = s.active_ms_median if s.active_ms_median is not None else s.duration_ms_median
        seconds = None if ms is None else ms / 1000.0
    return RaterRow(
        membership_id=m.pk,
        project_id=m.project_id,
        project=m.project.name,
        rater=m.user.username,
        stage=m.stage,
        gold_n=m.gold_n,
        gold_mean=trust.mean if trust else None,
        gold_lower=trust.lower if trust else None,
        gold_upper=trust.upper if trust else None,
        mace=s.mace_competence if s else None,
        agreement=s.agreement_with_aggregate if s else None,
        kappa=s.kappa_mean if s else None,
        items_done=s.n_annotations if s else 0,
        median_seconds=seconds,
        fast=fast,
        straightlining=straight,
        position_bias=position,
        calibrated_at=m.calibrated_at,
        calibration_due=due,
        calibration_overdue=overdue,
        is_reviewer=m.is_reviewer,
        at_risk=bool(risk),
        risk=risk,
        scored_at=s.computed_at if s else None,
    )


def calibration_table(
    projects, *, sort: str = "risk", descending: bool = False, filters=(), stage="", q=""
) -> list[RaterRow]:
    """One row per annotator of the given projects: three queries in all.

    Sorted by ``sort`` (SORT_KEYS) and filtered by flags (FILTERS), stage and a name search.
    The default order puts rows at risk first.
    """
    projects = list(projects)
    ids = [p.pk for p in projects]
    policies = {p.project_id: p for p in QualityPolicy.objects.filter(project_id__in=ids)}
    scores = _latest_scores(ids)
    memberships = Membership.objects.filter(
        project_id__in=ids, role=Membership.Role.ANNOTATOR
    ).select_related("user", "project")
    if stage:
        memberships = memberships.filter(stage=stage)
    if q:
        memberships = memberships.filter(user__username__icontains=q)
    rows = []
    defaults = {}
    memberships = list(memberships)
    for m, trust in zip(memberships, _bands(memberships), strict=True):
        policy = policies.get(m.project_id) or defaults.setdefault(
            m.project_id, QualityPolicy(project_id=m.project_id)
        )
        rows.append(_row(m, scores.get((m.project_id, m.user_id)), policy, trust))
    for f in filters:
        attr = "calibration_due" if f == "due" else f
        rows = [r for r in rows if getattr(r, attr)]
    rows.sort(key=SORT_KEYS.get(sort, SORT_KEYS["risk"]), reverse=descending)
    return rows


# --- Per-rater page ------------------------------------------------------------------------


def rater_detail(membership: Membership) -> dict:
    """Everything on the per-rater page, in a fixed number of queries."""
    project = membership.project
    policy = policy_for(project)
    score = (
        RaterScore.objects.filter(project=project, rater_id=membership.user_id)
        .order_by("-computed_at", "-id")
        .first()
    )
    live = list(
        GoldResponse.objects.filter(membership=membership, mode=GoldResponse.Mode.INJECTION)
        .order_by("created_at", "id")
        .values_list("score", flat=True)
    )
    sessions = list(
        membership.sessions.filter(kind="calibration").prefetch_related("responses__gold")[:20]
    )
    transitions = list(membership.transitions.select_related("actor")[:100])
    own = list(
        Annotation.objects.filter(rater_id=membership.user_id, project=project)
        .order_by("-id")
        .values_list("duration_ms", "active_ms")[:5000]
    )
    snapshot = snapshot_latest(project)
    label_kind = kinds.get(project.kind)
    row = _row(membership, score, policy)
    return {
        "row": row,
        "score": score,
        "policy": policy,
        "gold_scores": live,
        "sessions": sessions,
        "transitions": transitions,
        "speed_edges": SPEED_EDGES,
        "speed_rater": speed_histogram([a if a is not None and a >= 0 else d for d, a in own]),
        "speed_project": (snapshot.data.get("speed_histogram") if snapshot else None) or [],
        "confusion": score.ds_confusion if score else None,
        "labels": label_kind.aggregate_labels(project.schema),
        # Rating kinds: each rating given against the final rating, and the weighted kappa.
        "ordinal_confusion": score.ordinal_confusion if score else None,
        "ordinal_kappa": score.ordinal_kappa if score else None,
        "ranking_tau": score.ranking_tau if score else None,
        "scale_points": label_kind.ordinal_points(project.schema),
        "ordinal_figure": label_kind.ordinal_figure,
        "has_sides": label_kind.has_sides,
        "skills": skills_of(membership),
    }


def rater_detail_json(detail: dict) -> dict:
    s = detail["score"]
    return {
        "row": detail["row"].as_json(),
        "thresholds": {
            "warn_below": detail["policy"].warn_below,
            "suspend_below": detail["policy"].suspend_below,
        },
        "gold_scores": detail["gold_scores"],
        "skills": detail["skills"],
        "confusion": {"labels": detail["labels"], "matrix": detail["confusion"]},
        "ordinal": {
            "points": detail["scale_points"],
            "matrix": detail["ordinal_confusion"],
            "weighted_kappa": detail["ordinal_kappa"],
            "kendall_tau": detail["ranking_tau"],
        },
        "speed": {
            "edges_seconds": detail["speed_edges"],
            "rater": detail["speed_rater"],
            "project": detail["speed_project"],
        },
        "position": None
        if s is None or s.position_left is None
        else {
            "left": s.position_left,
            "right": s.position_right,
            "share_left": s.position_share_left,
            "p_value": s.position_p_value,
        },
        "calibration_sessions": [
            {
                "started_at": x.started_at.isoformat(),
                "finished_at": x.finished_at.isoformat() if x.finished_at else None,
                "score": x.score,
                "passed": x.passed,
                "responses": [
                    {"gold_id": r.gold_id, "value": r.value, "score": r.score}
                    for r in x.responses.all()
                ],
            }
            for x in detail["sessions"]
        ],
        "audit": [
            {
                "at": t.created_at.isoformat(),
                "from": t.from_stage,
                "to": t.to_stage,
                "by": t.actor.username if t.actor else None,
                "reason": t.reason,
            }
            for t in detail["transitions"]
        ],
    }


# --- Project dashboard ---------------------------------------------------------------------


def snapshot_latest(project) -> DashboardSnapshot | None:
    return DashboardSnapshot.objects.filter(project=project).order_by("-computed_at", "-id").first()


def project_progress(project) -> dict:
    """Complete, in progress and untouched items, and raters active in the last 7 days.

    Complete comes from the kept counters; one indexed count gives the items begun.
    """
    from datetime import timedelta

    from django.utils import timezone

    counts = project_counts(project)
    n_items = counts["n_items"]
    complete = min(counts["n_complete"], n_items)
    started = (
        Item.objects.filter(project=project, is_gold=False)
        .filter(Q(n_done__gt=0) | Q(n_open__gt=0))
        .count()
    )
    in_progress = max(started - complete, 0)
    since = timezone.now() - timedelta(days=7)
    active = (
        RaterScore.objects.filter(project=project, computed_at__gte=since, n_annotations__gt=0)
        .values("rater_id")
        .distinct()
        .count()
    )
    return {
        "n_items": n_items,
        "complete": complete,
        "in_progress": in_progress,
        "untouched": max(n_items - complete - in_progress, 0),
        "n_annotations": counts["n_annotations"],
        "active_raters": active,
    }


def run_latest(project) -> AggregationRun | None:
    return AggregationRun.objects.filter(project=project).order_by("-created_at", "-id").first()


def project_overview(project) -> dict:
    snapshot = snapshot_latest(project)
    data = snapshot.data if snapshot else {}
    current = aggregation_run_current(project)
    latest = run_latest(project)
    disputed = data.get("disputed", [])[:20]
    done = set(
        Adjudication.objects.filter(item_id__in=[d["item_id"] for d in disputed]).values_list(
            "item_id", flat=True
        )
    )
    for d in disputed:
        d["adjudicated"] = d["item_id"] in done
    return {
        "progress": project_progress(project),
        "snapshot": snapshot,
        "figures": data,
        "current_run": current,
        "latest_run": latest,
        "disputed": disputed,
    }


def run_json(run: AggregationRun | None) -> dict | None:
    if run is None:
        return None
    return {
        "id": run.pk,
        "method": run.method,
        "status": run.status,
        "phase": run.phase,
        "percent": run.percent,
        "is_current": run.is_current,
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "stats": run.stats,
    }


def project_overview_json(overview: dict) -> dict:
    snap = overview["snapshot"]
    figures = dict(overview["figures"])
    figures.pop("disputed", None)
    figures.pop("kappa", None)
    return {
        "progress": overview["progress"],
        "figures_computed_at": snap.computed_at.isoformat() if snap else None,
        "figures": figures,
        "current_run": run_json(overview["current_run"]),
        "latest_run": run_json(overview["latest_run"]),
        "disputed": overview["disputed"],
    }


def agreement_matrix(project) -> dict:
    snapshot = snapshot_latest(project)
    kappa = (snapshot.data.get("kappa") if snapshot else None) or {"raters": [], "matrix": []}
    return {
        "computed_at": snapshot.computed_at.isoformat() if snapshot else None,
        "raters": kappa.get("raters", []),
        "matrix": kappa.get("matrix", []),
        "fleiss": snapshot.data.get("fleiss") if snapshot else None,
    }


# --- Review queue --------------------------------------------------------------------------


def review_queue(project, *, limit: int | None = 50) -> list[dict]:
    """Disputed items not adjudicated yet, most disputed first (two queries)."""
    snapshot = snapshot_latest(project)
    disputed = (snapshot.data.get("disputed") if snapshot else None) or []
    done = set(
        Adjudication.objects.filter(
            project=project, item_id__in=[d["item_id"] for d in disputed]
        ).values_list("item_id", flat=True)
    )
    return [d for d in disputed if d["item_id"] not in done][:limit]


def review_item(project, item_id, *, user=None, is_manager: bool = True) -> Item:
    """A live item of the project for its review page; Http404 otherwise.

    Reviewers who do not manage the project open only items in the review queue, and
    never one they hold a lease on: a reviewer who also labels would otherwise read the
    other raters' answers to an item on their own screen. Every other id, gold or live,
    gets the same 404.
    """
    try:
        pk = int(item_id)
        item = Item.objects.get(pk=pk, project=project, is_gold=False)
    except (Item.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None
    if is_manager:
        return item
    queued = {d["item_id"] for d in review_queue(project, limit=None)}
    held = Assignment.objects.filter(
        item_id=pk, rater=user, status__in=(Assignment.Status.ACTIVE, Assignment.Status.QUEUED)
    ).exists()
    if pk not in queued or held:
        raise Http404
    return item


def review_detail(project, item: Item, *, reveal: bool) -> dict:
    """Every answer on the item (by pseudonym unless ``reveal``), the aggregate and any
    adjudication or open request for more labels."""
    answers = list(
        Annotation.objects.filter(item=item)
        .select_related("rater")
        .order_by("id")
        .values_list("rater__username", "value", "duration_ms", "rater_id")
    )
    run = aggregation_run_current(project)
    result = ItemResult.objects.filter(run=run, item=item).first() if run else None
    adjudication = Adjudication.objects.filter(item=item).select_related("decided_by").first()
    from quality.models import RelabelRequest

    relabel = RelabelRequest.objects.filter(item=item, resolved_at__isnull=True).first()
    tally = {}
    for _, value, _, _ in answers:
        key = schemas_key(project.kind, value)
        tally[key] = tally.get(key, 0) + 1
    return {
        "item": item,
        "answers": [
            {
                # The same pseudonym as in the item browser and exports, so a reviewer can
                # follow one rater across items without learning who it is.
                "rater": name if reveal else rater_pseudonym(project.pk, rater_id),
                "value": value,
                "shown": schemas_key(project.kind, value),
                "seconds": round(ms / 1000.0, 1),
            }
            for name, value, ms, rater_id in answers
        ],
        "tally": sorted(tally.items(), key=lambda kv: -kv[1]),
        "aggregate": result,
        "adjudication": adjudication,
        "relabel": relabel,
        "options": schemas.label_options(project.kind, project.schema),
    }


def review_detail_json(d: dict) -> dict:
    """`review_detail` as the API returns it: ids, values and times, no model objects."""
    aggregate, adjudication, relabel = d["aggregate"], d["adjudication"], d["relabel"]
    return {
        "item": {"id": d["item"].pk, "data": d["item"].data, "meta": d["item"].meta},
        "answers": d["answers"],
        "tally": [{"answer": k, "n": n} for k, n in d["tally"]],
        "aggregate": None
        if aggregate is None
        else {
            "label": aggregate.label,
            "confidence": aggregate.confidence,
            "distribution": aggregate.distribution,
            "agreement": aggregate.agreement,
        },
        "adjudication": None
        if adjudication is None
        else {
            "label": adjudication.label,
            "note": adjudication.note,
            "decided_by": adjudication.decided_by.username if adjudication.decided_by else None,
            "decided_at": adjudication.decided_at.isoformat(),
        },
        "relabel": None
        if relabel is None
        else {
            "extra_labels": relabel.extra_labels,
            "reason": relabel.reason,
            "requested_at": relabel.requested_at.isoformat(),
        },
        "options": [{"value": v, "label": label} for v, label in d["options"]],
    }


def schemas_key(kind: str, value) -> str:
    """An answer as a short readable string for the review screen."""
    return kinds.get(kind).short_text(value)


def adjudications_for_items(project, item_ids) -> dict[int, dict]:
    """{item_id: {"label", "decided_by", "decided_at"}} for adjudicated items (one query).

    Exports call this per chunk: an adjudicated label overrides the aggregate and is marked
    as adjudicated.
    """
    rows = Adjudication.objects.filter(project=project, item_id__in=list(item_ids)).values_list(
        "item_id", "label", "decided_by__username", "decided_at"
    )
    return {
        item_id: {"label": label, "decided_by": by, "decided_at": at.isoformat()}
        for item_id, label, by, at in rows
    }
