"""A physician's own pages of an event's receptions: their card, the cards they collected, their tables' chat."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _

from events import joinlinks
from events.models import Event, Physician, Registration

from . import cards, table_chat
from .models import CardSettings


class CardSettingsForm(forms.ModelForm):
    class Meta:
        model = CardSettings
        fields = ["email", "phone", "accepts_referrals", "message", "show_specialty"]
        help_texts = {
            "email": _("Shared only with people whose card exchange you accepted. Leave blank to share none."),
            "phone": _("Shared only with people whose card exchange you accepted. Leave blank to share none."),
            "show_specialty": _("Everyone at your table sees your name, facility type and prefecture; your specialty "
                                "only if you tick this."),
        }

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone and not all(ch.isdigit() or ch in "+-() " for ch in phone):
            raise forms.ValidationError(_("Digits, spaces, + - ( ) only."))
        return phone


def my_cards(request: HttpRequest, slug: str) -> HttpResponse:
    """For the physician this session was admitted as: their card settings and collected cards."""
    event, registration = _admitted(request, slug)
    if registration is None:
        return _not_admitted(request, event)
    physician = registration.physician
    settings, _created = CardSettings.objects.get_or_create(physician=physician)
    if request.method == "POST":
        form = CardSettingsForm(request.POST, instance=settings)
        if form.is_valid():
            form.save()
            return redirect("rooms:cards", slug=event.slug)
    else:
        form = CardSettingsForm(instance=settings)
    return render(request, "rooms/cards.html", {
        "event": event, "form": form, "cards": cards.collected(physician.pk), "preview": cards.card_of(registration),
    }, status=400 if form.errors else 200)


def my_tables(request: HttpRequest, slug: str) -> HttpResponse:
    """The reception tables this physician sat at, each with its chat, to read again after the close."""
    event, registration = _admitted(request, slug)
    if registration is None:
        return _not_admitted(request, event)
    return render(request, "rooms/tables.html", {
        "event": event, "tables": table_chat.tables_of(registration),
        "facility_types": dict(Physician.FacilityType.choices),
    })


def _admitted(request: HttpRequest, slug: str) -> tuple[Event, Registration | None]:
    """The published event, and the physician this session was admitted to it as (None: not admitted)."""
    event = get_object_or_404(Event, slug=slug, is_published=True)
    return event, joinlinks.admitted_registration(request.COOKIES, event)


def _not_admitted(request: HttpRequest, event: Event) -> HttpResponse:
    return render(request, "events/lobby_closed.html", {"event": event}, status=403)
