"""Demo content of the embedded mode: the Semarang programme and two accounts."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import handlers
from .models import Programme, User

PROGRAMMES = [
    {
        "title_id": "Pelatihan Perangkat Lunak Manajemen Perpustakaan",
        "title_en": "Library Management Software Training",
        "description_id": "Menggunakan perangkat lunak manajemen perpustakaan terbaru, dari katalog sampai sirkulasi.",
        "description_en": "Using current library management software, from cataloguing to circulation.",
        "track": "staff",
        "type": "training",
        "competency_areas": ["library_software", "cataloguing"],
    },
    {
        "title_id": "Workshop Memilah Informasi yang Valid di Internet",
        "title_en": "Workshop: Judging Online Information",
        "description_id": "Teknik menilai sumber dan mengenali misinformasi, untuk diajarkan kepada masyarakat.",
        "description_en": "Techniques to judge sources and spot misinformation, to teach the public.",
        "track": "staff",
        "type": "workshop",
        "competency_areas": ["literacy_instruction"],
    },
    {
        "title_id": "Kelas Literasi Informasi untuk Masyarakat",
        "title_en": "Information Literacy Class for the Public",
        "description_id": "Cara mencari, menilai, dan menggunakan informasi secara efektif.",
        "description_en": "How to search for, judge and use information effectively.",
        "track": "public",
        "type": "literacy_class",
        "competency_areas": ["literacy_instruction", "community_engagement"],
    },
]


def seed_demo(session: Session) -> list[str]:
    """Create the demo content once; returns lines to print (the generated credentials)."""
    if session.scalar(select(Programme.id).limit(1)):
        return []
    lines = []
    accounts = [
        ("koordinator@pustaka.local", "Sri Wahyuni", ["coordinator"]),
        ("staf@pustaka.local", "Budi Santoso", ["staff"]),
    ]
    if not session.scalar(select(User.id).limit(1)):  # no admin came from the environment
        accounts.insert(0, ("admin@pustaka.local", "Administrator", ["admin"]))
    for email, name, roles in accounts:
        password = secrets.token_urlsafe(9)
        handlers.create_user(session, email=email, name=name, password=password, language="id", roles=roles)
        lines.append(f"{', '.join(roles)}: {email} / {password}")
    start = datetime.now(UTC).replace(hour=2, minute=0, second=0, microsecond=0) + timedelta(days=7)
    for offset, data in enumerate(PROGRAMMES):
        programme = handlers.create_programme(session, {**data, "status": "published"}, None)
        handlers.add_session(
            session,
            programme.id,
            {
                "starts_at": start + timedelta(days=offset),
                "ends_at": start + timedelta(days=offset, hours=6),
                "venue": "Perpustakaan Kota Semarang, Jl. Prof. Sudarto",
                "capacity": 2 if offset == 0 else 25,
            },
        )
    return lines
