"""The regional dashboard's downloads: every chart's and table's numbers as CSV (UTF-8 or cp932) and .xlsx.

Japanese Excel opens a CSV as Shift_JIS unless it starts with a byte-order
mark, so the default CSV is UTF-8 *with* BOM (any Excel since 2016) and a
cp932 variant serves older ones. Every cell goes through
server.spreadsheet.safe_cell, so text that a spreadsheet would run as a
formula stays text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook

from .analytics import Dashboard, FunnelRow
from .campaign_analytics import CampaignDashboard
from server.spreadsheet import safe_cell

DATASETS = ("prefectures", "regions", "daily")
# A campaign's dashboard adds physician-shortage prefectures against the rest, and registrations by source.
CAMPAIGN_DATASETS = (*DATASETS, "shortage", "sources")
ENCODINGS = {"utf-8": "utf-8-sig", "cp932": "cp932"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Table:
    """A titled grid of cells, the shape every download is written from."""

    title: str
    header: list[str]
    rows: list[list[Any]]


def table(dashboard: Dashboard, dataset: str) -> Table:
    """The numbers behind one chart or table of the dashboard, with headers in the current language."""
    if dataset == "daily":
        return Table(
            title=_("Registrations per day"),
            header=[_("Date"), _("Physician-shortage prefectures"), _("Other prefectures"), _("Total")],
            rows=[[day.isoformat(), shortage, rest, shortage + rest] for day, shortage, rest in dashboard.daily],
        )
    if dataset == "regions":
        return Table(title=_("Funnel by region"), header=[_("Region"), *_funnel_header(dashboard)],
                     rows=[[_name(row), *_funnel_cells(row, dashboard)]
                           for row in [*dashboard.regions, dashboard.total]])
    return Table(
        title=_("Funnel by prefecture"),
        header=[_("Code"), _("Prefecture"), _("Physician shortage"), *_funnel_header(dashboard)],
        rows=[[row.key, _name(row), _("yes") if row.shortage else _("no"), *_funnel_cells(row, dashboard)]
              for row in dashboard.prefectures],
    )


def campaign_table(dashboard: CampaignDashboard, dataset: str) -> Table:
    """``table`` for a campaign's dashboard, which also compares shortage prefectures and counts sources."""
    if dataset == "shortage":
        return Table(title=_("Shortage prefectures and the rest"),
                     header=[_("Prefectures"), *_funnel_header(dashboard)],
                     rows=[[_name(row), *_funnel_cells(row, dashboard)]
                           for row in [*dashboard.comparison, dashboard.total]])
    if dataset == "sources":
        return Table(title=_("Registrations by source"), header=[_("Source"), _("Registrations")],
                     rows=[[source.label(), source.count] for source in dashboard.sources])
    return table(dashboard, dataset)


def _name(row: FunnelRow) -> str:
    return row.name_en if translation.get_language() == "en" else row.name_ja


def stage_titles(dashboard: Dashboard) -> dict[str, tuple[str, str]]:
    """Each stage's column title and its rate's."""
    return {
        "targeted": (_("Targeted"), ""),
        "mailed": (_("Mailed"), _("Mailed rate (%)")),
        "clicked": (_("Clicked"), _("Click rate (%)")),
        "registered": (_("Registered"), _("Registration rate of mailed (%)")),
        "attended": (_("Attended (at least %(minutes)s min)") % {"minutes": dashboard.min_minutes},
                     _("Attendance rate (%)")),
        "reception": (_("Joined a reception"), _("Reception rate (%)")),
        "cards": (_("Exchanged cards"), _("Card exchange rate (%)")),
    }


def _funnel_header(dashboard: Dashboard) -> list[str]:
    titles = stage_titles(dashboard)
    header = [titles[dashboard.stages[0]][0]]
    for stage in dashboard.stages[1:]:
        header += list(titles[stage])
    if dashboard.has_reach:
        header.append(_("Registrants per 1,000 physicians"))
    return header


def _funnel_cells(row: FunnelRow, dashboard: Dashboard) -> list[Any]:
    cells: list[Any] = [getattr(row, dashboard.stages[0])]
    for stage in dashboard.stages[1:]:
        rate = row.rate(stage)
        cells += [getattr(row, stage), None if rate is None else round(rate * 100, 1)]
    if dashboard.has_reach:
        cells.append(None if row.reach is None else round(row.reach, 2))
    return cells


def csv_response(data: Table, filename: str, encoding: str = "utf-8") -> HttpResponse:
    """``data`` as a CSV download; ``encoding`` is "utf-8" (with BOM) or "cp932"."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for values in _safe_rows(data):
        writer.writerow(["" if value is None else value for value in values])
    # cp932 has every prefecture name and header; "replace" keeps a download of odd text readable, not failed.
    body = buffer.getvalue().encode(ENCODINGS[encoding], errors="replace")
    charset = "shift_jis" if encoding == "cp932" else "utf-8"
    response = HttpResponse(body, content_type=f"text/csv; charset={charset}")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(data: Table, filename: str) -> HttpResponse:
    """``data`` as an Excel workbook of one sheet, numbers as numbers."""
    workbook = Workbook(write_only=True)
    # Sheet titles are at most 31 characters and may not contain []:*?/\ (ours never do).
    sheet = workbook.create_sheet(title=data.title[:31])
    for values in _safe_rows(data):
        sheet.append(values)
    out = io.BytesIO()
    workbook.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


def _safe_rows(data: Table) -> list[Sequence[Any]]:
    return [[safe_cell(value) for value in values] for values in [data.header, *data.rows]]
