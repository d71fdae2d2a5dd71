"""Events made before organizations existed land in the demo organization; the demo loads into it."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from campaigns.models import DEMO_ORGANIZATION_SLUG, Organization
from events.models import Event


@pytest.mark.django_db(transaction=True)
def test_existing_events_and_their_organizers_move_into_the_demo_organization():
    executor = MigrationExecutor(connection)
    before = [("events", "0003_event_organization")]
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    OldEvent = old_apps.get_model("events", "Event")
    User = old_apps.get_model("auth", "User")
    organizer = User.objects.create(username="old-organizer")
    event = OldEvent.objects.create(slug="before-organizations", title="昔の講演会")
    event.organizers.add(organizer)
    # Through the migration state's model: today's Organization cascades to tables not made yet.
    old_apps.get_model("campaigns", "Organization").objects.filter(slug=DEMO_ORGANIZATION_SLUG).delete()

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    demo = Organization.objects.get(slug=DEMO_ORGANIZATION_SLUG)
    assert Event.objects.get(slug="before-organizations").organization == demo
    assert list(demo.members.values_list("username", flat=True)) == ["old-organizer"]


@pytest.mark.django_db
def test_the_demo_event_belongs_to_the_demo_organization_with_the_demo_organizer_as_member():
    call_command("load_demo", stdout=open("/dev/null", "w"))
    demo = Organization.objects.get(slug=DEMO_ORGANIZATION_SLUG)
    assert Event.objects.get(slug="tohoku-precision-oncology-2026").organization == demo
    assert demo.members.filter(username="organizer").exists()
