"""Notification's web pages: the inbox."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_wtf import FlaskForm

from shared.auth import cookie_identity, web_login_required

from . import handlers
from .models import db

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


WEB_BLUEPRINTS = (web,)
