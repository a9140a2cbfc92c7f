from django.urls import path

from tasks import views

app_name = "tasks"
urlpatterns = [
    path("projects/new/", views.project_new, name="project-new"),
    path("projects/schema-fields/", views.schema_fields, name="schema-fields"),
    path("projects/schema-row/", views.schema_row, name="schema-row"),
    path("projects/<id:project_id>/", views.project_detail, name="project-detail"),
    path("projects/<id:project_id>/settings/", views.project_settings, name="project-settings"),
    path("projects/<id:project_id>/by-rater/", views.project_by_rater, name="project-by-rater"),
    path("projects/<id:project_id>/members/", views.member_add, name="member-add"),
    path("projects/<id:project_id>/members/many/", views.members_add_many, name="members-add"),
    path("projects/<id:project_id>/imports/", views.import_new, name="import-new"),
    path("projects/<id:project_id>/export.jsonl", views.project_export, name="project-export"),
    path("projects/<id:project_id>/exports/", views.export_new, name="export-new"),
    path("projects/<id:project_id>/export/", views.export_download_now, name="export-now"),
    path(
        "projects/<id:project_id>/export/card/",
        views.export_download_card,
        name="export-now-card",
    ),
    path("projects/<id:project_id>/guidelines/", views.guideline_read, name="guideline-read"),
    path("projects/<id:project_id>/guidelines/edit/", views.guideline_edit, name="guideline-edit"),
    path(
        "projects/<id:project_id>/guidelines/preview/",
        views.guideline_preview,
        name="guideline-preview",
    ),
    path("projects/<id:project_id>/items/", views.item_browser, name="item-browser"),
    path("projects/<id:project_id>/items/bulk/", views.items_bulk, name="items-bulk"),
    path("projects/<id:project_id>/items/<id:item_id>/edit/", views.item_edit, name="item-edit"),
    path(
        "projects/<id:project_id>/items/<id:item_id>/delete/",
        views.item_delete_one,
        name="item-delete",
    ),
    path("imports/<id:import_id>/", views.import_status, name="import-status"),
    path("imports/<id:import_id>/preview/", views.import_preview_page, name="import-preview"),
    path("exports/<id:export_id>/", views.export_status, name="export-status"),
    path("exports/<id:export_id>/file/", views.export_file, name="export-file"),
    path("exports/<id:export_id>/card/", views.export_card, name="export-card"),
]
