from django.db import migrations, models
from django.db.models import F


def keep_managers_priorities(apps, schema_editor):
    # Projects in the default order hold the manager's priorities in `priority`; projects in
    # uncertainty-first order hold the runs' levels there, which are nobody's choice.
    Item = apps.get_model("tasks", "Item")
    QualityPolicy = apps.get_model("quality", "QualityPolicy")
    by_runs = QualityPolicy.objects.filter(queue_order="uncertainty").values("project_id")
    Item.objects.exclude(project_id__in=by_runs).update(manager_priority=F("priority"))


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0014_dynamic_overlap"),
        ("quality", "0008_dynamic_overlap"),
    ]

    operations = [
        migrations.AddField(
            model_name="item",
            name="manager_priority",
            field=models.IntegerField(db_default=0, default=0),
        ),
        migrations.RunPython(keep_managers_priorities, migrations.RunPython.noop),
    ]
