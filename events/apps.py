from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Events and registration")

    def ready(self) -> None:
        from .permissions import ensure_role_groups

        # After migrate, when Django has created the permissions the groups need.
        post_migrate.connect(ensure_role_groups, sender=self)
