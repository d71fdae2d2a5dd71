"""The organizer's pages for organizations and contacts (outside the admin, phone-sized).

Every page needs a signed-in organizer who is a member of the organization in
its address (superusers: any); anyone else gets "not found", so an address
never tells whether another organization exists.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from events.roles import is_organizer

from . import services
from .importing import COLUMN_TITLES, REQUIRED, UnusableFile, too_large
from .models import Campaign, Organization


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Contact list (CSV or Excel .xlsx)"),
                           help_text=_("CSV as Excel saves it (Shift_JIS or UTF-8) or .xlsx; the first row names the columns."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if problem := too_large(upload.size):
            raise forms.ValidationError(problem)  # before the file is kept anywhere
        return upload


def _organization(request: HttpRequest, slug: str) -> Organization:
    if not is_organizer(request.user):
        raise Http404
    return get_object_or_404(services.organizations_of(request.user), slug=slug)


def _signed_in(view):
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return view(request, *args, **kwargs)

    wrapper.__name__, wrapper.__doc__ = view.__name__, view.__doc__
    return wrapper


@_signed_in
def organizations(request: HttpRequest) -> HttpResponse:
    if not is_organizer(request.user):
        raise Http404
    mine = services.organizations_of(request.user).annotate(contact_count=Count("contacts")).prefetch_related(
        Prefetch("campaigns", queryset=Campaign.objects.select_related("event").order_by("-created_at")))
    return render(request, "campaigns/organizations.html", {"organizations": mine})


def _import_page(request: HttpRequest, organization: Organization, form: UploadForm, status: int = 200,
                 error: str = "") -> HttpResponse:
    return render(request, "campaigns/import.html", {
        "organization": organization, "form": form, "error": error,
        "columns": COLUMN_TITLES, "required": REQUIRED,
    }, status=status)


@_signed_in
def import_contacts(request: HttpRequest, slug: str) -> HttpResponse:
    """Upload (GET shows the form; POST stages the file and shows the preview of what would happen)."""
    organization = _organization(request, slug)
    if request.method != "POST":
        return _import_page(request, organization, UploadForm())
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _import_page(request, organization, form, status=400)
    key = services.stage_upload(form.cleaned_data["file"], organization, request.session)
    try:
        report = services.do_preview_import(key, organization, request.session)
    except UnusableFile as exc:
        services.discard_upload(key, organization, request.session)
        return _import_page(request, organization, UploadForm(), status=400, error=str(exc))
    return render(request, "campaigns/import_preview.html", {
        "organization": organization, "report": report, "key": key, "filename": form.cleaned_data["file"].name,
    })


@require_POST
@_signed_in
def confirm_import(request: HttpRequest, slug: str) -> HttpResponse:
    organization = _organization(request, slug)
    try:
        report = services.do_confirm_import(request.POST.get("key", ""), organization, request.session)
    except UnusableFile as exc:
        return _import_page(request, organization, UploadForm(), status=400, error=str(exc))
    return render(request, "campaigns/import_done.html", {"organization": organization, "report": report})
