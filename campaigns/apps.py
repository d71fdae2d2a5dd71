from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        from events.permissions import ensure_role_groups
        from events.signals import registration_created

        from .attribution import on_registration_created

        # The organizer group's campaign permissions exist only once this app has migrated.
        post_migrate.connect(ensure_role_groups, sender=self)
        # Where the registrant came from (a campaign mail, tagged link) becomes its Attribution.
        registration_created.connect(on_registration_created, dispatch_uid="campaigns.attribution")
