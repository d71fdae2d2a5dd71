"""The physician registration form: every field checked, every error in the user's language."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from regions.models import Region
from regions.parsing import parse_prefecture

from .models import Physician
from .services import PhysicianDetails
from .specialties import SPECIALTY_CHOICES

# Hiragana, katakana (with the long-vowel mark and middle dot) and spaces; NFKC
# folds half-width katakana and the ideographic space beforehand.
KANA_RE = re.compile(r"^[\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fc\u30fd\u30fe\u30fb ]+$")
# C0 and C1 control characters (terminal escapes and the like).
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").strip()


class TextField(forms.CharField):
    """A text field normalised (NFKC) *before* validation.

    Normalising can lengthen text (㍻ → 平成), so max_length must be checked on
    the normalised value, which is the one stored.
    """

    def to_python(self, value: Any) -> str:
        return _nfkc(super().to_python(value))


def _single_line(value: str, message: str) -> str:
    """Refuse control characters (a newline included), then collapse runs of spaces."""
    if CONTROL_RE.search(value):
        raise ValidationError(message, code="invalid")
    return " ".join(value.split())


def prefecture_choices() -> list[Any]:
    choices: list[Any] = [("", _("Select your prefecture"))]
    for region in Region.objects.prefetch_related("prefectures"):
        choices.append((region.display_name, [(p.code, p.display_name) for p in region.prefectures.all()]))
    return choices


class RegistrationForm(forms.Form):
    full_name = TextField(label=_("Full name"), max_length=100)
    name_kana = TextField(label=_("Name in kana"), max_length=100, help_text=_("e.g. やまだ たろう"))
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    specialty = forms.ChoiceField(label=_("Specialty"), choices=[("", _("Select your specialty"))] + SPECIALTY_CHOICES)
    facility_name = TextField(label=_("Facility name"), max_length=200)
    facility_type = forms.ChoiceField(
        label=_("Facility type"), choices=Physician.FacilityType.choices, widget=forms.RadioSelect
    )
    prefecture = forms.CharField(label=_("Prefecture of your facility"), max_length=40)
    medical_registration_number = forms.CharField(
        label=_("Medical registration number (optional)"),
        required=False,
        max_length=20,
        help_text=_("Your 医籍登録番号, digits only."),
    )
    attest_healthcare_professional = forms.BooleanField(
        label=_("I am a healthcare professional (medical content on Renkei is for healthcare professionals only)."),
        error_messages={"required": _("Renkei is for healthcare professionals only: please confirm that you are one.")},
    )
    privacy_consent = forms.BooleanField(
        label=_("I agree to the privacy notice."),
        error_messages={"required": _("Please read and agree to the privacy notice to register.")},
    )
    join_waitlist = forms.BooleanField(required=False, widget=forms.HiddenInput)

    WIDGET_ATTRS = {
        "full_name": {"autocomplete": "name"},
        "name_kana": {"autocomplete": "off"},
        "email": {"autocomplete": "email", "inputmode": "email"},
        "facility_name": {"autocomplete": "organization"},
        "medical_registration_number": {"inputmode": "numeric", "autocomplete": "off"},
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, attrs in self.WIDGET_ATTRS.items():
            self.fields[name].widget.attrs.update(attrs)
        for name, bound in self.fields.items():
            # Point screen readers at a field's error text.
            if self.is_bound and name in self.errors:
                bound.widget.attrs["aria-invalid"] = "true"
                bound.widget.attrs["aria-describedby"] = f"id_{name}-errors"

    def clean_full_name(self) -> str:
        return _single_line(self.cleaned_data["full_name"], _("Enter your full name."))

    def clean_name_kana(self) -> str:
        value = " ".join(self.cleaned_data["name_kana"].split())
        if not KANA_RE.match(value):
            raise ValidationError(_("Enter your name in hiragana or katakana."), code="invalid_kana")
        return value

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean_facility_name(self) -> str:
        return _single_line(self.cleaned_data["facility_name"], _("Enter the name of your facility."))

    def clean_prefecture(self) -> Any:
        return parse_prefecture(self.cleaned_data["prefecture"])

    def clean_medical_registration_number(self) -> str:
        value = _nfkc(self.cleaned_data["medical_registration_number"]).replace("-", "").replace(" ", "")
        if value and not re.fullmatch(r"[0-9]{1,7}", value):
            raise ValidationError(_("The medical registration number is up to 7 digits."), code="invalid")
        return value

    def details(self) -> PhysicianDetails:
        data = self.cleaned_data
        return PhysicianDetails(
            email=data["email"],
            full_name=data["full_name"],
            name_kana=data["name_kana"],
            specialty=data["specialty"],
            facility_name=data["facility_name"],
            facility_type=data["facility_type"],
            prefecture=data["prefecture"],
            medical_registration_number=data["medical_registration_number"],
        )
