"""Certificates of completion: their verification codes and what a certificate says.

Free of Flask and the database: the service gathers a CertificateData when a learner completes a
programme, stores the code, and the public verification page looks up ``normalise_code(typed)``.
``certificate_pdf`` draws the PDF a learner downloads.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

LIBRARY_NAME = "Perpustakaan Kota Semarang"
LIBRARY_AGENCY = "Dinas Arsip dan Perpustakaan Kota Semarang"

# No look-alikes (0/O, 1/I/L), so a code read off paper is typed right: 31**12 codes, 59 bits.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_PREFIX = "PST"
CODE_LENGTH = 12
CODE_GROUP = 4
# Spaces, and the hyphens and dashes that copying from a PDF or a chat may bring.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]")


class Bilingual(NamedTuple):
    id: str
    en: str


@dataclass(frozen=True)
class CertificateData:
    learner_name: str
    programme_title: Bilingual
    programme_type: Bilingual
    starts_at: datetime
    ends_at: datetime
    hours: float
    areas: tuple[Bilingual, ...]
    partners: tuple[str, ...]
    officer_name: str
    officer_title: str
    code: str
    verification_url: str

    def __post_init__(self) -> None:
        # A naive time would be read as the server's zone and could print the wrong day.
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("certificate dates must be timezone-aware")


def new_verification_code() -> str:
    """A fresh random code in its printed form, e.g. ``PST-7KQM-WX3D-HN9R``."""
    return _grouped("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)))


def normalise_code(typed: str) -> str:
    """The printed form of a code however it was typed: any case, prefix or not, spaces and dashes
    anywhere. ValueError when the text cannot be one of our codes."""
    compact = _SEPARATORS.sub("", typed).upper()
    if len(compact) == len(CODE_PREFIX) + CODE_LENGTH and compact.startswith(CODE_PREFIX):
        compact = compact[len(CODE_PREFIX) :]
    if len(compact) != CODE_LENGTH or not set(compact) <= set(CODE_ALPHABET):
        raise ValueError(f"not a certificate code: {typed!r}")
    return _grouped(compact)


def _grouped(body: str) -> str:
    groups = [body[start : start + CODE_GROUP] for start in range(0, len(body), CODE_GROUP)]
    return "-".join([CODE_PREFIX, *groups])
