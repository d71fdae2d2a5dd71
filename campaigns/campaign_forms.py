"""The organizer's forms for campaigns and their mails; choices limited to the organization's own."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.models import Event

from .models import Audience, Campaign, CampaignMail, Organization
from .recipients import FOLLOW_UPS, event_end


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "slug", "event", "audience"]

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.instance.organization = organization
        self.fields["event"].queryset = Event.objects.filter(organization=organization)
        self.fields["audience"].queryset = Audience.objects.filter(organization=organization)

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if slug == "new":  # the address of the "new campaign" page
            raise forms.ValidationError(_("This address name is reserved; choose another."))
        if Campaign.objects.filter(organization=self.organization, slug=slug).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("Another campaign of this organization already uses this address name."))
        return slug


class MailForm(forms.ModelForm):
    # A link typed without a scheme is a web address: https, as browsers assume.
    materials_url = forms.URLField(label=CampaignMail._meta.get_field("materials_url").verbose_name, required=False,
                                   assume_scheme="https")
    scheduled_at = forms.DateTimeField(
        label=_("Send at (Japan time)"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty to send by hand. A follow-up can be sent only after the event."))

    class Meta:
        model = CampaignMail
        fields = ["kind", "subject", "body", "materials_url", "scheduled_at"]
        widgets = {"body": forms.Textarea(attrs={"rows": 10})}

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.instance.campaign = campaign

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        at, kind = cleaned.get("scheduled_at"), cleaned.get("kind")
        if at is not None and at != self.instance.scheduled_at and at <= timezone.now():
            self.add_error("scheduled_at", _("Choose a time in the future."))
        elif at is not None and kind in FOLLOW_UPS:
            ends = event_end(self.campaign.event_id)
            if ends is None or at < ends:
                self.add_error("scheduled_at", _("A follow-up goes after the event: choose a time after its last talk."))
        return cleaned
