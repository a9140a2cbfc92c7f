from django.db import migrations

# The item browser's tag filter is JSON containment on meta->'tags'. PostgreSQL answers
# it from a GIN index; SQLite has no such index (nor the operator), and there the filter
# walks the tag lists instead.
CREATE = (
    "CREATE INDEX IF NOT EXISTS item_meta_tags ON tasks_item "
    "USING gin ((meta -> 'tags') jsonb_path_ops)"
)
DROP = "DROP INDEX IF EXISTS item_meta_tags"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("tasks", "0010_job_attempts")]

    operations = [migrations.RunPython(forwards, backwards)]
