"""Specialties a physician can pick when registering.

The 19 basic specialties (基本領域) of the Japanese Medical Specialty Board, then
the subspecialties that lectures on personalised medicine are most often about
(oncology and internal-medicine subspecialties above all). Keys are stable
identifiers stored in the database; labels are translated.
"""

from django.utils import translation
from django.utils.translation import gettext_lazy as _

BASIC_SPECIALTIES = [
    ("internal_medicine", _("Internal medicine")),
    ("pediatrics", _("Pediatrics")),
    ("dermatology", _("Dermatology")),
    ("psychiatry", _("Psychiatry")),
    ("surgery", _("Surgery")),
    ("orthopedics", _("Orthopedic surgery")),
    ("obstetrics_gynecology", _("Obstetrics and gynecology")),
    ("ophthalmology", _("Ophthalmology")),
    ("otorhinolaryngology", _("Otorhinolaryngology")),
    ("urology", _("Urology")),
    ("neurosurgery", _("Neurosurgery")),
    ("radiology", _("Radiology")),
    ("anesthesiology", _("Anesthesiology")),
    ("pathology", _("Pathology")),
    ("laboratory_medicine", _("Laboratory medicine")),
    ("emergency_medicine", _("Emergency medicine")),
    ("plastic_surgery", _("Plastic surgery")),
    ("rehabilitation", _("Rehabilitation medicine")),
    ("general_medicine", _("General medicine")),
]

SUBSPECIALTIES = [
    ("medical_oncology", _("Medical oncology")),
    ("respiratory_medicine", _("Respiratory medicine")),
    ("gastroenterology", _("Gastroenterology")),
    ("cardiology", _("Cardiology")),
    ("hematology", _("Hematology")),
    ("diabetes_endocrinology", _("Diabetes and endocrinology")),
    ("nephrology", _("Nephrology")),
    ("neurology", _("Neurology")),
    ("rheumatology", _("Rheumatology and collagen diseases")),
    ("infectious_diseases", _("Infectious diseases")),
    ("allergology", _("Allergology")),
    ("gastrointestinal_surgery", _("Gastrointestinal surgery")),
    ("breast_surgery", _("Breast surgery")),
    ("respiratory_surgery", _("Respiratory surgery")),
    ("cardiovascular_surgery", _("Cardiovascular surgery")),
    ("radiation_oncology", _("Radiation oncology")),
    ("palliative_care", _("Palliative care")),
    ("other", _("Other")),
]

SPECIALTY_CHOICES = [
    (_("Basic specialties"), BASIC_SPECIALTIES),
    (_("Subspecialties"), SUBSPECIALTIES),
]

SPECIALTY_KEYS = {key for key, _label in BASIC_SPECIALTIES + SUBSPECIALTIES}
SPECIALTY_LABELS = dict(BASIC_SPECIALTIES + SUBSPECIALTIES)


def specialty_fields(code: str) -> dict[str, str]:
    """A specialty as frames carry it: the code and its name in both languages (one frame serves every reader)."""
    label = SPECIALTY_LABELS.get(code)
    if label is None:
        return {"specialty": code, "specialty_label": code, "specialty_label_en": code}
    with translation.override("ja"):
        ja = str(label)
    with translation.override("en"):
        en = str(label)
    return {"specialty": code, "specialty_label": ja, "specialty_label_en": en}
