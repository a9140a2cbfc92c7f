from django.urls import path

from tasks import views

app_name = "tasks"
urlpatterns = [
    path("projects/new/", views.project_new, name="project-new"),
    path("projects/schema-fields/", views.schema_fields, name="schema-fields"),
    path("projects/schema-row/", views.schema_row, name="schema-row"),
    path("projects/<int:project_id>/", views.project_detail, name="project-detail"),
    path("projects/<int:project_id>/settings/", views.project_settings, name="project-settings"),
    path("projects/<int:project_id>/by-rater/", views.project_by_rater, name="project-by-rater"),
    path("projects/<int:project_id>/members/", views.member_add, name="member-add"),
    path("projects/<int:project_id>/imports/", views.import_new, name="import-new"),
    path("projects/<int:project_id>/export.jsonl", views.project_export, name="project-export"),
    path("projects/<int:project_id>/exports/", views.export_new, name="export-new"),
    path("projects/<int:project_id>/export/", views.export_download_now, name="export-now"),
    path("projects/<int:project_id>/guidelines/", views.guideline_read, name="guideline-read"),
    path("projects/<int:project_id>/guidelines/edit/", views.guideline_edit, name="guideline-edit"),
    path(
        "projects/<int:project_id>/guidelines/preview/",
        views.guideline_preview,
        name="guideline-preview",
    ),
    path("imports/<int:import_id>/", views.import_status, name="import-status"),
    path("imports/<int:import_id>/preview/", views.import_preview_page, name="import-preview"),
    path("exports/<int:export_id>/", views.export_status, name="export-status"),
    path("exports/<int:export_id>/file/", views.export_file, name="export-file"),
]
