from django.contrib import admin

from tasks.models import ImportJob, Item, Project


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "overlap",
        "n_items",
        "n_complete",
        "n_annotations",
        "created_at",
    ]
    list_filter = ["kind"]
    search_fields = ["name"]
    readonly_fields = ["n_items", "n_complete", "n_annotations"]


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "external_id", "manager_priority", "priority", "n_done"]
    list_filter = ["project"]
    search_fields = ["external_id"]
    raw_id_fields = ["project"]
    # A million-item project must not be counted on every page of the changelist.
    show_full_result_count = False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "project",
        "filename",
        "status",
        "n_created",
        "n_duplicates",
        "created_at",
    ]
    list_filter = ["status"]
    raw_id_fields = ["project", "created_by"]
