"""The organizer's campaign pages: list, create, mails, send / schedule / cancel, live progress.

Members of the campaign's organization only (superusers: any): anyone else,
and any campaign of another organization, gets "not found". Views authorise,
call a verb of ``campaigns.sending`` and respond.
"""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import sending
from .campaign_forms import CampaignForm, MailForm
from .models import Campaign, CampaignMail, Delivery, Organization
from .views import _organization, _signed_in


def _campaign(request: HttpRequest, slug: str, campaign_slug: str) -> tuple[Organization, Campaign]:
    organization = _organization(request, slug)
    campaign = get_object_or_404(Campaign.objects.select_related("event", "audience"),
                                 organization=organization, slug=campaign_slug)
    return organization, campaign


def mail_progress(campaign: Campaign) -> list[dict]:
    """Per mail: its status and how many deliveries were sent, failed, and are still to go (one query)."""
    mails = campaign.mails.order_by("created_at").annotate(
        sent=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.SENT)),
        failed=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.FAILED)),
        remaining=Count("deliveries", filter=Q(deliveries__status__in=(Delivery.Status.PENDING,
                                                                        Delivery.Status.CLAIMED))),
    )
    return [{"id": m.pk, "mail": m, "status": m.status, "status_label": str(m.get_status_display()),
             "sent": m.sent, "failed": m.failed, "remaining": m.remaining} for m in mails]


@_signed_in
def campaign_list(request: HttpRequest, slug: str) -> HttpResponse:
    organization = _organization(request, slug)
    campaigns = organization.campaigns.select_related("event", "audience").annotate(mail_count=Count("mails"))
    return render(request, "campaigns/campaign_list.html", {"organization": organization, "campaigns": campaigns})


@_signed_in
def campaign_create(request: HttpRequest, slug: str) -> HttpResponse:
    organization = _organization(request, slug)
    form = CampaignForm(request.POST or None, organization=organization)
    if request.method == "POST" and form.is_valid():
        campaign = form.save()
        return redirect("campaign_mail:campaign", organization.slug, campaign.slug)
    return render(request, "campaigns/campaign_form.html", {"organization": organization, "form": form},
                  status=400 if request.method == "POST" else 200)


def _detail(request: HttpRequest, organization: Organization, campaign: Campaign, error: str = "",
            status: int = 200) -> HttpResponse:
    return render(request, "campaigns/campaign_detail.html", {
        "organization": organization, "campaign": campaign, "mails": mail_progress(campaign), "error": error,
    }, status=status)


@_signed_in
def campaign_detail(request: HttpRequest, slug: str, campaign_slug: str) -> HttpResponse:
    organization, campaign = _campaign(request, slug, campaign_slug)
    return _detail(request, organization, campaign)


@_signed_in
def campaign_progress(request: HttpRequest, slug: str, campaign_slug: str) -> JsonResponse:
    _organization_, campaign = _campaign(request, slug, campaign_slug)
    return JsonResponse({"mails": [{k: v for k, v in row.items() if k != "mail"} for row in mail_progress(campaign)]})


@_signed_in
def mail_edit(request: HttpRequest, slug: str, campaign_slug: str, mail_id: int | None = None) -> HttpResponse:
    """Add a mail (no ``mail_id``) or edit one that has not started sending."""
    organization, campaign = _campaign(request, slug, campaign_slug)
    mail = get_object_or_404(campaign.mails, pk=mail_id) if mail_id else None
    editable = mail is None or mail.status in (CampaignMail.Status.DRAFT, CampaignMail.Status.SCHEDULED)
    form = MailForm(request.POST or None, instance=mail, campaign=campaign)
    if request.method == "POST" and editable and form.is_valid():
        saved = form.save(commit=False)
        if saved.status == CampaignMail.Status.SCHEDULED and saved.scheduled_at is None:
            saved.status = CampaignMail.Status.DRAFT  # the time was removed: back to sending by hand
        saved.save()
        return redirect("campaign_mail:campaign", organization.slug, campaign.slug)
    return render(request, "campaigns/mail_form.html", {
        "organization": organization, "campaign": campaign, "form": form, "mail": mail, "editable": editable,
    }, status=400 if request.method == "POST" else 200)


@require_POST
@_signed_in
def mail_action(request: HttpRequest, slug: str, campaign_slug: str, mail_id: int, action: str) -> HttpResponse:
    organization, campaign = _campaign(request, slug, campaign_slug)
    mail = get_object_or_404(campaign.mails.select_related("campaign"), pk=mail_id)
    try:
        if action == "send":
            sending.do_send_now(mail)
        elif action == "schedule":
            if mail.scheduled_at is None:
                raise sending.CannotSend(MailForm.base_fields["scheduled_at"].help_text)
            sending.do_schedule(mail, mail.scheduled_at)
        elif action == "cancel":
            sending.do_cancel(mail)
        else:
            raise Http404
    except sending.CannotSend as exc:
        return _detail(request, organization, campaign, error=str(exc), status=400)
    return redirect("campaign_mail:campaign", organization.slug, campaign.slug)
