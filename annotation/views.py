import json
import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from annotation.forms import value_from_post
from annotation.models import Annotation
from annotation.presentation import displayed_data, ranking_order
from annotation.selectors import item_for_rater, membership_for_annotator, rater_progress
from annotation.services import (
    SubmitRefused,
    annotation_submit,
    annotation_undo,
    assignment_next,
    assignment_next_any,
    assignment_prefetch,
    assignment_skip,
    rater_is_live,
)
from quality.selectors import membership_for
from quality.services import gate_for_live_items
from tasks import schema as schemas
from tasks.markdown import render_markdown
from tasks.selectors import guideline_current, guideline_pending_for

# Number keys rate 1-9; 0 is 10 and - is 11 on the longest scales.
LIKERT_KEYS = [*"123456789", "0", "-"]
PROMPT_KINDS = (schemas.PAIRWISE, schemas.RANKING, schemas.DEMONSTRATION)


def _turns(prompt) -> list[dict]:
    return [
        {"role": t["role"], "html": render_markdown(t["content"])}
        for t in schemas.chat_turns(prompt or "")
    ]


def _entry(project, assignment, *, value=None) -> dict | None:
    """What one item's panel needs; item text is escaped or rendered by tasks/markdown.py."""
    if assignment is None:
        return None
    item, kind = assignment.item, project.kind
    data = displayed_data(kind, item.data, assignment.presentation)
    entry = {
        "item": item,
        "assignment": assignment,
        # A fresh key per rendered item: a double press or a retried request replays it.
        "idempotency_key": uuid.uuid4().hex,
        "value": value,
    }
    if kind in PROMPT_KINDS:
        entry["turns"] = _turns(data.get("prompt"))
    if kind == schemas.PAIRWISE:
        entry["response_a"] = render_markdown(data.get("response_a") or "")
        entry["response_b"] = render_markdown(data.get("response_b") or "")
    elif kind == schemas.RANKING:
        texts = schemas.response_texts(data)
        entry["cards"] = [
            {"index": i, "number": pos + 1, "html": render_markdown(texts[i])}
            for pos, i in enumerate(ranking_order(data, assignment.presentation))
        ]
    elif kind == schemas.DEMONSTRATION:
        draft = data.get("draft") or ""
        entry["draft"] = draft if project.schema.get("show_draft", True) else ""
        if isinstance(value, dict):
            entry["text"] = value.get("text", "")
        else:
            entry["text"] = entry["draft"]
    else:
        # Item text is untrusted: plain strings, escaped by the template.
        entry["fields"] = [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in data.items()]
    return entry


def _context(request, membership, assignment, *, error="", value=None) -> dict:
    project = membership.project
    rater = request.user
    live = rater_is_live(membership)
    next_assignment = None
    # Prefetch after gold and live items alike: a missing prefetch would mark the gold.
    if assignment is not None:
        next_assignment = assignment_prefetch(rater=rater, project=project, membership=membership)
    guideline = guideline_current(project)
    last = Annotation.objects.filter(rater=rater, project=project).order_by("-id").first()
    window = settings.VOX_UNDO_SECONDS
    can_undo = bool(
        last and window and (timezone.now() - last.created_at).total_seconds() <= window
    )
    return {
        "project": project,
        "kind": project.kind,
        "schema": project.schema,
        "live": live,
        "entry": _entry(project, assignment, value=value),
        "next_entry": _entry(project, next_assignment),
        "choices": project.choices,
        "likert_values": list(range(1, project.schema.get("scale", 0) + 1)),
        "likert_keys": LIKERT_KEYS[: project.schema.get("scale", 0)],
        "strength_labels": list(schemas.STRENGTH_LABELS.items()),
        "progress": rater_progress(rater=rater, project=project),
        "guideline": guideline,
        "guideline_html": render_markdown(guideline.body) if guideline else "",
        "can_undo": can_undo,
        "undo_seconds": window,
        "error": error,
    }


def _workbench(request, membership, assignment, *, error: str = "", value=None):
    context = _context(request, membership, assignment, error=error, value=value)
    template = "annotation/workbench.html"
    if request.htmx:
        template += "#workbench"
    else:
        context["unread_notices"] = list(membership.notices.filter(read_at__isnull=True)[:1])
    return render(request, template, context)


def _guideline_gate(request, project):
    """A redirect away from live items while something comes first: a new guideline
    version to acknowledge, or (from the quality rules) onboarding, a suspension or a
    calibration that is due."""
    if guideline_pending_for(request.user, project) is not None:
        url = reverse("tasks:guideline-read", args=[project.pk])
    elif gate_for_live_items(membership=membership_for(request.user, project)) is not None:
        url = reverse("raters:standing", args=[project.pk])
    else:
        return None
    if request.headers.get("X-Vox-Fetch"):
        return JsonResponse({"ok": True, "redirect": url})
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@login_required
def label(request, project_id):
    membership = membership_for_annotator(request.user, project_id)
    if gate := _guideline_gate(request, membership.project):
        return gate
    assignment = assignment_next(
        rater=request.user, project=membership.project, membership=membership
    )
    return _workbench(request, membership, assignment)


@login_required
def label_any(request):
    """ "Next item" across every project where the rater is qualified."""
    assignment = assignment_next_any(rater=request.user)
    if assignment is None:
        return render(request, "annotation/nothing-left.html")
    return redirect("annotation:label", project_id=assignment.project_id)


def _fetch_response(request, membership, *, error="", submitted=True):
    """The JSON answer to the workbench script: the item now leased, and the next one."""
    project = membership.project
    assignment = assignment_next(rater=request.user, project=project, membership=membership)
    context = _context(request, membership, assignment, error=error)
    return JsonResponse(
        {
            "ok": not error,
            "submitted": submitted,
            "error": error,
            "item_id": assignment.item.public_id if assignment else None,
            "progress": context["progress"],
            "can_undo": context["can_undo"],
            "current_html": render_to_string(
                "annotation/workbench.html#workbench", context, request=request
            ),
            "next_html": render_to_string(
                "annotation/item.html", {**context, "entry": context["next_entry"]}, request
            )
            if context["next_entry"]
            else "",
        }
    )


@require_POST
@login_required
def label_submit(request, project_id):
    membership = membership_for_annotator(request.user, project_id)
    project = membership.project
    item = item_for_rater(request.user, project, request.POST.get("item_id"))
    fetch = bool(request.headers.get("X-Vox-Fetch"))
    error = ""
    try:
        annotation_submit(
            rater=request.user,
            item=item,
            value=value_from_post(project, request.POST),
            idempotency_key=(request.POST.get("idempotency_key") or "")[:64] or uuid.uuid4().hex,
            active_ms=_int_or_none(request.POST.get("active_ms")),
        )
    except SubmitRefused as exc:
        error = str(exc)
    except schemas.SchemaError as exc:
        error = _answer_error(exc)
    if fetch:
        if not error and (gate := _guideline_gate(request, project)):
            return gate
        return _fetch_response(request, membership, error=error, submitted=not error)
    if not error and not request.htmx:
        return redirect("annotation:label", project_id=project.pk)
    if not error and (gate := _guideline_gate(request, project)):
        return gate
    # 200 with the message: htmx swaps only successful responses.
    assignment = assignment_next(rater=request.user, project=project, membership=membership)
    return _workbench(request, membership, assignment, error=error)


def _answer_error(exc: schemas.SchemaError) -> str:
    if exc.field in ("value", "value.choice", "value.ranking", "value.text"):
        return {
            "value.ranking": "Order every response first.",
            "value.text": f"Write the response first ({exc.message}).",
        }.get(exc.field, "Pick an answer first.")
    if exc.field.startswith("value."):
        return f"{exc.field.removeprefix('value.').replace('.', ' ')}: {exc.message}"
    return exc.message


@require_POST
@login_required
def label_skip(request, project_id):
    membership = membership_for_annotator(request.user, project_id)
    project = membership.project
    item = item_for_rater(request.user, project, request.POST.get("item_id"))
    try:
        assignment_skip(rater=request.user, item=item, reason=request.POST.get("reason", ""))
    except SubmitRefused:
        pass
    if not request.htmx:
        return redirect("annotation:label", project_id=project.pk)
    assignment = assignment_next(rater=request.user, project=project, membership=membership)
    return _workbench(request, membership, assignment)


@require_POST
@login_required
def label_undo(request, project_id):
    membership = membership_for_annotator(request.user, project_id)
    project = membership.project
    try:
        assignment = annotation_undo(rater=request.user, project=project)
    except SubmitRefused as exc:
        assignment = assignment_next(rater=request.user, project=project, membership=membership)
        if not request.htmx:
            return redirect("annotation:label", project_id=project.pk)
        return _workbench(request, membership, assignment, error=str(exc))
    if not request.htmx:
        return redirect("annotation:label", project_id=project.pk)
    value = assignment.undone_value
    if project.kind == schemas.PAIRWISE and isinstance(value, dict):
        # Stored about the item's own sides; shown again as this rater saw them.
        value = schemas.pairwise_unswap(value, bool(assignment.presentation.get("swapped")))
    return _workbench(request, membership, assignment, value=value)


def _int_or_none(raw):
    try:
        return max(0, min(int(raw), 24 * 3600 * 1000))
    except (TypeError, ValueError):
        return None
