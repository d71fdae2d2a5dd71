"""python manage.py create_api_token --organization SLUG [--name NAME]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Organization
from campaigns.services import do_create_api_token


class Command(BaseCommand):
    help = ("Make an API token for an organization's CRM or marketing-automation tool (/api/v1/). "
            "The token is printed once, as the last line; only its hash is kept.")

    def add_arguments(self, parser):
        parser.add_argument("--organization", required=True, help="the organization's slug")
        parser.add_argument("--name", default="", help="what will use the token, e.g. the CRM's name")

    def handle(self, *args, organization: str, name: str, **options):
        try:
            owner = Organization.objects.get(slug=organization)
        except Organization.DoesNotExist:
            raise CommandError(f"no organization with the slug {organization!r}", returncode=2)
        token, secret = do_create_api_token(owner, name)
        # Notes on stderr, so that `TOKEN=$(manage.py create_api_token ...)` captures the token alone.
        self.stderr.write(f"API token {token.prefix}… for {owner.slug}: it is shown only now; store it safely. "
                          "Send it as 'Authorization: Bearer <token>'.")
        self.stdout.write(secret)
