from django.contrib import admin

from annotation.models import Annotation, Assignment


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "item", "rater", "status", "leased_at", "expires_at"]
    list_filter = ["status"]
    raw_id_fields = ["project", "item", "rater"]
    show_full_result_count = False


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "item", "rater", "created_at", "duration_ms"]
    raw_id_fields = ["project", "item", "rater"]
    show_full_result_count = False
