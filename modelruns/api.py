"""The model-run API, for managers only: upload probabilities, run Vox's noisy
cross-validation, and read the suspects (docs/label_quality.md, "In the product")."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from modelruns.models import ModelRun
from modelruns.selectors import (
    REASONS,
    model_run_for_project,
    model_run_list,
    suspect_page,
    suspects_for_project,
)
from modelruns.services import (
    ModelRunRejected,
    model_run_pin,
    model_run_upload,
    noisy_cv_request,
)
from tasks.selectors import project_for_manager


class ModelRunSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None)

    class Meta:
        model = ModelRun
        fields = [
            "id",
            "name",
            "version",
            "source",
            "created_by",
            "created_at",
            "finished_at",
            "status",
            "percent",
            "labels",
            "n_items",
            "n_epochs",
            "errors",
            "stats",
            "pinned",
        ]


class ModelRunUploadSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    version = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    file = serializers.FileField(help_text="JSONL lines, or a .npy (n, K) array.")
    ids_file = serializers.FileField(required=False, help_text="With .npy: one id per line.")
    epochs_file = serializers.FileField(required=False, help_text="(n_epochs, n, K) .npy.")
    id_field = serializers.ChoiceField(choices=["item_id", "external_id"], default="item_id")


def _rejected(exc: ModelRunRejected) -> Response:
    return Response({"errors": [e.as_dict() for e in exc.errors]}, status=400)


class ModelRunListApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(responses=ModelRunSerializer(many=True))
    def get(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        return Response(ModelRunSerializer(model_run_list(project)[:100], many=True).data)

    @extend_schema(
        request={"multipart/form-data": ModelRunUploadSerializer},
        responses={201: ModelRunSerializer, 202: ModelRunSerializer},
    )
    def post(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        serializer = ModelRunUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            run = model_run_upload(
                project=project,
                user=request.user,
                name=data["name"],
                version=data["version"],
                file=data["file"],
                ids_file=data.get("ids_file"),
                epochs_file=data.get("epochs_file"),
                id_field=data["id_field"],
            )
        except ModelRunRejected as exc:
            return _rejected(exc)
        # 202 for a big upload still loading: poll the run for status and percent.
        code = status.HTTP_201_CREATED if run.is_finished else status.HTTP_202_ACCEPTED
        return Response(ModelRunSerializer(run).data, status=code)


class ModelRunDetailApi(APIView):
    @extend_schema(responses=ModelRunSerializer, operation_id="model_run_detail")
    def get(self, request, project_id, run_id):
        project = project_for_manager(request.user, project_id)
        return Response(ModelRunSerializer(model_run_for_project(project, run_id)).data)


class ModelRunPinSerializer(serializers.Serializer):
    pinned = serializers.BooleanField(
        help_text="true: suggestions, suspects and the uncertainty-first queue read this run; "
        "false: they go back to the latest finished run."
    )


class ModelRunPinApi(APIView):
    @extend_schema(request=ModelRunPinSerializer, responses=ModelRunSerializer)
    def post(self, request, project_id, run_id):
        project = project_for_manager(request.user, project_id)
        run = model_run_for_project(project, run_id)
        body = ModelRunPinSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            if body.validated_data["pinned"]:
                model_run_pin(project=project, run=run)
            elif run.pinned:
                model_run_pin(project=project, run=None)
        except ModelRunRejected as exc:
            return _rejected(exc)
        run.refresh_from_db()
        return Response(ModelRunSerializer(run).data)


class NoisyCvApi(APIView):
    @extend_schema(request=None, responses={202: ModelRunSerializer})
    def post(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        try:
            run = noisy_cv_request(project=project, user=request.user)
        except ModelRunRejected as exc:
            return _rejected(exc)
        run.refresh_from_db()
        return Response(ModelRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class SuspectsApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("reason", str, enum=list(REASONS)),
            OpenApiParameter("page", int),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        reason = request.query_params.get("reason", "")
        if reason and reason not in REASONS:
            return Response({"reason": [f"choose one of {', '.join(REASONS)}"]}, status=400)
        try:
            number = int(request.query_params.get("page", "1"))
        except ValueError:
            return Response({"page": ["must be a whole number"]}, status=400)
        table = suspects_for_project(project)
        page = suspect_page(project, table, reason=reason, page=number)
        return Response(
            {
                "model_run": ModelRunSerializer(table.run).data if table.run else None,
                "note": table.note,
                "labels": table.labels,
                "reason_counts": table.reason_counts,
                "page": page.number,
                "n_pages": page.n_pages,
                "count": page.total,
                "results": [{k: v for k, v in row.items() if k != "item"} for row in page.rows],
            }
        )
