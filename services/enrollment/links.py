"""Links that leave the site in emails: absolute, from the configured service URL."""

from __future__ import annotations

from collections.abc import Mapping

from .handlers import PublicLinks, public_token


def site_base(config: Mapping) -> str:
    base = config["PUSTAKA_SERVICE_URLS"]["enrollment"]
    return base if "://" in base else config["PUSTAKA_PUBLIC_URL"].rstrip("/") + base


def public_links(config: Mapping, enrollment_id: int) -> PublicLinks:
    """The confirm and cancel links of a public seat, to the pages ``/public/confirm|cancel/<token>``."""
    base, secret = site_base(config), config["SECRET_KEY"]
    return PublicLinks(
        confirm_url=f"{base}/public/confirm/{public_token(secret, enrollment_id, 'confirm')}",
        cancel_url=f"{base}/public/cancel/{public_token(secret, enrollment_id, 'cancel')}",
    )
