from django.db import migrations, models

from tasks.content import content_hash


def backfill(apps, schema_editor):
    # Chunked by id, so a big project's items are never all in memory at once.
    Item = apps.get_model("tasks", "Item")
    last = 0
    while True:
        chunk = list(Item.objects.filter(pk__gt=last).order_by("pk").only("pk", "data")[:2000])
        if not chunk:
            return
        for item in chunk:
            item.content_hash = content_hash(item.data)
        Item.objects.bulk_update(chunk, ["content_hash"])
        last = chunk[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0007_drop_covered_fk_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="item",
            name="content_hash",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="item",
            index=models.Index(fields=["project", "content_hash"], name="item_content_hash"),
        ),
    ]
