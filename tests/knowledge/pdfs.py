"""Real PDF files for the tests, written byte by byte: text pages in Helvetica, image-only pages, encryption."""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter

# A 1×1 grey image: a page that draws only this has no text, as a scanned page.
_IMAGE = (
    b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8 /Length 1 >>"
)


def _pdf_string(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("latin-1") + b")"


def pdf_bytes(pages: list[list[str] | None], *, title: str | None = None, content_filter: str | None = None) -> bytes:
    """Return a PDF 1.4 file with one page per item: its lines of text, or ``None`` for a page with only an image.

    Lines are Latin-1 text; ``title`` goes in the document information dictionary; ``content_filter`` names a
    filter the page contents claim to be encoded with (they are not).
    """
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    image = add(_IMAGE + b"\nstream\n\xff\nendstream")
    tree = add(b"")  # the page tree, filled in once the pages have numbers
    kids = []
    for lines in pages:
        if lines is None:
            content = b"q 100 0 0 100 72 600 cm /Im1 Do Q"
        else:
            content = b"BT /F1 11 Tf 13 TL 72 740 Td " + b" ".join(_pdf_string(x) + b" Tj T*" for x in lines) + b" ET"
        claimed = b" /Filter /%s" % content_filter.encode() if content_filter else b""
        stream = add(b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(content), claimed, content))
        resources = b"<< /Font << /F1 %d 0 R >> /XObject << /Im1 %d 0 R >> >>" % (font, image)
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources %s /Contents %d 0 R >>"
                % (tree, resources, stream)
            )
        )
    objects[tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R >>" % tree)
    info = add(b"<< /Title %s >>" % _pdf_string(title)) if title is not None else None
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    trailer = b"<< /Size %d /Root %d 0 R%s >>" % (len(objects) + 1, catalog, b" /Info %d 0 R" % info if info else b"")
    out.write(b"trailer\n%s\nstartxref\n%d\n%%%%EOF\n" % (trailer, xref))
    return out.getvalue()


def rewritten(data: bytes, *, user_password: str | None = None, owner_password: str = "owner") -> bytes:
    """Return ``data`` written again by pypdf (other bytes, same text); encrypted (AES-256) with a user password."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    if user_password is not None:
        writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
