"""The organizers' regional dashboards (of an event, of one campaign) and their downloads."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from events.models import Event

from . import analytics, campaign_analytics
from .dashboard_exports import (CAMPAIGN_DATASETS, DATASETS, ENCODINGS, Table, campaign_table, csv_response,
                                stage_titles, table, xlsx_response)
from .models import Campaign


class ThresholdForm(forms.Form):
    """The organizer's definition of "attended": watched at least this many minutes."""

    min_minutes = forms.IntegerField(
        label=gettext_lazy("Attended means watching at least (minutes)"), required=False,
        min_value=1, max_value=analytics.MAX_MIN_MINUTES,
    )

    def minutes(self) -> int:
        if self.is_valid() and self.cleaned_data["min_minutes"] is not None:
            return int(self.cleaned_data["min_minutes"])
        return analytics.DEFAULT_MIN_MINUTES


@require_GET
def event_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    """The event's map, funnel and registrations over time, for its organizers."""
    event = _organized_event(request, slug)
    if isinstance(event, HttpResponse):
        return event
    form = ThresholdForm(request.GET or None)
    dashboard = analytics.event_dashboard(event, form.minutes())
    return render(request, "campaigns/dashboard.html", {
        "event": event, "form": form, "dashboard": dashboard,
        "chart_data": _chart_data(dashboard), "titles": stage_titles(dashboard),
        "query": f"?min_minutes={dashboard.min_minutes}",
        "campaigns": Campaign.objects.of_member(request.user).filter(event=event).order_by("-created_at"),
    })


@require_GET
def event_export(request: HttpRequest, slug: str, dataset: str, extension: str) -> HttpResponse:
    """One chart's or table's numbers: ``<dataset>.csv`` (``?encoding=cp932`` for older Excel) or ``.xlsx``."""
    event = _organized_event(request, slug)
    if isinstance(event, HttpResponse):
        return event
    encoding = request.GET.get("encoding", "utf-8")
    if dataset not in DATASETS or extension not in ("csv", "xlsx") or encoding not in ENCODINGS:
        raise Http404
    dashboard = analytics.event_dashboard(event, ThresholdForm(request.GET or None).minutes())
    return _download(table(dashboard, dataset), f"{event.slug}-{dataset}", extension, encoding)


@require_GET
def campaign_dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    """One campaign's funnel from its mail to the reception, by prefecture and region, for its organization."""
    campaign = _member_campaign(request, pk)
    if isinstance(campaign, HttpResponse):
        return campaign
    form = ThresholdForm(request.GET or None)
    dashboard = campaign_analytics.campaign_dashboard(campaign, form.minutes())
    return render(request, "campaigns/campaign_dashboard.html", {
        "campaign": campaign, "event": campaign.event, "form": form, "dashboard": dashboard,
        "chart_data": _chart_data(dashboard), "titles": stage_titles(dashboard),
        "query": f"?min_minutes={dashboard.min_minutes}",
    })


@require_GET
def campaign_export(request: HttpRequest, pk: int, dataset: str, extension: str) -> HttpResponse:
    """One chart's or table's numbers of the campaign dashboard, as ``event_export``."""
    campaign = _member_campaign(request, pk)
    if isinstance(campaign, HttpResponse):
        return campaign
    encoding = request.GET.get("encoding", "utf-8")
    if dataset not in CAMPAIGN_DATASETS or extension not in ("csv", "xlsx") or encoding not in ENCODINGS:
        raise Http404
    dashboard = campaign_analytics.campaign_dashboard(campaign, ThresholdForm(request.GET or None).minutes())
    return _download(campaign_table(dashboard, dataset), f"{campaign.slug}-{dataset}", extension, encoding)


def _download(data: Table, filename: str, extension: str, encoding: str) -> HttpResponse:
    filename += "-sjis" if encoding == "cp932" else ""
    if extension == "xlsx":
        return xlsx_response(data, filename)
    return csv_response(data, filename, encoding)


def _organized_event(request: HttpRequest, slug: str) -> Event | HttpResponse:
    """The event, if the signed-in user organizes it; the sign-in page if nobody is signed in; else 404.

    404, not 403, for an event of somebody else: the answer is the same as for
    an address that does not exist, so a dashboard address tells nobody which
    events exist.
    """
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path(), login_url=reverse("admin:login"))
    events: QuerySet[Event] = Event.objects.all()
    if not user.is_superuser:
        events = events.filter(organizers=user)
    return get_object_or_404(events, slug=slug)


def _member_campaign(request: HttpRequest, pk: int) -> Campaign | HttpResponse:
    """The campaign, if the signed-in user is a member of its organization; sign-in page if nobody is; else 404."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path(), login_url=reverse("admin:login"))
    return get_object_or_404(Campaign.objects.of_member(user).select_related("event", "organization"), pk=pk)


def _chart_data(dashboard: analytics.Dashboard) -> dict[str, Any]:
    """What dashboard.js draws, with every label already in the page's language."""
    en = translation.get_language() == "en"

    def name(row: analytics.FunnelRow) -> str:
        return row.name_en if en else row.name_ja

    def funnel(row: analytics.FunnelRow) -> dict[str, Any]:
        return {"name": name(row), **{stage: getattr(row, stage) for stage in dashboard.stages},
                "reach": None if row.reach is None else round(row.reach, 2)}

    return {
        "prefectures": [{"code": row.key, "shortage": row.shortage, **funnel(row)} for row in dashboard.prefectures],
        "regions": [funnel(row) for row in dashboard.regions],
        "total": funnel(dashboard.total),
        "daily": [[day.isoformat(), shortage, rest] for day, shortage, rest in dashboard.daily],
        "hasReach": dashboard.has_reach,
        "stages": list(dashboard.stages),
        "labels": {
            "targeted": _("Targeted"), "mailed": _("Mailed"), "clicked": _("Clicked"),
            "registered": _("Registered"), "attended": _("Attended"), "reception": _("Joined a reception"),
            "cards": _("Exchanged cards"), "reach": _("Registrants per 1,000 physicians"),
            "shortage": _("Physician-shortage prefectures"), "rest": _("Other prefectures"),
            "shortageMark": _("physician shortage"), "none": _("No registrations yet."),
        },
    }
