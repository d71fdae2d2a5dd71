from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class RegionsConfig(AppConfig):
    name = "regions"
    verbose_name = _("Regions")

    def ready(self) -> None:
        from .loading import load_regions_after_migrate

        # On every migrate (and every test-database flush, which replays
        # post_migrate) the reference data is brought back in line with the CSV.
        post_migrate.connect(load_regions_after_migrate, sender=self)
