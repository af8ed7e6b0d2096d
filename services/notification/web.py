"""Notification's web pages for everyone: the inbox, notification preferences and the
unsubscribe links of emails. The administration pages are in ``admin_web.py``."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from shared.auth import cookie_identity, web_login_required
from shared.errors import Invalid

from . import admin, handlers
from .admin_web import admin_web
from .forms import CATEGORY_LABELS, CHANNEL_LABELS, PreferencesForm, show_errors
from .models import CATEGORIES, ESSENTIAL_CATEGORIES, db

web = Blueprint("web", __name__)


@web.get("/")
@web.get("/inbox")
@web_login_required()
def inbox():
    items, unread = handlers.inbox(db.session, cookie_identity().user_id)
    return render_template("inbox.html", items=items, unread=unread, form=FlaskForm())


@web.post("/inbox/<int:notification_id>/read")
@web_login_required()
def mark_read(notification_id: int):
    handlers.mark_read(db.session, cookie_identity().user_id, notification_id)
    db.session.commit()
    return redirect(url_for("web.inbox"))


@web.post("/inbox/read-all")
@web_login_required()
def mark_all_read():
    handlers.mark_all_read(db.session, cookie_identity().user_id)
    db.session.commit()
    return redirect(url_for("web.inbox"))


@web.route("/preferences", methods=["GET", "POST"])
@web_login_required()
def preferences():
    user_id = cookie_identity().user_id
    settings = admin.preferences_for(db.session, user_id)
    form = PreferencesForm() if request.method == "POST" else PreferencesForm.of(settings)
    if form.validate_on_submit():
        try:
            kept = admin.update_preferences(db.session, user_id, form.choices(), **form.profile_settings())
        except Invalid as error:
            db.session.rollback()
            show_errors(form, error, prefix="preferences.")
        else:
            db.session.commit()
            flash(_("Your preferences are saved."))
            if not kept:
                flash(
                    _(
                        "Quiet hours and the daily digest were not saved: your account is not known to"
                        " notifications yet. Try again in a minute."
                    ),
                    "error",
                )
            return redirect(url_for("web.preferences"))
    return render_template(
        "preferences.html",
        form=form,
        settings=settings,
        categories=CATEGORIES,
        channels=admin.PREFERENCE_CHANNELS,
        essential=ESSENTIAL_CATEGORIES,
        category_labels=CATEGORY_LABELS,
        channel_labels=CHANNEL_LABELS,
    ), 400 if form.errors else 200


@web.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """The link of an email's List-Unsubscribe header: no sign-in, the signed token decides.

    A GET asks first (link checkers and mail scanners follow links); a POST, from the page's
    button or a mail client's one-click ``List-Unsubscribe=One-Click`` (RFC 8058), acts."""
    secret = current_app.config["SECRET_KEY"]
    key, category = admin.read_unsubscribe_token(secret, token)  # a forged link is a 404
    page = {
        "category_label": CATEGORY_LABELS.get(category, category),
        "address": key.removeprefix("email:") if key.startswith("email:") else None,
        "essential": category in ESSENTIAL_CATEGORIES,
        "done": False,
    }
    if page["essential"]:
        return render_template("unsubscribe.html", **page), 400
    if request.method == "POST":
        admin.unsubscribe(db.session, secret, token)
        db.session.commit()
        page["done"] = True
    return render_template("unsubscribe.html", **page)


# Mail clients post the one-click unsubscribe without any CSRF token; the token in the URL is
# the proof, and the view needs no cookie.
web.record_once(lambda state: state.app.extensions["csrf"].exempt(unsubscribe))


WEB_BLUEPRINTS = (web, admin_web)
