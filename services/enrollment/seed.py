"""Demo content of the embedded mode: the Semarang programme, its partners, and the accounts."""

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


PARTNERS = [
    {"name": "Universitas Diponegoro", "kind": "university", "website": "https://www.undip.ac.id"},
    {
        "name": "Ikatan Pustakawan Indonesia (IPI) Jawa Tengah",
        "kind": "professional_organisation",
        "website": "",
    },
    {
        "name": "Dinas Arsip dan Perpustakaan Kota Semarang",
        "kind": "government",
        "website": "https://disarpus.semarangkota.go.id",
    },
    {"name": "Relawan TIK Kota Semarang", "kind": "ngo", "website": ""},
]
LIBRARY = "Perpustakaan Kota Semarang, Jl. Prof. Sudarto"
# Per programme: (organisers, speaker partners) by index into PARTNERS, then its sessions as
# (days from the start, hours, venue, online link, seats, speakers as (name, partner index or None)).
SCHEDULE = [
    (
        [2],
        [0],
        [(0, 6, LIBRARY, "", 2, [("Dr. Ratna Kusumawati", 0)])],
    ),
    (
        [1],
        [1],
        [
            (1, 3, "", "https://meet.jit.si/pustaka-informasi-valid", 25, [("Agus Prasetyo, S.IP.", 1)]),
            (8, 3, LIBRARY, "https://meet.jit.si/pustaka-informasi-valid", 25, [("Agus Prasetyo, S.IP.", 1)]),
        ],
    ),
    (
        [2],
        [3],
        [
            (2, 2, LIBRARY, "", 20, [("Dewi Lestari", 3)]),
            (9, 2, "Balai Kelurahan Tembalang", "", 20, [("Dewi Lestari", 3), ("Budi Santoso", None)]),
        ],
    ),
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
    partners = [handlers.create_partner(session, data) for data in PARTNERS]
    start = datetime.now(UTC).replace(hour=2, minute=0, second=0, microsecond=0) + timedelta(days=7)
    for data, (organisers, speakers, sessions) in zip(PROGRAMMES, SCHEDULE, strict=True):
        links = [{"partner_id": partners[i].id, "role": "organiser"} for i in organisers] + [
            {"partner_id": partners[i].id, "role": "speaker"} for i in speakers
        ]
        programme = handlers.create_programme(
            session, {**data, "partners": links, "status": "published"}, None
        )
        for days, hours, venue, online_link, seats, people in sessions:
            handlers.add_session(
                session,
                programme.id,
                {
                    "starts_at": start + timedelta(days=days),
                    "ends_at": start + timedelta(days=days, hours=hours),
                    "venue": venue,
                    "online_link": online_link,
                    "capacity": seats,
                    "speakers": [
                        {"name": name, "partner_id": partners[i].id if i is not None else None}
                        for name, i in people
                    ],
                },
            )
    return lines
