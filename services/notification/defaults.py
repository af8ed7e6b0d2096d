"""The built-in rules and templates: one rule for every event of the catalog, and the reminders.

They are written to the database at start when missing; admins edit them there.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import catalog

from .models import MessageTemplate, Rule

SESSION_REMINDER_24H = "reminder.session_starting.24h"
SESSION_REMINDER_1H = "reminder.session_starting.1h"
QUIZ_CLOSING_REMINDER = "reminder.quiz_closing.24h"
REMINDER_KINDS = (SESSION_REMINDER_24H, SESSION_REMINDER_1H, QUIZ_CLOSING_REMINDER)

TEMPLATES = {
    "welcome": {
        "subject_id": "Selamat datang di Pustaka, {{ event.name }}",
        "subject_en": "Welcome to Pustaka, {{ event.name }}",
        "text_id": "Akun Anda di Pustaka, layanan belajar Perpustakaan Kota Semarang, sudah dibuat."
        "\n\nMasuk dengan email {{ event.email }}.",
        "text_en": "Your account at Pustaka, the learning services of the Semarang City Library, is ready."
        "\n\nSign in with your email {{ event.email }}.",
    },
    "programme_published": {
        "subject_id": "Program diterbitkan: {{ event.title.id }}",
        "subject_en": "Programme published: {{ event.title.en }}",
        "text_id": "Program {{ event.title.id }} kini terbuka untuk pendaftaran.",
        "text_en": "The programme {{ event.title.en }} is now open for enrollment.",
    },
    "enrollment_confirmed": {
        "subject_id": "Kursi Anda terkonfirmasi",
        "subject_en": "Your seat is confirmed",
        "text_id": "Anda terdaftar di {{ event.programme_title.id }}, mulai {{ event.starts_at | wib }}.",
        "text_en": "You are enrolled in {{ event.programme_title.en }}, starting {{ event.starts_at | wib }}.",
    },
    "enrollment_waitlisted": {
        "subject_id": "Anda dalam daftar tunggu",
        "subject_en": "You are on the waiting list",
        "text_id": "{{ event.programme_title.id }} sudah penuh. Posisi Anda: {{ event.waitlist_position }}.",
        "text_en": "{{ event.programme_title.en }} is full. Your position: {{ event.waitlist_position }}.",
    },
    "enrollment_cancelled": {
        "subject_id": "Pendaftaran Anda dibatalkan",
        "subject_en": "Your enrollment is cancelled",
        "text_id": "Pendaftaran Anda di {{ event.programme_title.id }} ({{ event.starts_at | wib }}) dibatalkan.",
        "text_en": "Your enrollment in {{ event.programme_title.en }} ({{ event.starts_at | wib }}) is cancelled.",
    },
    "attempt_graded": {
        "subject_id": "Hasil kuis: {{ event.quiz_title.id }}",
        "subject_en": "Quiz result: {{ event.quiz_title.en }}",
        "text_id": "Skor Anda {{ '%g' % event.score }} dari {{ '%g' % event.max_score }}"
        " ({{ '%g' % event.percent }}%).",
        "text_en": "You scored {{ '%g' % event.score }} of {{ '%g' % event.max_score }}"
        " ({{ '%g' % event.percent }}%).",
    },
    "mentoring_paired": {
        "subject_id": "Pasangan mentoring baru: {{ event.mentor_name }} dan {{ event.mentee_name }}",
        "subject_en": "New mentoring pair: {{ event.mentor_name }} and {{ event.mentee_name }}",
        "text_id": "{{ event.mentor_name }} membimbing {{ event.mentee_name }}"
        " dari {{ event.starts_on }} sampai {{ event.ends_on }}.",
        "text_en": "{{ event.mentor_name }} mentors {{ event.mentee_name }}"
        " from {{ event.starts_on }} to {{ event.ends_on }}.",
    },
    "mentoring_meeting": {
        "subject_id": "Pertemuan mentoring {{ event.met_on }} tercatat",
        "subject_en": "Mentoring meeting of {{ event.met_on }} recorded",
        "text_id": "Topik: {{ event.topics }}",
        "text_en": "Topics: {{ event.topics }}",
    },
    "followup_due": {
        "subject_id": "Saatnya asesmen lanjutan: {{ event.programme_title.id }}",
        "subject_en": "Your follow-up assessment is due: {{ event.programme_title.en }}",
        "text_id": "Beberapa minggu setelah {{ event.programme_title.id }}, mohon isi asesmen lanjutan"
        " sebelum {{ event.due_at | wib }}.",
        "text_en": "Some weeks after {{ event.programme_title.en }}, please take the follow-up assessment"
        " by {{ event.due_at | wib }}.",
    },
    "quiz_scheduled": {
        "subject_id": "Kuis dibuka: {{ event.quiz_title.id }}",
        "subject_en": "Quiz open: {{ event.quiz_title.en }}",
        "text_id": "{{ event.quiz_title.id }} dapat dikerjakan"
        "{% if event.closes_at %} sampai {{ event.closes_at | wib }}{% endif %}.",
        "text_en": "{{ event.quiz_title.en }} is open"
        "{% if event.closes_at %} until {{ event.closes_at | wib }}{% endif %}.",
    },
    "quiz_closing": {
        "subject_id": "Pengingat: {{ event.quiz_title.id }} ditutup {{ event.closes_at | wib }}",
        "subject_en": "Reminder: {{ event.quiz_title.en }} closes {{ event.closes_at | wib }}",
        "text_id": "Kuis {{ event.quiz_title.id }} ditutup dalam 24 jam.",
        "text_en": "The quiz {{ event.quiz_title.en }} closes in 24 hours.",
    },
    "session_cancelled": {
        "subject_id": "Sesi dibatalkan: {{ event.programme_title.id }}",
        "subject_en": "Session cancelled: {{ event.programme_title.en }}",
        "text_id": "Sesi {{ event.programme_title.id }} pada {{ event.starts_at | wib }} dibatalkan."
        "{% if event.reason %}\n\nAlasan: {{ event.reason }}{% endif %}"
        "\n\nKursi atau tempat Anda di daftar tunggu sesi ini tidak berlaku lagi.",
        "text_en": "The session of {{ event.programme_title.en }} on {{ event.starts_at | wib }} is cancelled."
        "{% if event.reason %}\n\nReason: {{ event.reason }}{% endif %}"
        "\n\nYour seat or place on the waiting list for this session no longer holds.",
    },
    "public_enrollment_requested": {
        "subject_id": "Konfirmasi kursi Anda: {{ event.programme_title.id }}",
        "subject_en": "Confirm your seat: {{ event.programme_title.en }}",
        "text_id": "Halo {{ event.name }},\n\nAnda meminta kursi di {{ event.programme_title.id }},"
        " {{ event.starts_at | wib }}{% if event.venue %}, {{ event.venue }}{% endif %}."
        "\n\nKursi Anda kami tahan sampai {{ event.hold_expires_at | wib }}. Konfirmasi di sini:"
        "\n{{ event.confirm_url }}\n\nTidak jadi ikut? Lepaskan kursi Anda untuk orang lain:\n{{ event.cancel_url }}",
        "text_en": "Hello {{ event.name }},\n\nYou asked for a seat in {{ event.programme_title.en }},"
        " {{ event.starts_at | wib }}{% if event.venue %}, {{ event.venue }}{% endif %}."
        "\n\nWe hold your seat until {{ event.hold_expires_at | wib }}. Confirm it here:"
        "\n{{ event.confirm_url }}\n\nCannot come? Free your seat for someone else:\n{{ event.cancel_url }}",
        "html_id": "<p>Halo {{ event.name }},</p><p>Anda meminta kursi di {{ event.programme_title.id }},"
        " {{ event.starts_at | wib }}{% if event.venue %}, {{ event.venue }}{% endif %}.</p>"
        "<p>Kursi Anda kami tahan sampai {{ event.hold_expires_at | wib }}."
        ' <a href="{{ event.confirm_url }}">Konfirmasi kursi saya</a></p>'
        '<p>Tidak jadi ikut? <a href="{{ event.cancel_url }}">Lepaskan kursi saya</a> untuk orang lain.</p>',
        "html_en": "<p>Hello {{ event.name }},</p><p>You asked for a seat in {{ event.programme_title.en }},"
        " {{ event.starts_at | wib }}{% if event.venue %}, {{ event.venue }}{% endif %}.</p>"
        "<p>We hold your seat until {{ event.hold_expires_at | wib }}."
        ' <a href="{{ event.confirm_url }}">Confirm my seat</a></p>'
        '<p>Cannot come? <a href="{{ event.cancel_url }}">Free my seat</a> for someone else.</p>',
    },
    "public_enrollment_cancelled": {
        "subject_id": "Kursi Anda dilepas: {{ event.programme_title.id }}",
        "subject_en": "Your seat is released: {{ event.programme_title.en }}",
        "text_id": "Halo {{ event.name }},\n\nKursi Anda di {{ event.programme_title.id }}, {{ event.starts_at | wib }},"
        " tidak berlaku lagi: {% if event.reason == 'expired' %}kursi itu tidak dikonfirmasi tepat waktu."
        "{% elif event.reason == 'session_cancelled' %}sesinya dibatalkan.{% else %}Anda melepaskannya.{% endif %}",
        "text_en": "Hello {{ event.name }},\n\nYour seat in {{ event.programme_title.en }}, {{ event.starts_at | wib }},"
        " no longer holds: {% if event.reason == 'expired' %}it was not confirmed in time."
        "{% elif event.reason == 'session_cancelled' %}the session is cancelled.{% else %}you gave it up.{% endif %}",
    },
    "activity_completed": {
        "subject_id": "Selamat, Anda menyelesaikan {{ event.programme_title.id }}",
        "subject_en": "Congratulations, you completed {{ event.programme_title.en }}",
        "text_id": "Anda telah menyelesaikan {{ event.programme_title.id }} ({{ '%g' % event.hours }} jam)."
        "{% if event.certificate_url %}\n\nUnduh sertifikat Anda{% if event.certificate_code %}"
        " (kode verifikasi {{ event.certificate_code }}){% endif %}:\n{{ event.certificate_url }}{% endif %}"
        "\n\nBantu kami memperbaiki program ini: isi survei umpan balik di\n{{ event.survey_url }}",
        "text_en": "You have completed {{ event.programme_title.en }} ({{ '%g' % event.hours }} hours)."
        "{% if event.certificate_url %}\n\nDownload your certificate{% if event.certificate_code %}"
        " (verification code {{ event.certificate_code }}){% endif %}:\n{{ event.certificate_url }}{% endif %}"
        "\n\nHelp us improve the programme: answer the feedback survey at\n{{ event.survey_url }}",
    },
    "session_starting": {
        "subject_id": "Pengingat: {{ event.programme_title.id }} dimulai {{ event.starts_at | wib }}",
        "subject_en": "Reminder: {{ event.programme_title.en }} starts {{ event.starts_at | wib }}",
        "text_id": "Sesi {{ event.programme_title.id }} yang Anda ikuti dimulai {{ event.starts_at | wib }}.",
        "text_en": "Your session of {{ event.programme_title.en }} starts {{ event.starts_at | wib }}.",
    },
}

# name, event type, recipients, template, channels, category, priority
RULES = (
    ("Welcome a new account", catalog.USER_REGISTERED.name, ["subject"], "welcome",
     ["in_app", "email"], "account", "normal"),
    ("Tell the coordinator a programme is out", catalog.PROGRAMME_PUBLISHED.name,
     ["programme_coordinators"], "programme_published", ["in_app"], "programmes", "low"),
    ("Seat confirmed", catalog.ENROLLMENT_CONFIRMED.name, ["subject"], "enrollment_confirmed",
     ["in_app", "email"], "enrollment", "normal"),
    ("Waiting list", catalog.ENROLLMENT_WAITLISTED.name, ["subject"], "enrollment_waitlisted",
     ["in_app", "email"], "enrollment", "normal"),
    ("Enrollment cancelled", catalog.ENROLLMENT_CANCELLED.name, ["subject"], "enrollment_cancelled",
     ["in_app"], "enrollment", "low"),
    ("Quiz result", catalog.ATTEMPT_GRADED.name, ["subject", "event_email"], "attempt_graded",
     ["in_app", "email"], "results", "low"),
    ("Mentoring pair formed", catalog.MENTORING_PAIRED.name, ["mentoring_pair"], "mentoring_paired",
     ["in_app", "email"], "enrollment", "normal"),
    ("Mentoring meeting recorded", catalog.MENTORING_MEETING_LOGGED.name, ["mentoring_pair"],
     "mentoring_meeting", ["in_app"], "enrollment", "low"),
    ("Follow-up assessment due", catalog.FOLLOWUP_DUE.name, ["subject"], "followup_due",
     ["in_app", "email"], "reminders", "normal"),
    ("Quiz open for a programme", catalog.QUIZ_SCHEDULED.name, ["programme_participants"],
     "quiz_scheduled", ["in_app"], "results", "low"),
    ("Quiz closes tomorrow", QUIZ_CLOSING_REMINDER, ["programme_participants"], "quiz_closing",
     ["in_app", "email"], "reminders", "normal"),
    ("Session cancelled", catalog.SESSION_CANCELLED.name, ["session_roster"], "session_cancelled",
     ["in_app", "email"], "enrollment", "urgent"),
    # The link that confirms a held seat: essential, and not held back by quiet hours.
    ("Public class: confirm the seat", catalog.PUBLIC_ENROLLMENT_REQUESTED.name, ["event_email"],
     "public_enrollment_requested", ["email"], "account", "urgent"),
    ("Public class: seat released", catalog.PUBLIC_ENROLLMENT_CANCELLED.name, ["event_email"],
     "public_enrollment_cancelled", ["email"], "enrollment", "normal"),
    ("Programme completed", catalog.ACTIVITY_COMPLETED.name, ["subject"], "activity_completed",
     ["in_app", "email"], "results", "normal"),
    ("Session tomorrow", SESSION_REMINDER_24H, ["subject"], "session_starting",
     ["in_app", "email"], "reminders", "normal"),
    ("Session in one hour", SESSION_REMINDER_1H, ["subject"], "session_starting",
     ["in_app", "email"], "reminders", "urgent"),
)  # fmt: skip

# Sample data of each reminder, for previews and for checking templates at save.
REMINDER_EXAMPLES = {
    SESSION_REMINDER_24H: catalog.ENROLLMENT_EXAMPLE,
    SESSION_REMINDER_1H: catalog.ENROLLMENT_EXAMPLE,
    QUIZ_CLOSING_REMINDER: catalog.QUIZ_SCHEDULED.example,
}


def example_for(event_type: str) -> dict:
    return REMINDER_EXAMPLES.get(event_type) or catalog.get(event_type).example


def known_event_types() -> list[str]:
    return [*catalog.CATALOG, *REMINDER_KINDS]


def ensure_builtins(session: Session) -> int:
    """Write the built-in templates and rules that are missing; returns how many were added."""
    added = 0
    existing_templates = set(session.scalars(select(MessageTemplate.key)))
    for key, fields in TEMPLATES.items():
        if key not in existing_templates:
            session.add(MessageTemplate(key=key, **fields))
            added += 1
    existing_rules = set(session.scalars(select(Rule.name).where(Rule.builtin.is_(True))))
    for name, event_type, recipients, template, channels, category, priority in RULES:
        if name not in existing_rules:
            session.add(
                Rule(name=name, event_type=event_type, recipients=recipients, template_key=template,
                     channels=channels, category=category, priority=priority, builtin=True)
            )  # fmt: skip
            added += 1
    return added
