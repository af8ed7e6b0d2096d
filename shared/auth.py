"""Token verification: every service checks enrollment's signed tokens locally.

Tokens are EdDSA (Ed25519) JWTs. The API takes ``Authorization: Bearer``; web pages take the
HttpOnly ``pustaka_token`` cookie set at login. The API never reads the cookie, so a
cross-site form cannot act through it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from flask import current_app, g, redirect, request
from flask_smorest import abort

from .i18n import N_

TOKEN_COOKIE = "pustaka_token"
ISSUER = "pustaka-enrollment"
AUDIENCE = "pustaka"
ALGORITHM = "EdDSA"


@dataclass(frozen=True)
class Identity:
    user_id: int
    email: str
    name: str
    language: str
    roles: frozenset[str]

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


class InvalidToken(ValueError):
    pass


class TokenVerifier:
    def __init__(self, public_key_pem: bytes):
        self.public_key = public_key_pem

    def verify(self, token: str) -> Identity:
        import jwt  # with cryptography, ~9 MiB that worker processes, which verify nothing, never load

        try:
            claims = jwt.decode(
                token, self.public_key, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER
            )
            return Identity(
                user_id=int(claims["sub"]),
                email=claims["email"],
                name=claims["name"],
                language=claims.get("lang", "id"),
                roles=frozenset(claims.get("roles", [])),
            )
        except (jwt.PyJWTError, KeyError, ValueError) as error:
            raise InvalidToken(str(error)) from None


class TokenIssuer:
    def __init__(self, private_key_pem: bytes, lifetime: timedelta = timedelta(hours=12)):
        self.private_key = private_key_pem
        self.lifetime = lifetime

    def issue(self, identity: Identity) -> str:
        import jwt  # see verify

        now = datetime.now(UTC)
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(identity.user_id),
            "email": identity.email,
            "name": identity.name,
            "lang": identity.language,
            "roles": sorted(identity.roles),
            "iat": now,
            "exp": now + self.lifetime,
        }
        return jwt.encode(claims, self.private_key, algorithm=ALGORITHM)


def _verifier() -> TokenVerifier:
    return current_app.extensions["pustaka"].verifier


def bearer_identity() -> Identity | None:
    """The API caller, from ``Authorization: Bearer``; 401 for a bad token."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        abort(401, message=N_("Authorization must be 'Bearer <token>'."))
    try:
        return _verifier().verify(token.strip())
    except InvalidToken:
        abort(401, message=N_("The token is invalid or expired."))


def cookie_identity() -> Identity | None:
    """The signed-in web user, or None (an expired cookie is just a signed-out user)."""
    if "cookie_identity" not in g:
        token = request.cookies.get(TOKEN_COOKIE)
        try:
            g.cookie_identity = _verifier().verify(token) if token else None
        except InvalidToken:
            g.cookie_identity = None
    return g.cookie_identity


def require_api_identity(*roles: str) -> Identity:
    identity = bearer_identity()
    if identity is None:
        abort(401, message=N_("Sign in: send 'Authorization: Bearer <token>'."))
    if roles and not identity.has_any(*roles):
        abort(403, message=f"This needs one of the roles: {', '.join(roles)}.")
    return identity


def api_login_required(*roles: str):
    """API views: 401/403 before anything else, even before the body is validated."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            g.api_identity = require_api_identity(*roles)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def api_identity() -> Identity:
    """The caller that ``api_login_required`` let in."""
    return g.api_identity


def login_url(next_url: str) -> str:
    base = current_app.config["PUSTAKA_SERVICE_URLS"]["enrollment"]
    return f"{base}/login?{urlencode({'next': next_url})}"


def web_login_required(*roles: str):
    """Web views: redirect a signed-out visitor to the login page; 403 for a missing role."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            identity = cookie_identity()
            if identity is None:
                return redirect(login_url(request.url))
            if roles and not identity.has_any(*roles):
                abort(403, message=N_("You do not have access to this page."))
            return view(*args, **kwargs)

        return wrapped

    return decorator
