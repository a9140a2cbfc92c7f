from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from config.pagination import Pagination
from raters.models import Membership
from tasks import schema as schemas
from tasks.cards import download_card, export_card
from tasks.export import CONVERSATIONAL, FORMATS, TIES, ExportOptions, ExportRefused, export_stream
from tasks.markdown import render_markdown
from tasks.models import ExportJob, ImportJob, Item, Project
from tasks.openapi import LabelSchemaField
from tasks.selectors import (
    annotations_by_rater,
    export_for_manager,
    guideline_ack_status,
    guideline_current,
    import_for_manager,
    item_for_manager,
    project_for_manager,
    project_for_user,
    project_list_with_roles,
    project_role,
    user_can_create_projects,
)
from tasks.services import (
    BULK_ACTIONS,
    ImportRejected,
    ItemHasAnswers,
    export_create,
    guideline_ack,
    guideline_publish,
    import_cancel,
    import_commit,
    import_create,
    import_preview,
    item_delete,
    item_update,
    items_bulk_apply,
    members_add,
    membership_add,
    project_create,
    project_update,
)


class ProjectSerializer(serializers.ModelSerializer):
    schema = LabelSchemaField(required=False)

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


class ProjectDetailSerializer(ProjectSerializer):
    role = serializers.ChoiceField(
        choices=Membership.Role.choices,
        read_only=True,
        help_text="Your role on the project; n_complete and n_annotations are for managers.",
    )

    class Meta(ProjectSerializer.Meta):
        fields = [*ProjectSerializer.Meta.fields, "role"]


class ItemSerializer(serializers.ModelSerializer):
    # What the manager set, not the queue's level of uncertainty-first order.
    priority = serializers.IntegerField(source="manager_priority", read_only=True)

    class Meta:
        model = Item
        fields = ["id", "external_id", "data", "meta", "priority", "n_done", "is_gold"]


class ImportJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImportJob
        fields = [
            "id",
            "project",
            "filename",
            "size_bytes",
            "status",
            "stage",
            "percent",
            "n_records",
            "n_saved",
            "n_created",
            "n_duplicates",
            "n_labels",
            "errors",
            "created_at",
            "finished_at",
        ]


class MemberSerializer(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.ChoiceField(choices=Membership.Role.choices)


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    preview = serializers.BooleanField(
        default=False,
        help_text="Hold the import until POST /api/imports/{id}/commit/; "
        "GET /api/imports/{id}/preview/ shows how its fields map to the schema.",
    )


class ProjectUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=200)
    kind = serializers.ChoiceField(choices=schemas.KINDS, required=False)
    schema = LabelSchemaField(required=False)
    instructions = serializers.CharField(required=False, allow_blank=True)
    overlap = serializers.IntegerField(required=False)


class GuidelineSerializer(serializers.Serializer):
    body = serializers.CharField(help_text="Markdown; raw HTML is removed when rendered.")
    examples = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text="Worked examples per label option: {option value: Markdown}.",
    )


class ExportRequestSerializer(serializers.Serializer):
    # "type", not "format": DRF reads ?format= to pick a renderer.
    type = serializers.ChoiceField(choices=list(FORMATS), default="items_jsonl")
    annotations = serializers.BooleanField(default=True)
    ties = serializers.ChoiceField(choices=list(TIES), default="exclude")
    conversational = serializers.ChoiceField(
        choices=list(CONVERSATIONAL),
        default="auto",
        help_text="Preference rows as TRL's standard (text) or conversational (message lists) "
        "shape; auto is conversational when any prompt is a chat.",
    )


class ExportJobSerializer(serializers.ModelSerializer):
    download = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "project",
            "format",
            "options",
            "status",
            "percent",
            "n_total",
            "n_done",
            "size_bytes",
            "error",
            "download",
            "created_at",
            "finished_at",
        ]

    def get_download(self, job) -> str | None:
        if job.status != ExportJob.Status.DONE or not job.file:  # not yet, or pruned
            return None
        return reverse("api:export-file", args=[job.pk])


def schema_error(exc: schemas.SchemaError) -> ValidationError:
    return ValidationError({exc.field: [exc.message]})


# The project's label counts move with live answers only, never with gold ones: an
# annotator who watched them would learn which of their answers were checks.
MANAGER_ONLY_FIELDS = ("n_complete", "n_annotations")


def project_data(project, role: str | None) -> dict:
    """The project as this role may see it: counts for managers only."""
    data = ProjectSerializer(project).data
    if role != "manager":
        for field in MANAGER_ONLY_FIELDS:
            data.pop(field, None)
    return data


class ProjectListApi(APIView):
    @extend_schema(responses=ProjectSerializer(many=True))
    def get(self, request):
        return Response(
            [project_data(p, role) for p, role in project_list_with_roles(request.user)]
        )

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
    @extend_schema(responses=ProjectDetailSerializer)
    def get(self, request, project_id):
        project = project_for_user(request.user, project_id)
        role = project_role(request.user, project)
        data = project_data(project, role)
        data["role"] = role
        return Response(data)

    @extend_schema(request=ProjectUpdateSerializer, responses=ProjectSerializer)
    def patch(self, request, project_id):
        """Change settings or the label schema. Once labeling has started, a change that
        would break existing answers (removing or renaming a choice, changing the kind or
        the scale, ...) is refused with 400 naming the field."""
        project = project_for_manager(request.user, project_id)
        serializer = ProjectUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            project = project_update(project=project, **serializer.validated_data)
        except schemas.SchemaError as exc:
            raise schema_error(exc) from None
        return Response(ProjectSerializer(project).data)


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
    pagination_class = Pagination  # read by the OpenAPI schema: the list comes in pages

    @extend_schema(responses=ItemSerializer(many=True))
    def get(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(project.items.order_by("id"), request, view=self)
        return paginator.get_paginated_response(ItemSerializer(page, many=True).data)


class MembersAddSerializer(serializers.Serializer):
    usernames = serializers.ListField(
        child=serializers.CharField(allow_blank=True),
        max_length=10_000,
        help_text='One entry per member: "username" or "username,role". A bad entry is named '
        "as line N (counting from 1) and nobody is added.",
    )
    role = serializers.ChoiceField(
        choices=Membership.Role.choices, help_text="The role of entries that name none."
    )


class MembersAddApi(APIView):
    @extend_schema(request=MembersAddSerializer, responses={201: MemberSerializer(many=True)})
    def post(self, request, project_id):
        """Add many members at once, all or nothing, as the project page's paste box does."""
        project = project_for_manager(request.user, project_id)
        serializer = MembersAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            added = members_add(
                project=project, text="\n".join(data["usernames"]), role=data["role"]
            )
        except schemas.SchemaError as exc:
            raise schema_error(exc) from None
        body = [{"username": m.user.username, "role": m.role} for m in added]
        return Response(body, status=status.HTTP_201_CREATED)


class ItemUpdateSerializer(serializers.Serializer):
    record = serializers.DictField(
        help_text="The item as an import line: its fields, and external_id, priority or "
        "meta to set those too. Checked as the importer checks a line."
    )


class ItemDetailApi(APIView):
    """One item, for its project's managers. Only an item nobody answered or holds may
    change (409 otherwise), as in the item browser."""

    @extend_schema(responses=ItemSerializer)
    def get(self, request, project_id, item_id):
        project = project_for_manager(request.user, project_id)
        return Response(ItemSerializer(item_for_manager(project, item_id)).data)

    @extend_schema(request=ItemUpdateSerializer, responses=ItemSerializer)
    def patch(self, request, project_id, item_id):
        item = item_for_manager(project_for_manager(request.user, project_id), item_id)
        serializer = ItemUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            item = item_update(item=item, record=serializer.validated_data["record"])
        except schemas.SchemaError as exc:
            raise schema_error(exc) from None
        except ItemHasAnswers as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(ItemSerializer(item).data)

    @extend_schema(responses={204: None})
    def delete(self, request, project_id, item_id):
        item = item_for_manager(project_for_manager(request.user, project_id), item_id)
        try:
            item_delete(item=item)
        except ItemHasAnswers as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ItemBulkSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=BULK_ACTIONS)
    item_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=10_000
    )
    priority = serializers.IntegerField(required=False, help_text="For priority.")
    extra_labels = serializers.IntegerField(required=False, help_text="For relabel: 1 to 20.")
    explanation = serializers.CharField(
        required=False, allow_blank=True, help_text="For gold: shown to raters who miss it."
    )
    tag = serializers.CharField(required=False, help_text="For tag and untag.")


class ItemBulkResultSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    skipped = serializers.IntegerField()
    message = serializers.CharField()


class ItemBulkApi(APIView):
    @extend_schema(request=ItemBulkSerializer, responses=ItemBulkResultSerializer)
    def post(self, request, project_id):
        """The item browser's bulk actions: set priority, send back for more labels, promote
        to gold from the aggregate, tag, untag or delete. Each is all or nothing; items it
        does not apply to are skipped and counted. Ids of other projects are ignored."""
        project = project_for_manager(request.user, project_id)
        serializer = ItemBulkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            outcome = items_bulk_apply(
                project=project,
                item_ids=data["item_ids"],
                action=data["action"],
                user=request.user,
                params=data,
            )
        except schemas.SchemaError as exc:
            raise schema_error(exc) from None
        message = f"{outcome.done} {outcome.note}"
        if outcome.skipped:
            message += f"; {outcome.skipped} skipped: {outcome.why}"
        return Response({"done": outcome.done, "skipped": outcome.skipped, "message": message})


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
                project=project,
                user=request.user,
                upload=serializer.validated_data["file"],
                preview=serializer.validated_data["preview"],
            )
        except ImportRejected as exc:
            raise ValidationError({"file": [str(exc)]}) from None
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ImportDetailApi(APIView):
    @extend_schema(responses=ImportJobSerializer)
    def get(self, request, import_id):
        return Response(ImportJobSerializer(import_for_manager(request.user, import_id)).data)


class ImportPreviewApi(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request, import_id):
        """The first records and how each field maps to the schema: shown, required, meta."""
        job = import_for_manager(request.user, import_id)
        if job.status != ImportJob.Status.PREVIEW:
            return Response({"detail": f"This import is {job.status}."}, status=409)
        return Response(import_preview(job=job))


class ImportCommitApi(APIView):
    @extend_schema(request=None, responses={202: ImportJobSerializer})
    def post(self, request, import_id):
        job = import_for_manager(request.user, import_id)
        if request.data.get("cancel") in (True, "true", "1"):
            return Response(ImportJobSerializer(import_cancel(job=job)).data)
        return Response(ImportJobSerializer(import_commit(job=job)).data, status=202)


def _export_options(data, project) -> ExportOptions:
    serializer = ExportRequestSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    data = dict(serializer.validated_data)
    try:
        options = ExportOptions(format=data.pop("type"), **data)
        options.check(project)
    except ExportRefused as exc:
        raise ValidationError({"type": [str(exc)]}) from None
    return options


class ExportApi(APIView):
    @extend_schema(
        parameters=[ExportRequestSerializer], responses={(200, "application/x-ndjson"): str}
    )
    def get(self, request, project_id):
        """Stream an export now (constant memory); POST .../exports/ writes a file instead."""
        project = project_for_manager(request.user, project_id)
        options = _export_options(request.query_params, project)
        response = StreamingHttpResponse(
            export_stream(project, options), content_type=FORMATS[options.format][1]
        )
        response["Content-Disposition"] = (
            f'attachment; filename="vox-project-{project.pk}-{options.filename_suffix}"'
        )
        return response


class ExportCardNowApi(APIView):
    @extend_schema(parameters=[ExportRequestSerializer], responses={(200, "text/markdown"): str})
    def get(self, request, project_id):
        """The dataset card of the file GET .../export/ streams with the same parameters, for
        small projects (VOX_EXPORT_STREAM_MAX_ITEMS); a larger one exports as a job, whose
        card is GET /api/exports/{id}/card/."""
        project = project_for_manager(request.user, project_id)
        options = _export_options(request.query_params, project)
        if project.n_items > settings.VOX_EXPORT_STREAM_MAX_ITEMS:
            raise ValidationError({"type": ["large projects get their card with an export job"]})
        return HttpResponse(download_card(project, options), content_type="text/markdown")


class ExportCreateApi(APIView):
    @extend_schema(request=ExportRequestSerializer, responses={202: ExportJobSerializer})
    def post(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        options = _export_options(request.data, project)
        job = export_create(project=project, user=request.user, options=options)
        job.refresh_from_db()
        return Response(ExportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ExportDetailApi(APIView):
    @extend_schema(responses=ExportJobSerializer)
    def get(self, request, export_id):
        return Response(ExportJobSerializer(export_for_manager(request.user, export_id)).data)


class ExportFileApi(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): str})
    def get(self, request, export_id):
        job = export_for_manager(request.user, export_id)
        if job.status != ExportJob.Status.DONE or not job.file:
            raise Http404
        return FileResponse(
            job.file.open("rb"), as_attachment=True, filename=job.file.name.rsplit("/", 1)[-1]
        )


class ExportCardApi(APIView):
    @extend_schema(responses={(200, "text/markdown"): str})
    def get(self, request, export_id):
        """The dataset card (README.md with hub front matter) of a finished export."""
        job = export_for_manager(request.user, export_id)
        response = HttpResponse(export_card(job), content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="README.md"'
        return response


class GuidelineApi(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request, project_id):
        """The current version; managers also see who has acknowledged it, and when."""
        project = project_for_user(request.user, project_id)
        current = guideline_current(project)
        body = None
        if current is not None:
            body = {
                "version": current.version,
                "body": current.body,
                "body_html": str(render_markdown(current.body)),
                "examples": current.examples,
                "published_at": current.published_at,
            }
        data = {"current": body}
        if project_role(request.user, project) == "manager":
            data["acks"] = guideline_ack_status(project, current)
        return Response(data)

    @extend_schema(request=GuidelineSerializer, responses={201: dict})
    def post(self, request, project_id):
        """Publish a new version; every annotator must acknowledge it before their next item."""
        project = project_for_manager(request.user, project_id)
        serializer = GuidelineSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            guideline = guideline_publish(
                project=project,
                user=request.user,
                body=serializer.validated_data["body"],
                examples=serializer.validated_data.get("examples") or {},
            )
        except schemas.SchemaError as exc:
            raise schema_error(exc) from None
        return Response(
            {"version": guideline.version, "published_at": guideline.published_at}, status=201
        )


class GuidelineAckApi(APIView):
    @extend_schema(request=None, responses={201: dict})
    def post(self, request, project_id):
        """Acknowledge the current version (what the guidelines page's button does)."""
        project = project_for_user(request.user, project_id)
        current = guideline_current(project)
        if current is None:
            return Response({"detail": "This project has no guidelines yet."}, status=409)
        ack = guideline_ack(guideline=current, user=request.user)
        return Response({"version": current.version, "acked_at": ack.acked_at}, status=201)
