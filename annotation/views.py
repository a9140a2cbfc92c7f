import uuid

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from annotation.forms import value_from_post
from annotation.selectors import rater_progress
from annotation.services import SubmitRefused, annotation_submit, assignment_next, assignment_skip
from quality.selectors import membership_for
from quality.services import gate_for_live_items
from tasks import schema as schemas
from tasks.selectors import guideline_pending_for, item_for_rater, project_for_annotator


def _workbench(request, project, assignment, *, error: str = "", template_suffix=""):
    context = {
        "project": project,
        "assignment": assignment,
        "item": assignment.item if assignment else None,
        "fields": _display_fields(assignment.item.data) if assignment else [],
        "choices": project.choices,
        "progress": rater_progress(rater=request.user, project=project),
        # A fresh key per rendered item: a double click or a retried request replays it.
        "idempotency_key": uuid.uuid4().hex,
        "error": error,
    }
    template = "annotation/workbench.html"
    if request.htmx:
        template += "#workbench"
    return render(request, template, context)


def _display_fields(data: dict) -> list[tuple[str, str]]:
    # Item text is untrusted: it goes to the template as plain strings and is escaped there.
    return [(key, value if isinstance(value, str) else str(value)) for key, value in data.items()]


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
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@login_required
def label(request, project_id):
    project = project_for_annotator(request.user, project_id)
    if gate := _guideline_gate(request, project):
        return gate
    return _workbench(request, project, assignment_next(rater=request.user, project=project))


@require_POST
@login_required
def label_submit(request, project_id):
    project = project_for_annotator(request.user, project_id)
    item = item_for_rater(request.user, request.POST.get("item_id"))
    if item.project_id != project.pk:
        return redirect("annotation:label", project_id=project.pk)
    try:
        annotation_submit(
            rater=request.user,
            item=item,
            value=value_from_post(project, request.POST),
            idempotency_key=(request.POST.get("idempotency_key") or "")[:64] or uuid.uuid4().hex,
            active_ms=_int_or_none(request.POST.get("active_ms")),
        )
    except (SubmitRefused, schemas.SchemaError) as exc:
        # 200 with the message: htmx swaps only successful responses.
        error = exc.message if isinstance(exc, schemas.SchemaError) else str(exc)
        if isinstance(exc, schemas.SchemaError):
            error = "Pick an answer first." if exc.field.startswith("value") else error
        return _workbench(
            request, project, assignment_next(rater=request.user, project=project), error=error
        )
    if not request.htmx:
        return redirect("annotation:label", project_id=project.pk)
    if gate := _guideline_gate(request, project):
        return gate
    return _workbench(request, project, assignment_next(rater=request.user, project=project))


@require_POST
@login_required
def label_skip(request, project_id):
    project = project_for_annotator(request.user, project_id)
    item = item_for_rater(request.user, request.POST.get("item_id"))
    if item.project_id == project.pk:
        try:
            assignment_skip(rater=request.user, item=item, reason=request.POST.get("reason", ""))
        except SubmitRefused:
            pass
    if not request.htmx:
        return redirect("annotation:label", project_id=project.pk)
    return _workbench(request, project, assignment_next(rater=request.user, project=project))


def _int_or_none(raw):
    try:
        return max(0, min(int(raw), 24 * 3600 * 1000))
    except (TypeError, ValueError):
        return None
