"""Competency areas every service names the same way: the staff programme's and the public literacy track's.

The codes travel in events (programme areas, quiz area scores), so they are shared; the names are
bilingual because pages show them.
"""

from __future__ import annotations

from typing import NamedTuple


class Area(NamedTuple):
    code: str
    track: str  # "staff" or "public"
    name_id: str
    name_en: str

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_id


AREAS: dict[str, Area] = {
    area.code: area
    for area in (
        Area(
            "library_software",
            "staff",
            "Perangkat lunak manajemen perpustakaan",
            "Library management software",
        ),
        Area("cataloguing", "staff", "Katalogisasi dan metadata", "Cataloguing and metadata"),
        Area(
            "literacy_instruction",
            "staff",
            "Pengajaran literasi informasi",
            "Information-literacy instruction",
        ),
        Area(
            "digital_services",
            "staff",
            "Layanan digital dan media sosial",
            "Digital services and social media",
        ),
        Area(
            "data_analytics",
            "staff",
            "Analitik data untuk pengambilan keputusan",
            "Data analytics for decisions",
        ),
        Area(
            "community_engagement",
            "staff",
            "Layanan dan keterlibatan masyarakat",
            "Community service and engagement",
        ),
        Area("research_innovation", "staff", "Riset dan inovasi", "Research and innovation"),
        Area(
            "information_need", "public", "Mengenali kebutuhan informasi", "Recognising an information need"
        ),
        Area("searching", "public", "Menelusur informasi secara efektif", "Searching effectively"),
        Area(
            "evaluating",
            "public",
            "Menilai sumber dan mengenali misinformasi",
            "Evaluating sources, spotting misinformation",
        ),
        Area("ethical_use", "public", "Menggunakan informasi secara etis", "Using information ethically"),
        Area("communicating", "public", "Mengomunikasikan informasi", "Communicating information"),
    )
}


def area_name(code: str, language: str) -> str:
    """The area's name in the language, or its code when it is not one of ours (an LMS's, say)."""
    area = AREAS.get(code)
    return area.name(language) if area else code
