"""What one campaign mail to one contact looks like: text, links and the headers mail clients act on.

Contacts have no language of their own, so every mail is written once: the
organizer's subject and body as they typed them, then the fixed lines
(personal link, materials, sender, unsubscribe) in Japanese with English
below. Every mail carries, as the Act on Specified Electronic Mail
(特定電子メール法) and RFC 8058 ask:

- the sender line (``Organization.sender_line``: name, postal address, contact address);
- a one-click unsubscribe link, also in ``List-Unsubscribe`` (with a mailto:
  to the organization) and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``;
- a ``Message-ID`` made from the delivery's token: the same mail sent again
  after a crash has the same identity, so receiving systems can tell it is one mail.
"""

from __future__ import annotations

from email.utils import formataddr, parseaddr
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from .links import tracking_url, unsubscribe_url
from .models import CampaignMail, Delivery, Organization

LANGUAGES = ("ja", "en")


def message_id(delivery: Delivery) -> str:
    """A Message-ID that stays the same however often the delivery is attempted."""
    domain = urlsplit(settings.SITE_URL).hostname or "renkei.invalid"
    return f"<campaign.{delivery.token}@{domain}>"


# Stand-ins for the two personal links while the text is rendered once per batch.
_TRACK, _UNSUBSCRIBE = "\x00tracking\x00", "\x00unsubscribe\x00"


class MailTemplate:
    """One campaign mail's text rendered once (per batch), made personal per delivery by inserting its links.

    Rendering three templates in two languages for every recipient would cost
    more than sending the mail; only the two links differ between recipients.
    """

    def __init__(self, mail: CampaignMail, organization: Organization) -> None:
        self.mail, self.organization = mail, organization
        context = {"mail": mail, "organization": organization, "tracking_url": _TRACK, "unsubscribe_url": _UNSUBSCRIBE}
        footers = []
        for language in LANGUAGES:
            with translation.override(language):
                footers.append(render_to_string("mail/campaign_footer.txt", context).strip())
        self.body = render_to_string("mail/campaign.txt", {**context, "footers": footers})
        self.subject = " ".join(mail.subject.split())
        # The organization's name, at Renkei's sending address (the one the SMTP relay is allowed to send as).
        self.from_email = formataddr((organization.name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))
        self.mailto = f"mailto:{organization.contact_email}?subject={quote('unsubscribe')}"

    def message(self, delivery: Delivery) -> EmailMessage:
        unsubscribe = unsubscribe_url(delivery)
        return EmailMessage(
            subject=self.subject,
            body=self.body.replace(_TRACK, tracking_url(delivery)).replace(_UNSUBSCRIBE, unsubscribe),
            from_email=self.from_email,
            to=[delivery.email],
            reply_to=[self.organization.contact_email],
            headers={
                "Message-ID": message_id(delivery),
                "List-Unsubscribe": f"<{unsubscribe}>, <{self.mailto}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )

