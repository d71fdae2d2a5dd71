"""The two personal links every campaign mail carries: tracking and unsubscribe.

Both carry the delivery's random token and nothing else, so a link says who
clicked only to Renkei. The paths are served by ``campaigns.tracking_urls``
(``/c/<token>/``: count the click, remember the campaign for the visit, go to
the event page) and ``campaigns.unsubscribe_urls`` (``/unsubscribe/<token>/``:
one-click opt-out, RFC 8058).
"""

from __future__ import annotations

from django.conf import settings

from .models import Delivery


def tracking_url(delivery: Delivery) -> str:
    return f"{settings.SITE_URL}/c/{delivery.token}/"


def unsubscribe_url(delivery: Delivery) -> str:
    return f"{settings.SITE_URL}/unsubscribe/{delivery.token}/"
