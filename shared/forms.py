"""The base of every web form: WTForms' own messages in the user's language.

WTForms ships no Indonesian catalog, so its built-in messages (``shared.i18n``) are
translated by ours.
"""

from __future__ import annotations

from flask_babel import get_translations
from flask_wtf import FlaskForm


class _CatalogTranslations:
    """WTForms formats the messages itself, so only the lookup is delegated."""

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


class PustakaForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return _CatalogTranslations()
