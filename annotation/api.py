import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.services import SubmitRefused, annotation_submit, assignment_next
from tasks import schema as schemas
from tasks.selectors import item_for_rater, project_for_annotator


class LeasedItemSerializer(serializers.Serializer):
    item_id = serializers.IntegerField(source="item.public_id")
    data = serializers.JSONField(source="item.data")
    expires_at = serializers.DateTimeField()


class SubmitSerializer(serializers.Serializer):
    item_id = serializers.IntegerField()
    value = serializers.JSONField()
    idempotency_key = serializers.CharField(max_length=64, required=False)
    active_ms = serializers.IntegerField(min_value=0, required=False)
    next = serializers.BooleanField(default=True, help_text="Also lease and return the next item.")


class NextResponseSerializer(serializers.Serializer):
    item = LeasedItemSerializer(allow_null=True)


class SubmittedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    item_id = serializers.IntegerField()
    value = serializers.JSONField()
    created_at = serializers.DateTimeField()


class SubmitResponseSerializer(serializers.Serializer):
    annotation = SubmittedSerializer()
    next = LeasedItemSerializer(allow_null=True, required=False)


def _leased(assignment) -> dict | None:
    return LeasedItemSerializer(assignment).data if assignment else None


class NextItemApi(APIView):
    @extend_schema(request=None, responses={200: NextResponseSerializer})
    def post(self, request, project_id):
        project = project_for_annotator(request.user, project_id)
        return Response({"item": _leased(assignment_next(rater=request.user, project=project))})


class SubmitApi(APIView):
    @extend_schema(request=SubmitSerializer, responses={201: SubmitResponseSerializer})
    def post(self, request, project_id):
        project = project_for_annotator(request.user, project_id)
        serializer = SubmitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        item = item_for_rater(request.user, data["item_id"])
        if item.project_id != project.pk:
            raise ValidationError({"item_id": ["This item is not in this project."]})
        try:
            annotation = annotation_submit(
                rater=request.user,
                item=item,
                value=data["value"],
                idempotency_key=data.get("idempotency_key") or uuid.uuid4().hex,
                active_ms=data.get("active_ms"),
            )
        except schemas.SchemaError as exc:
            raise ValidationError({exc.field: [exc.message]}) from None
        except SubmitRefused as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        body = {
            "annotation": {
                "id": annotation.pk,
                "item_id": item.public_id,
                "value": annotation.value,
                "created_at": annotation.created_at,
            }
        }
        if data["next"]:
            body["next"] = _leased(assignment_next(rater=request.user, project=project))
        return Response(body, status=status.HTTP_201_CREATED)
