"""python manage.py import_contacts FILE --organization SLUG [--dry-run]"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from campaigns.importing import UnusableFile, import_contacts, report_lines
from campaigns.models import Organization


class Command(BaseCommand):
    help = ("Import a contact list (CSV in Shift_JIS/cp932 or UTF-8, or .xlsx) into an organization. "
            "Prints one line per rejected row and, last, 'imported X, merged Y, rejected Z'. "
            "Exit status 2 when the file cannot be used at all.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--organization", required=True, help="the organization's slug")
        parser.add_argument("--dry-run", action="store_true", help="check and report, import nothing")

    def handle(self, *args, file: Path, organization: str, dry_run: bool, **options):
        try:
            owner = Organization.objects.get(slug=organization)
        except Organization.DoesNotExist:
            raise CommandError(f"no organization with the slug {organization!r}", returncode=2)
        if not file.is_file():
            raise CommandError(f"{file}: no such file", returncode=2)
        # The bar goes to stderr so that stdout stays the report, line for line.
        with tqdm(desc="rows", unit=" rows", file=self.stderr._out, mininterval=0.5) as bar:
            try:
                report = import_contacts(file, owner, dry_run=dry_run, progress=bar.update)
            except UnusableFile as exc:
                raise CommandError(f"{file}: {exc}", returncode=2)
        if dry_run:
            self.stderr.write("dry run: nothing was written")
        for line in report_lines(report):
            self.stdout.write(line)
