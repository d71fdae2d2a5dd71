"""Write Renkei's Janus configuration into a folder: `python manage.py janus_config DIR --port 8088`.

Then run `janus -C DIR/janus.jcfg -F DIR`. The API secret is JANUS_API_SECRET
(the one Renkei sends); the admin secret is derived from SECRET_KEY and used by nobody.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rooms.reception.janus_config import write_config


class Command(BaseCommand):
    help = "Write a minimal Janus configuration (VideoRoom over HTTP on 127.0.0.1) for Renkei's tables."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument("--port", type=int, default=8088, help="the HTTP API's port on 127.0.0.1")
        parser.add_argument("--ice-enforce-list", default="",
                            help="interfaces or IPs ICE may use (e.g. eth0); all but loopback when empty")
        parser.add_argument("--nat-1-1", default="", help="the public IP of a server behind 1:1 NAT")
        parser.add_argument("--rtp-port-range", default="", help="UDP ports for media, e.g. 20000-40000 (open them)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.JANUS_API_SECRET:
            raise CommandError("Set JANUS_API_SECRET: Janus must not accept requests without it.")
        admin = hmac.new(settings.SECRET_KEY.encode(), b"janus-admin", hashlib.sha256).hexdigest()
        path = write_config(options["directory"], port=options["port"], api_secret=settings.JANUS_API_SECRET,
                            admin_secret=admin, ice_enforce_list=options["ice_enforce_list"],
                            nat_1_1=options["nat_1_1"], rtp_port_range=options["rtp_port_range"])
        self.stdout.write(f"janus -C {path} -F {path.parent}")
