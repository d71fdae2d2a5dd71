"""One person as every frame shows them: the chat's author, a table's member, the opening's seat list.

One dataclass for the three places that used to build the same dict each their
own way (the chat's author, a reception table's member, the blank staff author);
rooms.frames.profile turns it into its one wire form.
"""

from __future__ import annotations

from dataclasses import dataclass

from events.models import Registration
from regions.lookup import region_of


@dataclass(frozen=True)
class Profile:
    """What others see of a person. Staff have no registration and no place (blank fields, no registration key)."""

    name: str
    facility_type: str = ""
    prefecture: str = ""
    prefecture_name: str = ""
    prefecture_name_en: str = ""
    region: str = ""
    registration: int | None = None  # lets a moderator mute the author; an id grants nothing by itself
    specialty: str | None = None  # shown only at a reception table, and only when they agreed
    role: str | None = None  # the chat's author carries it; a table's member does not

    @classmethod
    def of(cls, registration: Registration, *, at_table: bool = False, role: str | None = None) -> Profile:
        """A physician; ``at_table`` adds the specialty when they agreed to show it (CardSettings.show_specialty)."""
        physician = registration.physician
        prefecture = physician.prefecture
        specialty = None
        if at_table:
            settings = getattr(physician, "card_settings", None)
            if settings is not None and settings.show_specialty:
                specialty = physician.specialty
        return cls(name=physician.full_name, facility_type=physician.facility_type, prefecture=prefecture.code,
                   prefecture_name=prefecture.name_ja, prefecture_name_en=prefecture.name_en,
                   region=region_of(prefecture.code), registration=registration.pk, specialty=specialty, role=role)

    @classmethod
    def staff(cls, name: str, role: str) -> Profile:
        return cls(name=name, role=role)

