from django.core.management.base import BaseCommand

from regions.loading import load_regions
from regions.models import Prefecture, Region


class Command(BaseCommand):
    help = "Load (or refresh) the 8 regional blocks and 47 prefectures from regions/data/prefectures.csv."

    def handle(self, *args, **options):
        regions, prefectures = load_regions(Region, Prefecture)
        self.stdout.write(f"Loaded {regions} regions and {prefectures} prefectures.")
