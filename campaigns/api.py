"""The read-only JSON API for CRM and marketing-automation tools: /api/v1/.

A tool sends ``Authorization: Bearer <token>``; the token belongs to one
organization (``ApiToken``), and every answer is about that organization's
events only. Another organization's event answers 404, exactly like one that
does not exist, so a token cannot even learn which slugs exist elsewhere.

Registrations carry what a CRM hand-off needs to match and segment a
physician (the e-mail address as the matching key, prefecture, region,
facility type, specialty, status, when), not their name, facility name or
medical registration number. Times are ISO 8601 in Japan time (+09:00).

Lists are paginated with ``limit`` and ``offset``; each page says the total
``count`` and the ``offset`` of the ``next`` page (null on the last one).
The OpenAPI 3 schema is served at /api/schema/ (see ``schema_view``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from ninja import Field, NinjaAPI, Path, Query, Schema
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from events.models import Event, Registration, Talk
from regions.models import Prefecture
from rooms.lecture.attendance import OpenInterval, minutes_watched, open_until
from rooms.models import Attendance, Stage

from .analytics import DEFAULT_MIN_MINUTES, MAX_MIN_MINUTES, FunnelRow, event_dashboard
from .campaign_analytics import campaign_dashboard
from .models import ApiToken, Campaign
from .services import authenticate_api_token

JAPAN = ZoneInfo("Asia/Tokyo")
# A page holds 100 rows unless the caller asks for fewer or more, never more than 1,000:
# enough for a nightly sync in few requests, small enough for one response to stay quick.
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# The largest offset a page may start at: the largest integer a JavaScript client holds exactly.
# Without a bound, an offset beyond what the database's 64-bit OFFSET takes was a server error.
MAX_OFFSET = 2**53 - 1

T = TypeVar("T")

# An event's slug as events.Event.slug allows it (Django's SlugField): anything else cannot name an
# event and is refused with 422 before the database is asked (PostgreSQL refuses a NUL in a query).
EventSlug = Annotated[str, Path(pattern=r"^[-a-zA-Z0-9_]+$", max_length=80,
                                description="The event's address name, e.g. tohoku-2026.")]


class BearerToken(HttpBearer):
    """The organization's API token; the request's ``auth`` is the ApiToken."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return authenticate_api_token(token)


api = NinjaAPI(
    title="Renkei API",
    version="1",
    description=(
        "Read-only data of one organization for CRM and marketing-automation tools. "
        "Send `Authorization: Bearer <token>` (made with `manage.py create_api_token`)."
    ),
    urls_namespace="api_v1",
    auth=BearerToken(),
    # The schema is served at /api/schema/; no Swagger page (it would load scripts from a CDN).
    docs_url=None,
    openapi_url=None,
)


@api.exception_handler(AuthenticationError)
def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    """401 with a JSON body and the challenge RFC 6750 asks for: no, wrong and revoked tokens alike."""
    response = api.create_response(
        request, {"detail": "A valid API token is required: send 'Authorization: Bearer <token>'."}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="renkei"'
    return response


# ---------------------------------------------------------------- schemas


class PageParams(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Rows per page.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Rows to skip: the previous page's `next`.")


class Page(Schema, Generic[T]):
    count: int = Field(description="Rows in the whole list.")
    limit: int
    offset: int
    next: int | None = Field(description="The `offset` of the next page; null on the last page.")
    items: list[T]


class TalkOut(Schema):
    id: int
    title: str
    starts_at: datetime
    ends_at: datetime


class EventOut(Schema):
    slug: str
    title: str
    created_at: datetime
    talks: list[TalkOut]


class PrefectureOut(Schema):
    code: str = Field(description="JIS X 0401 code, 01–47.")
    name_ja: str
    name_en: str
    shortage: bool = Field(description="A physician-shortage prefecture (医師少数都道府県).")


class RegionOut(Schema):
    key: str
    name_ja: str
    name_en: str


class RegistrationOut(Schema):
    id: int
    email: str = Field(description="The physician's address: the key to match a CRM contact.")
    status: str = Field(description="pending, approved, rejected, waitlisted or cancelled.")
    created_at: datetime = Field(description="When they registered, Japan time.")
    prefecture: PrefectureOut
    region: RegionOut
    facility_type: str = Field(description="hospital, clinic or other.")
    specialty: str = Field(description="A key of events/specialties.py, e.g. internal_medicine.")


class TalkMinutes(Schema):
    talk_id: int
    minutes_watched: float = Field(description="The union of the physician's connections, rounded to 0.1.")


class AttendanceOut(Schema):
    registration_id: int
    email: str
    prefecture_code: str
    total_minutes: float
    talks: list[TalkMinutes] = Field(description="Every talk of the event, 0 where not watched.")


class FunnelOut(Schema):
    key: str = Field(description="Prefecture code, region key, or 'total'.")
    name_ja: str
    name_en: str
    region: str | None = Field(None, description="The prefecture's region key (prefecture rows only).")
    shortage: bool | None = None
    registered: int
    attended: int
    reception: int
    cards: int
    attended_rate: float | None
    reception_rate: float | None
    cards_rate: float | None
    physicians: float | None = Field(description="Physicians working in the area; null while unknown.")
    reach_per_1000: float | None = Field(description="Registrants per 1,000 physicians of the area.")


class FunnelParams(Schema):
    min_minutes: int = Field(DEFAULT_MIN_MINUTES, ge=1, le=MAX_MIN_MINUTES,
                             description="Minutes watched that count as attended.")


class Funnel(Schema):
    min_minutes: int
    prefectures: list[FunnelOut]
    regions: list[FunnelOut]
    total: FunnelOut


class CampaignOut(Schema):
    id: int
    name: str
    slug: str = Field(description="The campaign's utm_campaign value.")
    event: str = Field(description="The slug of the event it invites to.")
    created_at: datetime


class CampaignFunnelOut(Schema):
    key: str = Field(description="Prefecture code, or 'total'.")
    name_ja: str
    name_en: str
    shortage: bool | None = None
    targeted: int = Field(description="Addresses the invitation and its reminders were fixed for.")
    mailed: int = Field(description="Of those, addresses at least one mail was sent to.")
    clicked: int = Field(description="Of those, addresses that opened their personal link.")
    registered: int = Field(
        description="The event's registrations attributed to the campaign or from a targeted address.")
    attended: int
    reception: int
    cards: int
    registered_rate: float | None = Field(description="registered ÷ mailed.")
    physicians: float | None = Field(description="Physicians working in the area; null while unknown.")
    reach_per_1000: float | None = Field(description="Registrants per 1,000 physicians of the area.")


class CampaignFunnel(Schema):
    min_minutes: int
    prefectures: list[CampaignFunnelOut]
    total: CampaignFunnelOut


class Problem(Schema):
    detail: Any


# ---------------------------------------------------------------- endpoints

ERRORS = {401: Problem, 404: Problem, 422: Problem}


def _page(page: PageParams, count: int, items: list[Any]) -> dict[str, Any]:
    following = page.offset + page.limit
    return {"count": count, "limit": page.limit, "offset": page.offset,
            "next": following if following < count else None, "items": items}


def _event(request: HttpRequest, slug: str) -> Event:
    """The token's organization's event ``slug``; 404 for another organization's, as for none."""
    return get_object_or_404(Event, organization=request.auth.organization, slug=slug)


def _japan(moment: datetime) -> datetime:
    return moment.astimezone(JAPAN)


@api.get("/events/", response={200: Page[EventOut], 401: Problem, 422: Problem}, summary="The organization's events")
def list_events(request: HttpRequest, page: Query[PageParams]) -> dict[str, Any]:
    events = Event.objects.filter(organization=request.auth.organization).order_by("-created_at", "pk")
    rows = events.prefetch_related("talks")[page.offset:page.offset + page.limit]
    items = [{"slug": e.slug, "title": e.title, "created_at": _japan(e.created_at),
              "talks": [{"id": t.pk, "title": t.title, "starts_at": _japan(t.starts_at),
                         "ends_at": _japan(t.ends_at)} for t in e.talks.all()]} for e in rows]
    return _page(page, events.count(), items)


@api.get("/events/{slug}/registrations/", response={200: Page[RegistrationOut], **ERRORS},
         summary="An event's registrations")
def list_registrations(request: HttpRequest, slug: EventSlug, page: Query[PageParams]) -> dict[str, Any]:
    registrations: QuerySet[Registration] = Registration.objects.filter(event=_event(request, slug)).order_by("pk")
    rows = registrations.select_related("physician__prefecture__region")[page.offset:page.offset + page.limit]
    items = []
    for registration in rows:
        physician = registration.physician
        prefecture = physician.prefecture
        region = prefecture.region
        items.append({
            "id": registration.pk, "email": physician.email, "status": registration.status,
            "created_at": _japan(registration.created_at),
            "prefecture": {"code": prefecture.code, "name_ja": prefecture.name_ja, "name_en": prefecture.name_en,
                           "shortage": prefecture.is_underserved},
            "region": {"key": region.key, "name_ja": region.name_ja, "name_en": region.name_en},
            "facility_type": physician.facility_type, "specialty": physician.specialty,
        })
    return _page(page, registrations.count(), items)


@api.get("/events/{slug}/attendance/", response={200: Page[AttendanceOut], **ERRORS},
         summary="Minutes watched per registration and talk")
def list_attendance(request: HttpRequest, slug: EventSlug, page: Query[PageParams]) -> dict[str, Any]:
    """Registrations that connected to any talk of the event, with minutes watched per talk.

    Minutes are rooms.lecture.attendance's: the union of a physician's connections,
    a still-open one counting until the talk ended (or now). Four queries per
    page: talks, stages, the page's registrations, their connections.
    """
    event = _event(request, slug)
    talks = list(Talk.objects.filter(event=event).order_by("starts_at", "pk"))
    stages = {stage.talk_id: stage for stage in Stage.objects.filter(talk__in=talks)}
    until = {talk.pk: open_until(talk, None, stages.get(talk.pk)) for talk in talks}
    attended = (Registration.objects.filter(event=event)
                .filter(Exists(Attendance.objects.filter(registration=OuterRef("pk"), talk__event=event)))
                .order_by("pk"))
    rows = list(attended.select_related("physician")[page.offset:page.offset + page.limit])
    intervals: dict[tuple[int, int], list[OpenInterval]] = defaultdict(list)
    for registration_id, talk_id, joined_at, left_at in (
        Attendance.objects.filter(registration__in=[r.pk for r in rows], talk__in=talks)
        .values_list("registration_id", "talk_id", "joined_at", "left_at")
    ):
        intervals[(registration_id, talk_id)].append((joined_at, left_at))
    items = []
    for registration in rows:
        per_talk = [{"talk_id": talk.pk,
                     "minutes_watched": round(minutes_watched(intervals.get((registration.pk, talk.pk), []),
                                                              now=until[talk.pk]), 1)} for talk in talks]
        items.append({"registration_id": registration.pk, "email": registration.physician.email,
                      "prefecture_code": registration.physician.prefecture_id,
                      "total_minutes": round(sum(t["minutes_watched"] for t in per_talk), 1), "talks": per_talk})
    return _page(page, attended.count(), items)


@api.get("/events/{slug}/funnel/", response={200: Funnel, **ERRORS},
         summary="The dashboard funnel per prefecture and region")
def event_funnel(request: HttpRequest, slug: EventSlug, params: Query[FunnelParams]) -> dict[str, Any]:
    """registered → attended → reception → cards, as on the regional dashboard (campaigns/analytics.py).

    Not paginated: always the 47 prefectures, the 8 regions and the total.
    """
    dashboard = event_dashboard(_event(request, slug), min_minutes=params.min_minutes)
    regions = dict(Prefecture.objects.values_list("code", "region_id"))
    return {"min_minutes": dashboard.min_minutes,
            "prefectures": [_funnel_row(row, regions.get(row.key)) for row in dashboard.prefectures],
            "regions": [_funnel_row(row) for row in dashboard.regions],
            "total": _funnel_row(dashboard.total)}


def _funnel_row(row: FunnelRow, region: str | None = None) -> dict[str, Any]:
    return {"key": row.key, "name_ja": row.name_ja, "name_en": row.name_en, "region": region,
            "shortage": row.shortage, "registered": row.registered, "attended": row.attended,
            "reception": row.reception, "cards": row.cards, "attended_rate": row.attended_rate,
            "reception_rate": row.reception_rate, "cards_rate": row.cards_rate,
            "physicians": row.physicians, "reach_per_1000": row.reach}


@api.get("/campaigns/", response={200: Page[CampaignOut], 401: Problem, 422: Problem},
         summary="The organization's campaigns")
def list_campaigns(request: HttpRequest, page: Query[PageParams]) -> dict[str, Any]:
    campaigns = Campaign.objects.filter(organization=request.auth.organization).order_by("-created_at", "pk")
    rows = campaigns.select_related("event")[page.offset:page.offset + page.limit]
    items = [{"id": c.pk, "name": c.name, "slug": c.slug, "event": c.event.slug,
              "created_at": _japan(c.created_at)} for c in rows]
    return _page(page, campaigns.count(), items)


@api.get("/campaigns/{campaign_id}/funnel/", response={200: CampaignFunnel, **ERRORS},
         summary="A campaign's funnel per prefecture, from its mail to the reception")
def campaign_funnel(request: HttpRequest, campaign_id: int, params: Query[FunnelParams]) -> dict[str, Any]:
    """targeted → mailed → clicked → registered → attended → reception → cards (campaigns/campaign_analytics.py).

    Not paginated: always the 47 prefectures and the total. Another organization's campaign answers 404.
    """
    campaign = get_object_or_404(Campaign.objects.select_related("event"), organization=request.auth.organization,
                                 pk=campaign_id)
    dashboard = campaign_dashboard(campaign, min_minutes=params.min_minutes)
    return {"min_minutes": dashboard.min_minutes,
            "prefectures": [_campaign_row(row) for row in dashboard.prefectures],
            "total": _campaign_row(dashboard.total)}


def _campaign_row(row: FunnelRow) -> dict[str, Any]:
    return {"key": row.key, "name_ja": row.name_ja, "name_en": row.name_en, "shortage": row.shortage,
            **{stage: getattr(row, stage) for stage in row.stages}, "registered_rate": row.rate("registered"),
            "physicians": row.physicians, "reach_per_1000": row.reach}


def schema_view(request: HttpRequest) -> JsonResponse:
    """The OpenAPI 3 schema of /api/v1/, public: it describes the API, not anybody's data."""
    return JsonResponse(api.get_openapi_schema(path_prefix="/api/v1/"), json_dumps_params={"ensure_ascii": False})
