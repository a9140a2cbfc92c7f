"""Reads of aggregation runs, per-item results and rater scores.

The export calls ``aggregate_for_items`` / ``aggregate_stream``; both read the project's
current run only, which is replaced atomically, so an export never mixes two runs.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404

from aggregation.models import AggregationRun, AggregationSettings, ItemResult, RaterScore
from tasks import kinds
from tasks.selectors import project_for_manager

RESULT_FIELDS = (
    "item_id", "label", "confidence", "distribution", "n_votes", "extra", "agreement",
)  # fmt: skip


def aggregation_run_for_manager(user, project_id, run_id) -> AggregationRun:
    """A run of a project the user manages; Http404 for anyone else."""
    project = project_for_manager(user, project_id)
    try:
        return AggregationRun.objects.get(pk=run_id, project=project)
    except (AggregationRun.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def aggregation_run_list(project) -> QuerySet[AggregationRun]:
    return AggregationRun.objects.filter(project=project).order_by("-created_at", "-id")


def aggregation_run_current(project) -> AggregationRun | None:
    return AggregationRun.objects.filter(project=project, is_current=True).first()


def project_is_subjective(project) -> bool:
    return AggregationSettings.objects.filter(project=project, subjective=True).exists()


def _shape(row: tuple, *, subjective: bool, run_id: int, method: str) -> dict:
    item_id, label, confidence, distribution, n_votes, extra, agreement = row
    if subjective:
        # Descriptive paradigm: the distribution is the answer; the single label follows.
        return {
            "item_id": item_id,
            "distribution": distribution,
            "label": label,
            "confidence": confidence,
            "agreement": agreement,
            "n_votes": n_votes,
            "extra": extra,
            "method": method,
            "run_id": run_id,
        }
    return {
        "item_id": item_id,
        "label": label,
        "confidence": confidence,
        # Raw agreement of the votes (ItemResult.agreement), beside the model's confidence.
        "agreement": agreement,
        "distribution": distribution,
        "n_votes": n_votes,
        "extra": extra,
        "method": method,
        "run_id": run_id,
    }


def aggregate_for_items(project, item_ids) -> dict[int, dict]:
    """{item_id: aggregate} from the current run, for the given items (two queries).

    Items without a result (unlabelled, gold, or no run yet) are absent. Each aggregate is a
    dict with label, confidence, distribution, n_votes, extra, method and run_id; in
    subjective projects its keys lead with the distribution.
    """
    run = aggregation_run_current(project)
    if run is None:
        return {}
    subjective = project_is_subjective(project)
    rows = ItemResult.objects.filter(run=run, item_id__in=list(item_ids)).values_list(
        *RESULT_FIELDS
    )
    return {r[0]: _shape(r, subjective=subjective, run_id=run.pk, method=run.method) for r in rows}


def aggregate_stream(project, *, chunk_size: int = 5000) -> Iterator[dict]:
    """Every result of the current run in item-id order, streamed for exports.

    The run is fixed when the stream starts, so a run finishing meanwhile does not mix in.
    """
    run = aggregation_run_current(project)
    if run is None:
        return
    subjective = project_is_subjective(project)
    rows = (
        ItemResult.objects.filter(run=run)
        .order_by("item_id")
        .values_list(*RESULT_FIELDS)
        .iterator(chunk_size=chunk_size)
    )
    for r in rows:
        yield _shape(r, subjective=subjective, run_id=run.pk, method=run.method)


def aggregation_result_list(run: AggregationRun) -> QuerySet[ItemResult]:
    """One run's per-item results in item order, with each item's external id (one query
    per page). Any run, not only the current one, so a client can read the run it started
    even after a newer one has replaced it."""
    return (
        ItemResult.objects.filter(run=run)
        .select_related("item")
        .only(*RESULT_FIELDS, "item__external_id")
        .order_by("item_id")
    )


def rater_scores_latest(project) -> QuerySet[RaterScore]:
    """The newest score snapshot of each rater in the project, one row per rater, one query."""
    newest = (
        RaterScore.objects.filter(project=project, rater=OuterRef("rater"))
        .order_by("-computed_at", "-id")
        .values("id")[:1]
    )
    return (
        RaterScore.objects.filter(project=project, id=Subquery(newest))
        .select_related("rater")
        .order_by("rater__username")
    )


def rater_score_history(project, rater) -> QuerySet[RaterScore]:
    return RaterScore.objects.filter(project=project, rater=rater).order_by("-computed_at")


def project_for_leaderboard(user, project_id):
    """A project the user manages whose kind ranks models (pairwise, ranking); Http404 for
    anyone else, and for kinds without a leaderboard."""
    project = project_for_manager(user, project_id)
    if not project.has_leaderboard:
        raise Http404
    return project


def leaderboard_for_project(project) -> dict:
    """The models' leaderboard and win matrix of the project's current run, as the page and
    the API show them (one query).

    state: "no_run" (no run has finished), "no_models" (the run found no item naming its
    models; message says what to add) or "ready". fit: "bradley_terry" or "plackett_luce". rows: model, score, ci_low, ci_high (Elo
    scale), n_comparisons, wins, losses, ties, best first; win_matrix: {"models", "wins",
    "ties"} in the rows' order, wins[a][b] = times a beat b.
    """
    run = aggregation_run_current(project)
    stats = run.stats if run else {}
    rows = stats.get("leaderboard") or []
    if run is None:
        state, message = "no_run", "No aggregation run has finished yet: run aggregation first."
    elif not rows:
        state, message = "no_models", kinds.get(project.kind).models_hint
    else:
        state, message = "ready", ""
    return {
        "state": state,
        "message": message,
        "run": None
        if run is None
        else {
            "id": run.pk,
            "method": run.method,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        },
        "fit": stats.get("leaderboard_fit"),
        "interval": stats.get("leaderboard_interval"),
        "weights": stats.get("leaderboard_weights", "uniform"),
        "rows": rows,
        "win_matrix": stats.get("win_matrix") if rows else None,
    }


def win_matrix_grid(win_matrix: dict | None) -> list[dict]:
    """The win matrix as table rows for a page: per model, each opponent's (wins, losses,
    ties) of the row's model against the column's, None on the diagonal."""
    if not win_matrix:
        return []
    models, wins, ties = win_matrix["models"], win_matrix["wins"], win_matrix["ties"]
    return [
        {
            "model": model,
            "cells": [
                None if a == b else (wins[a][b], wins[b][a], ties[a][b]) for b in range(len(models))
            ],
        }
        for a, model in enumerate(models)
    ]
