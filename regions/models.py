from __future__ import annotations

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    """One of the eight regional blocks (東北, 関東, …) that prefectures are grouped in.

    Reference data: loaded from regions/data/prefectures.csv by a migration and
    never edited through the UI.
    """

    key = models.SlugField(_("key"), primary_key=True, max_length=32)
    name_ja = models.CharField(_("name in Japanese"), max_length=32)
    name_en = models.CharField(_("name in English"), max_length=32)
    order = models.PositiveSmallIntegerField(_("order"), unique=True)

    class Meta:
        ordering = ["order"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name_en if translation.get_language() == "en" else self.name_ja


class Prefecture(models.Model):
    """A prefecture, keyed by its two-digit JIS X 0401 code ("01" … "47").

    A prefecture is *under-served* when MHLW designates it a physician-shortage
    prefecture (医師少数都道府県, the bottom 16 by the maldistribution indicator):
    those are the areas Renkei exists to reach.

    Its physicians are counted as population × physicians per 100,000 ÷ 100,000
    (campaigns.analytics.physicians_in): the population is the 2020 census
    count, the density the 2024 MHLW survey, so the count is an estimate good
    to a few per cent (the population fell about 2 % between the two dates).
    """

    class Designation(models.TextChoices):
        SHORTAGE = "shortage", _("physician shortage")
        MIDDLE = "middle", _("middle")
        SURPLUS = "surplus", _("physician surplus")

    code = models.CharField(_("code"), primary_key=True, max_length=2)
    name_ja = models.CharField(_("name in Japanese"), max_length=8)
    name_en = models.CharField(_("name in English"), max_length=16)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="prefectures", verbose_name=_("region"))
    physicians_per_100k = models.DecimalField(_("physicians per 100,000 people"), max_digits=5, decimal_places=1)
    maldistribution_index = models.DecimalField(_("physician maldistribution index"), max_digits=5, decimal_places=1)
    maldistribution_rank = models.PositiveSmallIntegerField(_("maldistribution rank"))
    designation = models.CharField(_("designation"), max_length=16, choices=Designation.choices)
    # Total population (persons) of the 2020 census, as the CSV's population_2020 column; see regions/data/SOURCES.md.
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("prefecture")
        verbose_name_plural = _("prefectures")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name_en if translation.get_language() == "en" else self.name_ja

    @property
    def is_underserved(self) -> bool:
        return self.designation == self.Designation.SHORTAGE
