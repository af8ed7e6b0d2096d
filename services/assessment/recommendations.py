"""What to learn next: a read model of the programmes enrollment published, built from its
``pustaka.programme.published.v1`` events (assessment never calls enrollment), and the public
classes it recommends for a quiz taker's weakest competency areas."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.db import UTCDateTime
from shared.envelope import CloudEvent

from .models import db

PUBLIC_TRACK = "public"
WEAK_BELOW = 60.0  # an area scored under this percentage is one to work on


class PublishedProgramme(db.Model):
    """A programme as its latest ``programme.published`` event described it."""

    __tablename__ = "published_programmes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(Integer, unique=True)
    title_id: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    track: Mapped[str] = mapped_column(String(10))
    type: Mapped[str] = mapped_column(String(30))
    competency_areas: Mapped[list] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the time of the event it comes from


def on_programme_published(event: CloudEvent, session: Session) -> None:
    """Insert the programme, or update it when it is published again; an older event arriving
    late (a retry, a replayed dead letter) does not undo a newer one."""
    data = event.data
    published_at = datetime.fromisoformat(event.time)
    programme = session.scalar(
        select(PublishedProgramme).where(PublishedProgramme.programme_id == data["programme_id"])
    )
    if programme is None:
        programme = PublishedProgramme(programme_id=data["programme_id"])
        session.add(programme)
    elif programme.published_at > published_at:
        return
    programme.title_id, programme.title_en = data["title"]["id"], data["title"]["en"]
    programme.track, programme.type = data["track"], data["type"]
    programme.competency_areas = list(data["competency_areas"])
    programme.published_at = published_at


@dataclass(frozen=True)
class Recommendation:
    programme_id: int
    title_id: str
    title_en: str
    type: str
    area: str  # the weak area it was chosen for
    area_score: float  # the taker's percentage in that area

    def title(self, language: str) -> str:
        return self.title_en if language == "en" else self.title_id

    @property
    def link(self) -> str:
        """The programme's page, as a path for ``public_link``."""
        return f"/enrollment/programmes/{self.programme_id}"


def recommend_classes(
    session: Session, area_scores: Mapping[str, float], limit: int = 3
) -> list[Recommendation]:
    """Public classes for a quiz taker's weakest competency areas.

    ``area_scores`` maps area codes to the taker's percentage (0–100), as in an attempt's
    ``area_scores``. The areas scored below 60 are taken weakest first (equal scores by area code);
    for each, the published programmes of the public track that develop it, by programme id. A
    programme that develops several weak areas comes once, for the weakest of them. At most
    ``limit`` recommendations; none when no area is below 60 or no public programme fits.
    """
    weak = sorted((score, area) for area, score in area_scores.items() if score < WEAK_BELOW)
    if not weak or limit <= 0:
        return []
    programmes = session.scalars(
        select(PublishedProgramme)
        .where(PublishedProgramme.track == PUBLIC_TRACK)
        .order_by(PublishedProgramme.programme_id)
    ).all()
    chosen: dict[int, Recommendation] = {}
    for score, area in weak:
        for programme in programmes:
            if area in programme.competency_areas and programme.programme_id not in chosen:
                chosen[programme.programme_id] = Recommendation(
                    programme_id=programme.programme_id,
                    title_id=programme.title_id,
                    title_en=programme.title_en,
                    type=programme.type,
                    area=area,
                    area_score=score,
                )
                if len(chosen) == limit:
                    return list(chosen.values())
    return list(chosen.values())
