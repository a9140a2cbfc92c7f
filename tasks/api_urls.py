"""The tasks API's URLs, included under /api/ in the "api" namespace (config/urls.py)."""

from django.urls import path

from tasks import api

urlpatterns = [
    path("projects/", api.ProjectListApi.as_view(), name="project-list"),
    path("projects/<int:project_id>/", api.ProjectDetailApi.as_view(), name="project-detail"),
    path(
        "projects/<int:project_id>/progress/",
        api.ProjectProgressApi.as_view(),
        name="project-progress",
    ),
    path("projects/<int:project_id>/members/", api.MemberAddApi.as_view(), name="member-add"),
    path("projects/<int:project_id>/items/", api.ItemListApi.as_view(), name="item-list"),
    path(
        "projects/<int:project_id>/imports/",
        api.ImportCreateApi.as_view(),
        name="import-create",
    ),
    path("projects/<int:project_id>/export/", api.ExportApi.as_view(), name="project-export"),
    path("imports/<int:import_id>/", api.ImportDetailApi.as_view(), name="import-detail"),
    path(
        "projects/<int:project_id>/exports/",
        api.ExportCreateApi.as_view(),
        name="export-create",
    ),
    path(
        "projects/<int:project_id>/guidelines/",
        api.GuidelineApi.as_view(),
        name="guidelines",
    ),
    path(
        "projects/<int:project_id>/guidelines/ack/",
        api.GuidelineAckApi.as_view(),
        name="guideline-ack",
    ),
    path(
        "imports/<int:import_id>/preview/",
        api.ImportPreviewApi.as_view(),
        name="import-preview",
    ),
    path("imports/<int:import_id>/commit/", api.ImportCommitApi.as_view(), name="import-commit"),
    path("exports/<int:export_id>/", api.ExportDetailApi.as_view(), name="export-detail"),
    path("exports/<int:export_id>/file/", api.ExportFileApi.as_view(), name="export-file"),
]
