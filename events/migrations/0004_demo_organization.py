"""Every event made before organizations existed belongs to the demo organization.

The organization's sender line is a placeholder for the demo: a real
organization enters its own before sending any campaign mail.
"""

from django.db import migrations

DEMO = {
    "slug": "renkei-demo",
    "name": "Renkei デモ組織",
    "postal_address": "〒100-0001 東京都千代田区(デモ用の住所です)",
    "contact_email": "demo@renkei.example",
}


def assign_to_demo(apps, schema_editor):
    Organization = apps.get_model("campaigns", "Organization")
    Event = apps.get_model("events", "Event")
    demo, _ = Organization.objects.get_or_create(slug=DEMO["slug"], defaults=DEMO)
    Event.objects.filter(organization__isnull=True).update(organization=demo)
    # The events' organizers become the demo organization's members, so nobody
    # loses sight of their own events' contacts and mail.
    members = {user for event in Event.objects.filter(organization=demo) for user in event.organizers.all()}
    demo.members.add(*members)


class Migration(migrations.Migration):

    dependencies = [
        ("events", "0003_event_organization"),
    ]

    operations = [
        migrations.RunPython(assign_to_demo, migrations.RunPython.noop),
    ]
