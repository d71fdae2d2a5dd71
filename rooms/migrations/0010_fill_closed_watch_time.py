"""Fill ClosedWatchTime from the attendance rows already recorded (from here on their writers keep it)."""

from django.db import migrations


def fill(apps, schema_editor):
    from rooms.lecture.watch_times import rebuild

    attendance = apps.get_model("rooms", "Attendance")
    summary = apps.get_model("rooms", "ClosedWatchTime")
    talk_ids = attendance.objects.order_by().values_list("talk_id", flat=True).distinct()
    rebuild(list(talk_ids), attendance, summary)


class Migration(migrations.Migration):

    dependencies = [
        ("rooms", "0009_closed_watch_time"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
