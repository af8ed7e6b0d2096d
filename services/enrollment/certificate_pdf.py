"""The certificate of completion as the PDF a learner downloads.

The PDF is set in Open Sans, shipped as TrueType files by the ttf-opensans package and embedded
(subset) in every certificate, so names with accents or apostrophes print the same on every
machine, without a system font. The QR code (segno) is embedded as a lossless bitmap of ten pixels
a module: sharp on paper, and its text can be checked by decoding the image found in the PDF.

A module of its own, imported only where a PDF is made: reportlab, segno and Pillow would add
some 18 MiB to every idle web and worker process.
"""

from __future__ import annotations

import io
from functools import cache
from typing import NamedTuple

import segno
import ttf_opensans
from babel.dates import format_date
from babel.numbers import format_decimal
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from shared.localtime import JAKARTA

from .certificates import LIBRARY_AGENCY, LIBRARY_NAME, Bilingual, CertificateData


def qr_png(text: str) -> bytes:
    """The QR code of the text as a PNG, quiet zone included."""
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=10, border=4)
    return buffer.getvalue()


PAGE_WIDTH, PAGE_HEIGHT = landscape(A4)
CENTRE = PAGE_WIDTH / 2
TEXT_WIDTH = PAGE_WIDTH - 70 * mm
REGULAR, BOLD, ITALIC = "OpenSans", "OpenSans-Bold", "OpenSans-Italic"
INK = HexColor("#1f2933")
NAVY = HexColor("#1c3d6e")
GOLD = HexColor("#b08d2f")
# The QR code and the signature sit below this height; the body stays above it.
BOTTOM_BLOCK_TOP = 50 * mm
# English sits beneath the Indonesian, smaller and in italics.
ENGLISH_SCALE = 0.8


@cache
def register_fonts() -> None:
    for name, font in (
        (REGULAR, ttf_opensans.OPENSANS_REGULAR),
        (BOLD, ttf_opensans.OPENSANS_BOLD),
        (ITALIC, ttf_opensans.OPENSANS_ITALIC),
    ):
        pdfmetrics.registerFont(TTFont(name, str(font.path)))


def render_certificate_pdf(certificate: CertificateData) -> bytes:
    """The certificate as a one-page A4 landscape PDF, Indonesian first with English beneath."""
    register_fonts()
    buffer = io.BytesIO()
    # Our font from the start, so the page names no Helvetica, which it would not embed.
    pdf = Canvas(buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), lang="id-ID", initialFontName=REGULAR)
    pdf.setTitle(f"Sertifikat / Certificate {certificate.code}")
    pdf.setAuthor(LIBRARY_AGENCY)
    pdf.setSubject(certificate.programme_title.id)
    pdf.setCreator("Pustaka")
    _draw_frame(pdf)
    _draw_heading(pdf)
    _draw_body(pdf, _body(certificate))
    _draw_verification(pdf, certificate)
    _draw_signature(pdf, certificate)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


class _Block(NamedTuple):
    """A paragraph of the body, centred and wrapped; space_before is in points."""

    text: str
    font: str
    size: float
    colour: Color = INK
    space_before: float = 0.0


def _bilingual(
    text: Bilingual, size: float, font: str = REGULAR, colour: Color = INK, space_before: float = 0.0
) -> list[_Block]:
    return [
        _Block(text.id, font, size, colour, space_before),
        _Block(text.en, ITALIC, size * ENGLISH_SCALE, colour),
    ]


def _body(certificate: CertificateData) -> list[_Block]:
    """From "awarded to" down to the partners."""
    name = certificate.learner_name
    # A long name is set smaller before it is wrapped, down to a size still read as the main line.
    width = max(pdfmetrics.stringWidth(name, BOLD, 28), 1.0)
    name_size = max(18.0, min(28.0, 28.0 * TEXT_WIDTH / width))
    blocks = [
        *_bilingual(Bilingual("diberikan kepada", "is awarded to"), 10.5),
        _Block(name, BOLD, name_size, NAVY, space_before=5 * mm),
        *_bilingual(
            Bilingual(
                "atas keikutsertaan dan penyelesaian program",
                "for taking part in and completing the programme",
            ),
            10.5,
            space_before=4 * mm,
        ),
        *_bilingual(certificate.programme_title, 16, BOLD, NAVY, space_before=5 * mm),
        *_bilingual(_details(certificate), 10.5, space_before=3 * mm),
    ]
    if certificate.areas:
        areas = Bilingual(
            "Bidang kompetensi: " + ", ".join(area.id for area in certificate.areas),
            "Competency areas: " + ", ".join(area.en for area in certificate.areas),
        )
        blocks += _bilingual(areas, 10, space_before=2.5 * mm)
    if certificate.partners:
        partners = "Bekerja sama dengan / In partnership with: " + ", ".join(certificate.partners)
        blocks.append(_Block(partners, REGULAR, 9.5, space_before=2.5 * mm))
    return blocks


def _details(certificate: CertificateData) -> Bilingual:
    """Programme type, period and hours, e.g. "Pelatihan · 3 Maret 2026 – 5 Maret 2026 · 12 jam"."""
    hours_id = format_decimal(certificate.hours, format="#,##0.##", locale="id")
    hours_en = format_decimal(certificate.hours, format="#,##0.##", locale="en")
    return Bilingual(
        f"{certificate.programme_type.id} · {_period(certificate, 'id')} · {hours_id} jam",
        f"{certificate.programme_type.en} · {_period(certificate, 'en')} · {hours_en} "
        + ("hour" if certificate.hours == 1 else "hours"),
    )


def _period(certificate: CertificateData, locale: str) -> str:
    first = certificate.starts_at.astimezone(JAKARTA).date()
    last = certificate.ends_at.astimezone(JAKARTA).date()
    if first == last:
        return format_date(first, "d MMMM y", locale=locale)
    return f"{format_date(first, 'd MMMM y', locale=locale)} – {format_date(last, 'd MMMM y', locale=locale)}"


def _draw_frame(pdf: Canvas) -> None:
    pdf.setStrokeColor(NAVY)
    pdf.setLineWidth(2.5)
    pdf.rect(10 * mm, 10 * mm, PAGE_WIDTH - 20 * mm, PAGE_HEIGHT - 20 * mm)
    pdf.setStrokeColor(GOLD)
    pdf.setLineWidth(0.8)
    pdf.rect(13 * mm, 13 * mm, PAGE_WIDTH - 26 * mm, PAGE_HEIGHT - 26 * mm)


def _draw_heading(pdf: Canvas) -> None:
    pdf.setFillColor(NAVY)
    pdf.setFont(BOLD, 15)
    pdf.drawCentredString(CENTRE, PAGE_HEIGHT - 24 * mm, LIBRARY_NAME)
    pdf.setFont(REGULAR, 10)
    pdf.drawCentredString(CENTRE, PAGE_HEIGHT - 30 * mm, LIBRARY_AGENCY)
    pdf.setStrokeColor(GOLD)
    pdf.setLineWidth(0.8)
    pdf.line(CENTRE - 40 * mm, PAGE_HEIGHT - 33 * mm, CENTRE + 40 * mm, PAGE_HEIGHT - 33 * mm)
    pdf.setFont(BOLD, 28)
    pdf.drawCentredString(CENTRE, PAGE_HEIGHT - 45 * mm, "SERTIFIKAT")
    pdf.setFont(ITALIC, 28 * ENGLISH_SCALE)
    pdf.drawCentredString(CENTRE, PAGE_HEIGHT - 54 * mm, "Certificate")


def _draw_body(pdf: Canvas, blocks: list[_Block]) -> None:
    """The blocks between the heading and the bottom, set as large as they fit: a long title, name
    or list of areas shrinks the whole body alike."""
    top = PAGE_HEIGHT - 60 * mm
    for scale in (1.0, 0.93, 0.86, 0.8, 0.74, 0.68, 0.62):
        lines = _lines(blocks, scale)
        if sum(drop for *_, drop in lines) <= top - BOTTOM_BLOCK_TOP - 4 * mm:
            break
    y = top
    for text, block, size, drop in lines:
        y -= drop
        pdf.setFillColor(block.colour)
        pdf.setFont(block.font, size)
        pdf.drawCentredString(CENTRE, y, text)


def _lines(blocks: list[_Block], scale: float) -> list[tuple[str, _Block, float, float]]:
    """The wrapped lines of the blocks at the scale: text, block, font size, drop from the line above."""
    lines = []
    for block in blocks:
        size = block.size * scale
        for index, text in enumerate(simpleSplit(block.text, block.font, size, TEXT_WIDTH)):
            space = block.space_before * scale if index == 0 else 0.0
            lines.append((text, block, size, space + size * 1.22))
    return lines


def _draw_verification(pdf: Canvas, certificate: CertificateData) -> None:
    """The QR code of the verification page at the bottom left, the code and address beside it."""
    side = 34 * mm  # the quiet zone is inside: the printed modules are about 25 mm across
    left, bottom = 18 * mm, BOTTOM_BLOCK_TOP - side
    pdf.drawImage(ImageReader(io.BytesIO(qr_png(certificate.verification_url))), left, bottom, side, side)
    x = left + side + 2 * mm
    pdf.setFillColor(INK)
    pdf.setFont(REGULAR, 8.5)
    pdf.drawString(x, bottom + 24 * mm, "Kode verifikasi")
    pdf.setFont(ITALIC, 7)
    pdf.drawString(x, bottom + 21 * mm, "Verification code")
    pdf.setFillColor(NAVY)
    pdf.setFont(BOLD, 13)
    pdf.drawString(x, bottom + 15 * mm, certificate.code)
    pdf.setFillColor(INK)
    pdf.setFont(REGULAR, 7.5)
    pdf.drawString(x, bottom + 10 * mm, "Periksa keaslian sertifikat ini di")
    pdf.setFont(ITALIC, 6.5)
    pdf.drawString(x, bottom + 7 * mm, "Check this certificate at")
    pdf.setFont(REGULAR, 7)
    pdf.drawString(x, bottom + 3.5 * mm, certificate.verification_url)


def _draw_signature(pdf: Canvas, certificate: CertificateData) -> None:
    centre, width = PAGE_WIDTH - 70 * mm, 90 * mm
    pdf.setFillColor(INK)
    pdf.setFont(REGULAR, 9.5)
    top = BOTTOM_BLOCK_TOP - 3 * mm
    for line in simpleSplit(certificate.officer_title, REGULAR, 9.5, width):
        pdf.drawCentredString(centre, top, line)
        top -= 9.5 * 1.3
    pdf.setStrokeColor(INK)
    pdf.setLineWidth(0.6)
    pdf.line(centre - 35 * mm, 26 * mm, centre + 35 * mm, 26 * mm)
    pdf.setFont(BOLD, 11)
    pdf.drawCentredString(centre, 21 * mm, certificate.officer_name)
