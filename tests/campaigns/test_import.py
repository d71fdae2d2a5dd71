"""Contact lists import from the files organizers really have, and bad files or rows say why.

Each test writes a real file (cp932 as Japanese Excel saves CSV, UTF-8 with a
BOM, .xlsx by openpyxl) and imports it into the Iwate society.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from campaigns.importing import UnusableFile, import_contacts
from campaigns.models import Contact, OptOut
from tests.campaigns.files import (HEADER_EN, XLSX_DATE, contact_row, write_csv, write_xlsx, write_xlsx_bomb)
from tests.factories import make_organization

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english():
    from django.utils import translation

    # The messages are checked in English here; the Japanese ones in their own test.
    with translation.override("en"):
        yield


@pytest.fixture
def iwate():
    return make_organization("iwate", name="岩手医学会")


def test_a_cp932_csv_with_kanji_and_half_width_kana_imports_every_column(tmp_path, iwate):
    path = write_csv(tmp_path / "list.csv", [contact_row(1, email="ＳＡＴＯ＠Iwate.example.jp", name="髙橋 﨑子",
                                                         specialty="medical_oncology", facility_type="病院",
                                                         prefecture="03")])
    report = import_contacts(path, iwate)
    assert (report.imported, report.merged, report.rejected) == (1, 0, [])
    contact = Contact.objects.get(organization=iwate)
    assert contact.email == "sato@iwate.example.jp"
    assert contact.full_name == "髙橋 﨑子"  # cp932's extended kanji survive
    assert contact.name_kana == "イワテ タロウ"  # half-width kana folded to full width
    assert contact.prefecture.code == "03"
    assert (contact.facility_type, contact.specialty) == ("hospital", "medical_oncology")
    assert (contact.consent_date, contact.consent_source) == (date(2026, 4, 1), "学会ウェブサイト")


def test_utf8_with_a_bom_and_english_headers_imports(tmp_path, iwate):
    path = write_csv(tmp_path / "list.csv", [contact_row(1, prefecture="Iwate", specialty="Internal medicine",
                                                         facility_type="clinic")],
                     encoding="utf-8-sig", header=[h.upper() for h in HEADER_EN])
    report = import_contacts(path, iwate)
    assert report.imported == 1 and not report.rejected
    assert Contact.objects.get().specialty == "internal_medicine"


def test_an_xlsx_with_dates_and_numbers_imports(tmp_path, iwate):
    path = write_xlsx(tmp_path / "list.xlsx", [contact_row(1, prefecture=3, consent_date=XLSX_DATE),
                                                contact_row(2, prefecture="宮城")])
    report = import_contacts(path, iwate)
    assert report.imported == 2 and not report.rejected
    assert Contact.objects.get(email="doctor1@iwate.example.jp").consent_date == date(2026, 4, 1)
    assert Contact.objects.get(email="doctor2@iwate.example.jp").prefecture.code == "04"


def test_bad_rows_are_each_reported_with_their_line_and_reason_and_the_good_rows_import(tmp_path, iwate):
    path = write_csv(tmp_path / "list.csv", [
        contact_row(1),
        contact_row(2, email="not-an-address"),
        contact_row(3, prefecture="アトランティス"),
        contact_row(4, name=""),
        contact_row(5, consent_source=""),
        contact_row(6, consent_date="2026/13/45"),
        contact_row(7, specialty="占星術"),
        contact_row(8),
    ])
    report = import_contacts(path, iwate)
    assert report.imported == 2
    reasons = {note.line: note.text for note in report.rejected}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8]  # the header is line 1
    assert "not-an-address" in reasons[3]
    assert "アトランティス" in reasons[4]
    assert "氏名" in reasons[5]
    assert "同意取得元" in reasons[6]
    assert "2026/13/45" in reasons[7]
    assert "占星術" in reasons[8]


def test_reasons_are_in_japanese_for_a_japanese_organizer(tmp_path, iwate, settings):
    from django.utils import translation

    path = write_csv(tmp_path / "list.csv", [contact_row(1, email="bad")])
    with translation.override("ja"):
        report = import_contacts(path, iwate)
    assert "メールアドレスではありません" in report.rejected[0].text


def test_duplicates_by_address_merge_within_the_file_and_with_existing_contacts(tmp_path, iwate):
    Contact.objects.create(organization=iwate, email="doctor9@iwate.example.jp", full_name="旧姓 花子",
                           prefecture_id=Contact._meta.get_field("prefecture").related_model.objects.get(code="04").pk)
    path = write_csv(tmp_path / "list.csv", [
        contact_row(1, facility=""),
        contact_row(1, email="DOCTOR1@IWATE.EXAMPLE.JP", facility="岩手医大附属病院"),
        contact_row(9, name="新姓 花子"),
    ])
    report = import_contacts(path, iwate)
    assert (report.imported, report.merged, len(report.rejected)) == (1, 2, 0)
    assert Contact.objects.get(email="doctor1@iwate.example.jp").facility_name == "岩手医大附属病院"
    moved = Contact.objects.get(email="doctor9@iwate.example.jp")
    assert (moved.full_name, moved.prefecture.code, moved.consent_date) == ("新姓 花子", "03", date(2026, 4, 1))
    assert moved.updated_at > moved.created_at
    assert Contact.objects.count() == 2


def test_opted_out_addresses_are_kept_but_reported_and_never_sendable(tmp_path, iwate):
    OptOut.objects.create(organization=iwate, email="doctor1@iwate.example.jp", source=OptOut.Source.LINK)
    report = import_contacts(write_csv(tmp_path / "list.csv", [contact_row(1), contact_row(2)]), iwate)
    assert [note.line for note in report.warnings] == [2]
    assert list(Contact.objects.sendable().values_list("email", flat=True)) == ["doctor2@iwate.example.jp"]


def test_formula_cells_are_stored_as_typed_and_flagged(tmp_path, iwate):
    path = write_csv(tmp_path / "list.csv", [contact_row(1, name='=HYPERLINK("http://evil.example","x")'),
                                             contact_row(2, facility="@SUM(A1)")])
    report = import_contacts(path, iwate)
    assert report.imported == 2
    assert Contact.objects.get(email="doctor1@iwate.example.jp").full_name.startswith("=HYPERLINK")
    assert [note.line for note in report.warnings] == [2, 3]


def test_a_dry_run_writes_nothing_and_reports_the_same(tmp_path, iwate):
    path = write_csv(tmp_path / "list.csv", [contact_row(1), contact_row(2, email="x")])
    report = import_contacts(path, iwate, dry_run=True)
    assert (report.imported, len(report.rejected)) == (1, 1)
    assert not Contact.objects.exists()


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes("氏名,メール\r\n".encode("utf-16")), "UTF-16"),
    (lambda p: p.write_bytes(b"name,email,prefecture\r\n\x80\xa0\xfd\xfe,\x85\xff,x\r\n"), "Shift_JIS"),
    (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))), "neither a CSV"),
    (lambda p: p.write_bytes(b"PK\x03\x04 not really a zip"), "neither a CSV"),
    (lambda p: write_csv(p, [contact_row(1)[:2]], header=["氏名", "フリガナ"]), "メールアドレス (email), 都道府県"),
    (lambda p: write_csv(p, [["a", "b"]], header=["列1", "列2"]), "No column headings"),
    (lambda p: p.write_bytes(b""), "empty"),
])
def test_a_file_that_cannot_be_used_says_why_and_imports_nothing(tmp_path, iwate, make, message):
    path = tmp_path / "list.csv"
    make(path)
    with pytest.raises(UnusableFile, match=re.escape(message)):
        import_contacts(path, iwate)
    assert not Contact.objects.exists()


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path, iwate, settings):
    settings.CONTACT_IMPORT_MAX_BYTES = 1024
    path = write_csv(tmp_path / "list.csv", [contact_row(n) for n in range(100)])
    with pytest.raises(UnusableFile, match="larger than"):
        import_contacts(path, iwate)


def test_an_xlsx_bomb_is_refused_without_unpacking_it(tmp_path, iwate):
    path = write_xlsx_bomb(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 2 * 1024 * 1024
    with pytest.raises(UnusableFile, match="unpacks"):
        import_contacts(path, iwate)


def test_a_row_failing_in_the_database_leaves_nothing_imported(tmp_path, iwate, monkeypatch):
    from campaigns import importing

    def broken_update(*args, **kwargs):
        raise RuntimeError("database went away")

    Contact.objects.create(organization=iwate, email="doctor2@iwate.example.jp", full_name="既存",
                           prefecture=Contact._meta.get_field("prefecture").related_model.objects.get(code="03"))
    monkeypatch.setattr(importing, "_update", broken_update)
    with pytest.raises(RuntimeError):
        import_contacts(write_csv(tmp_path / "list.csv", [contact_row(1), contact_row(2)]), iwate)
    assert list(Contact.objects.values_list("email", flat=True)) == ["doctor2@iwate.example.jp"]


# ------------------------------------------------------------------ the command


def run(*args: str) -> tuple[int, str, str]:
    import io

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_contacts", *args, stdout=out, stderr=err)
        return 0, out.getvalue(), err.getvalue()
    except CommandError as exc:
        return exc.returncode, out.getvalue(), str(exc)


def test_the_command_prints_each_rejected_row_and_the_summary_last_and_exits_0(tmp_path, iwate):
    path = write_csv(tmp_path / "list.csv", [contact_row(1), contact_row(2, email="bad"), contact_row(1)])
    status, out, err = run(str(path), "--organization", "iwate")
    lines = out.strip().splitlines()
    assert status == 0
    assert "rows" in err  # the progress bar, on stderr so that stdout stays the report
    assert lines[0].startswith("line 3: ")
    assert lines[-1] == "imported 1, merged 1, rejected 1"
    assert Contact.objects.count() == 1


def test_the_command_dry_run_imports_nothing(tmp_path, iwate):
    status, out, _err = run(str(write_csv(tmp_path / "l.csv", [contact_row(1)])), "--organization", "iwate",
                            "--dry-run")
    assert status == 0 and out.strip().splitlines()[-1] == "imported 1, merged 0, rejected 0"
    assert not Contact.objects.exists()


def test_the_command_exits_2_with_a_clear_message_for_an_unusable_file(tmp_path, iwate):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    status, _out, err = run(str(path), "--organization", "iwate")
    assert status == 2 and "photo.csv" in err and "CSV" in err
    status, _out, err = run(str(path), "--organization", "nobody")
    assert status == 2 and "nobody" in err


@pytest.mark.services
def test_the_command_as_a_process_exits_0_with_rejected_rows_and_2_for_an_unusable_file(tmp_path, postgres_url):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from django.conf import settings

    make_organization("iwate")  # committed: a transactional test, visible to the process
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DATABASE_URL": postgres_url, "SECRET_KEY": settings.SECRET_KEY, "DB_POOL_MAX_SIZE": "0"}

    def command(path: Path) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", "import_contacts", str(path), "--organization", "iwate"],
                              cwd=root, env=env, capture_output=True, text=True, timeout=120)

    good = command(write_csv(tmp_path / "list.csv", [contact_row(1), contact_row(2, email="bad")]))
    assert good.returncode == 0, good.stderr
    assert good.stdout.splitlines()[-1] == "imported 1, merged 0, rejected 1"
    assert "rows" in good.stderr  # the progress bar
    photo = tmp_path / "photo.csv"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR")
    bad = command(photo)
    assert bad.returncode == 2
    assert "photo.csv" in bad.stderr and not bad.stdout


def test_an_xlsx_formula_is_kept_as_its_text_and_flagged(tmp_path, iwate):
    path = write_xlsx(tmp_path / "list.xlsx", [contact_row(1, facility="=SUM(1,2)")])
    report = import_contacts(path, iwate)
    assert Contact.objects.get().facility_name == "=SUM(1,2)"
    assert [note.line for note in report.warnings] == [2]


def test_a_quoted_line_break_keeps_later_line_numbers_true_to_the_file(tmp_path, iwate):
    path = write_csv(tmp_path / "list.csv", [contact_row(1, facility="盛岡\n内科"), contact_row(2, email="bad")])
    report = import_contacts(path, iwate)
    assert [note.line for note in report.rejected] == [4]  # header 1, first row 2-3, the bad row 4
    assert Contact.objects.get().facility_name == "盛岡\n内科"
