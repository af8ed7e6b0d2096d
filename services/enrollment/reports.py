"""The programme report for the Dinas Arsip dan Perpustakaan Kota Semarang: one A4 PDF with a
programme's participants, hours, attendance and completion, pre/post gains, feedback averages and
comments, partners and sessions, Indonesian first with English beneath or beside.

Free of Flask and the database: ``dashboards.programme_report`` gathers the figures. Set in the
certificates' Open Sans (embedded), with their colours and the library's name.

Imported only where a report is made, like ``certificate_pdf``: reportlab is too big for every
idle process to hold.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from xml.sax.saxutils import escape

from babel.dates import format_date
from babel.numbers import format_decimal
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from shared.competencies import AREAS
from shared.localtime import JAKARTA

from .certificate_pdf import BOLD, GOLD, INK, ITALIC, NAVY, REGULAR, register_fonts
from .certificates import LIBRARY_AGENCY, LIBRARY_NAME, Bilingual
from .completion import TYPE_NAMES
from .dashboards import Feedback, Gains, ProgrammeReport

TRACK_NAMES = {
    "staff": Bilingual("Pengembangan staf", "Staff development"),
    "public": Bilingual("Literasi masyarakat", "Public literacy"),
}
ROLE_NAMES = {
    "organiser": Bilingual("Penyelenggara", "Organiser"),
    "speaker": Bilingual("Narasumber", "Speaker"),
}
KIND_NAMES = {
    "university": Bilingual("Universitas", "University"),
    "professional_organisation": Bilingual("Organisasi profesi", "Professional organisation"),
    "ngo": Bilingual("Lembaga swadaya masyarakat", "Non-governmental organisation"),
    "government": Bilingual("Instansi pemerintah", "Government office"),
    "other": Bilingual("Lainnya", "Other"),
}
MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN

_BODY = ParagraphStyle("body", fontName=REGULAR, fontSize=9, leading=12, textColor=INK)
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=8, leading=10)
_ENGLISH = ParagraphStyle("english", parent=_SMALL, fontName=ITALIC)
_CELL = ParagraphStyle("cell", parent=_BODY, fontSize=8, leading=10)
_HEADING = ParagraphStyle(
    "heading",
    parent=_BODY,
    fontName=BOLD,
    fontSize=12,
    leading=15,
    textColor=NAVY,
    spaceBefore=9,
    spaceAfter=4,
)
_TITLE = ParagraphStyle("title", parent=_BODY, fontName=BOLD, fontSize=16, leading=20, textColor=NAVY)
_CENTRE = ParagraphStyle("centre", parent=_BODY, alignment=TA_CENTER)


def _p(text: str, style: ParagraphStyle = _BODY) -> Paragraph:
    return Paragraph(escape(text), style)


def _both(pair: Bilingual, style: ParagraphStyle = _CELL) -> Paragraph:
    """Indonesian, and English beneath in italics."""
    return Paragraph(f"{escape(pair.id)}<br/><font name='{ITALIC}' size='7'>{escape(pair.en)}</font>", style)


def _heading(indonesian: str, english: str) -> Paragraph:
    return Paragraph(
        f"{escape(indonesian)} <font name='{ITALIC}' size='9' color='#52606d'>/ {escape(english)}</font>",
        _HEADING,
    )


def _decimal(value: float, digits: int = 1) -> str:
    return format_decimal(value, format="#,##0." + "0" * digits, locale="id")


def _share(part: int, whole: int) -> str:
    """ "12 dari 15 (80,0%)", or a dash when there is no whole."""
    if not whole:
        return "—"
    return f"{part} dari/of {whole} ({_decimal(100 * part / whole)}%)"


def _optional(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else _decimal(value, digits)


def _day(moment: datetime, locale: str) -> str:
    return format_date(moment.astimezone(JAKARTA).date(), "d MMMM y", locale=locale)


def _table(rows: list[list], widths: Sequence[float], header: bool = True) -> Table:
    table = Table(rows, colWidths=list(widths), repeatRows=1 if header else 0)
    style = [
        ("FONT", (0, 0), (-1, -1), REGULAR, 8),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.3, GOLD),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style += [("LINEBELOW", (0, 0), (-1, 0), 0.8, NAVY)]
    table.setStyle(TableStyle(style))
    return table


def render_programme_report_pdf(report: ProgrammeReport) -> bytes:
    """The report as an A4 portrait PDF, page numbers and the time it was made at each page's foot."""
    register_fonts()
    buffer = io.BytesIO()
    programme = report.programme
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm,
        title=f"Laporan Program / Programme Report: {programme.title_id}",
        author=LIBRARY_AGENCY,
        subject=programme.title_en,
        creator="Pustaka",
        lang="id-ID",
        initialFontName=REGULAR,
    )
    generated = f"{_day(report.generated_at, 'id')} {report.generated_at.astimezone(JAKARTA):%H:%M} WIB"

    def footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 7)
        canvas.setFillColor(INK)
        canvas.drawString(MARGIN, MARGIN - 2 * mm, f"{LIBRARY_NAME} · Dibuat / Generated {generated}")
        canvas.drawRightString(A4[0] - MARGIN, MARGIN - 2 * mm, f"Halaman / Page {doc.page}")
        canvas.restoreState()

    document.build(_story(report), onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _story(report: ProgrammeReport) -> list[Flowable]:
    programme = report.programme
    story: list[Flowable] = [
        Paragraph(
            escape(LIBRARY_AGENCY), ParagraphStyle("agency", parent=_CENTRE, fontName=BOLD, textColor=NAVY)
        ),
        _p(LIBRARY_NAME, _CENTRE),
        Spacer(0, 3 * mm),
        Paragraph(
            f"LAPORAN PROGRAM <font name='{ITALIC}' size='10'>/ Programme Report</font>",
            ParagraphStyle("kind", parent=_CENTRE, fontName=BOLD, fontSize=11, leading=14),
        ),
        Spacer(0, 4 * mm),
        _p(programme.title_id, _TITLE),
        _p(programme.title_en, ParagraphStyle("title_en", parent=_TITLE, fontName=ITALIC, fontSize=12)),
        Spacer(0, 2 * mm),
    ]
    story += _summary(report)
    story += _partners(report)
    story += _sessions(report)
    story += _gains(report)
    story += _feedback(report.figures.feedback if report.figures else None)
    return story


def _summary(report: ProgrammeReport) -> list[Flowable]:
    programme, figures = report.programme, report.figures
    held = [line for line in report.sessions if line.session.status != "cancelled"]
    cancelled = len(report.sessions) - len(held)
    period = "—"
    if held:
        first, last = held[0].session.starts_at, held[-1].session.ends_at
        period = f"{_day(first, 'id')} – {_day(last, 'id')}"
    participant_hours = sum(
        line.attended * (line.session.ends_at - line.session.starts_at).total_seconds() / 3600
        for line in held
    )
    areas = [AREAS[code] for code in programme.competency_areas if code in AREAS]
    rows = [
        (Bilingual("Jenis", "Type"), _both(TYPE_NAMES[programme.type])),
        (Bilingual("Jalur", "Track"), _both(TRACK_NAMES[programme.track])),
        (Bilingual("Periode", "Period"), _p(period, _CELL)),
        (
            Bilingual("Sesi", "Sessions"),
            _p(f"{len(held)}" + (f" (dibatalkan/cancelled: {cancelled})" if cancelled else ""), _CELL),
        ),
        (Bilingual("Jam pelajaran", "Hours"), _p(_decimal(figures.hours if figures else 0), _CELL)),
        (
            Bilingual("Peserta", "Participants"),
            _p(
                f"{figures.people if figures else 0} (kursi/seats: {figures.participations if figures else 0})",
                _CELL,
            ),
        ),
        (
            Bilingual("Jam peserta hadir", "Participant hours attended"),
            _p(_decimal(participant_hours), _CELL),
        ),
        (
            Bilingual("Kehadiran", "Attendance"),
            _p(_share(figures.attended, figures.held_participations) if figures else "—", _CELL),
        ),
        (
            Bilingual("Penyelesaian", "Completion"),
            _p(_share(figures.completed, figures.learners) if figures else "—", _CELL),
        ),
        (
            Bilingual("Bidang kompetensi", "Competency areas"),
            _both(
                Bilingual(
                    ", ".join(a.name_id for a in areas) or "—", ", ".join(a.name_en for a in areas) or "—"
                )
            ),
        ),
    ]
    table = _table([[_both(label), value] for label, value in rows], (55 * mm, WIDTH - 55 * mm), header=False)
    return [_heading("Ringkasan", "Summary"), table]


def _partners(report: ProgrammeReport) -> list[Flowable]:
    links = report.programme.partner_links
    if not links:
        return [_heading("Mitra", "Partners"), _p("Tidak ada mitra. / No partners.", _SMALL)]
    rows = [
        [
            _both(Bilingual("Mitra", "Partner")),
            _both(Bilingual("Jenis", "Kind")),
            _both(Bilingual("Peran", "Role")),
        ]
    ]
    for link in sorted(links, key=lambda link: (link.partner.name.lower(), link.role)):
        partner = link.partner
        rows.append([_p(partner.name, _CELL), _both(KIND_NAMES[partner.kind]), _both(ROLE_NAMES[link.role])])
    return [_heading("Mitra", "Partners"), _table(rows, (WIDTH * 0.5, WIDTH * 0.3, WIDTH * 0.2))]


def _sessions(report: ProgrammeReport) -> list[Flowable]:
    if not report.sessions:
        return [_heading("Sesi", "Sessions"), _p("Belum ada sesi. / No sessions yet.", _SMALL)]
    rows = [
        [
            _both(Bilingual("Waktu (WIB)", "When (WIB)")),
            _both(Bilingual("Tempat", "Where")),
            _both(Bilingual("Narasumber", "Speakers")),
            _both(Bilingual("Peserta", "Seated")),
            _both(Bilingual("Hadir", "Attended")),
        ]
    ]
    for line in report.sessions:
        each = line.session
        starts, ends = each.starts_at.astimezone(JAKARTA), each.ends_at.astimezone(JAKARTA)
        when = (
            f"{starts:%d-%m-%Y %H:%M} – {ends:%d-%m-%Y %H:%M}"
            if starts.date() != ends.date()
            else (f"{starts:%d-%m-%Y %H:%M}–{ends:%H:%M}")
        )
        if each.status == "cancelled":
            when += " · DIBATALKAN / CANCELLED"
        speakers = ", ".join(
            speaker.name + (f" ({speaker.partner.name})" if speaker.partner else "")
            for speaker in each.speakers
        )
        rows.append(
            [
                _p(when, _CELL),
                _p(" · ".join(part for part in (each.venue, each.online_link) if part) or "—", _CELL),
                _p(speakers or "—", _CELL),
                _p(str(line.participations), _CELL),
                _p(str(line.attended), _CELL),
            ]
        )
    widths = (WIDTH * 0.27, WIDTH * 0.25, WIDTH * 0.28, WIDTH * 0.1, WIDTH * 0.1)
    return [_heading("Sesi", "Sessions"), _table(rows, widths)]


def _gains(report: ProgrammeReport) -> list[Flowable]:
    heading = _heading("Hasil pre-test dan post-test", "Pre-test and post-test results")
    figures = report.figures
    if figures is None or (figures.gains.learners == 0 and not figures.area_gains):
        return [heading, _p("Belum ada hasil. / No results yet.", _SMALL)]
    rows = [
        [
            _both(Bilingual("Cakupan", "Scope")),
            _both(Bilingual("Peserta", "Learners")),
            _both(Bilingual("Rata-rata pre", "Mean pre")),
            _both(Bilingual("Rata-rata post", "Mean post")),
            _both(Bilingual("Rata-rata g", "Average g")),
            _both(Bilingual("g dari rata-rata", "g of averages")),
        ]
    ]

    def row(name: Bilingual, gains: Gains) -> list:
        return [
            _both(name),
            _p(str(gains.learners), _CELL),
            _p(_optional(gains.mean_pre), _CELL),
            _p(_optional(gains.mean_post), _CELL),
            _p(_optional(gains.average_gain, 2), _CELL),
            _p(_optional(gains.gain_of_averages, 2), _CELL),
        ]

    rows.append(row(Bilingual("Keseluruhan", "Overall"), figures.gains))
    for gains in figures.area_gains:
        area = AREAS.get(gains.area)
        rows.append(
            row(Bilingual(area.name_id, area.name_en) if area else Bilingual(gains.area, gains.area), gains)
        )
    overall = figures.gains
    note = (
        "g = (post − pre) / (100 − pre). Tidak dihitung / left out: "
        f"tanpa pre-test / no pre-test {overall.missing_pre}, tanpa post-test / no post-test "
        f"{overall.missing_post}, nilai pre-test 100 / full marks on the pre-test {overall.pre_at_maximum}."
    )
    widths = (WIDTH * 0.3, WIDTH * 0.1, WIDTH * 0.15, WIDTH * 0.15, WIDTH * 0.15, WIDTH * 0.15)
    return [heading, _table(rows, widths), Spacer(0, 1.5 * mm), _p(note, _SMALL)]


def _feedback(feedback: Feedback | None) -> list[Flowable]:
    heading = _heading("Umpan balik peserta", "Participants' feedback")
    if feedback is None or not feedback.responses:
        return [heading, _p("Belum ada tanggapan. / No responses yet.", _SMALL)]
    story: list[Flowable] = [
        heading,
        _p(
            f"Tanggapan / Responses: {feedback.responses} · Rata-rata keseluruhan / Overall mean "
            f"(1–5): {_optional(feedback.overall_mean, 2)}",
            _BODY,
        ),
        Spacer(0, 1.5 * mm),
    ]
    if feedback.items:
        rows = [
            [
                _both(Bilingual("Pernyataan", "Statement")),
                _both(Bilingual("Jawaban", "Answers")),
                _both(Bilingual("Rata-rata", "Mean")),
            ]
        ]
        for item in feedback.items:
            rows.append(
                [
                    _both(Bilingual(item.statement_id, item.statement_en)),
                    _p(str(item.responses), _CELL),
                    _p(_optional(item.mean, 2), _CELL),
                ]
            )
        story.append(_table(rows, (WIDTH * 0.7, WIDTH * 0.15, WIDTH * 0.15)))
    for group in feedback.comments:
        block: list[Flowable] = [
            Spacer(0, 2 * mm),
            _both(Bilingual(group.statement_id, group.statement_en), _BODY),
        ]
        block += [
            Paragraph(f"• {escape(text)}", ParagraphStyle("comment", parent=_SMALL, leftIndent=8))
            for text in group.texts
        ]
        story.append(KeepTogether(block[:3]))
        story += block[3:]
    return story
