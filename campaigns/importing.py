"""Import an organization's contact list from CSV (cp932 or UTF-8) or .xlsx.

The file is read twice over in one call: every row is validated first (the
file streams; only the accepted rows are kept, one small object each), then
everything is written in one transaction, or nothing is. The same function
serves the organizer's preview (``dry_run=True``), the confirm button and the
``import_contacts`` command, so they can never disagree.

Rules (docs/campaigns.md):
- the first non-empty row is the header; columns are matched by name in
  Japanese or English (:data:`COLUMNS`); 氏名, メールアドレス and 都道府県 are required;
- a row is rejected, with its line number and the reason, when a required
  value is missing or a value is not understood; the other rows still import;
- rows with the same address (case and full-width folded) merge: later
  non-blank values win; a row whose address is already a contact merges into it;
- consent needs both its date and its source; one without the other is rejected;
- an address that opted out is kept as a contact but reported, and is never mailed;
- text starting like a formula is kept as typed and reported; exports neutralise it.
"""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from events.models import Physician
from events.specialties import SPECIALTY_LABELS
from regions.parsing import parse_prefecture

from .models import Contact, OptOut, Organization, normalize_email
from server.spreadsheet import looks_like_formula

# Column key → the header names accepted for it (compared after _header_key folding).
COLUMNS: dict[str, tuple[str, ...]] = {
    "full_name": ("氏名", "名前", "name", "full_name"),
    "name_kana": ("フリガナ", "ふりがな", "氏名カナ", "kana", "name_kana"),
    "email": ("メールアドレス", "メール", "email", "e_mail", "mail"),
    "prefecture": ("都道府県", "prefecture"),
    "facility_name": ("施設名", "facility", "facility_name"),
    "facility_type": ("施設区分", "facility_type"),
    "specialty": ("診療科", "specialty"),
    "consent_date": ("同意日", "consent_date"),
    "consent_source": ("同意取得元", "consent_source"),
}
REQUIRED = ("full_name", "email", "prefecture")
# The header names shown in messages: Japanese first, as the organizers' files have them.
ENGLISH_HEADERS = {"full_name": "name", "name_kana": "kana", "facility_name": "facility"}
COLUMN_TITLES = {key: f"{names[0]} ({ENGLISH_HEADERS.get(key, key)})" for key, names in COLUMNS.items()}
MAX_LENGTHS = {"full_name": 100, "name_kana": 100, "facility_name": 200, "consent_source": 200}

# An .xlsx is a zip of XML: refuse before opening when it would unpack into more than
# this, or when any member is compressed suspiciously well (a "zip bomb").
XLSX_MAX_UNPACKED = 200 * 1024 * 1024
XLSX_MAX_RATIO = 200
ZIP_MAGIC = b"PK\x03\x04"
SNIFF_BYTES = 64 * 1024


class UnusableFile(Exception):
    """The file cannot be imported at all; the message says why, in the user's language."""


@dataclass(slots=True)
class RowNote:
    line: int
    text: str


@dataclass
class ImportReport:
    """What an import did (or, with ``dry_run``, would do)."""

    imported: int = 0
    merged: int = 0
    rejected: list[RowNote] = field(default_factory=list)
    # Accepted rows worth a look: opted-out addresses, text that looks like a formula.
    warnings: list[RowNote] = field(default_factory=list)
    dry_run: bool = False

    def summary(self) -> str:
        # Fixed English wording: scripts parse this line (the command's last line).
        return f"imported {self.imported}, merged {self.merged}, rejected {len(self.rejected)}"


# The order of a validated row's values in _Row.values: a tuple weighs a third of a
# dict, which keeps 100,000 accepted rows well under the memory budget.
FIELDS = ("email", "full_name", "name_kana", "prefecture", "facility_name", "facility_type", "specialty",
          "consent_date", "consent_source")


@dataclass(slots=True)
class _Row:
    line: int
    values: tuple[Any, ...]

    def as_dict(self) -> dict[str, Any]:
        return dict(zip(FIELDS, self.values))


# ---------------------------------------------------------------- reading


def _header_key(text: Any) -> str:
    folded = unicodedata.normalize("NFKC", str(text or "")).strip().casefold()
    return re.sub(r"[\s\-]+", "_", folded)


_HEADER_INDEX = {_header_key(name): key for key, names in COLUMNS.items() for name in names}


def too_large(size: int) -> str:
    """Why a file of ``size`` bytes cannot be imported, or "" when its size is fine."""
    limit = settings.CONTACT_IMPORT_MAX_BYTES
    if size <= limit:
        return ""
    return _("The file is larger than %(limit)s MB. Split it into smaller files.") % {
        "limit": f"{limit / (1024 * 1024):.3g}"}


def _check_size(path: Path) -> None:
    if problem := too_large(path.stat().st_size):
        raise UnusableFile(problem)


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise UnusableFile(_("The file is neither a CSV nor an Excel (.xlsx) file."))
    unpacked = sum(member.file_size for member in members)
    too_packed = any(member.file_size > XLSX_MAX_RATIO * max(member.compress_size, 1) and member.file_size > 1024 * 1024
                     for member in members)
    if unpacked > XLSX_MAX_UNPACKED or too_packed:
        raise UnusableFile(_("The Excel file unpacks to far more data than it holds; it was not opened."))
    import openpyxl  # imported here: only .xlsx imports pay for it

    # An open file rather than the path: openpyxl refuses paths without an .xlsx ending
    # (an upload waits under a random name), but content decides here, not the name.
    with path.open("rb") as handle:
        try:
            # read_only streams the sheet's XML; data_only=False returns formulas as their text, kept and flagged.
            workbook = openpyxl.load_workbook(handle, read_only=True, data_only=False)
            sheet = workbook.worksheets[0]
        except Exception:  # openpyxl raises many kinds for a damaged or foreign zip
            raise UnusableFile(_("The Excel file could not be read. Save it again as .xlsx or as CSV."))
        try:
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, list(row)
        except (zipfile.BadZipFile, KeyError, ValueError, SyntaxError) as exc:  # a damaged sheet inside the zip
            raise UnusableFile(_("The Excel file could not be read. Save it again as .xlsx or as CSV.")) from exc
        finally:
            workbook.close()


def _text_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnusableFile(_("The file is in UTF-16. Save it from Excel as “CSV UTF-8” or “CSV”."))
    if b"\x00" in head:
        raise UnusableFile(_("The file is neither a CSV nor an Excel (.xlsx) file."))
    for encoding in ("utf-8", "cp932"):
        try:
            # final=False: the sniffed bytes may end inside a character.
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
            return encoding
        except UnicodeDecodeError:
            continue
    raise UnusableFile(_("The file's characters are neither UTF-8 nor Shift_JIS. Save it as “CSV UTF-8”."))


def _csv_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    with path.open("rb") as raw:
        encoding = _text_encoding(raw.read(SNIFF_BYTES))
    try:
        with path.open(encoding=encoding, newline="") as text:
            reader = csv.reader(text)
            start = 1
            for row in reader:
                yield start, row
                start = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise UnusableFile(_("The file's characters are neither UTF-8 nor Shift_JIS (at byte %(at)d). "
                             "Save it as “CSV UTF-8”.") % {"at": exc.start})
    except csv.Error as exc:
        raise UnusableFile(_("The file is not a readable CSV file: %(error)s") % {"error": exc})


def read_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """(line number, cells) of every row of a CSV or .xlsx file, chosen by its content, not its name."""
    _check_size(path)
    with path.open("rb") as raw:
        magic = raw.read(4)
    return _xlsx_rows(path) if magic == ZIP_MAGIC else _csv_rows(path)


def _columns(header: list[Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = _HEADER_INDEX.get(_header_key(cell))
        if key and key not in found:
            found[key] = index
    if not found:
        raise UnusableFile(_("No column headings were recognised. The first row must name the columns, "
                             "e.g. 氏名, メールアドレス, 都道府県 (or name, email, prefecture)."))
    missing = [COLUMN_TITLES[key] for key in REQUIRED if key not in found]
    if missing:
        raise UnusableFile(_("Required columns are missing: %(columns)s.") % {"columns": ", ".join(missing)})
    return found


# ---------------------------------------------------------------- validating


def _choice_index(choices: dict[str, Any]) -> dict[str, str]:
    """Key, Japanese label and English label of each choice → key, folded for comparison."""
    index = {}
    for key, label in choices.items():
        index[_header_key(key)] = key
        for language in ("ja", "en"):
            with translation.override(language):
                index[_header_key(str(label))] = key
    return index


FACILITY_SYNONYMS = {"診療所": "clinic", "医院": "clinic", "クリニック": "clinic"}


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel keeps "3" as 3.0
    if isinstance(value, datetime):
        value = value.date()
    return str(value).strip()


def _parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = unicodedata.normalize("NFKC", _cell_text(value))
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
    if not match:
        raise ValidationError(_("“%(value)s” is not a date; write it as 2026-04-01 or 2026/4/1.")
                              % {"value": text[:40]})
    try:
        return date(*map(int, match.groups()))
    except ValueError:
        raise ValidationError(_("“%(value)s” is not a date in the calendar.") % {"value": text[:40]})


class _Validator:
    """Turns one row's cells into a contact's values, or raises ValidationError with the reason."""

    def __init__(self, columns: dict[str, int]) -> None:
        self.columns = columns
        self.prefectures: dict[str, Any] = {}  # raw text → Prefecture or the error it raised
        self.facility_types = _choice_index(dict(Physician.FacilityType.choices)) | FACILITY_SYNONYMS
        self.specialties = _choice_index(SPECIALTY_LABELS)
        self.today = timezone.localdate()

    def cell(self, cells: list[Any], key: str) -> Any:
        index = self.columns.get(key)
        return cells[index] if index is not None and index < len(cells) else None

    def prefecture(self, raw: Any) -> Any:
        text = _cell_text(raw)
        if text not in self.prefectures:
            try:
                self.prefectures[text] = parse_prefecture(text)
            except ValidationError as exc:
                self.prefectures[text] = exc
        found = self.prefectures[text]
        if isinstance(found, ValidationError):
            raise found
        return found

    def __call__(self, cells: list[Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key in ("full_name", "name_kana", "facility_name", "consent_source"):
            text = _cell_text(self.cell(cells, key))
            if key == "name_kana":
                text = unicodedata.normalize("NFKC", text)  # ｻﾄｳ → サトウ
            if len(text) > MAX_LENGTHS[key]:
                raise ValidationError(_("%(column)s is longer than %(n)d characters.")
                                      % {"column": COLUMN_TITLES[key], "n": MAX_LENGTHS[key]})
            values[key] = text
        if not values["full_name"]:
            raise ValidationError(_("The name (氏名) is empty."))
        email = normalize_email(_cell_text(self.cell(cells, "email")))
        if not email:
            raise ValidationError(_("The e-mail address is empty."))
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError(_("“%(value)s” is not an e-mail address.") % {"value": email[:80]})
        values["email"] = email
        values["prefecture"] = self.prefecture(self.cell(cells, "prefecture"))
        for key, index, column in (("facility_type", self.facility_types, "facility_type"),
                                   ("specialty", self.specialties, "specialty")):
            text = _cell_text(self.cell(cells, column))
            if text and _header_key(text) not in index:
                raise ValidationError(_("%(column)s “%(value)s” is not one Renkei knows.")
                                      % {"column": COLUMN_TITLES[key], "value": text[:40]})
            values[key] = index[_header_key(text)] if text else ""
        raw_date = self.cell(cells, "consent_date")
        values["consent_date"] = _parse_date(raw_date) if _cell_text(raw_date) else None
        if values["consent_date"] and values["consent_date"] > self.today:
            raise ValidationError(_("The consent date is in the future."))
        if bool(values["consent_date"]) != bool(values["consent_source"]):
            raise ValidationError(_("Consent needs both its date (同意日) and its source (同意取得元)."))
        return values


# ---------------------------------------------------------------- importing


def _merge(earlier: tuple[Any, ...], later: tuple[Any, ...]) -> tuple[Any, ...]:
    """Later non-blank values win."""
    return tuple(old if new in ("", None) else new for old, new in zip(earlier, later))


def import_contacts(path: Path | str, organization: Organization, *, dry_run: bool = False,
                    progress: Callable[[int], None] | None = None) -> ImportReport:
    """Validate every row of ``path``, then (unless ``dry_run``) write them all in one transaction.

    Raises :class:`UnusableFile` when the file cannot be used at all; nothing is written then.
    ``progress`` is called with the number of bytes or rows read since its last call.
    """
    path = Path(path)
    report = ImportReport(dry_run=dry_run)
    rows = read_rows(path)
    validator: _Validator | None = None
    accepted: dict[str, _Row] = {}
    merged_in_file = 0
    for line, cells in rows:
        if progress:
            progress(1)
        if validator is None:
            if not any(_cell_text(cell) for cell in cells):
                continue  # blank lines above the header
            validator = _Validator(_columns(cells))
            continue
        if not any(_cell_text(cell) for cell in cells):
            continue
        try:
            values = validator(cells)
        except ValidationError as exc:
            report.rejected.append(RowNote(line, " ".join(exc.messages)))
            continue
        for key, value in values.items():
            if looks_like_formula(value):
                report.warnings.append(RowNote(line, _("%(column)s starts like a spreadsheet formula; it is kept as "
                                                       "text and neutralised in exports.")
                                               % {"column": COLUMN_TITLES[key]}))
        packed = tuple(values[key] for key in FIELDS)
        earlier = accepted.get(values["email"])
        if earlier:
            earlier.values = _merge(earlier.values, packed)
            merged_in_file += 1
        else:
            accepted[values["email"]] = _Row(line, packed)
    if validator is None:
        raise UnusableFile(_("The file is empty."))

    with transaction.atomic():
        # One import at a time per organization: two would race on the same addresses.
        Organization.objects.select_for_update().get(pk=organization.pk)
        emails = list(accepted)
        existing = _emails_in(Contact.objects.filter(organization=organization), emails)
        opted_out = _emails_in(OptOut.objects.filter(organization=organization), emails)
        for email in opted_out:
            report.warnings.append(RowNote(accepted[email].line, _("%(email)s has unsubscribed: kept as a contact, "
                                                                   "never mailed.") % {"email": email}))
        report.merged = merged_in_file + len(existing)
        report.imported = len(accepted) - len(existing)
        if not dry_run:
            _write(organization, accepted)
    report.warnings.sort(key=lambda note: note.line)
    return report


def _chunks(items: list[str], size: int = 1000) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _emails_in(queryset: Any, emails: list[str]) -> set[str]:
    """Which of ``emails`` the queryset (an organization's contacts or opt-outs) holds."""
    found: set[str] = set()
    for chunk in _chunks(emails):
        found.update(queryset.filter(email__in=chunk).values_list("email", flat=True))
    return found


def _changes(contact: Contact, key: str, value: Any) -> bool:
    """True when the imported ``value`` is not blank and differs from what ``contact`` holds."""
    if value in ("", None):
        return False
    if key == "prefecture":
        return contact.prefecture_id != value.pk  # by id: reading contact.prefecture costs a query
    return getattr(contact, key) != value


def _write(organization: Organization, accepted: dict[str, _Row]) -> None:
    """Create or update the contacts a thousand at a time (a few model objects in memory at once)."""
    now = timezone.now()
    for chunk in _chunks(list(accepted)):
        existing = {c.email: c for c in Contact.objects.filter(organization=organization, email__in=chunk)}
        new, changed, changed_fields = [], [], {"updated_at"}
        for email in chunk:
            values = accepted[email].as_dict()
            contact = existing.get(email)
            if contact is None:
                # bulk_create skips save(): the validator has normalised the address already.
                new.append(Contact(organization=organization, **values))
                continue
            updates = {key: value for key, value in values.items() if _changes(contact, key, value)}
            if not updates:
                continue  # the same list imported again writes nothing
            for key, value in updates.items():
                setattr(contact, key, value)
            contact.updated_at = now
            changed.append(contact)
            changed_fields.update(updates)
        Contact.objects.bulk_create(new)
        if changed:
            _update(changed, sorted(changed_fields))


def _update(contacts: list[Contact], fields: list[str]) -> None:
    """Write ``fields`` of ``contacts``: one UPDATE … FROM (VALUES …) per 500 contacts.

    Django's bulk_update builds a CASE per column and row in Python, which took
    3.5 minutes for 100,000 contacts with every column changed.
    """
    model_fields = [Contact._meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    table, pk = quote(Contact._meta.db_table), quote(Contact._meta.pk.column)
    postgres = connection.vendor == "postgresql"
    # PostgreSQL needs each value's type in VALUES; SQLite names the columns column1, column2, …
    placeholders = ", ".join([f"%s::{Contact._meta.pk.db_type(connection)}" if postgres else "%s"]
                             + [f"%s::{field.db_type(connection)}" if postgres else "%s" for field in model_fields])
    columns = [quote(field.column) for field in model_fields]
    if postgres:
        names = ", ".join([pk, *columns])
        assignments = ", ".join(f"{column} = v.{column}" for column in columns)
        template = f"UPDATE {table} AS c SET {assignments} FROM (VALUES {{rows}}) AS v({names}) WHERE c.{pk} = v.{pk}"
    else:
        assignments = ", ".join(f"{column} = v.column{n}" for n, column in enumerate(columns, start=2))
        template = f"UPDATE {table} SET {assignments} FROM (VALUES {{rows}}) AS v WHERE {table}.{pk} = v.column1"
    with connection.cursor() as cursor:
        for start in range(0, len(contacts), 500):
            batch = contacts[start:start + 500]
            params: list[Any] = []
            for contact in batch:
                params.append(contact.pk)
                params.extend(field.get_db_prep_save(getattr(contact, field.attname), connection)
                              for field in model_fields)
            cursor.execute(template.format(rows=", ".join(f"({placeholders})" for _ in batch)), params)


def report_lines(report: ImportReport) -> Iterator[str]:
    """The report as the command prints it: each rejected row, each warning, the summary last."""
    for note in report.rejected:
        yield f"line {note.line}: {note.text}"
    accepted = _("accepted")
    for note in report.warnings:
        yield f"line {note.line} ({accepted}): {note.text}"
    yield report.summary()
