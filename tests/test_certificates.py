"""Certificates: verification codes, and the PDF read back with pypdf, its QR code decoded with zxing-cpp."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, datetime

import pypdf
import pytest
import zxingcpp

from services.enrollment.certificate_pdf import BOTTOM_BLOCK_TOP, render_certificate_pdf
from services.enrollment.certificates import (
    CODE_ALPHABET,
    LIBRARY_AGENCY,
    LIBRARY_NAME,
    Bilingual,
    CertificateData,
    new_verification_code,
    normalise_code,
)
from shared.competencies import AREAS as COMPETENCY_AREAS

URL = "https://pustaka.semarangkota.go.id/enrollment/certificates/PST-7KQM-WX3D-HN9R"
AREAS = (
    Bilingual("Katalogisasi dan metadata", "Cataloguing and metadata"),
    Bilingual("Layanan digital dan media sosial", "Digital services and social media"),
)


@pytest.fixture
def certificate() -> CertificateData:
    return CertificateData(
        learner_name="Siti Nur’aini Ngatmo'in Núñez Béatrice",
        programme_title=Bilingual(
            "Pelatihan Katalogisasi RDA dan Metadata Digital untuk Pustakawan Kota Semarang",
            "RDA Cataloguing and Digital Metadata Training for Semarang City Librarians",
        ),
        programme_type=Bilingual("Pelatihan", "Training"),
        # 20:00 UTC on 2 March is 03:00 WIB on 3 March: the dates are Semarang's.
        starts_at=datetime(2026, 3, 2, 20, 0, tzinfo=UTC),
        ends_at=datetime(2026, 3, 5, 9, 0, tzinfo=UTC),
        hours=16.5,
        areas=AREAS,
        partners=("Perpustakaan Nasional RI", "Universitas Diponegoro"),
        officer_name="Drs. R. Suryo Ñoto, M.Hum.",
        officer_title="Kepala Dinas Arsip dan Perpustakaan Kota Semarang",
        code="PST-7KQM-WX3D-HN9R",
        verification_url=URL,
    )


def page_of(pdf: bytes) -> pypdf.PageObject:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return reader.pages[0]


def text_of(page: pypdf.PageObject) -> str:
    # Wrapped lines come back with line breaks where the spaces were.
    return " ".join(page.extract_text().split())


# --- Codes ---------------------------------------------------------------------------------------


def test_codes_are_unique_grouped_and_free_of_look_alikes():
    codes = [new_verification_code() for _ in range(10_000)]
    assert len(set(codes)) == len(codes)
    shape = re.compile(rf"PST(-[{CODE_ALPHABET}]{{4}}){{3}}")
    assert all(shape.fullmatch(code) for code in codes)
    drawn = set("".join(code[4:] for code in codes)) - {"-"}
    assert drawn == set(CODE_ALPHABET)
    assert not drawn & set("0O1IL")


def test_normalise_accepts_a_code_however_it_is_typed():
    for code in [new_verification_code() for _ in range(200)]:
        body = code.removeprefix("PST-").replace("-", "")
        assert normalise_code(code) == code
        assert normalise_code(code.lower()) == code
        assert normalise_code(f"  {body[:4]} {body[4:8]} {body[8:]} ") == code
        assert normalise_code(body.lower()) == code
        assert normalise_code(f"pst {body[:6]}–{body[6:]}") == code  # an en dash from a copy-paste


def test_a_code_that_starts_with_the_prefix_letters_keeps_them():
    assert normalise_code("PSTA BCDE FGHJ") == "PST-PSTA-BCDE-FGHJ"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "PST-7KQM-WX3D-HN9",
        "PST-7KQM-WX3D-HN9RR",
        "PST-0KQM-WX3D-HN9R",
        "7KQM-WX3D-HNIR",
        "XYZ-7KQM-WX3D-HN9R",
    ],
)
def test_normalise_rejects_what_cannot_be_a_code(typed):
    with pytest.raises(ValueError):
        normalise_code(typed)


# --- The PDF -------------------------------------------------------------------------------------


def test_pdf_is_one_a4_landscape_page_with_every_fact_in_both_languages(certificate):
    page = page_of(render_certificate_pdf(certificate))
    assert float(page.mediabox.width) == pytest.approx(841.89, abs=0.1)
    assert float(page.mediabox.height) == pytest.approx(595.28, abs=0.1)
    text = text_of(page)
    expected = [
        LIBRARY_NAME,
        LIBRARY_AGENCY,
        "SERTIFIKAT",
        "Certificate",
        "Siti Nur’aini Ngatmo'in Núñez Béatrice",
        certificate.programme_title.id,
        certificate.programme_title.en,
        "Pelatihan · 3 Maret 2026 – 5 Maret 2026 · 16,5 jam",
        "Training · 3 March 2026 – 5 March 2026 · 16.5 hours",
        "Katalogisasi dan metadata, Layanan digital dan media sosial",
        "Cataloguing and metadata, Digital services and social media",
        "Perpustakaan Nasional RI, Universitas Diponegoro",
        "Drs. R. Suryo Ñoto, M.Hum.",
        "Kepala Dinas Arsip dan Perpustakaan Kota Semarang",
        "PST-7KQM-WX3D-HN9R",
        URL,
    ]
    assert [part for part in expected if part not in text] == []
    assert text.index(certificate.programme_title.id) < text.index(certificate.programme_title.en)


def test_pdf_embeds_its_fonts(certificate):
    fonts = page_of(render_certificate_pdf(certificate))["/Resources"]["/Font"]
    assert fonts
    for font in fonts.values():
        font = font.get_object()
        assert "/FontFile2" in font["/FontDescriptor"], font["/BaseFont"]


def test_qr_code_in_the_pdf_decodes_to_the_verification_url(certificate):
    images = page_of(render_certificate_pdf(certificate)).images
    assert len(images) == 1
    decoded = zxingcpp.read_barcodes(images[0].image)
    assert [(result.format, result.text) for result in decoded] == [(zxingcpp.BarcodeFormat.QRCode, URL)]


def test_a_one_day_programme_shows_one_local_date_and_one_hour(certificate):
    one_day = replace(
        certificate,
        # 18:00 UTC on 2 March is already 3 March in Semarang.
        starts_at=datetime(2026, 3, 2, 18, 0, tzinfo=UTC),
        ends_at=datetime(2026, 3, 3, 8, 0, tzinfo=UTC),
        hours=1.0,
        areas=(),
        partners=(),
    )
    text = text_of(page_of(render_certificate_pdf(one_day)))
    assert "Pelatihan · 3 Maret 2026 · 1 jam" in text
    assert "Training · 3 March 2026 · 1 hour" in text
    assert "2 Maret" not in text and "Bidang kompetensi" not in text and "In partnership with" not in text


def test_naive_dates_are_refused(certificate):
    with pytest.raises(ValueError):
        replace(certificate, ends_at=datetime(2026, 3, 5, 9, 0))


def test_a_long_body_shrinks_to_stay_above_the_code_and_signature(certificate):
    crowded = replace(
        certificate,
        learner_name="Raden Mas Ngabehi Bambang Sutrisno Hadiwijaya Kusumaningrat Wicaksono Ñúñez",
        programme_title=Bilingual(certificate.programme_title.id * 3, certificate.programme_title.en * 3),
        areas=tuple(Bilingual(area.name_id, area.name_en) for area in COMPETENCY_AREAS.values()),
        partners=("Perpustakaan Nasional RI", "Universitas Diponegoro", "Goethe-Institut Indonesien") * 2,
    )
    page = page_of(render_certificate_pdf(crowded))
    heights = {}

    def note(text, cm, tm, font, size):
        if text.strip():
            heights[text.strip()] = tm[5] * cm[3] + cm[5]

    page.extract_text(visitor_text=note)
    partners = next(height for text, height in heights.items() if text.startswith("Bekerja sama dengan"))
    assert partners > BOTTOM_BLOCK_TOP
    assert "Riset dan inovasi" in text_of(page) and "Research and innovation" in text_of(page)
