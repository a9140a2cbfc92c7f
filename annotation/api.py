"""The work queue over HTTP: next, submit-and-next, skip and undo.

Items come back as the rater is shown them (pairwise sides may be swapped, see
`presentation`), and answers name the sides as shown; the server maps them back.
Responses are built as plain dicts: these endpoints are the hot path.
"""

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation import queue
from annotation.presentation import displayed_data
from annotation.services import assignment_next_any
from config.parsers import JSONParser
from modelruns.suggestions import shown_suggestion
from tasks import schema as schemas
from tasks.ids import encode_item_id


class LeasedItemSerializer(serializers.Serializer):
    item_id = serializers.IntegerField()
    project_id = serializers.IntegerField()
    data = serializers.JSONField(help_text="The item as shown to this rater.")
    presentation = serializers.JSONField(
        help_text='{"swapped": true} when pairwise sides are shown swapped; '
        '{"order": [...]} for the display order of ranking responses.'
    )
    expires_at = serializers.DateTimeField()
    suggestion = serializers.CharField(
        allow_null=True,
        help_text="The model's label for the item where the project shows this rater model "
        "suggestions (modelruns.suggestions), else null.",
    )


class SubmitSerializer(serializers.Serializer):
    item_id = serializers.IntegerField()
    value = serializers.JSONField(help_text="The answer; pairwise sides as shown.")
    idempotency_key = serializers.CharField(max_length=64, required=False)
    active_ms = serializers.IntegerField(min_value=0, required=False)
    next = serializers.BooleanField(default=True, help_text="Also lease and return the next item.")


class SkipSerializer(serializers.Serializer):
    item_id = serializers.IntegerField()
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)
    next = serializers.BooleanField(default=True)


class NextResponseSerializer(serializers.Serializer):
    item = LeasedItemSerializer(allow_null=True)


class SubmittedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    item_id = serializers.IntegerField()
    value = serializers.JSONField(help_text="As stored: pairwise sides name the item's own A/B.")
    created_at = serializers.DateTimeField()


class SubmitResponseSerializer(serializers.Serializer):
    annotation = SubmittedSerializer()
    next = LeasedItemSerializer(allow_null=True, required=False)


class UndoResponseSerializer(serializers.Serializer):
    item = LeasedItemSerializer()
    value = serializers.JSONField(help_text="The answer that was taken back, as stored.")


def _leased(assignment, project) -> dict | None:
    if assignment is None:
        return None
    return {
        "item_id": encode_item_id(assignment.item_id),
        "project_id": project.pk,
        "data": displayed_data(project.kind, assignment.item.data, assignment.presentation),
        "presentation": assignment.presentation,
        "expires_at": assignment.expires_at,
        "suggestion": shown_suggestion(project, assignment.rater_id, assignment.item_id),
    }


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def submit_body(data) -> dict:
    """SubmitSerializer's rules, checked by hand: building that serializer cost more than
    the rest of the request on this, the busiest endpoint. Errors have DRF's shape."""
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["Expected an object of fields."]})
    errors: dict[str, list[str]] = {}
    out: dict = {"next": True}
    item_id = data.get("item_id")
    if item_id is None:
        errors["item_id"] = ["This field is required."]
    elif isinstance(item_id, bool) or not isinstance(item_id, (int, str)):
        errors["item_id"] = ["A valid integer is required."]
    else:
        try:
            out["item_id"] = int(item_id)
        except ValueError:
            errors["item_id"] = ["A valid integer is required."]
    if "value" not in data:
        errors["value"] = ["This field is required."]
    else:
        out["value"] = data["value"]
    key = data.get("idempotency_key")
    if key is not None:
        if not isinstance(key, str) or not key or len(key) > 64 or "\x00" in key:
            errors["idempotency_key"] = ["Give a string of 1 to 64 characters."]
        else:
            out["idempotency_key"] = key
    active = data.get("active_ms")
    if active is not None:
        if (
            isinstance(active, bool)
            or not isinstance(active, int)
            or not 0 <= active <= queue.ACTIVE_MS_MAX
        ):
            errors["active_ms"] = [
                f"Give a whole number of milliseconds from 0 to {queue.ACTIVE_MS_MAX}."
            ]
        else:
            out["active_ms"] = active
    if "next" in data:
        if not isinstance(data["next"], bool):
            errors["next"] = ["Must be a valid boolean."]
        else:
            out["next"] = data["next"]
    if errors:
        raise ValidationError(errors)
    return out


class JsonOnlyNegotiation(BaseContentNegotiation):
    """The queue endpoints speak JSON only, so there is nothing to negotiate."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class QueueApiView(APIView):
    # Annotators call these twice per label: JSON in and out, without the browsable API.
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JsonOnlyNegotiation


def refused(exc: queue.Refused) -> tuple[int, dict]:
    """409 with the reason: the gate's adds a machine-readable `reason` code."""
    body = {"detail": str(exc)}
    if exc.reason is not None:
        body["reason"] = exc.reason.code
    return status.HTTP_409_CONFLICT, body


def queue_next(project_id, *, user=None, token=None) -> tuple[int, dict]:
    """POST next: the rater's leased item, or a new one. (status, body); shared by the view
    below (by user) and the queue's fast lane (annotation/fastlane.py, by API token)."""
    seat = queue.seat_read(project_id, user=user, token=token)
    try:
        lease = queue.next_lease(seat)
    except queue.Refused as exc:
        return refused(exc)
    return status.HTTP_200_OK, {"item": _leased(lease, seat.project)}


def queue_submit(project_id, data, *, user=None, token=None) -> tuple[int, dict]:
    """POST annotations: submit, and with `next` (the default) the next item too."""
    try:
        data = submit_body(data)
    except ValidationError:
        queue.seat_read(project_id, user=user, token=token)  # 404 before 400, as for any body
        raise
    seat = queue.seat_read(project_id, user=user, token=token, item=data["item_id"])
    item = seat.lease.item
    try:
        annotation = queue.submit(
            seat,
            value=data["value"],
            idempotency_key=data.get("idempotency_key") or uuid.uuid4().hex,
            active_ms=data.get("active_ms"),
        )
    except schemas.SchemaError as exc:
        raise ValidationError({exc.field: [exc.message]}) from None
    except queue.Refused as exc:
        return refused(exc)
    body = {
        "annotation": {
            "id": annotation.pk,
            "item_id": item.public_id,
            "value": annotation.value,
            "created_at": annotation.created_at,
        }
    }
    if data["next"]:
        # The seat as the submit left it (a replay brings none: read it again).
        after = getattr(annotation, "seat_after", None) or queue.seat_read(
            project_id, user=user, token=token
        )
        try:
            body["next"] = _leased(queue.next_lease(after), after.project)
        except queue.Refused as exc:
            body["next"], body["next_refused"] = None, refused(exc)[1]
    return status.HTTP_201_CREATED, body


class NextItemApi(QueueApiView):
    @extend_schema(request=None, responses={200: NextResponseSerializer})
    def post(self, request, project_id):
        code, body = queue_next(project_id, user=request.user)
        return Response(body, status=code)


class NextAnyItemApi(QueueApiView):
    """The next item in any project where the rater is a qualified annotator."""

    @extend_schema(request=None, responses={200: NextResponseSerializer})
    def post(self, request):
        assignment = assignment_next_any(rater=request.user)
        return Response({"item": _leased(assignment, assignment.project) if assignment else None})


class SubmitApi(QueueApiView):
    @extend_schema(request=SubmitSerializer, responses={201: SubmitResponseSerializer})
    def post(self, request, project_id):
        code, body = queue_submit(project_id, request.data, user=request.user)
        return Response(body, status=code)


class SkipApi(QueueApiView):
    @extend_schema(request=SkipSerializer, responses={200: NextResponseSerializer})
    def post(self, request, project_id):
        queue.seat_read(project_id, user=request.user)  # 404 before 400
        data = _valid(SkipSerializer, request)
        seat = queue.seat_read(project_id, user=request.user, item=data["item_id"])
        try:
            queue.skip(seat, reason=data.get("reason", ""))
        except queue.Refused as exc:
            code, body = refused(exc)
            return Response(body, status=code)
        lease = None
        if data["next"]:
            after = queue.seat_read(project_id, user=request.user)
            try:
                lease = queue.next_lease(after)
            except queue.Refused as exc:
                code, body = refused(exc)
                return Response(body, status=code)
        return Response({"item": _leased(lease, seat.project)})


class UndoApi(QueueApiView):
    """Take back the last submit in this project, within the undo window."""

    @extend_schema(request=None, responses={200: UndoResponseSerializer})
    def post(self, request, project_id):
        seat = queue.seat_read(project_id, user=request.user)
        try:
            lease = queue.undo(seat)
        except queue.Refused as exc:
            code, body = refused(exc)
            return Response(body, status=code)
        return Response({"item": _leased(lease, seat.project), "value": lease.undone_value})
