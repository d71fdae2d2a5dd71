"""A tiny PDF writer for demo and test slides: one big line of text per page.

Real slides come from the speaker; this only exists so that the demo and the
tests have a valid multi-page PDF without shipping binary files.
"""

from __future__ import annotations


def make_pdf(titles: list[str]) -> bytes:
    """A landscape 16:9 PDF with one page per title (ASCII text, Helvetica)."""
    objects: list[bytes] = []
    n = len(titles)
    page_ids = [4 + 2 * i for i in range(n)]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, title in enumerate(titles):
        safe = title.encode("ascii", "replace").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
        stream = (b"0.05 0.43 0.43 rg 0 0 960 40 re f 0 0 0 rg BT /F1 56 Tf 60 300 Td (" + safe
                  + b") Tj ET BT /F1 24 Tf 60 80 Td (" + f"{i + 1} / {n}".encode() + b") Tj ET")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 960 540] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {page_ids[i] + 1} 0 R >>".encode()
        )
        objects.append(b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
