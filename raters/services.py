"""Writes for rater stages. Every change is recorded with its reason and who made it."""

from __future__ import annotations

from django.db import transaction

from raters.models import LIVE_STAGES, Membership, RaterNotice, Stage, StageTransition

# Plain words for the rater about each stage they are moved to.
STAGE_MESSAGES = {
    Stage.TRAINING: "You have been moved to training. Work through the training items; each "
    "one shows the expected answer and why.",
    Stage.QUALIFYING: "Training is done. Take the qualification test to start live labeling.",
    Stage.QUALIFIED: "You are qualified: live items are open to you.",
    Stage.WARNED: "Your accuracy on check questions has dropped. Please re-read the guidelines "
    "and take more care; continued low accuracy leads to suspension.",
    Stage.SUSPENDED: "You have been suspended from live labeling in this project.",
    Stage.REMOVED: "You have been removed from this project.",
}
LEVELS = {
    Stage.WARNED: RaterNotice.Level.WARNING,
    Stage.SUSPENDED: RaterNotice.Level.ACTION,
    Stage.REMOVED: RaterNotice.Level.ACTION,
    Stage.TRAINING: RaterNotice.Level.ACTION,
}


def stage_change(
    *, membership: Membership, to: str, reason: str, actor=None, notify: bool = True
) -> bool:
    """Move a rater to another stage; returns False when they are already there.

    `actor` is the admin who decided, or None for the system's own rules. The rater gets
    a notice that says what happened and why.
    """
    if to not in Stage.values:
        raise ValueError(f"unknown stage {to!r}")
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        if locked.stage == to:
            return False
        StageTransition.objects.create(
            membership=locked,
            from_stage=locked.stage,
            to_stage=to,
            reason=reason[:500],
            actor=actor,
        )
        locked.stage = to
        locked.save(update_fields=["stage"])
        if to not in LIVE_STAGES:
            # Everything the rater holds goes back, gold and live alike: a lease kept on
            # screen for one kind only would tell the two apart.
            from annotation.queue import leases_withdraw

            leases_withdraw(membership=locked)
        if notify:
            who = "an admin" if actor else "Vox's quality rules"
            RaterNotice.objects.create(
                membership=locked,
                level=LEVELS.get(to, RaterNotice.Level.INFO),
                message=f"{STAGE_MESSAGES[to]} Reason ({who}): {reason}",
            )
    membership.stage = to
    return True


def membership_onboard(*, membership: Membership) -> None:
    """Put a new annotator at the start of the project's onboarding, if it has one."""
    from quality.selectors import policy_for

    policy = policy_for(membership.project)
    if membership.role != Membership.Role.ANNOTATOR or not policy.requires_qualification:
        return
    first = Stage.TRAINING if policy.training_items_required else Stage.QUALIFYING
    stage_change(membership=membership, to=first, reason="the project requires qualification")


def rater_reinstate(*, membership: Membership, actor, reason: str) -> None:
    """An admin's decision to give a suspended or warned rater live items again."""
    if not reason.strip():
        raise ValueError("a reason is required to reinstate a rater")
    stage_change(membership=membership, to=Stage.QUALIFIED, reason=reason, actor=actor)


def notices_mark_read(*, membership: Membership) -> None:
    from django.utils import timezone

    membership.notices.filter(read_at__isnull=True).update(read_at=timezone.now())


RATER_ACTIONS = ("reinstate", "suspend", "training", "calibrate", "reviewer", "not_reviewer")


def rater_action(*, membership: Membership, action: str, reason: str, actor) -> None:
    """An admin's action on a rater, always with a reason that the rater can read."""
    if action not in RATER_ACTIONS:
        raise ValueError(f"action must be one of {', '.join(RATER_ACTIONS)}")
    if not reason.strip():
        raise ValueError("a reason is required")
    if action == "reinstate":
        rater_reinstate(membership=membership, actor=actor, reason=reason)
    elif action == "suspend":
        stage_change(membership=membership, to=Stage.SUSPENDED, reason=reason, actor=actor)
    elif action == "training":
        stage_change(membership=membership, to=Stage.TRAINING, reason=reason, actor=actor)
    elif action in ("reviewer", "not_reviewer"):
        reviewer_set(membership=membership, on=action == "reviewer", reason=reason)
    else:
        from quality.services import calibration_request

        calibration_request(membership=membership, actor=actor, reason=reason)


def reviewer_set(*, membership: Membership, on: bool, reason: str) -> None:
    """Open or close the project's review queue to a rater, with a notice saying why.
    Reviewers read other raters' answers, so only items in the review queue (never their
    own open ones, never gold) are shown to them (quality.dashboards.review_item)."""
    with transaction.atomic():
        changed = Membership.objects.filter(pk=membership.pk).exclude(is_reviewer=on)
        if changed.update(is_reviewer=on):
            what = "You can now review" if on else "You no longer review"
            RaterNotice.objects.create(
                membership=membership,
                level=RaterNotice.Level.INFO,
                message=f"{what} this project's disputed items. Reason (an admin): {reason}",
            )
    membership.is_reviewer = on


def rater_actions_bulk(*, memberships, action: str, reason: str, actor) -> tuple[list, list]:
    """One action with one reason on many raters, each through `rater_action`; for the
    calibration page and the API alike. Returns (usernames done, "username: why" refused);
    ValueError before anything is done for an unknown action, no reason or no rater."""
    if action not in RATER_ACTIONS:
        raise ValueError(f"action: choose one of {', '.join(RATER_ACTIONS)}.")
    if not reason.strip():
        raise ValueError("reason: give a reason; the raters will read it.")
    if not memberships:
        raise ValueError("Tick at least one rater.")
    done, failed = [], []
    for m in memberships:
        try:
            rater_action(membership=m, action=action, reason=reason, actor=actor)
            done.append(m.user.username)
        except ValueError as exc:
            failed.append(f"{m.user.username}: {exc}")
    return done, failed


# --- People: accounts made by an admin --------------------------------------------------------


def user_create(*, username: str, email: str = "", password: str = "") -> tuple[object, str]:
    """A new account, with the password an admin chose or, without one, an invitation.

    Returns (user, invite path): the path is Django's set-a-password link
    (accounts/reset/<uid>/<token>/), good until the account's password changes or
    PASSWORD_RESET_TIMEOUT passes; "" when a password was set. Raises ValidationError naming
    the field, and saves nothing then.
    """
    from django.contrib.auth import get_user_model, password_validation
    from django.contrib.auth.tokens import default_token_generator
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    User = get_user_model()
    username = (username or "").strip()
    email = (email or "").strip()
    field = User._meta.get_field("username")
    try:
        field.run_validators(username)
    except ValidationError as exc:
        raise ValidationError({"username": exc.messages}) from None
    if not username:
        raise ValidationError({"username": ["is required"]})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": [f"{username!r} is taken"]})
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError({"email": ["is not an email address"]}) from None
    user = User(username=username, email=email)
    if password:
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from None
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    if password:
        return user, ""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return user, reverse("password_reset_confirm", args=[uid, token])


def api_token_create(*, user):
    """A new API token for the user, replacing the one they had: the old key stops working
    at once. The caller shows the new key once; pages never show it again.

    The user's row is locked first, so that two clicks at once leave one token instead of
    one of them failing on the one-token-per-user constraint.
    """
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user)


def api_token_revoke(*, user) -> bool:
    """Delete the user's API token; the API refuses it from then on ("Invalid token."). Returns whether
    there was one."""
    from rest_framework.authtoken.models import Token

    deleted, _ = Token.objects.filter(user=user).delete()
    return bool(deleted)


# --- Skills -------------------------------------------------------------------------------------


def skill_rules_set(*, project, rules: list[dict], fallback: str | None = None) -> list:
    """Replace the project's routing rules: [{"tag", "min_level", "min_gold"}], all or
    nothing. Raises SchemaError naming the rule and field."""
    from quality.models import QualityPolicy
    from raters.models import SkillRule
    from tasks.schema import SchemaError, tags_validate

    if not isinstance(rules, list):
        raise SchemaError("rules", "must be a list")
    clean, seen = [], set()
    for n, rule in enumerate(rules):
        where = f"rules[{n}]"
        if not isinstance(rule, dict):
            raise SchemaError(where, "must be an object")
        (tag,) = tags_validate([rule.get("tag")], field=f"{where}.tag")
        if tag in seen:
            raise SchemaError(f"{where}.tag", f"{tag!r} has two rules")
        seen.add(tag)
        numbers = {}
        for name, default, top in (("min_level", 70, 100), ("min_gold", 5, 1000)):
            value = rule.get(name, default)
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
                raise SchemaError(f"{where}.{name}", f"must be a whole number from 0 to {top}")
            numbers[name] = value
        clean.append(SkillRule(project=project, tag=tag, **numbers))
    if fallback is not None and fallback not in dict(QualityPolicy.SKILL_FALLBACKS):
        raise SchemaError("fallback", "must be untagged or wait")
    with transaction.atomic():
        SkillRule.objects.filter(project=project).delete()
        SkillRule.objects.bulk_create(clean)
        if fallback is not None:
            policy, _ = QualityPolicy.objects.get_or_create(project=project)
            policy.skill_fallback = fallback
            policy.save(update_fields=["skill_fallback"])
    return clean


def skill_grant(*, membership: Membership, tag: str, level: int | None, actor, reason: str):
    """Set (or, with level None, take back) a manager's grant of a skill, audited.

    A grant decides over what gold earned; taking it back leaves the earned level.
    """
    from raters.models import Skill, SkillChange
    from raters.skills import level_for
    from tasks.schema import SchemaError, tags_validate

    (tag,) = tags_validate([tag], field="tag")
    if level is not None and (isinstance(level, bool) or not 0 <= int(level) <= 100):
        raise SchemaError("level", "must be a whole number from 0 to 100")
    reason = (reason or "").strip()
    if not reason:
        raise SchemaError("reason", "say why: the rater's audit trail keeps it")
    with transaction.atomic():
        skill, _ = Skill.objects.select_for_update().get_or_create(membership=membership, tag=tag)
        rule = membership.project.skill_rules.filter(tag=tag).first()
        before = level_for(skill, rule)
        skill.granted_level = None if level is None else int(level)
        skill.save(update_fields=["granted_level", "updated_at"])
        SkillChange.objects.create(
            membership=membership,
            tag=tag,
            source=SkillChange.Source.GRANTED if level is not None else SkillChange.Source.REVOKED,
            from_level=before,
            to_level=level_for(skill, rule),
            reason=reason[:500],
            actor=actor,
        )
    return skill


def skill_count_gold(*, membership: Membership, item, score: float) -> None:
    """Count one scored gold answer towards the rater's skill for each of the item's tags.

    Called where gold answers are scored (sessions, and silent gold off the request path),
    inside their transaction. An earned level that crosses a rule's bar is audited.
    """
    from django.db.models import F

    from quality.selectors import trust_from_counts
    from raters.models import Skill, SkillChange
    from raters.skills import level_for

    tags = item.meta.get("tags") if isinstance(item.meta, dict) else None
    if not tags:
        return
    rules = {r.tag: r for r in membership.project.skill_rules.filter(tag__in=tags)}
    for tag in tags:
        skill, _ = Skill.objects.select_for_update().get_or_create(membership=membership, tag=tag)
        rule = rules.get(tag)
        before = level_for(skill, rule)
        Skill.objects.filter(pk=skill.pk).update(
            gold_n=F("gold_n") + 1, gold_score_sum=F("gold_score_sum") + score
        )
        skill.refresh_from_db()
        # The trust posterior's mean (its prior and capping), as a 0-100 skill.
        skill.earned_level = round(100 * trust_from_counts(skill.gold_score_sum, skill.gold_n).mean)
        skill.save(update_fields=["earned_level", "updated_at"])
        after = level_for(skill, rule)
        if rule is not None and _passes(before, rule) != _passes(after, rule):
            SkillChange.objects.create(
                membership=membership,
                tag=tag,
                source=SkillChange.Source.EARNED,
                from_level=before,
                to_level=after,
                reason=f"{skill.gold_n} check answers on {tag!r} items",
            )


def _passes(level: int | None, rule) -> bool:
    return level is not None and level >= rule.min_level
