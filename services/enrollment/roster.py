"""Roster import: coordinators bring staff accounts and their enrollments in from a CSV file.

The file has a header row; its columns, in any order, named in any case:

- ``email`` (required): the account's email;
- ``name`` (required): the person's full name;
- ``language``: ``id`` or ``en`` (``id`` when empty);
- ``roles``: ``staff``, ``mentor`` (and ``coordinator`` when an admin imports), separated by spaces,
  commas or ``|`` (``staff`` when empty); never ``admin``;
- ``session_id``: the number of a staff session to enroll the person in (none when empty).

A person with several sessions has one row per session, their name, language and roles the same on
each. The file is UTF-8, with or without a BOM (Excel's "CSV UTF-8"), separated by commas or by
semicolons, as Excel writes CSV in the Indonesian locale (whose decimal mark is the comma): the
header row decides which.

What a row does:

- an email without an account creates one (``handlers.create_user``: a random password, and the
  ``pustaka.user.registered.v1`` event whose welcome email tells the person how to sign in);
- an account is matched by email and keeps its name and language: a person's own account is
  theirs, and other services learn a name and language only when the account is created, so a
  change here would not reach them. A difference is reported as a note. Roles in the file are added
  to the account's and never taken away (an old file demotes nobody);
- a ``session_id`` enrolls the person by the rules of ``handlers.enroll`` (a seat while seats
  remain, else the waiting list); an active enrollment is left as it is.

So importing the same file again changes nothing. :func:`check_roster` reads the file and reports
every row's problems with its line number, writing nothing (the dry run); :func:`import_roster`
then writes all rows or none (``all-or-nothing``), or each good row on its own (``per-row``).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from marshmallow import ValidationError, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.catalog import LANGUAGES, ROLES
from shared.db import utcnow
from shared.errors import DomainError, Invalid
from shared.i18n import N_

from . import handlers
from .models import ACTIVE_STATES, Enrollment, ProgrammeSession, User

COLUMNS = ("email", "name", "language", "roles", "session_id")
REQUIRED = ("email", "name")
# Of a file sent through the page or the API, which import while the request waits (each new
# account's password hash takes a moment); the command line takes any size.
MAX_UPLOAD = 256 * 1024
ALL_OR_NOTHING, PER_ROW = "all-or-nothing", "per-row"
MODES = (ALL_OR_NOTHING, PER_ROW)
# Accounts: created, or found by email. Enrollments: to be made (in a check), made, or there already.
NEW, EXISTING = "new", "existing"
TO_ENROLL, ALREADY = "to_enroll", "already"
ROLE_SEPARATORS = re.compile(r"[\s,;|]+")
_email = validate.Email()


def allowed_roles(importer_roles: Collection[str]) -> tuple[str, ...]:
    """The roles a file may give: coordinators import staff and mentors, admins coordinators too."""
    return ("staff", "mentor", "coordinator") if "admin" in importer_roles else ("staff", "mentor")


@dataclass(frozen=True)
class Problem:
    """A message about a row or the file, in English with ``params``, translatable by the pages."""

    column: str  # "" for the whole row or file
    template: str
    params: Mapping[str, object] = field(default_factory=dict)

    def text(self, translate: Callable[[str], str] = str) -> str:
        message = translate(self.template)
        return message % self.params if self.params else message

    @classmethod
    def of(cls, error: DomainError, column: str = "") -> Problem:
        if isinstance(error, handlers.Refused):
            return cls(column, error.template, error.params)
        return cls(column, error.message)


class RosterFileError(Invalid):
    """The file cannot be read as a roster: its encoding, separator or columns."""

    def __init__(self, problem: Problem):
        super().__init__(problem.text(), {"file": [problem.text()]})
        self.problem = problem


@dataclass
class Row:
    line: int  # where the row starts in the file
    email: str = ""
    name: str = ""
    language: str = "id"
    roles: tuple[str, ...] = ("staff",)
    session_id: int | None = None
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    account: str = ""  # NEW or EXISTING
    enrollment: str = ""  # TO_ENROLL or ALREADY, then the status of the enrollment made


@dataclass
class Roster:
    rows: list[Row]
    written: bool = False  # whether an import committed anything

    @property
    def problem_rows(self) -> list[Row]:
        return [row for row in self.rows if row.problems]

    @property
    def accounts_new(self) -> int:
        return sum(row.account == NEW and not row.problems for row in self.rows)

    @property
    def enrollments_new(self) -> int:
        return sum(row.enrollment not in ("", ALREADY) and not row.problems for row in self.rows)


# Reading the file ------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise RosterFileError(
            Problem("file", N_("The file is in UTF-16 (Excel's “Unicode Text”): save it as “CSV UTF-8”."))
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RosterFileError(
            Problem(
                "file",
                N_("The file is not UTF-8 (line %(line)d): save it as “CSV UTF-8”."),
                {"line": data.count(b"\n", 0, error.start) + 1},
            )
        ) from None


def _columns(header: list[str]) -> list[str]:
    columns = [name.strip().lower() for name in header]
    while columns and not columns[-1]:  # spreadsheets may save empty cells after the last column
        columns.pop()
    unknown = [name or '""' for name in columns if name not in COLUMNS]
    missing = [name for name in REQUIRED if name not in columns]
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    for names, template in (
        (
            unknown,
            N_("Unknown columns: %(columns)s. The columns are email, name, language, roles and session_id."),
        ),
        (missing, N_("Missing columns: %(columns)s. Email and name are required.")),
        (repeated, N_("Repeated columns: %(columns)s.")),
    ):
        if names:
            raise RosterFileError(Problem("file", template, {"columns": ", ".join(names)}))
    return columns


def _row(line: int, values: Mapping[str, str], roles_allowed: Collection[str]) -> Row:
    row = Row(line, email=values["email"].lower(), name=values["name"])
    try:
        _email(row.email)
    except ValidationError:
        row.problems.append(Problem("email", N_("Not an email address.")))
    if not row.name:
        row.problems.append(Problem("name", N_("Give the person's name.")))
    elif len(row.name) > 200:
        row.problems.append(Problem("name", N_("At most 200 characters.")))
    row.language = values.get("language", "").lower() or "id"
    if row.language not in LANGUAGES:
        row.problems.append(Problem("language", N_("The language is id or en.")))
    roles = [role for role in ROLE_SEPARATORS.split(values.get("roles", "").lower()) if role]
    row.roles = tuple(sorted(set(roles))) or ("staff",)
    for role in row.roles:
        if role not in ROLES:
            row.problems.append(Problem("roles", N_("Unknown role: %(role)s."), {"role": role}))
        elif role not in roles_allowed:
            row.problems.append(
                Problem("roles", N_("An import cannot give the role %(role)s."), {"role": role})
            )
    session_id = values.get("session_id", "")
    if session_id.isdigit():
        row.session_id = int(session_id)
    elif session_id:
        row.problems.append(Problem("session_id", N_("Give the number of a session.")))
    return row


def read_rows(data: bytes, roles_allowed: Collection[str]) -> list[Row]:
    """The rows of a CSV file, each with the problems of its own cells."""
    text = _decode(data)
    first = next((line for line in text.splitlines() if line.strip()), "")
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=";" if first.count(";") > first.count(",") else ","
    )
    rows: list[Row] = []
    try:
        header = next((cells for cells in reader if any(cell.strip() for cell in cells)), None)
        if header is None:
            raise RosterFileError(Problem("file", N_("The file is empty.")))
        columns = _columns(header)
        read = reader.line_num
        for cells in reader:
            line, read = read + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if any(cell.strip() for cell in cells[len(columns) :]):
                rows.append(
                    Row(
                        line,
                        problems=[
                            Problem(
                                "",
                                N_(
                                    "%(found)d cells where the header has %(expected)d: is the separator right?"
                                ),
                                {"found": len(cells), "expected": len(columns)},
                            )
                        ],
                    )
                )
                continue
            values = dict.fromkeys(columns, "") | {
                name: cell.strip() for name, cell in zip(columns, cells, strict=False)
            }
            rows.append(_row(line, values, roles_allowed))
    except csv.Error as error:
        raise RosterFileError(
            Problem(
                "file",
                N_("Line %(line)d cannot be read: %(reason)s."),
                {"line": reader.line_num, "reason": error},
            )
        ) from None
    if not rows:
        raise RosterFileError(Problem("file", N_("The file has no rows under its header.")))
    return rows


# Checking and importing ------------------------------------------------------------------------


def _session_problem(session: Session, session_id: int, now: datetime) -> Problem | None:
    programme_session = session.get(ProgrammeSession, session_id)
    if programme_session is None:
        return Problem("session_id", N_("There is no session %(id)d."), {"id": session_id})
    try:
        handlers._check_open(
            programme_session.programme,
            programme_session.status,
            programme_session.starts_at,
            programme_session.enrollment_opens_at,
            programme_session.enrollment_closes_at,
            "staff",
            now,
        )
    except DomainError as error:
        return Problem.of(error, "session_id")
    return None


def _enrolled(session: Session, session_id: int, user_id: int) -> bool:
    return (
        session.scalar(
            select(Enrollment.id).where(
                Enrollment.session_id == session_id,
                Enrollment.user_id == user_id,
                Enrollment.status.in_(ACTIVE_STATES),
            )
        )
        is not None
    )


def check_roster(
    session: Session, data: bytes, *, importer_roles: Collection[str], now: datetime | None = None
) -> Roster:
    """Read the file and say what each row would do, or why it cannot: writes nothing (the dry run).
    Raises RosterFileError when the file is not a roster at all."""
    now = now or utcnow()
    rows = read_rows(data, allowed_roles(importer_roles))
    first_of: dict[str, Row] = {}
    planned: set[tuple[str, int]] = set()
    session_problems: dict[int, Problem | None] = {}
    for row in rows:
        if not row.email:
            continue  # a row of the wrong width
        first = first_of.setdefault(row.email, row)
        if (first.name, first.language, first.roles) != (row.name, row.language, row.roles):
            row.problems.append(
                Problem(
                    "",
                    N_("The same email as line %(line)d, with another name, language or roles."),
                    {"line": first.line},
                )
            )
        user = session.scalar(select(User).where(User.email == row.email))
        # A later row of a person finds the account the first row creates.
        row.account = NEW if user is None and (first is row or first.problems) else EXISTING
        if user is not None:
            if row.name != user.name:
                row.notes.append(
                    Problem("name", N_("The account's name stays %(name)s."), {"name": user.name})
                )
            if row.language != user.language:
                row.notes.append(
                    Problem(
                        "language",
                        N_("The account's language stays %(language)s."),
                        {"language": user.language},
                    )
                )
            if added := sorted(set(row.roles) - set(user.roles)):
                row.notes.append(
                    Problem("roles", N_("Roles to add: %(roles)s."), {"roles": ", ".join(added)})
                )
        if row.session_id is None:
            continue
        if row.session_id not in session_problems:
            session_problems[row.session_id] = _session_problem(session, row.session_id, now)
        if problem := session_problems[row.session_id]:
            row.problems.append(problem)
        if row.problems:
            continue
        if (row.email, row.session_id) in planned or (user and _enrolled(session, row.session_id, user.id)):
            row.enrollment = ALREADY
        else:
            row.enrollment = TO_ENROLL
            planned.add((row.email, row.session_id))
    session.rollback()  # it only read; end its transaction
    return Roster(rows)


def _apply(session: Session, row: Row, now: datetime) -> None:
    user = session.scalar(select(User).where(User.email == row.email))
    if user is None:
        user = handlers.create_user(
            session,
            email=row.email,
            name=row.name,
            password=secrets.token_urlsafe(24),  # nobody knows it: the person sets their own
            language=row.language,
            roles=list(row.roles),
        )
        row.account = NEW
    else:
        row.account = EXISTING
        if not set(row.roles) <= set(user.roles):
            user.roles = sorted(set(user.roles) | set(row.roles))
    if row.session_id is None:
        return
    if _enrolled(session, row.session_id, user.id):
        row.enrollment = ALREADY
    else:
        row.enrollment = handlers.enroll(session, row.session_id, user.id, now).status


def import_roster(
    session: Session,
    roster: Roster,
    *,
    mode: str = ALL_OR_NOTHING,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> Roster:
    """Write a checked roster, and commit: ``all-or-nothing`` writes every row in one transaction,
    or nothing when any row has a problem; ``per-row`` commits each good row on its own and skips
    the others. A row refused while writing (a session that filled its window meanwhile, …) gets
    the reason as its problem. ``progress`` is called with 1 after each row."""
    if mode not in MODES:
        raise ValueError(f"mode {mode!r}: one of {', '.join(MODES)}")
    now = now or utcnow()
    if mode == ALL_OR_NOTHING and roster.problem_rows:
        return roster
    for row in roster.rows:
        if not row.problems:
            try:
                _apply(session, row, now)
            except DomainError as error:
                session.rollback()
                row.problems.append(Problem.of(error))
                if mode == ALL_OR_NOTHING:
                    return roster
            else:
                if mode == PER_ROW:
                    session.commit()
                    roster.written = True
        if progress:
            progress(1)
    session.commit()
    roster.written = roster.written or any(not row.problems for row in roster.rows)
    return roster
