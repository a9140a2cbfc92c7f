"""Writes behind the dashboards: the figures job, adjudication and requests for more labels."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone

from aggregation.models import ItemResult
from aggregation.selectors import aggregation_run_current
from aggregation.services import item_fields, item_results_agreement_set
from annotation.models import Annotation
from modelruns.suggestions import anchoring_figures
from quality.models import Adjudication, DashboardSnapshot, RelabelRequest
from quality.numeric.agreement import cohen_kappa_matrix, fleiss_kappa_detail, krippendorff_alpha
from tasks import kinds
from tasks import schema as schemas
from tasks.models import Item, Project

# Seconds per item: edges of the speed histogram (the last bin is open-ended).
SPEED_EDGES = [0, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120, 300]
# Raters in the project's kappa heatmap: the most active ones, so the picture stays legible.
HEATMAP_RATERS = 30
DISPUTED_KEPT = 200
DAYS_SHOWN = 60


def speed_histogram(durations_ms) -> list[int]:
    seconds = np.asarray(durations_ms, dtype=float) / 1000.0
    idx = np.searchsorted(np.array(SPEED_EDGES[1:], dtype=float), seconds, side="right")
    return np.bincount(idx, minlength=len(SPEED_EDGES)).astype(int).tolist()


def _alpha(votes: list[tuple[int, int, object]], level: str) -> float | None:
    if len(votes) < 2:
        return None
    items = np.array([v[0] for v in votes])
    raters = np.array([v[1] for v in votes])
    keys = [v[2] for v in votes]
    if level == "ordinal":
        values = np.array(keys, dtype=np.int64)
    else:
        _, values = np.unique(np.array(keys, dtype=object).astype(str), return_inverse=True)
    _, item_idx = np.unique(items, return_inverse=True)
    a = krippendorff_alpha(item_idx, raters, values, level=level)
    return None if not math.isfinite(a) else round(float(a), 4)


def fleiss_figures(votes: list[tuple[int, int, object]]) -> dict:
    """Fleiss' kappa (1971) of the project's answers, with what it stands on: {"kappa",
    "n_items" (answered by two or more raters), "n_labels" (distinct answers on them),
    "n_votes"}; kappa is None where it is undefined."""
    if not votes:
        return {"kappa": None, "n_items": 0, "n_labels": 0, "n_votes": 0}
    _, item_idx = np.unique(np.array([v[0] for v in votes]), return_inverse=True)
    _, label = np.unique(np.array([str(v[2]) for v in votes]), return_inverse=True)
    f = fleiss_kappa_detail(item_idx, np.array([v[1] for v in votes]), label)
    return {
        "kappa": round(f.kappa, 4) if math.isfinite(f.kappa) else None,
        "n_items": f.n_items,
        "n_labels": f.n_labels,
        "n_votes": f.n_votes,
    }


def dashboard_snapshot_compute(*, project_id: int) -> DashboardSnapshot:
    """Compute the project's costly figures in one pass over its annotations and store them.

    Runs as a job after an aggregation run (and on demand), so pages read one row.
    """
    project = Project.objects.get(pk=project_id)
    run = aggregation_run_current(project)
    label_kind = kinds.get(project.kind)
    level = label_kind.agreement_level
    per_day: Counter[str] = Counter()
    labels: Counter[str] = Counter()
    by_week: dict[str, list] = defaultdict(list)
    by_version: dict[str, list] = defaultdict(list)
    rater_votes: Counter[int] = Counter()
    votes: list[tuple[int, int, object]] = []
    durations: list[int] = []
    by_item: dict[int, list] | None = (
        defaultdict(list) if label_kind.has_agreement_figures else None
    )
    since = timezone.now() - timedelta(days=DAYS_SHOWN)
    rows = (
        Annotation.objects.filter(project=project, item__is_gold=False)
        .values_list("item_id", "rater_id", "value", "created_at", "guideline_version")
        .order_by()
        .iterator(chunk_size=20_000)
    )
    for item_id, rater_id, value, created_at, version, *_ in rows:
        if created_at >= since:
            per_day[timezone.localdate(created_at).isoformat()] += 1
        for key in label_kind.distribution_keys(value):
            labels[key] += 1
        rater_votes[rater_id] += 1
        if by_item is not None:
            by_item[item_id].append((rater_id, value))
        key = label_kind.agreement_key(value)
        if key is None:
            continue
        vote = (item_id, rater_id, key)
        votes.append(vote)
        day = timezone.localdate(created_at)
        by_week[(day - timedelta(days=day.weekday())).isoformat()].append(vote)
        by_version["none" if version is None else str(version)].append(vote)
    durations = list(
        Annotation.objects.filter(project=project, item__is_gold=False)
        .order_by("-id")
        .values_list("duration_ms", flat=True)[:50_000]
    )
    data = {
        "annotations_per_day": sorted(per_day.items()),
        "label_distribution": labels.most_common(),
        "alpha": _alpha(votes, level),
        "alpha_level": level,
        "alpha_by_week": [(w, _alpha(v, level), len(v)) for w, v in sorted(by_week.items())],
        "alpha_by_version": [
            (ver, _alpha(v, level), len(v))
            # Versions sort as numbers (10 after 9), "before any guideline" last.
            for ver, v in sorted(
                by_version.items(),
                key=lambda kv: (kv[0] == "none", int(kv[0]) if kv[0].isdigit() else 0),
            )
        ],
        "guideline_health": guideline_health(project, label_kind, level),
        "kappa": _kappa_pairs(votes, rater_votes),
        "fleiss": fleiss_figures(votes) if label_kind.answers_are_one_label else None,
        "kind_agreement": label_kind.agreement_figures(
            project.schema, by_item, item_fields(project, label_kind.reads_item_fields)
        )
        if by_item is not None
        else [],
        "speed_edges": SPEED_EDGES,
        "speed_histogram": speed_histogram(durations),
        "confidence_histogram": [],
        "disputed": [],
        "dynamic_overlap": dynamic_overlap_figures(project),
        "suggestions": anchoring_figures(project),
    }
    if run is not None:
        data.update(_run_figures(run, vote_entropy(votes)))
        item_results_agreement_set(run.pk, item_agreement(votes))
    return DashboardSnapshot.objects.create(
        project=project, computed_at=timezone.now(), run=run, data=data
    )


def dynamic_overlap_figures(project: Project) -> dict | None:
    """With dynamic overlap: how many items it settled early and the labels that saved
    against the fixed overlap (the project's overlap, now the maximum)."""
    from django.db.models import Count, Sum

    from quality.selectors import policy_for

    policy = policy_for(project)
    if policy.confidence_target is None:
        return None
    settled = Item.objects.filter(project=project, is_gold=False, settled=True).aggregate(
        n=Count("id"), labels=Sum("n_done")
    )
    n = settled["n"] or 0
    return {
        "target": policy.confidence_target,
        "min": policy.overlap_min,
        "max": project.overlap,
        "settled": n,
        "labels_saved": n * project.overlap - (settled["labels"] or 0),
        "gold": _gold_replay(project, policy),
    }


def _score_of_vote(project, label_kind, answer, values, gold_score) -> float:
    label = label_kind.vote_label(project.schema, values)
    if label is None:
        return 0.0
    return gold_score(project.kind, project.schema, answer, label_kind.label_from_aggregate(label))


def _gold_replay(project: Project, policy) -> dict | None:
    """Silent gold answered by several raters, replayed in answer order: the accuracy of the
    raters' vote with the project's fixed overlap against the vote where dynamic overlap
    would have stopped (annotation.queue.settle's rule), and the labels each spent. Gold is
    never settled in the queue, so its answers show what both would have given."""
    from annotation.queue.settle import stop_for
    from quality.models import GoldResponse
    from quality.scoring import gold_score

    label_kind = kinds.get(project.kind)
    if label_kind.stop_rule is None:
        return None
    answers = defaultdict(list)
    rows = (
        GoldResponse.objects.filter(gold__project=project, mode=GoldResponse.Mode.INJECTION)
        .order_by("gold_id", "created_at", "id")
        .values_list("gold_id", "gold__answer", "value")
    )
    for gold_id, answer, value in rows:
        answers[gold_id].append((answer, value))
    fixed_ok = dynamic_ok = fixed_labels = dynamic_labels = n = 0
    for votes in answers.values():
        if len(votes) < 2:
            continue
        answer, values = votes[0][0], [v for _, v in votes[: project.overlap]]
        used = len(values)
        for k in range(1, len(values) + 1):
            # The prior's accuracy for every rater: their gold accuracy would count these
            # very answers.
            stop = stop_for(project, policy, [(v, 0.0, 0, None, None) for v in values[:k]])
            if stop is not None and stop.done:
                used = k
                break
        fixed_ok += _score_of_vote(project, label_kind, answer, values, gold_score)
        dynamic_ok += _score_of_vote(project, label_kind, answer, values[:used], gold_score)
        fixed_labels += len(values)
        dynamic_labels += used
        n += 1
    if not n:
        return None
    return {
        "n_gold": n,
        "fixed_accuracy": round(fixed_ok / n, 4),
        "dynamic_accuracy": round(dynamic_ok / n, 4),
        "fixed_labels_per_item": round(fixed_labels / n, 3),
        "dynamic_labels_per_item": round(dynamic_labels / n, 3),
    }


# Words a minute of careful reading, for the guideline's reading time.
READING_WPM = 200


def guideline_health(project: Project, label_kind, level: str) -> dict:
    """Per guideline section and version: the error rate of gold answers on the gold that
    tests the section, and Krippendorff's alpha among raters on it, each with the number
    of answers behind it, so the sections that confuse raters stand out as the ones to
    rewrite; and the current version's length and reading time.

    An answer belongs to the version that was current when it was given (a live answer
    records it; a session answer is dated against the versions' publication times)."""
    from quality.models import GoldResponse
    from tasks.models import Guideline

    versions = list(
        Guideline.objects.filter(project=project)
        .order_by("version")
        .values_list("version", "published_at", "sections", "body")
    )
    if not versions:
        return {"sections": [], "words": 0, "reading_minutes": 0, "version": None}
    current = versions[-1]
    words = len(current[3].split())
    titles = {x["slug"]: x["title"] for _, _, sections, _ in versions for x in sections or []}

    def version_at(when):
        found = None
        for number, published, _, _ in versions:
            if published <= when:
                found = number
        return found

    cells: dict[tuple[str, int | None], dict] = defaultdict(lambda: {"scores": [], "votes": []})
    answers = GoldResponse.objects.filter(gold__project=project).exclude(gold__sections=[])
    for (
        gold_item,
        sections,
        user_id,
        value,
        score,
        created,
        answered_version,
    ) in answers.values_list(
        "gold__item_id",
        "gold__sections",
        "membership__user_id",
        "value",
        "score",
        "created_at",
        "annotation__guideline_version",
    ).iterator(chunk_size=20_000):
        version = answered_version if answered_version is not None else version_at(created)
        key = label_kind.agreement_key(value)
        for slug in sections or ():
            cell = cells[(slug, version)]
            cell["scores"].append(score)
            if key is not None:
                cell["votes"].append((gold_item, user_id, key))
    out = []
    for slug in sorted({slug for slug, _ in cells}, key=lambda x: (x not in titles, x)):
        rows = []
        for (s, version), cell in sorted(
            ((k, v) for k, v in cells.items() if k[0] == slug), key=lambda kv: kv[0][1] or 0
        ):
            rows.append(
                {
                    "version": version,
                    "n": len(cell["scores"]),
                    "gold_error": round(1.0 - sum(cell["scores"]) / len(cell["scores"]), 4),
                    "alpha": _alpha(cell["votes"], level),
                }
            )
        out.append({"slug": slug, "title": titles.get(slug, slug), "rows": rows})
    # The worst first: the latest version's gold error rate, highest first.
    out.sort(key=lambda x: -x["rows"][-1]["gold_error"])
    return {
        "sections": out,
        "words": words,
        "reading_minutes": max(1, round(words / READING_WPM)) if words else 0,
        "version": current[0],
    }


def _kappa_pairs(votes, rater_votes: Counter) -> dict:
    top = [r for r, _ in rater_votes.most_common(HEATMAP_RATERS)]
    if len(top) < 2 or not votes:
        return {"raters": [], "matrix": []}
    code = {r: j for j, r in enumerate(top)}
    kept = [v for v in votes if v[1] in code]
    _, item_idx = np.unique(np.array([v[0] for v in kept]), return_inverse=True)
    rater_idx = np.array([code[v[1]] for v in kept])
    _, label = np.unique(np.array([str(v[2]) for v in kept]), return_inverse=True)
    km = cohen_kappa_matrix(item_idx, rater_idx, label, n_raters=len(top), min_shared=5)
    matrix = [[None if not math.isfinite(x) else round(float(x), 3) for x in row] for row in km]
    from django.contrib.auth import get_user_model

    names = dict(get_user_model().objects.filter(pk__in=top).values_list("pk", "username"))
    return {"raters": [names.get(r, str(r)) for r in top], "rater_ids": top, "matrix": matrix}


def _vote_counts(votes) -> tuple[np.ndarray, np.ndarray]:
    """(item ids, count matrix): how many of each item's votes fall on each answer key."""
    item_ids, item_idx = np.unique(np.array([v[0] for v in votes]), return_inverse=True)
    _, key_idx = np.unique(np.array([str(v[2]) for v in votes]), return_inverse=True)
    k = int(key_idx.max()) + 1
    counts = np.bincount(item_idx * k + key_idx, minlength=item_ids.size * k).reshape(-1, k)
    return item_ids, counts


def vote_entropy(votes) -> dict[int, float]:
    """{item_id: entropy in bits of its raw votes}: 0 when the raters agree."""
    if not votes:
        return {}
    item_ids, counts = _vote_counts(votes)
    p = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.nansum(np.where(p > 0, p * np.log2(p), 0.0), axis=1)
    return dict(zip(item_ids.tolist(), np.round(h, 4).tolist(), strict=True))


def item_agreement(votes) -> dict[int, float]:
    """{item_id: share of its votes on its most common answer} for items with two or more.

    The raw agreement the item browser filters on and exports carry: 1 when the raters
    agree, 1/k when k raters all differ. Answers compare by the kind's agreement_key, as
    the project's alpha does; an item with one vote has no agreement to speak of.
    """
    if not votes:
        return {}
    item_ids, counts = _vote_counts(votes)
    n = counts.sum(axis=1)
    share = counts.max(axis=1) / np.maximum(n, 1)
    keep = n >= 2
    return dict(zip(item_ids[keep].tolist(), np.round(share[keep], 4).tolist(), strict=True))


def _run_figures(run, spread: dict[int, float]) -> dict:
    """Confidence histogram and the most disputed items: lowest confidence first, and among
    equal confidence the most split raw votes (a confident model can still face a split)."""
    rows = list(
        ItemResult.objects.filter(run=run, confidence__isnull=False).values_list(
            "item_id", "confidence", "label", "n_votes"
        )
    )
    if not rows:
        return {"confidence_histogram": [], "disputed": [], "run_method": run.method}
    conf = np.array([r[1] for r in rows], dtype=float)
    hist = np.histogram(conf, bins=10, range=(0.0, 1.0))[0]
    ent = np.array([spread.get(r[0], 0.0) for r in rows])
    order = np.lexsort((-ent, np.round(conf, 3)))[:DISPUTED_KEPT]
    disputed = [
        {
            "item_id": rows[i][0],
            "confidence": rows[i][1],
            "entropy": float(ent[i]),
            "label": rows[i][2],
            "n_votes": rows[i][3],
        }
        for i in order
    ]
    return {
        "confidence_histogram": [int(x) for x in hist],
        "disputed": disputed,
        "run_method": run.method,
    }


# --- Review queue ---------------------------------------------------------------------------


def adjudication_set(*, item: Item, label, user, note: str = "") -> Adjudication:
    """Record the final label of an item; it overrides the aggregate in exports.

    The label is checked against the project's schema first: a bad label saves nothing.
    """
    project = item.project
    label = schemas.value_validate(project.kind, project.schema, label, item_data=item.data)
    result = None
    run = aggregation_run_current(project)
    if run is not None:
        result = ItemResult.objects.filter(run=run, item=item).first()
    with transaction.atomic():
        adjudication, _ = Adjudication.objects.update_or_create(
            item=item,
            defaults={
                "project": project,
                "label": label,
                "note": note[:500],
                "aggregate_label": result.label if result else None,
                "aggregate_confidence": result.confidence if result else None,
                "decided_by": user,
            },
        )
        RelabelRequest.objects.filter(item=item, resolved_at__isnull=True).update(
            resolved_at=timezone.now()
        )
    return adjudication


REVIEW_ACTIONS = ("adjudicate", "relabel", "promote")


def review_action(
    *,
    item: Item,
    user,
    is_manager: bool,
    action: str,
    label=None,
    note: str = "",
    extra_labels=2,
    explanation: str = "",
) -> str:
    """One action on an item of the review queue, for the review page and the API alike:
    set the final label, send it back for more labels, or (managers) promote it to gold.

    `label` is a value of the project's kind. Returns what was done, in words; raises
    SchemaError naming the field (nothing saved), or Http404 for a reviewer's promote.
    """
    from django.http import Http404

    from quality.services import gold_promote

    if action == "adjudicate":
        adjudication_set(item=item, label=label, user=user, note=note)
        return f"Item {item.pk}: final label saved."
    if action == "relabel":
        if isinstance(extra_labels, bool) or not isinstance(extra_labels, int):
            raise schemas.SchemaError("extra_labels", "must be a whole number")
        relabel_request(item=item, user=user, extra_labels=extra_labels, reason=note)
        return f"Item {item.pk}: sent back for {extra_labels} more labels."
    if action == "promote":
        # Gold answers never reach annotators: a reviewer who is a rater may not make gold.
        if not is_manager:
            raise Http404
        if not isinstance(explanation, str) or not explanation.strip():
            raise schemas.SchemaError("explanation", "explain the answer for raters")
        answer = kinds.get(item.project.kind).gold_from_value(label)
        gold_promote(item=item, answer=answer, explanation=explanation.strip(), user=user)
        return f"Item {item.pk}: promoted to gold."
    raise schemas.SchemaError("action", f"choose {', '.join(REVIEW_ACTIONS)}")


def relabel_request(*, item: Item, user, extra_labels: int = 2, reason: str = "") -> RelabelRequest:
    """Ask for ``extra_labels`` more labels on an item (one open request per item)."""
    if not 1 <= extra_labels <= 20:
        raise schemas.SchemaError("extra_labels", "must be between 1 and 20")
    with transaction.atomic():
        open_request = (
            RelabelRequest.objects.select_for_update()
            .filter(item=item, resolved_at__isnull=True)
            .first()
        )
        if open_request is not None:
            open_request.extra_labels = max(open_request.extra_labels, extra_labels)
            open_request.save(update_fields=["extra_labels"])
            return open_request
        # The caller's item may have been read before labels came in: the request is met
        # at the votes it has now plus the extra ones.
        n_done = Item.objects.filter(pk=item.pk).values_list("n_done", flat=True).get()
        return RelabelRequest.objects.create(
            project=item.project,
            item=item,
            extra_labels=extra_labels,
            n_done_then=n_done,
            reason=reason[:500],
            requested_by=user,
        )
