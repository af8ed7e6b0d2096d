"""Notification's administration pages (admins only): rules, templates, webhook
subscriptions and the delivery log. Thin views: a form, then one call into ``admin.py``."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from shared.auth import cookie_identity, web_login_required
from shared.errors import DomainError, Invalid

from . import admin, defaults
from .channels import load_channels
from .forms import (
    CATEGORY_LABELS,
    CHANNEL_LABELS,
    PRIORITY_LABELS,
    RECIPIENT_LABELS,
    STATE_LABELS,
    ActionForm,
    DeliveryFilterForm,
    RuleForm,
    TemplateForm,
    WebhookForm,
    show_errors,
)
from .models import db

admin_web = Blueprint("admin", __name__, url_prefix="/admin")

PAGE_SIZE = 50


@admin_web.app_context_processor
def labels():
    return {
        "category_labels": CATEGORY_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "priority_labels": PRIORITY_LABELS,
        "recipient_labels": RECIPIENT_LABELS,
        "state_labels": STATE_LABELS,
    }


def _installed_channels() -> list[str]:
    return sorted(load_channels())


def _back(default: str):
    """Back to the page the button was on (a path of this service), else to ``default``."""
    target = request.form.get("next", "")
    root = request.script_root + "/"
    if target.startswith(root) and not target.startswith("//") and "\\" not in target:
        return redirect(target)
    return redirect(default)


@admin_web.get("/")
@web_login_required("admin")
def index():
    return render_template("admin/index.html")


# Rules -----------------------------------------------------------------------------------


@admin_web.get("/rules")
@web_login_required("admin")
def rules():
    return render_template("admin/rules.html", rules=admin.list_rules(db.session))


def _rule_form(rule=None) -> RuleForm:
    form = RuleForm(obj=rule)
    templates = [template.key for template in admin.list_templates(db.session)]
    return form.set_choices(templates, _installed_channels())


@admin_web.route("/rules/new", methods=["GET", "POST"])
@web_login_required("admin")
def new_rule():
    form = _rule_form()
    if form.validate_on_submit():
        try:
            rule = admin.create_rule(db.session, form.rule_data())
        except Invalid as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Rule “%(name)s” created.", name=rule.name))
            return redirect(url_for("admin.rules"))
    return render_template("admin/rule_form.html", form=form, rule=None), 400 if form.errors else 200


@admin_web.route("/rules/<int:rule_id>", methods=["GET", "POST"])
@web_login_required("admin")
def edit_rule(rule_id: int):
    rule = admin.get_rule(db.session, rule_id)
    form = _rule_form(rule)
    if form.validate_on_submit():
        try:
            admin.update_rule(db.session, rule_id, form.rule_data())
        except Invalid as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Rule “%(name)s” saved.", name=rule.name))
            return redirect(url_for("admin.rules"))
    return render_template("admin/rule_form.html", form=form, rule=rule), 400 if form.errors else 200


# Templates -------------------------------------------------------------------------------


@admin_web.get("/templates")
@web_login_required("admin")
def templates():
    used_by: dict[str, list] = {}
    for rule in admin.list_rules(db.session):
        used_by.setdefault(rule.template_key, []).append(rule)
    return render_template(
        "admin/templates.html", templates=admin.list_templates(db.session), used_by=used_by
    )


@admin_web.route("/templates/<key>", methods=["GET", "POST"])
@web_login_required("admin")
def edit_template(key: str):
    template = admin.get_template(db.session, key)
    used_by = admin.rules_using(db.session, key)
    form = TemplateForm(obj=template)
    form.preview_event_type.choices = defaults.known_event_types()
    if request.method == "GET" and used_by:
        form.preview_event_type.data = used_by[0].event_type
    previews = None
    if form.validate_on_submit():
        try:
            if form.preview.data:
                previews = admin.preview_template(
                    db.session, key, form.preview_event_type.data, changes=form.template_data()
                )
            else:
                admin.update_template(db.session, key, form.template_data())
                db.session.commit()
                flash(_("Template “%(key)s” saved.", key=key))
                return redirect(url_for("admin.edit_template", key=key))
        except Invalid as error:
            db.session.rollback()
            show_errors(form, error)
    return render_template(
        "admin/template_form.html", form=form, template=template, used_by=used_by, previews=previews
    ), 400 if form.errors else 200


# Webhook subscriptions -------------------------------------------------------------------


@admin_web.route("/webhooks", methods=["GET", "POST"])
@web_login_required("admin")
def webhooks():
    form = WebhookForm()
    if form.validate_on_submit():
        try:
            subscription = admin.create_webhook(
                db.session, cookie_identity().user_id, form.url.data, form.event_types.data
            )
        except Invalid as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            # The secret is shown this once; later pages never show it again.
            return _webhook_page(subscription.id, secret=subscription.secret)
    return render_template(
        "admin/webhooks.html", form=form, webhooks=admin.list_webhooks(db.session)
    ), 400 if form.errors else 200


def _webhook_page(subscription_id: int, secret: str | None = None):
    subscription = admin.get_webhook(db.session, subscription_id)
    deliveries, total = admin.list_deliveries(
        db.session, recipient_key=admin.webhook_key(subscription_id), limit=PAGE_SIZE
    )
    return render_template(
        "admin/webhook.html",
        webhook=subscription,
        secret=secret,
        deliveries=deliveries,
        total=total,
        rule_names={},
        action_form=ActionForm(),
        replayable=admin.replayable,
    )


@admin_web.get("/webhooks/<int:subscription_id>")
@web_login_required("admin")
def webhook(subscription_id: int):
    return _webhook_page(subscription_id)


@admin_web.post("/webhooks/<int:subscription_id>/active")
@web_login_required("admin")
def set_webhook_active(subscription_id: int):
    active = request.form.get("active") == "1"
    admin.set_webhook_active(db.session, subscription_id, active)
    db.session.commit()
    flash(_("The webhook is enabled.") if active else _("The webhook is disabled."))
    return redirect(url_for("admin.webhook", subscription_id=subscription_id))


# The delivery log ------------------------------------------------------------------------


@admin_web.get("/deliveries")
@web_login_required("admin")
def deliveries():
    form = DeliveryFilterForm(request.args).set_choices(_installed_channels())
    page = max(request.args.get("page", 1, type=int), 1)
    filters = form.filters() if form.validate() else {}
    items, total = admin.list_deliveries(
        db.session, **filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    shown = {name: value for name, value in filters.items() if value}
    return render_template(
        "admin/deliveries.html",
        form=form,
        deliveries=items,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        filters=shown,
        rule_names=admin.rule_names(db.session),
        action_form=ActionForm(),
        replayable=admin.replayable,
    ), 400 if form.errors else 200


@admin_web.post("/deliveries/<int:delivery_id>/replay")
@web_login_required("admin")
def replay_delivery(delivery_id: int):
    try:
        admin.replay_delivery(db.session, delivery_id)
    except DomainError as error:
        db.session.rollback()
        if error.status == 404:
            raise
        flash(_(error.message), "error")
    else:
        db.session.commit()
        flash(_("Delivery %(id)d is queued again.", id=delivery_id))
    return _back(url_for("admin.deliveries"))
