"""Real contact-list files as organizers' spreadsheets write them."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl

HEADER_JA = ["氏名", "フリガナ", "メールアドレス", "都道府県", "施設名", "施設区分", "診療科", "同意日", "同意取得元"]
HEADER_EN = ["name", "kana", "email", "prefecture", "facility", "facility_type", "specialty", "consent_date",
             "consent_source"]


def contact_row(n: int, **overrides: Any) -> list[Any]:
    row = {
        "name": f"岩手 太郎{n}", "kana": "ｲﾜﾃ ﾀﾛｳ", "email": f"doctor{n}@iwate.example.jp", "prefecture": "岩手県",
        "facility": "盛岡内科クリニック", "facility_type": "診療所", "specialty": "内科", "consent_date": "2026/04/01",
        "consent_source": "学会ウェブサイト",
    }
    row.update(overrides)
    return list(row.values())


def write_csv(path: Path, rows: list[list[Any]], encoding: str = "cp932", header: list[str] = HEADER_JA) -> Path:
    buffer = io.StringIO()
    # Excel writes CRLF line ends.
    csv.writer(buffer, lineterminator="\r\n").writerows([header, *rows])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[Any]], header: list[str] = HEADER_JA) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def write_xlsx_bomb(path: Path, unpacked_mib: int = 300) -> Path:
    """A zip that looks like an .xlsx and unpacks a few kilobytes into hundreds of megabytes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            block = b" " * (1024 * 1024)
            for _ in range(unpacked_mib):
                member.write(block)
    return path


TODAY = date(2026, 4, 1)
XLSX_DATE = datetime(2026, 4, 1)
