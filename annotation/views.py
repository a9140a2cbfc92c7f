import uuid
from functools import wraps

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect
from rest_framework.exceptions import AuthenticationFailed

from annotation import queue
from annotation.forms import value_from_post
from annotation.models import Annotation
from annotation.selectors import rater_progress
from annotation.services import assignment_next_any
from config.auth import known_user
from config.converters import posted_id
from modelruns.suggestions import suggestions_for
from tasks import kinds
from tasks import schema as schemas
from tasks.markdown import render_markdown
from tasks.selectors import guideline_current


def _entry(project, assignment, *, value=None, suggestions=None) -> dict | None:
    """What one item's panel needs; item text is escaped or rendered by tasks/markdown.py."""
    if assignment is None:
        return None
    label_kind = kinds.get(project.kind)
    data = label_kind.displayed_data(assignment.item.data, assignment.presentation)
    suggestion = None
    if suggestions is not None and suggestions.shown:
        suggestion = suggestions.labels.get(assignment.item_id)
    return {
        "item": assignment.item,
        "assignment": assignment,
        # A fresh key per rendered item: a double press or a retried request replays it.
        "idempotency_key": uuid.uuid4().hex,
        "value": value,
        "suggestion": suggestion,
        "suggestion_label": dict(label_kind.label_options(project.schema)).get(suggestion),
        **label_kind.widget(project.schema, data, assignment.presentation, value, render_markdown),
    }


def _item_context(seat, assignment, next_assignment, *, value=None) -> dict:
    """What an item's panel needs: the one on screen and the prefetched one."""
    project = seat.project
    label_kind = kinds.get(project.kind)
    # One lookup for both panels: the model's label where this rater is shown suggestions.
    suggestions = suggestions_for(
        project,
        seat.user.pk,
        [a.item_id for a in (assignment, next_assignment) if a is not None],
    )
    return {
        "project": project,
        "kind": project.kind,
        "widget_template": label_kind.widget_template,
        "keys_template": label_kind.keys_template,
        "kind_script": label_kind.script,
        "submit_key": label_kind.submit_key,
        "schema": project.schema,
        "live": True,
        "entry": _entry(project, assignment, value=value, suggestions=suggestions),
        "next_entry": _entry(project, next_assignment, suggestions=suggestions),
        "choices": project.choices,
        **label_kind.widget_context(project.schema),
    }


def _context(request, seat, assignment, *, error="", value=None) -> dict:
    """The whole workbench: the items, the rater's counts, undo and the guidelines."""
    project = seat.project
    rater = request.user
    # Prefetch after gold and live items alike: a missing prefetch would mark the gold.
    next_assignment = queue.prefetch(seat) if assignment is not None else None
    guideline = guideline_current(project)
    last = Annotation.objects.filter(rater=rater, project=project).order_by("-id").first()
    window = settings.VOX_UNDO_SECONDS
    can_undo = bool(
        last and window and (timezone.now() - last.created_at).total_seconds() <= window
    )
    return {
        **_item_context(seat, assignment, next_assignment, value=value),
        "progress": rater_progress(rater=rater, project=project),
        "guideline": guideline,
        "guideline_html": render_markdown(guideline.body) if guideline else "",
        "can_undo": can_undo,
        "undo_seconds": window,
        "error": error,
    }


def _workbench(request, seat, assignment, *, error: str = "", value=None):
    context = _context(request, seat, assignment, error=error, value=value)
    template = "annotation/workbench.html"
    if request.htmx:
        template += "#workbench"
    else:
        context["unread_notices"] = list(seat.membership.notices.filter(read_at__isnull=True)[:1])
    return render(request, template, context)


def _gated(request, seat, reason: queue.Reason):
    """The gate's answer in HTML: a redirect to what comes first, the guidelines or the
    rater's standing page (onboarding, a suspension, a calibration that is due). The
    reason's code rides along in X-Vox-Gate, as `reason` does in the API's 409."""
    if reason.code == queue.GUIDELINE:
        url = reverse("tasks:guideline-read", args=[seat.project.pk])
    else:
        url = reverse("raters:standing", args=[seat.project.pk])
    if request.headers.get("X-Vox-Fetch"):
        response = JsonResponse({"ok": True, "redirect": url, "reason": reason.code})
    elif request.htmx:
        response = HttpResponseClientRedirect(url)
    else:
        response = redirect(url)
    response["X-Vox-Gate"] = reason.code
    return response


def _next(request, seat):
    """The rater's current lease, or the gate's redirect: (lease, None) or (None, response)."""
    try:
        return queue.next_lease(seat), None
    except queue.Refused as exc:
        return None, _gated(request, seat, exc.reason)


def _seated(*, item=False):
    """The view's seat, read by the session's user id; the session is then checked on the
    user row the seat brought (config/auth.py), so a workbench request reads its user once.
    Without a session that passes, the sign-in page, as `login_required` gives.
    With `item`, the seat holds the lease on the posted item_id (400 for none at all)."""

    def decorate(view):
        @wraps(view)
        def seated(request, project_id):
            user_id, seat = request.session.get(SESSION_KEY), None
            if user_id is not None:
                if item:
                    posted_id(request.POST, "item_id")  # 400 for no id at all (abc, 1.5)
                try:
                    seat = queue.seat_read(
                        project_id,
                        user_id=user_id,
                        item=request.POST.get("item_id") if item else None,
                    )
                except (Http404, AuthenticationFailed):
                    # A member who is signed in but has no seat here: 404. An inactive user
                    # or a stale session: the sign-in page, as Django's own check decides.
                    if request.user.is_authenticated:
                        raise
            if seat is not None:
                with known_user(seat.user):
                    if request.user.is_authenticated and request.user.pk == seat.user.pk:
                        return view(request, seat)
            return redirect_to_login(request.get_full_path())

        return seated

    return decorate


@_seated()
def label(request, seat):
    assignment, gated = _next(request, seat)
    return gated or _workbench(request, seat, assignment)


@login_required
def label_any(request):
    """ "Next item" across every project where the rater is qualified."""
    assignment = assignment_next_any(rater=request.user)
    if assignment is None:
        return render(request, "annotation/nothing-left.html")
    return redirect("annotation:label", project_id=assignment.project_id)


def _fetch_response(request, seat, *, error="", submitted=True):
    """The JSON answer to the workbench script: the item now leased, and the next one.

    When the script already shows the item now leased (it sends its id as `shown`: the
    prefetched one it put on screen), the answer is only the new prefetched item, which
    is most answers; otherwise it also brings the whole workbench to replace its own.
    """
    assignment, gated = _next(request, seat)
    if gated:
        return gated
    item_id = assignment.item.public_id if assignment else None
    if not error and item_id is not None and str(item_id) == request.POST.get("shown"):
        # The item on screen is not sent back, so only the new prefetched one is built.
        context = _item_context(seat, None, queue.prefetch(seat))
        reply = {"ok": True, "submitted": submitted, "error": "", "item_id": item_id}
    else:
        context = _context(request, seat, assignment, error=error)
        reply = {
            "ok": not error,
            "submitted": submitted,
            "error": error,
            "item_id": item_id,
            "progress": context["progress"],
            "can_undo": context["can_undo"],
            "current_html": render_to_string(
                "annotation/workbench.html#workbench", context, request=request
            ),
        }
    reply["next_html"] = (
        render_to_string(
            "annotation/item.html", {**context, "entry": context["next_entry"]}, request
        )
        if context["next_entry"]
        else ""
    )
    return JsonResponse(reply)


def _after(request, project_id, *, error="", seat=None):
    """What the workbench shows after a submit, skip or undo: the seat as it left it, or
    read again."""
    seat = seat or queue.seat_read(project_id, user=request.user)
    if request.headers.get("X-Vox-Fetch"):
        return _fetch_response(request, seat, error=error, submitted=not error)
    assignment, gated = _next(request, seat)
    if not request.htmx and not error:
        return gated or redirect("annotation:label", project_id=seat.project.pk)
    # 200 with the message: htmx swaps only successful responses.
    return gated or _workbench(request, seat, assignment, error=error)


@require_POST
@_seated(item=True)
def label_submit(request, seat):
    error, after = "", None
    try:
        annotation = queue.submit(
            seat,
            value=value_from_post(seat.project, request.POST),
            idempotency_key=(request.POST.get("idempotency_key") or "")[:64] or uuid.uuid4().hex,
            active_ms=_int_or_none(request.POST.get("active_ms")),
        )
        after = getattr(annotation, "seat_after", None)
    except queue.Refused as exc:
        if exc.reason is not None:
            return _gated(request, seat, exc.reason)
        error = str(exc)
    except schemas.SchemaError as exc:
        error = _answer_error(exc)
    return _after(request, seat.project.pk, error=error, seat=after)


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
@_seated(item=True)
def label_skip(request, seat):
    try:
        queue.skip(seat, reason=request.POST.get("reason", ""))
    except queue.Refused:
        pass
    return _after(request, seat.project.pk)


@require_POST
@_seated()
def label_undo(request, seat):
    try:
        assignment = queue.undo(seat)
    except queue.Refused as exc:
        if exc.reason is not None:
            return _gated(request, seat, exc.reason)
        return _after(request, seat.project.pk, error=str(exc))
    if not request.htmx:
        return redirect("annotation:label", project_id=seat.project.pk)
    value = assignment.undone_value
    # Stored about the item's own order; shown again as this rater saw it.
    value = kinds.get(seat.project.kind).displayed_value(value, assignment.presentation)
    return _workbench(request, seat, assignment, value=value)


def _int_or_none(raw):
    try:
        return max(0, min(int(raw), queue.ACTIVE_MS_MAX))
    except (TypeError, ValueError, OverflowError):
        return None
