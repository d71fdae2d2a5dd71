"""The organizer's form for an audience: the criteria of campaigns.models.Audience, phone-sized."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from events.models import Event, Physician
from events.specialties import SPECIALTY_CHOICES
from regions.models import Prefecture, Region

from .analytics import DEFAULT_MIN_MINUTES
from .models import Audience, Organization


OTHER_EVENT = _("Choose one of your organization's events.")
SHORTAGE_HELP = _("Only contacts in the prefectures MHLW designates as short of physicians (医師少数都道府県).")


class EventChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Event) -> str:
        return obj.title


class AudienceCriteria(forms.ModelForm):
    """What the organizer pages and the admin check alike: keys from the lists, and the earlier event.

    The earlier event comes with a behaviour or not at all, and belongs to the
    audience's organization (``criteria_organization``).
    """

    specialties = forms.MultipleChoiceField(
        choices=SPECIALTY_CHOICES, required=False, widget=forms.CheckboxSelectMultiple, label=_("Specialties"),
        help_text=_("None: every specialty."))
    facility_types = forms.MultipleChoiceField(
        choices=Physician.FacilityType.choices, required=False, widget=forms.CheckboxSelectMultiple,
        label=_("Facility types"), help_text=_("None: every type of facility."))
    past_behaviour = forms.ChoiceField(
        choices=[("", _("No condition"))] + list(Audience.Behaviour.choices), required=False,
        label=_("Past behaviour"))
    past_event = EventChoiceField(
        Event.objects.none(), required=False, label=_("Earlier event"),
        error_messages={"invalid_choice": OTHER_EVENT})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["shortage_only"].help_text = SHORTAGE_HELP
        self.fields["past_behaviour"].help_text = gettext(
            "Contacts whose address did this at the earlier event below. "
            "Attended means watching at least %(minutes)s minutes, as on the event's dashboard."
        ) % {"minutes": DEFAULT_MIN_MINUTES}

    def criteria_organization(self) -> Organization | None:
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        behaviour, event = data.get("past_behaviour"), data.get("past_event")
        organization = self.criteria_organization()
        if event and organization and event.organization_id != organization.pk:
            self.add_error("past_event", OTHER_EVENT)
        elif behaviour and not event and "past_event" not in self.errors:
            self.add_error("past_event", _("Choose the event this behaviour refers to."))
        elif event and not behaviour:
            self.add_error("past_behaviour", _("Choose what the contacts did at that event, or clear the event."))
        return data


class AudienceForm(AudienceCriteria):
    """The organizer page's form: the organization is the one in the address."""

    regions = forms.ModelMultipleChoiceField(
        Region.objects.order_by("order"), required=False, widget=forms.CheckboxSelectMultiple,
        label=_("Regions"))
    prefectures = forms.ModelMultipleChoiceField(
        Prefecture.objects.select_related("region").order_by("code"), required=False,
        widget=forms.CheckboxSelectMultiple, label=_("Prefectures"),
        help_text=_("Regions and prefectures together: contacts in any of them. None: all of Japan."))

    class Meta:
        model = Audience
        fields = ["name", "regions", "prefectures", "shortage_only", "specialties", "facility_types",
                  "past_behaviour", "past_event"]

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["past_event"].queryset = Event.objects.filter(organization=organization).order_by("-created_at")

    def criteria_organization(self) -> Organization | None:
        return self.organization

    def prefectures_by_region(self) -> list[tuple[str, list[Any]]]:
        """The prefecture checkboxes grouped under their region's name, in region order (for the template)."""
        regions = {prefecture.pk: prefecture.region for prefecture in self.fields["prefectures"].queryset}
        groups: dict[str, tuple[Region, list[Any]]] = {}
        for checkbox in self["prefectures"]:
            region = regions[str(checkbox.data["value"])]
            groups.setdefault(region.pk, (region, []))[1].append(checkbox)
        return [(region.display_name, boxes) for region, boxes in sorted(groups.values(), key=lambda g: g[0].order)]

    @transaction.atomic
    def save(self, commit: bool = True) -> Audience:
        # The audience and its regions/prefectures together: an error halfway leaves nothing written.
        self.instance.organization = self.organization
        return super().save(commit=commit)


class AudienceAdminForm(AudienceCriteria):
    """The admin's form: the organization is a field (offered among the member's, see AudienceAdmin)."""

    class Meta:
        model = Audience
        fields = "__all__"

    def criteria_organization(self) -> Organization | None:
        return self.cleaned_data.get("organization")
