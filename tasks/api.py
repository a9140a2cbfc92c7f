from django.http import StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from tasks import schema as schemas
from tasks.export import export_jsonl
from tasks.models import ImportJob, Item, Project
from tasks.selectors import (
    annotations_by_rater,
    import_for_manager,
    project_for_manager,
    project_for_user,
    project_list_for_user,
    project_role,
    user_can_create_projects,
)
from tasks.services import ImportRejected, import_create, membership_add, project_create


class ProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "kind",
            "instructions",
            "schema",
            "overlap",
            "n_items",
            "n_complete",
            "n_annotations",
            "created_at",
        ]
        read_only_fields = ["n_items", "n_complete", "n_annotations", "created_at"]


class ItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = Item
        fields = ["id", "external_id", "data", "priority", "n_done"]


class ImportJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImportJob
        fields = [
            "id",
            "project",
            "filename",
            "size_bytes",
            "status",
            "percent",
            "n_created",
            "n_duplicates",
            "errors",
            "created_at",
            "finished_at",
        ]


class MemberSerializer(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.ChoiceField(choices=["manager", "annotator"])


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


def schema_error(exc: schemas.SchemaError) -> ValidationError:
    return ValidationError({exc.field: [exc.message]})


class ProjectListApi(APIView):
    @extend_schema(responses=ProjectSerializer(many=True))
    def get(self, request):
        return Response(ProjectSerializer(project_list_for_user(request.user), many=True).data)

    @extend_schema(request=ProjectSerializer, responses={201: ProjectSerializer})
    def post(self, request):
        if not user_can_create_projects(request.user):
            return Response({"detail": "You may not create projects."}, status=403)
        serializer = ProjectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            project = project_create(
                user=request.user,
                name=data["name"],
                kind=data["kind"],
                schema=data.get("schema") or {},
                instructions=data.get("instructions", ""),
                overlap=data.get("overlap", 3),
            )
        except schemas.SchemaError as exc:
            raise schema_error(exc) from None
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailApi(APIView):
    @extend_schema(responses=ProjectSerializer)
    def get(self, request, project_id):
        project = project_for_user(request.user, project_id)
        data = ProjectSerializer(project).data
        data["role"] = project_role(request.user, project)
        return Response(data)


class RaterCountSerializer(serializers.Serializer):
    rater = serializers.CharField()
    annotations = serializers.IntegerField()


class ProgressSerializer(serializers.Serializer):
    n_items = serializers.IntegerField()
    n_complete = serializers.IntegerField()
    n_annotations = serializers.IntegerField()
    by_rater = RaterCountSerializer(many=True)


class ProjectProgressApi(APIView):
    @extend_schema(responses=ProgressSerializer)
    def get(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        return Response(
            {
                "n_items": project.n_items,
                "n_complete": project.n_complete,
                "n_annotations": project.n_annotations,
                "by_rater": [
                    {"rater": r["user__username"], "annotations": r["n"]}
                    for r in annotations_by_rater(project)
                ],
            }
        )


class MemberAddApi(APIView):
    @extend_schema(request=MemberSerializer, responses={201: MemberSerializer})
    def post(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        serializer = MemberSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            membership_add(project=project, **serializer.validated_data)
        except schemas.SchemaError as exc:
            raise schema_error(exc) from None
        return Response(serializer.validated_data, status=status.HTTP_201_CREATED)


class ItemListApi(APIView):
    @extend_schema(responses=ItemSerializer(many=True))
    def get(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(project.items.order_by("id"), request, view=self)
        return paginator.get_paginated_response(ItemSerializer(page, many=True).data)


class ImportCreateApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={202: ImportJobSerializer},
    )
    def post(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        serializer = ImportUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            job = import_create(
                project=project, user=request.user, upload=serializer.validated_data["file"]
            )
        except ImportRejected as exc:
            raise ValidationError({"file": [str(exc)]}) from None
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ImportDetailApi(APIView):
    @extend_schema(responses=ImportJobSerializer)
    def get(self, request, import_id):
        return Response(ImportJobSerializer(import_for_manager(request.user, import_id)).data)


class ExportApi(APIView):
    @extend_schema(responses={(200, "application/x-ndjson"): str})
    def get(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        return StreamingHttpResponse(export_jsonl(project), content_type="application/x-ndjson")
