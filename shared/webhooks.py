"""Standard Webhooks signatures (HMAC-SHA256 over ``id.timestamp.body``).

Enrollment verifies what external LMSs post; notification signs what it delivers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping

SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 5 * 60


class WebhookVerificationError(ValueError):
    pass


def _key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4), altchars=b"-_")
    except ValueError:
        return encoded.encode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one message."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(
    candidate_secrets: Iterable[str],
    headers: Mapping[str, str],
    body: bytes,
    now: float | None = None,
) -> str:
    """The secret that signed this message; raises WebhookVerificationError otherwise."""
    message_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (message_id and timestamp and signatures):
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not a number") from None
    if abs((now or time.time()) - sent_at) > TOLERANCE_SECONDS:
        raise WebhookVerificationError("webhook-timestamp is more than 5 minutes off")
    offered = [part.partition(",")[2] for part in signatures.split() if part.startswith("v1,")]
    for secret in candidate_secrets:
        expected = sign(secret, message_id, sent_at, body).partition(",")[2]
        if any(hmac.compare_digest(expected, signature) for signature in offered):
            return secret
    raise WebhookVerificationError("no valid signature")
