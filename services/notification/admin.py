"""Notification's administration and self-service rules, free of Flask: preferences and
unsubscribe links, rules, templates, webhook subscriptions and the delivery log.

Every function takes a SQLAlchemy session and leaves the commit to its caller; bad input
raises :class:`shared.errors.Invalid` with messages by field, so a form and the API show
the same reasons. Field messages are marked with ``N_`` and translated where they are shown.
"""

from __future__ import annotations

import base64
import copy
import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from itsdangerous import BadSignature
from jinja2 import TemplateError, nodes
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from shared import catalog
from shared.db import utcnow
from shared.errors import Conflict, Invalid, NotFound
from shared.i18n import N_
from shared.webhooks import SECRET_PREFIX

from . import defaults
from .channels import load_channels, unsubscribe_serializer
from .handlers import DEFAULT_CHANNELS, preferences_of, set_preference
from .models import (
    CATEGORIES,
    DELIVERY_STATES,
    ESSENTIAL_CATEGORIES,
    PRIORITIES,
    RECIPIENT_KINDS,
    Delivery,
    MessageTemplate,
    Recipient,
    Rule,
    WebhookSubscription,
)
from .rendering import HTML, TEXT, RenderedMessage, TemplateInvalid, check, render

# The channels a person chooses for themselves; webhooks belong to their subscribers.
PREFERENCE_CHANNELS = ("in_app", "email")
CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
PROFILE_FIELDS = ("quiet_start", "quiet_end", "daily_digest")


def recipient_key(user_id: int) -> str:
    return f"user:{user_id}"


# Preferences -----------------------------------------------------------------------------


def preferences_for(session: Session, user_id: int) -> dict:
    """What a person chose: category → channel → on/off, quiet hours and the daily digest."""
    profile = session.get(Recipient, user_id)
    return {
        "preferences": preferences_of(session, recipient_key(user_id)),
        "essential_categories": list(ESSENTIAL_CATEGORIES),
        "quiet_start": profile.quiet_start if profile else None,
        "quiet_end": profile.quiet_end if profile else None,
        "daily_digest": profile.daily_digest if profile else False,
        # Quiet hours and the digest live on the person's profile, written when their account's
        # event arrives; until then only the choices per category can be kept.
        "profile_synced": profile is not None,
    }


def _profile_errors(settings: Mapping[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for field in ("quiet_start", "quiet_end"):
        value = settings[field]
        if value is not None and not (isinstance(value, str) and CLOCK.match(value)):
            errors[field] = [N_("Use the form HH:MM, for example 21:30.")]
    if not errors:
        start, end = settings["quiet_start"], settings["quiet_end"]
        if (start is None) != (end is None):
            errors["quiet_end" if end is None else "quiet_start"] = [
                N_("Give both the start and the end of the quiet hours, or neither.")
            ]
        elif start is not None and start == end:
            errors["quiet_end"] = [N_("Quiet hours must end at another time than they start.")]
    return errors


def update_preferences(
    session: Session,
    user_id: int,
    choices: Mapping[str, Mapping[str, bool]],
    **profile_changes: Any,
) -> bool:
    """Set the person's choices (category → channel → on/off) and any of ``quiet_start``,
    ``quiet_end`` (``"HH:MM"`` or None) and ``daily_digest``; what is left out stays.

    Returns False when quiet hours or the digest were asked for but could not be kept yet,
    because the person's profile has not arrived from enrollment."""
    errors: dict[str, list[str]] = {}
    for category, channels in choices.items():
        for channel, enabled in channels.items():
            field = f"preferences.{category}.{channel}"
            if category not in DEFAULT_CHANNELS:
                errors[field] = [N_("Unknown category.")]
            elif channel not in PREFERENCE_CHANNELS:
                errors[field] = [N_("Unknown channel.")]
            elif category in ESSENTIAL_CATEGORIES and not enabled:
                errors[field] = [N_("Account and security messages cannot be turned off.")]
    unknown = set(profile_changes) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"unknown profile settings: {', '.join(sorted(unknown))}")
    profile = session.get(Recipient, user_id)
    current = {
        "quiet_start": profile.quiet_start if profile else None,
        "quiet_end": profile.quiet_end if profile else None,
        "daily_digest": profile.daily_digest if profile else False,
    }
    settings = current | {
        key: (value or None) if key != "daily_digest" else bool(value)
        for key, value in profile_changes.items()
    }
    errors |= _profile_errors(settings)
    if errors:
        raise Invalid("The preferences have invalid fields.", errors)

    key = recipient_key(user_id)
    for category, channels in choices.items():
        for channel, enabled in channels.items():
            if category not in ESSENTIAL_CATEGORIES:
                set_preference(session, key, category, channel, enabled)
    if profile is None:
        return settings == current  # nothing asked for that needed the profile
    profile.quiet_start, profile.quiet_end = settings["quiet_start"], settings["quiet_end"]
    profile.daily_digest = settings["daily_digest"]
    return True


def read_unsubscribe_token(secret_key: str, token: str) -> tuple[str, str]:
    """The (recipient key, category) an unsubscribe link stands for; NotFound if forged."""
    try:
        value = unsubscribe_serializer(secret_key).loads(token)
    except BadSignature:
        raise NotFound("This unsubscribe link is not valid.") from None
    valid = isinstance(value, list) and len(value) == 2 and all(isinstance(part, str) for part in value)
    if not valid or value[1] not in DEFAULT_CHANNELS:
        raise NotFound("This unsubscribe link is not valid.")
    return value[0], value[1]


def unsubscribe(session: Session, secret_key: str, token: str) -> tuple[str, str]:
    """Turn off exactly the link's category on email for the link's person (RFC 8058)."""
    key, category = read_unsubscribe_token(secret_key, token)
    if category in ESSENTIAL_CATEGORIES:
        raise Invalid(
            "Account and security messages cannot be turned off.",
            {"category": [N_("Account and security messages cannot be turned off.")]},
        )
    set_preference(session, key, category, "email", False)
    return key, category


# Rules -----------------------------------------------------------------------------------

RULE_FIELDS = (
    "name", "event_type", "recipients", "template_key", "channels", "category", "priority", "enabled",
)  # fmt: skip


def list_rules(session: Session) -> list[Rule]:
    return list(session.scalars(select(Rule).order_by(Rule.event_type, Rule.id)))


def get_rule(session: Session, rule_id: int) -> Rule:
    rule = session.get(Rule, rule_id)
    if rule is None:
        raise NotFound("No such rule.")
    return rule


def sample_context(event_type: str) -> dict:
    """The context a template gets, with the sample event of the type and a sample person."""
    event = copy.deepcopy(defaults.example_for(event_type))
    user_id = event.get("user_id") or 7
    return {
        "event": event,
        "recipient": {
            "key": recipient_key(user_id),
            "user_id": user_id,
            "email": event.get("email") or "budi@pustaka.local",
            "name": event.get("name") or "Budi Santoso",
            "language": event.get("language", "id"),
        },
    }


def _subset(values: Any, allowed: Iterable[str]) -> list[str] | None:
    """The values without repeats if every one is allowed, else None."""
    if not isinstance(values, list | tuple) or not values:
        return None
    allowed = set(allowed)
    if not all(isinstance(value, str) and value in allowed for value in values):
        return None
    return list(dict.fromkeys(values))


def _rule_errors(session: Session, data: dict, installed_channels: Iterable[str]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    name = data["name"]
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        errors["name"] = [N_("Give a name of at most 200 characters.")]
    if data["event_type"] not in defaults.known_event_types():
        errors["event_type"] = [N_("Not one of the known event types.")]
    recipients = _subset(data["recipients"], RECIPIENT_KINDS)
    if recipients is None:
        errors["recipients"] = [N_("Choose one or more of the known kinds of recipients.")]
    else:
        data["recipients"] = recipients
    channels = _subset(data["channels"], installed_channels)
    if channels is None:
        errors["channels"] = [N_("Choose one or more of the installed channels.")]
    else:
        data["channels"] = channels
    if data["category"] not in CATEGORIES:
        errors["category"] = [N_("Not one of the categories.")]
    if data["priority"] not in PRIORITIES:
        errors["priority"] = [N_("Not one of the priorities.")]
    if not isinstance(data["enabled"], bool):
        errors["enabled"] = [N_("Must be true or false.")]
    template = session.scalar(select(MessageTemplate).where(MessageTemplate.key == data["template_key"]))
    if template is None:
        errors["template_key"] = [N_("No template with this key.")]
    elif "event_type" not in errors:
        # A rule whose template cannot render its events would fail every one of them.
        try:
            check(template, [sample_context(data["event_type"])])
        except TemplateInvalid as invalid:
            errors["template_key"] = [
                N_("The template does not render with this event type's sample."),
                *(
                    f"{field}: {message}"
                    for field, messages in invalid.errors.items()
                    for message in messages
                ),
            ]
    return errors


def _save_rule(session: Session, rule: Rule, data: dict, installed_channels: Iterable[str] | None) -> Rule:
    installed = list(load_channels() if installed_channels is None else installed_channels)
    errors = _rule_errors(session, data, installed)
    if rule.builtin and isinstance(data["name"], str) and data["name"].strip() != rule.name:
        # Built-in rules are recognised by name at start (``defaults.ensure_builtins``): a renamed
        # one would come back beside the renamed copy.
        errors["name"] = [N_("A built-in rule keeps its name.")]
    if errors:
        raise Invalid("The rule has invalid fields.", errors)
    for field in RULE_FIELDS:
        setattr(rule, field, data[field].strip() if field == "name" else data[field])
    session.add(rule)
    session.flush()
    return rule


def create_rule(
    session: Session, data: Mapping[str, Any], installed_channels: Iterable[str] | None = None
) -> Rule:
    """A new rule; ``priority`` defaults to normal and ``enabled`` to true."""
    values = {"priority": "normal", "enabled": True} | dict(data)
    missing = [field for field in RULE_FIELDS if field not in values]
    if missing:
        raise Invalid(
            "The rule has invalid fields.", {field: [N_("This field is required.")] for field in missing}
        )
    return _save_rule(session, Rule(builtin=False), values, installed_channels)


def update_rule(
    session: Session,
    rule_id: int,
    changes: Mapping[str, Any],
    installed_channels: Iterable[str] | None = None,
) -> Rule:
    """Change some fields of a rule; the others stay. The whole rule is checked again."""
    rule = get_rule(session, rule_id)
    values = {field: getattr(rule, field) for field in RULE_FIELDS}
    values |= {field: value for field, value in changes.items() if field in RULE_FIELDS}
    return _save_rule(session, rule, values, installed_channels)


# Templates -------------------------------------------------------------------------------

TEMPLATE_FIELDS = ("subject_id", "subject_en", "text_id", "text_en", "html_id", "html_en")
REQUIRED_TEMPLATE_FIELDS = ("subject_id", "subject_en", "text_id", "text_en")


def list_templates(session: Session) -> list[MessageTemplate]:
    return list(session.scalars(select(MessageTemplate).order_by(MessageTemplate.key)))


def get_template(session: Session, key: str) -> MessageTemplate:
    template = session.scalar(select(MessageTemplate).where(MessageTemplate.key == key))
    if template is None:
        raise NotFound("No such template.")
    return template


def rules_using(session: Session, key: str) -> list[Rule]:
    return list(session.scalars(select(Rule).where(Rule.template_key == key).order_by(Rule.id)))


def _unsafe_access(source: str, environment) -> str | None:
    """A reason if the text reaches for private attributes (``__class__``, ``_x``).

    The sandbox refuses these when the template runs; refusing them at save as well keeps
    such text out of the database even when no rule uses the template yet."""
    try:
        tree = environment.parse(source)
    except TemplateError:
        return None  # reported as a syntax error
    names = [node.attr for node in tree.find_all(nodes.Getattr)]
    names += [
        node.arg.value
        for node in tree.find_all(nodes.Getitem)
        if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str)
    ]
    names += [
        node.args[0].value
        for node in tree.find_all(nodes.Filter)
        if node.name == "attr" and node.args and isinstance(node.args[0], nodes.Const)
        and isinstance(node.args[0].value, str)
    ]  # fmt: skip
    unsafe = next((name for name in names if name.startswith("_")), None)
    return f"SecurityError: access to attribute {unsafe!r} is unsafe." if unsafe else None


def _template_errors(template: MessageTemplate, contexts: list[dict]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for field in TEMPLATE_FIELDS:
        value = getattr(template, field)
        if not isinstance(value, str):
            errors[field] = [N_("Must be text.")]
        elif field in REQUIRED_TEMPLATE_FIELDS and not value.strip():
            errors[field] = [N_("This field is required.")]
        elif field.startswith("subject") and len(value) > 300:
            errors[field] = [N_("At most 300 characters.")]
        else:
            reason = _unsafe_access(value, HTML if field.startswith("html") else TEXT)
            if reason:
                errors[field] = [reason]
    if errors:
        return errors
    try:
        check(template, contexts)
    except TemplateInvalid as invalid:
        return invalid.errors
    return {}


def _draft(template: MessageTemplate, changes: Mapping[str, Any]) -> MessageTemplate:
    """A detached copy with the changes, for checking without touching the stored one."""
    values = {field: getattr(template, field) or "" for field in TEMPLATE_FIELDS}
    values |= {field: value for field, value in changes.items() if field in TEMPLATE_FIELDS}
    return MessageTemplate(key=template.key, **values)


def update_template(session: Session, key: str, changes: Mapping[str, Any]) -> MessageTemplate:
    """Change some texts of a template; refused unless every text compiles in the sandbox and
    renders, in both languages, the sample event of every rule that uses the template."""
    template = get_template(session, key)
    draft = _draft(template, changes)
    event_types = sorted({rule.event_type for rule in rules_using(session, key)})
    errors = _template_errors(draft, [sample_context(event_type) for event_type in event_types])
    if errors:
        raise Invalid("The template does not render.", errors)
    for field in TEMPLATE_FIELDS:
        setattr(template, field, getattr(draft, field))
    template.updated_at = utcnow()
    session.flush()
    return template


def preview_template(
    session: Session,
    key: str,
    event_type: str,
    languages: Iterable[str] = ("id", "en"),
    changes: Mapping[str, Any] | None = None,
) -> dict[str, RenderedMessage]:
    """The template (with unsaved ``changes``, if given) rendered with the sample event of the
    type, by language. Nothing is saved."""
    if event_type not in defaults.known_event_types():
        raise Invalid(
            "The preview has invalid fields.", {"event_type": [N_("Not one of the known event types.")]}
        )
    draft = _draft(get_template(session, key), changes or {})
    context = sample_context(event_type)
    errors = _template_errors(draft, [context])
    if errors:
        raise Invalid("The template does not render.", errors)
    return {language: render(draft, language, context) for language in languages}


# Webhook subscriptions -------------------------------------------------------------------


def list_webhooks(session: Session) -> list[WebhookSubscription]:
    return list(session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))


def get_webhook(session: Session, subscription_id: int) -> WebhookSubscription:
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None:
        raise NotFound("No such webhook subscription.")
    return subscription


def new_webhook_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _url_error(url: Any) -> str | None:
    if not isinstance(url, str) or not url.strip():
        return N_("This field is required.")
    if len(url) > 500:
        return N_("At most 500 characters.")
    parsed = urlparse(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return N_("Give an http:// or https:// address.")
    if parsed.username or parsed.password:
        return N_("Leave the user name and password out of the address.")
    return None


def create_webhook(
    session: Session, owner_user_id: int, url: str, event_types: Iterable[str]
) -> WebhookSubscription:
    """A subscription to the given catalog events; its secret is generated here and shown once."""
    errors = {}
    url_error = _url_error(url)
    if url_error:
        errors["url"] = [url_error]
    chosen = _subset(list(event_types or []), catalog.CATALOG)
    if chosen is None:
        errors["event_types"] = [N_("Choose one or more event types of the catalog.")]
    if errors:
        raise Invalid("The webhook subscription has invalid fields.", errors)
    subscription = WebhookSubscription(
        owner_user_id=owner_user_id,
        url=url.strip(),
        secret=new_webhook_secret(),
        event_types=chosen,
        active=True,
    )
    session.add(subscription)
    session.flush()
    return subscription


def set_webhook_active(session: Session, subscription_id: int, active: bool) -> WebhookSubscription:
    """Disable or enable a subscription; enabling starts its failure count afresh."""
    subscription = get_webhook(session, subscription_id)
    if active and not subscription.active:
        subscription.consecutive_failures, subscription.disabled_reason = 0, None
    elif not active and subscription.active:
        subscription.disabled_reason = "disabled by an administrator"
    subscription.active = active
    return subscription


def webhook_key(subscription_id: int) -> str:
    return f"webhook:{subscription_id}"


# The delivery log ------------------------------------------------------------------------

REPLAYABLE_STATES = ("failed", "sent")


def list_deliveries(
    session: Session,
    *,
    state: str | None = None,
    channel: str | None = None,
    event_type: str | None = None,
    recipient: str | None = None,
    recipient_key: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Delivery], int]:
    """A page of the delivery log, newest first, and how many rows match in all.

    ``recipient`` matches any part of the recipient key (``user:7``, ``email:…``,
    ``webhook:3``), case-insensitively; ``recipient_key`` matches it exactly."""
    if state and state not in DELIVERY_STATES:
        raise Invalid("The filter has invalid fields.", {"state": [N_("Not one of the delivery states.")]})
    conditions = []
    if state:
        conditions.append(Delivery.state == state)
    if channel:
        conditions.append(Delivery.channel == channel)
    if event_type:
        conditions.append(Delivery.event_type == event_type)
    if recipient:
        conditions.append(func.lower(Delivery.recipient_key).contains(recipient.lower(), autoescape=True))
    if recipient_key:
        conditions.append(Delivery.recipient_key == recipient_key)
    total = session.scalar(select(func.count()).select_from(Delivery).where(*conditions))
    rows = session.scalars(
        select(Delivery)
        .options(selectinload(Delivery.attempt_log))
        .where(*conditions)
        .order_by(Delivery.created_at.desc(), Delivery.id.desc())
        .limit(max(1, min(limit, 200)))
        .offset(max(0, offset))
    ).all()
    return list(rows), total


def replayable(delivery: Delivery) -> bool:
    return delivery.channel != "in_app" and delivery.state in REPLAYABLE_STATES


def delivery_detail(session: Session, delivery_id: int) -> Delivery:
    """One delivery, with every attempt made (``attempt_log``)."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound("No such delivery.")
    return delivery


def replay_delivery(session: Session, delivery_id: int, now: datetime | None = None) -> Delivery:
    """Send a failed (or already sent) email or webhook once more: back to the queue, due now,
    with a fresh count of attempts. In-app messages are written at once and never replayed."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound("No such delivery.")
    if delivery.channel == "in_app":
        raise Conflict("In-app messages are delivered at once; there is nothing to replay.")
    if delivery.state not in REPLAYABLE_STATES:
        raise Conflict("Only failed or sent deliveries can be replayed.")
    if delivery.channel == "webhook":
        subscription = session.get(WebhookSubscription, int(delivery.recipient_key.split(":")[1]))
        if subscription is None or not subscription.active:
            raise Conflict("The webhook subscription is disabled: enable it before replaying.")
    delivery.state, delivery.attempts, delivery.next_attempt_at = "queued", 0, now or utcnow()
    return delivery


def rule_names(session: Session) -> dict[int, str]:
    return {rule_id: name for rule_id, name in session.execute(select(Rule.id, Rule.name))}
