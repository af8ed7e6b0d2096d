"""Times are stored in UTC and shown in Semarang's zone, WIB (Asia/Jakarta)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

JAKARTA = ZoneInfo("Asia/Jakarta")


def local_time(moment: datetime | str | None) -> str:
    if not moment:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(JAKARTA).strftime("%d-%m-%Y %H:%M WIB")
