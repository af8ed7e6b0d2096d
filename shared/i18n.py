"""Markers for messages that reach a page as values, and the libraries' messages we translate.

``N_`` and ``N_plural`` only mark text for extraction (``make translations-update``); the
text is translated where it is shown.
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    return message


def N_plural(singular: str, plural: str) -> tuple[str, str]:  # noqa: N802
    return singular, plural


# Werkzeug's and Flask-WTF's error texts, shown translated on error pages.
LIBRARY_ERROR_MESSAGES = (
    N_("The browser (or proxy) sent a request that this server could not understand."),
    N_(
        "The server could not verify that you are authorized to access the URL requested. You either"
        " supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how"
        " to supply the credentials required."
    ),
    N_(
        "You don't have the permission to access the requested resource. It is either read-protected"
        " or not readable by the server."
    ),
    N_(
        "The requested URL was not found on the server. If you entered the URL manually please check"
        " your spelling and try again."
    ),
    N_("The method is not allowed for the requested URL."),
    N_("The data value transmitted exceeds the capacity limit."),
    N_(
        "The server encountered an internal error and was unable to complete your request. Either the"
        " server is overloaded or there is an error in the application."
    ),
    N_("The CSRF session token is missing."),
    N_("The CSRF token has expired."),
    N_("The CSRF token is invalid."),
    N_("The CSRF token is missing."),
    N_("The CSRF tokens do not match."),
    N_("The referrer does not match the host."),
    N_("The referrer header is missing."),
)

# WTForms ships no Indonesian catalog: the built-in messages our forms can show.
WTFORMS_MESSAGES = (
    N_("This field is required."),
    N_("Not a valid choice."),
    N_("Not a valid integer value."),
    N_("Not a valid datetime value."),
    N_("Number must be between %(min)s and %(max)s."),
    N_("Field must be between %(min)d and %(max)d characters long."),
    N_plural(
        "Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters."
    ),
    N_plural(
        "Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long."
    ),
    N_plural(
        "'%(value)s' is not a valid choice for this field.",
        "'%(value)s' are not valid choices for this field.",
    ),
)
