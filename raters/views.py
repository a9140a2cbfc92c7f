from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from annotation.forms import value_from_post
from config.converters import posted_id
from quality.charts import accuracy_trend_svg
from quality.models import GoldSession
from quality.selectors import (
    calibration_due,
    gold_history,
    membership_for,
    open_session,
    policy_for,
    pool_sizes,
    session_gold_posted,
    session_next_gold,
    standing_for_rater,
    training_done,
)
from quality.services import (
    NOT_THE_CURRENT_ITEM,
    SessionRefused,
    requalification_open,
    session_answer,
    session_start,
)
from raters.models import LIVE_STAGES, Membership, SkillChange, Stage
from raters.services import notices_mark_read, skill_grant, skill_rules_set
from raters.skills import skills_table
from tasks import kinds
from tasks import schema as schemas
from tasks.markdown import render_markdown
from tasks.selectors import project_for_annotator, project_for_manager


def _membership(request, project_id):
    project = project_for_annotator(request.user, project_id)
    membership = membership_for(request.user, project)
    if membership is None:
        raise Http404
    return project, membership


@login_required
def standing(request, project_id):
    """The rater's own page: stage, notices, accuracy trend, feedback and what to do next."""
    project, membership = _membership(request, project_id)
    policy = policy_for(project)
    history = list(gold_history(membership)[:200])
    notices = list(membership.notices.all()[:20])
    unread = [n.pk for n in notices if n.read_at is None]
    context = {
        "project": project,
        "membership": membership,
        "policy": policy,
        "standing": standing_for_rater(membership, policy),
        # Session scores only: a point per live check would mark the answer before it.
        "trend_svg": accuracy_trend_svg(
            [r.score for r in reversed(history) if r.mode in ("training", "calibration")],
            warn=policy.warn_below,
            suspend=policy.suspend_below,
        ),
        "sessions": membership.sessions.filter(finished_at__isnull=False)[:20],
        # Qualification answers stay private: per-item scores would teach the test, and
        # live gold would reveal which items were checks.
        "history": [r for r in history if r.mode in ("training", "calibration")][:30],
        "notices": notices,
        "unread": unread,
        "calibration_reason": calibration_due(membership, policy),
        "skill_wait": _skill_wait(project, request.user),
        "requalification": requalification_open(membership),
        "training_done": training_done(membership),
        "pools": pool_sizes(project),
        "live": membership.stage in LIVE_STAGES,
        "Stage": Stage,
    }
    response = render(request, "raters/standing.html", context)
    if unread:
        notices_mark_read(membership=membership)
    return response


def _skill_wait(project, user):
    """The gate's reason when it is routing's (the project waits for a skill), else None."""
    from annotation import queue

    try:
        seat = queue.seat_read(project.pk, user=user)
    except Http404:  # not an annotator here
        return None
    reason = queue.gate(seat)
    return reason if reason is not None and reason.code == queue.SKILL else None


@require_POST
@login_required
def practice_start(request, project_id, kind):
    project, membership = _membership(request, project_id)
    try:
        session_start(membership=membership, kind=kind)
    except SessionRefused as exc:
        messages.error(request, str(exc))
        return redirect("raters:standing", project_id=project.pk)
    return redirect("raters:practice", project_id=project.pk, kind=kind)


def _practice_widget(project, gold) -> dict:
    """The live workbench's widget for a gold question, as the item's own order shows it
    (no swap, no shuffle: a practice answer maps back to itself)."""
    label_kind = kinds.get(project.kind)
    entry = None
    if gold is not None:
        widget = label_kind.widget(project.schema, gold.item.data, {}, None, render_markdown)
        entry = {"item": gold.item, "value": None, **widget}
    return {
        "entry": entry,
        "kind_name": project.kind,
        "schema": project.schema,
        "choices": project.choices,
        "widget_template": label_kind.widget_template,
        "keys_template": label_kind.keys_template,
        "kind_script": label_kind.script,
        "submit_key": label_kind.submit_key,
        **label_kind.widget_context(project.schema),
    }


@login_required
def practice(request, project_id, kind):
    """One gold item of the rater's open session; training and calibration give feedback."""
    project, membership = _membership(request, project_id)
    if kind not in GoldSession.Kind.values:
        raise Http404
    session = open_session(membership, kind)
    if session is None:
        return redirect("raters:standing", project_id=project.pk)
    feedback = error = None
    if request.method == "POST":
        posted = session_gold_posted(session, posted_id(request.POST, "gold_id"))
        try:
            if posted is None:
                raise SessionRefused(NOT_THE_CURRENT_ITEM)
            feedback = session_answer(
                session=session, gold=posted, value=value_from_post(project, request.POST)
            )
        except schemas.SchemaError as exc:
            error = (
                exc.message
                if not exc.field.startswith("value")
                else f"Check your answer: {exc.message}"
            )
        except SessionRefused as exc:
            error = str(exc)
        else:
            if kind in (GoldSession.Kind.QUALIFICATION, GoldSession.Kind.REQUALIFICATION):
                # No per-item feedback in a test: it would teach the answers.
                feedback = None
                if session_next_gold(session) is None:
                    session.refresh_from_db()
                    return render(
                        request,
                        "raters/session-done.html",
                        {"project": project, "session": session},
                    )
                return redirect("raters:practice", project_id=project.pk, kind=kind)
    gold = session_next_gold(session)
    context = {
        "project": project,
        "session": session,
        "kind": kind,
        "gold": gold,
        "item": gold.item if gold else None,
        "feedback": feedback,
        "error": error,
        "answered": session.responses.count(),
        **_practice_widget(project, gold),
    }
    if feedback and feedback.finished:
        context["finished"] = feedback.finished
    return render(request, "raters/practice.html", context)


@login_required
def people(request):
    """Accounts, for admins: make one with a password, or with an invitation link to send."""
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError

    from raters.services import user_create

    if not request.user.is_superuser:
        raise Http404
    invite = error = None
    if request.method == "POST":
        try:
            user, path = user_create(
                username=request.POST.get("username", ""),
                email=request.POST.get("email", ""),
                password=request.POST.get("password", ""),
            )
        except ValidationError as exc:
            error = "; ".join(
                f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items()
            )
        else:
            if path:
                days = max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)
                invite = {
                    "username": user.username,
                    "url": request.build_absolute_uri(path),
                    "days": days,
                }
            else:
                messages.success(
                    request, f"{user.username} can log in now with the password you set."
                )
                return redirect("raters:people")
    users = get_user_model().objects.order_by("-date_joined")[:200]
    return render(request, "raters/people.html", {"users": users, "invite": invite, "error": error})


# Session key holding a new API token until the page has shown it once.
NEW_TOKEN_KEY = "raters:new-api-token"


# A POST makes the token and redirects, so reloading the page that shows it is a GET: it
# neither shows the key again nor (as a resubmitted POST would) replaces the token. The key
# waits in the server-side session for that one GET. no-store keeps the page that shows it
# out of the browser's cache and history.
@never_cache
@login_required
def api_token(request):
    """GET: whether the user has a token and since when, and a new key once. POST: a new token."""
    from raters.selectors import api_token_for_user
    from raters.services import api_token_create

    if request.method == "POST":
        request.session[NEW_TOKEN_KEY] = api_token_create(user=request.user).key
        return redirect("raters:api-token")
    token = api_token_for_user(request.user)
    new_key = request.session.pop(NEW_TOKEN_KEY, None)
    context = {
        "token": token,
        # Shown only while it is still the user's token (not revoked in another tab since).
        "new_key": new_key if token is not None and token.key == new_key else None,
        "api_url": request.build_absolute_uri("/").rstrip("/"),
    }
    return render(request, "raters/api-token.html", context)


@require_POST
@login_required
def api_token_revoke(request):
    from raters.services import api_token_revoke as revoke

    if revoke(user=request.user):
        messages.success(request, "Your API token is revoked: scripts using it are refused now.")
    else:
        messages.info(request, "You had no API token.")
    return redirect("raters:api-token")


# --- Skills (a manager's page) ---------------------------------------------------------------


MAX_RULE_ROWS = 200


def _rules_from_post(post) -> list[dict]:
    """The rules table of the skills page: rows tag-N, min_level-N, min_gold-N; a row with
    no tag, or ticked for removal, is dropped."""
    rules = []
    rows = (post.get("rows") or "0").strip()
    # A form of ours sends its own row count; anything else reads as none, bounded.
    for n in range(min(int(rows) if rows.isdigit() else 0, MAX_RULE_ROWS) + 1):
        tag = (post.get(f"tag-{n}") or "").strip()
        if tag and not post.get(f"remove-{n}"):
            rules.append(
                {
                    "tag": tag,
                    "min_level": post.get(f"min_level-{n}") or 70,
                    "min_gold": post.get(f"min_gold-{n}") or 5,
                }
            )
    return rules


@login_required
def skills(request, project_id):
    """Routing rules, and every annotator's skills with the gold accuracy behind them."""
    project = project_for_manager(request.user, project_id)
    if request.method == "POST":
        try:
            skill_rules_set(project=project, rules=_rules_from_post(request.POST))
        except schemas.SchemaError as exc:
            messages.error(request, f"Rules not saved: {exc}")
        else:
            messages.success(request, "Skill rules saved.")
            return redirect("raters:skills", project_id=project.pk)
    table = skills_table(project)
    return render(
        request,
        "raters/skills.html",
        {
            "project": project,
            "table": table,
            "policy": policy_for(project),
            "n_rules": len(table["rules"]),
            "changes": SkillChange.objects.filter(membership__project=project)
            .select_related("membership__user", "actor")
            .order_by("-created_at", "-id")[:50],
        },
    )


@require_POST
@login_required
def skill_grant_view(request, project_id):
    project = project_for_manager(request.user, project_id)
    membership = get_object_or_404(
        Membership, pk=posted_id(request.POST, "membership"), project=project
    )
    raw = (request.POST.get("level") or "").strip()
    try:
        if raw and not raw.isdigit():
            raise schemas.SchemaError("level", "must be a whole number from 0 to 100")
        skill_grant(
            membership=membership,
            tag=request.POST.get("tag") or "",
            level=int(raw) if raw else None,
            actor=request.user,
            reason=request.POST.get("reason") or "",
        )
    except schemas.SchemaError as exc:
        messages.error(request, f"Skill not changed: {exc}")
    else:
        what = f"granted {raw}" if raw else "grant taken back"
        messages.success(request, f"{membership.user.username}: {request.POST.get('tag')} {what}.")
    return redirect("raters:skills", project_id=project.pk)
