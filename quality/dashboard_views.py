"""Dashboard pages: rater calibration, one rater, the project view and the review queue."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from aggregation.models import AggregationRun
from aggregation.selectors import leaderboard_for_project, project_for_leaderboard, win_matrix_grid
from aggregation.services import AggregationRejected, aggregation_run_request
from config.converters import posted_ids
from quality import dashboard_charts as charts
from quality import dashboards as sel
from quality.charts import accuracy_trend_svg
from quality.dashboard_services import review_action
from raters.models import Stage
from raters.services import RATER_ACTIONS, rater_actions_bulk
from tasks import kinds
from tasks import schema as schemas
from tasks.kinds.base import form_int
from tasks.selectors import project_for_manager


def _table_args(request) -> dict:
    sort = request.GET.get("sort", "risk")
    return {
        "sort": sort if sort in sel.SORT_KEYS else "risk",
        "descending": request.GET.get("dir") == "desc",
        "filters": [f for f in request.GET.getlist("flag") if f in sel.FILTERS],
        "stage": request.GET.get("stage", "") if request.GET.get("stage") in Stage.values else "",
        "q": request.GET.get("q", "")[:100],
    }


def _calibration(request, projects, project=None):
    args = _table_args(request)
    rows = sel.calibration_table(projects, **args)
    return render(
        request,
        "quality/dashboard-raters.html",
        {
            "project": project,
            "rows": rows,
            "n_at_risk": sum(r.at_risk for r in rows),
            "args": args,
            "stages": Stage.values,
            "filters": sel.FILTERS,
            "actions": RATER_ACTIONS,
            "columns": [
                ("rater", "Rater"),
                *([] if project else [("project", "Project")]),
                ("stage", "Stage"),
                ("gold", "Gold accuracy"),
                ("mace", "MACE"),
                ("agreement", "Agrees w/ aggregate"),
                ("kappa", "Mean κ"),
                ("items", "Items"),
                ("speed", "Median s/item"),
                ("risk", "Flags"),
                ("calibrated", "Calibration"),
            ],
            "heatmap": _kappa_heatmap(project) if project else None,
        },
    )


def _kappa_heatmap(project):
    m = sel.agreement_matrix(project)
    return charts.heatmap_svg(
        m["matrix"],
        m["raters"],
        m["raters"],
        label="Cohen's kappa between raters",
        diverging=True,
    )


@login_required
def calibration_all(request):
    """Every annotator of every project the user manages."""
    projects = sel.projects_managed(request.user)
    return _calibration(request, projects)


@login_required
def calibration_project(request, project_id):
    project = project_for_manager(request.user, project_id)
    return _calibration(request, [project], project)


@require_POST
@login_required
def raters_bulk(request):
    """One action with one reason on the ticked raters; each through raters.rater_action."""
    action = request.POST.get("action", "")
    reason = request.POST.get("reason", "").strip()
    targets = sel.memberships_for_manager(request.user, posted_ids(request.POST, "membership"))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("dashboards:raters")
    try:
        done, failed = rater_actions_bulk(
            memberships=targets, action=action, reason=reason, actor=request.user
        )
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        if done:
            messages.success(request, f"{action}: {', '.join(done)}.")
        if failed:
            messages.error(request, "; ".join(failed))
    return redirect(back)


@login_required
def rater_page(request, project_id, membership_id):
    membership = sel.membership_for_manager(request.user, project_id, membership_id)
    d = sel.rater_detail(membership)
    score, policy = d["score"], d["policy"]
    edges = d["speed_edges"]
    names = [f"{e}s" for e in edges[:-1]] + [f"{edges[-1]}s+"]
    return render(
        request,
        "quality/dashboard-rater.html",
        {
            "project": membership.project,
            "membership": membership,
            "d": d,
            "trend": accuracy_trend_svg(
                d["gold_scores"], warn=policy.warn_below, suspend=policy.suspend_below
            ),
            "confusion": charts.heatmap_svg(
                d["confusion"] or [],
                d["labels"],
                d["labels"],
                label="Dawid–Skene confusion",
                row_title="true ↓ · given →",
            )
            if d["confusion"] and len(d["confusion"]) == len(d["labels"])
            else charts.heatmap_svg([], [], [], label="confusion matrix"),
            "ordinal": charts.heatmap_svg(
                # Shares of each final rating's row, as the Dawid–Skene rows are; the
                # counts are in the JSON.
                [[n / max(sum(row), 1) for n in row] for row in d["ordinal_confusion"]],
                d["scale_points"],
                d["scale_points"],
                label=d["ordinal_figure"][0].lower(),
                row_title="final ↓ · given →",
            )
            if d["ordinal_confusion"]
            else None,
            "speed": charts.histogram_svg(
                d["speed_rater"],
                names,
                label="this rater",
                overlay=d["speed_project"],
                overlay_label="whole project",
            ),
            "position": charts.position_svg(
                score.position_left or 0, score.position_right or 0, score.position_p_value
            )
            if d["has_sides"] and score
            else None,
            "actions": RATER_ACTIONS,
        },
    )


def _overview_context(project):
    o = sel.project_overview(project)
    f = o["figures"]
    days = [(d[5:], n) for d, n in f.get("annotations_per_day", [])]
    conf = f.get("confidence_histogram", [])
    return {
        "project": project,
        "o": o,
        "f": f,
        "per_day": charts.bars_svg(days, label="annotations per day", every=max(1, len(days) // 8)),
        "labels": charts.hbars_svg(
            [(k, n) for k, n in f.get("label_distribution", [])][:12], label="labels"
        ),
        "alpha_week": charts.line_svg(
            [(w[5:], a) for w, a, _ in f.get("alpha_by_week", [])],
            label="Krippendorff's alpha by week",
        ),
        "alpha_version": charts.bars_svg(
            [
                (f"v{v}" if v != "none" else "none", max(a or 0, 0))
                for v, a, _ in f.get("alpha_by_version", [])
            ],
            label="alpha by guideline version",
        ),
        "confidence": charts.histogram_svg(
            conf, [f"{i / 10:.1f}" for i in range(10)], label="items by confidence"
        ),
        "run": o["latest_run"],
    }


@login_required
def project_dashboard(request, project_id):
    project = project_for_manager(request.user, project_id)
    ctx = _overview_context(project)
    # Figures follow the current run: compute them once when a newer run has finished.
    snap, current = ctx["o"]["snapshot"], ctx["o"]["current_run"]
    if snap is None or (current is not None and snap.run_id != current.pk):
        _refresh(project)
    return render(request, "quality/dashboard-project.html", ctx)


@login_required
def leaderboard(request, project_id):
    project = project_for_leaderboard(request.user, project_id)
    board = leaderboard_for_project(project)
    return render(
        request,
        "quality/dashboard-leaderboard.html",
        {"project": project, "board": board, "grid": win_matrix_grid(board["win_matrix"])},
    )


def _refresh(project):
    from quality import jobs

    jobs.dashboard_snapshot_request(project)


@require_POST
@login_required
def figures_refresh(request, project_id):
    project = project_for_manager(request.user, project_id)
    _refresh(project)
    messages.success(request, "Figures are being recomputed; reload in a moment.")
    return redirect("dashboards:project", project_id=project.pk)


@require_POST
@login_required
def run_now(request, project_id):
    project = project_for_manager(request.user, project_id)
    try:
        run = aggregation_run_request(project=project, user=request.user)
    except AggregationRejected as exc:
        messages.error(request, f"{exc.field}: {exc.message}")
        return redirect("dashboards:project", project_id=project.pk)
    if request.headers.get("HX-Request"):
        return render(
            request, "quality/dashboard-project.html#run", {"project": project, "run": run}
        )
    return redirect("dashboards:project", project_id=project.pk)


@login_required
def run_progress(request, project_id, run_id):
    project = project_for_manager(request.user, project_id)
    try:
        run = AggregationRun.objects.get(pk=run_id, project=project)
    except (AggregationRun.DoesNotExist, ValueError):
        raise Http404 from None
    if run.status == AggregationRun.Status.DONE:
        snap = sel.snapshot_latest(project)
        if snap is None or snap.run_id != run.pk:
            _refresh(project)
    return render(request, "quality/dashboard-project.html#run", {"project": project, "run": run})


# --- Review queue --------------------------------------------------------------------------


@login_required
def review_queue(request, project_id):
    project, is_manager = sel.project_for_reviewer(request.user, project_id)
    queue = sel.review_queue(project)
    if queue and request.GET.get("list") != "1":
        return redirect(
            "dashboards:review-item", project_id=project.pk, item_id=queue[0]["item_id"]
        )
    return render(
        request,
        "quality/dashboard-review.html",
        {"project": project, "queue": queue, "is_manager": is_manager, "d": None},
    )


@login_required
def review_item(request, project_id, item_id):
    project, is_manager = sel.project_for_reviewer(request.user, project_id)
    item = sel.review_item(project, item_id, user=request.user, is_manager=is_manager)
    return _review_render(request, project, item, is_manager)


def _review_render(request, project, item, is_manager, status=200):
    reveal = is_manager and request.GET.get("names") == "1"
    queue = sel.review_queue(project)
    ids = [q["item_id"] for q in queue]
    later = [i for i in ids if i != item.pk]
    return render(
        request,
        "quality/dashboard-review.html",
        {
            "project": project,
            "is_manager": is_manager,
            "d": sel.review_detail(project, item, reveal=reveal),
            "reveal": reveal,
            "queue": queue,
            "next_id": later[0] if later else None,
            "kind": project.kind,
        },
        status=status,
    )


@require_POST
@login_required
def review_act(request, project_id, item_id):
    """Set the final label, ask for more labels, or (managers) promote to gold."""
    project, is_manager = sel.project_for_reviewer(request.user, project_id)
    item = sel.review_item(project, item_id, user=request.user, is_manager=is_manager)
    raw_label = request.POST.get("label", "")
    try:
        done = review_action(
            item=item,
            user=request.user,
            is_manager=is_manager,
            action=request.POST.get("action", ""),
            label=kinds.get(project.kind).label_from_form(raw_label) if raw_label else None,
            note=request.POST.get("note", ""),
            extra_labels=form_int(request.POST, "extra_labels", 2),
            explanation=request.POST.get("explanation", ""),
        )
        messages.success(request, done)
    except schemas.SchemaError as exc:
        messages.error(request, f"Nothing saved. {exc.field}: {exc.message}")
        return redirect("dashboards:review-item", project_id=project.pk, item_id=item.pk)
    queue = [q["item_id"] for q in sel.review_queue(project) if q["item_id"] != item.pk]
    if queue:
        return redirect("dashboards:review-item", project_id=project.pk, item_id=queue[0])
    return redirect(reverse("dashboards:review", args=[project.pk]) + "?list=1")
