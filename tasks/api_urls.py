"""The tasks API's URLs, included under /api/ in the "api" namespace (config/urls.py)."""

from django.urls import path

from tasks import api

urlpatterns = [
    path("projects/", api.ProjectListApi.as_view(), name="project-list"),
    path("projects/<id:project_id>/", api.ProjectDetailApi.as_view(), name="project-detail"),
    path(
        "projects/<id:project_id>/progress/",
        api.ProjectProgressApi.as_view(),
        name="project-progress",
    ),
    path("projects/<id:project_id>/members/", api.MemberAddApi.as_view(), name="member-add"),
    path("projects/<id:project_id>/items/", api.ItemListApi.as_view(), name="item-list"),
    path("projects/<id:project_id>/members/many/", api.MembersAddApi.as_view(), name="members-add"),
    path("projects/<id:project_id>/items/bulk/", api.ItemBulkApi.as_view(), name="item-bulk"),
    path(
        "projects/<id:project_id>/items/<id:item_id>/",
        api.ItemDetailApi.as_view(),
        name="item-detail",
    ),
    path(
        "projects/<id:project_id>/imports/",
        api.ImportCreateApi.as_view(),
        name="import-create",
    ),
    path("projects/<id:project_id>/export/", api.ExportApi.as_view(), name="project-export"),
    path(
        "projects/<id:project_id>/export/card/",
        api.ExportCardNowApi.as_view(),
        name="project-export-card",
    ),
    path("imports/<id:import_id>/", api.ImportDetailApi.as_view(), name="import-detail"),
    path(
        "projects/<id:project_id>/exports/",
        api.ExportCreateApi.as_view(),
        name="export-create",
    ),
    path(
        "projects/<id:project_id>/guidelines/",
        api.GuidelineApi.as_view(),
        name="guidelines",
    ),
    path(
        "projects/<id:project_id>/guidelines/ack/",
        api.GuidelineAckApi.as_view(),
        name="guideline-ack",
    ),
    path(
        "imports/<id:import_id>/preview/",
        api.ImportPreviewApi.as_view(),
        name="import-preview",
    ),
    path("imports/<id:import_id>/commit/", api.ImportCommitApi.as_view(), name="import-commit"),
    path("exports/<id:export_id>/", api.ExportDetailApi.as_view(), name="export-detail"),
    path("exports/<id:export_id>/file/", api.ExportFileApi.as_view(), name="export-file"),
    path("exports/<id:export_id>/card/", api.ExportCardApi.as_view(), name="export-card"),
]
