"""Assessment benchmarks: public quiz submit-and-grade throughput on gunicorn and PostgreSQL,
against a bare Flask + SQLAlchemy insert on the same server; two web workers against one; item
analysis of 100,000 attempts × 30 items.

Every web figure comes from a gunicorn started with the assessment line of deploy/Procfile, only
its app or its --workers changed, so the quiz and the baseline are served alike; the quiz keeps its
production rate limit in Redis, each taker at an address of its own. The load comes from threads
(one keep-alive requests.Session each) in a separate process. The machine's cores are shared by
gunicorn, PostgreSQL and that process, which the table says. Item analysis is timed on the
matrices and again from 3,000,000 PostgreSQL rows, the path of the page, CSV and API.

No speed is asserted: the assertions check that every attempt was graded once with its event in
the outbox, and that the analysis read back from the rows is the analysis of the matrices.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil
import psycopg
import pytest
import requests
from flask import Flask, request
from sqlalchemy import Integer, String, create_engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from services.assessment import handlers
from services.assessment.item_analysis import analyse, quiz_item_analysis
from services.assessment.models import Attempt, Question, Quiz
from services.assessment.question_types import question_type
from services.assessment.schemas import QuizDefinition
from shared import catalog
from shared.config import engine_options
from shared.messaging import OutboxMessage
from tests.benchmarks.conftest import FULL, Table, cpu_per_event, cpu_seconds, program
from tests.benchmarks.test_benchmarks import stop_process
from tests.processes import BIN, PROCFILE, ProcessSystem, free_port
from tests.support import PostgresDatabases, delete_broker_objects, new_prefix, wait_for

ROOT = Path(__file__).parents[2]
SLUG = "literasi-informasi-dasar"  # the demo's public quiz: 10 questions on 2 pages
QUIZ_APP = """'services.wsgi:application("assessment")'"""
BARE_APP = "'tests.benchmarks.test_assessment_benchmark:bare_application()'"
CYCLES = 600 if FULL else 24  # attempts started, answered and submitted per server
BASELINE_REQUESTS = 4000 if FULL else 60
WARM_UP = 32 if FULL else 8  # attempts (or baseline inserts) each server takes before any clock starts
THREADS = 16 if FULL else 4  # concurrent clients, more than the 2 × 4 gunicorn threads
ANALYSIS_ATTEMPTS = 100_000 if FULL else 2_000
ANALYSIS_ITEMS = 30
ANALYSIS_REPEATS = 5
SUBMIT_TARGET = 0.7
WORKERS_TARGET = 1.7
ANALYSIS_TARGET_S = 2.0
CORES = os.cpu_count()
# Each load job's takers come from addresses of a network of their own (10.<network>.x.y), so that
# each taker has the production rate limit to itself, as behind the deployment's reverse proxy.
NETWORKS = itertools.count(1)


# The baseline: one row inserted by a bare Flask + SQLAlchemy view -----------------------------


class BareBase(DeclarativeBase):
    pass


class BareRow(BareBase):
    __tablename__ = "bench_bare_rows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(40))


def bare_application() -> Flask:
    """gunicorn's app for the baseline, on the assessment database with the services' engine options."""
    url = os.environ["PUSTAKA_ASSESSMENT_DATABASE_URL"]
    engine = create_engine(url, **engine_options(url))
    app = Flask(__name__)

    @app.post("/rows")
    def insert_row():
        with Session(engine, expire_on_commit=False) as session:
            row = BareRow(label=request.get_json()["label"])
            session.add(row)
            session.commit()
            return {"id": row.id}, 201

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app


# The servers ---------------------------------------------------------------------------------


def gunicorn_command(app: str, workers: int) -> str:
    """The Procfile's assessment web process, serving app with this many workers."""
    line = PROCFILE["assessment"]
    assert QUIZ_APP in line and re.search(r"--workers \d+", line), line
    return re.sub(r"--workers \d+", f"--workers {workers}", line.replace(QUIZ_APP, app))


def procfile_workers() -> int:
    return int(re.search(r"--workers (\d+)", PROCFILE["assessment"]).group(1))


def procfile_threads() -> int:
    return int(re.search(r"--threads (\d+)", PROCFILE["assessment"]).group(1))


@dataclass(frozen=True)
class Server:
    base: str
    process: psutil.Process  # the gunicorn master; its workers are its children


@contextlib.contextmanager
def gunicorn(system: ProcessSystem, name: str, app: str, workers: int, ready: str) -> Iterator[Server]:
    """A gunicorn of the Procfile's assessment line serving app, once `ready` answers 200; stopped
    after."""
    port = free_port()
    # The production rate limit (the tests' ProcessSystem lifts it), counted in Redis per taker
    # address, which one trusted proxy hop forwards.
    env = {key: value for key, value in system.env.items() if key != "PUSTAKA_ASSESSMENT_RATE_LIMIT"}
    env |= {"PUSTAKA_ASSESSMENT_PORT": str(port), "PUSTAKA_TRUSTED_PROXIES": "1"}
    with open(system.logs / f"{name}.log", "ab") as log:
        process = subprocess.Popen(
            ["bash", "-c", gunicorn_command(app, workers)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        assert process.poll() is None, (system.logs / f"{name}.log").read_text()[-3000:]
        try:
            return requests.get(base + ready, timeout=5).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        wait_for(answers, timeout=60, what=f"{name} to answer")
        yield Server(base, program(process.pid))
    finally:
        stop_process(process)


@pytest.fixture(scope="module")
def backend(real_servers, tmp_path_factory) -> Iterator[ProcessSystem]:
    """Migrated PostgreSQL databases on RabbitMQ with the demo quizzes, and the baseline's table;
    no process runs until a benchmark starts its gunicorn (the relay is not running: graded events
    stay in the outbox, where the test counts them)."""
    prefix = new_prefix()
    databases = PostgresDatabases(prefix)
    databases.create()
    system = ProcessSystem("distributed", tmp_path_factory.mktemp("bench-assessment"), prefix, databases)
    try:
        subprocess.run([BIN / "pustaka", "migrate"], env=system.env, check=True, capture_output=True)
        system.seed("assessment")
        engine = create_engine(databases.url("assessment"))
        BareBase.metadata.create_all(engine)  # the baseline's table, beside the service's own
        engine.dispose()
        yield system
    finally:
        system.stop()
        databases.drop()
        delete_broker_objects(prefix)


# The load, from a separate process -------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    client_cpu: float  # CPU seconds the load process used per second of the run

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


@pytest.fixture(scope="module")
def load_process() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as executor:
        yield executor


def in_threads(count: int, threads: int, work: Callable[[requests.Session, int], int]) -> Load:
    """work(session, i) for every i below count, by `threads` threads with a keep-alive session each;
    work returns how many requests it made."""
    made = [0] * threads
    errors: list[Exception] = []

    def run(thread: int) -> None:
        with requests.Session() as session:
            try:
                for index in range(thread, count, threads):
                    made[thread] += work(session, index)
            except Exception as error:  # noqa: BLE001 - raised again below, in the caller's process
                errors.append(error)

    workers = [threading.Thread(target=run, args=(thread,)) for thread in range(threads)]
    started, cpu = time.perf_counter(), time.process_time()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - started
    if errors:
        raise errors[0]
    return Load(sum(made), seconds, (time.process_time() - cpu) / seconds)


def expect(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, f"{response.request.method} {response.url}: {response.text[:500]}"
    return response.json()


def insert_rows(base: str, count: int, threads: int) -> Load:
    def insert(session: requests.Session, index: int) -> int:
        expect(session.post(f"{base}/rows", json={"label": f"row {index}"}, timeout=30), 201)
        return 1

    return in_threads(count, threads, insert)


def some_answer(question: dict, rng: random.Random) -> str:
    """What a taker might answer: any of the options, or a number near the right one."""
    options = question["body"].get("choices") or question["body"].get("options")
    return rng.choice(options)["key"] if options else str(rng.randint(40, 70))


@dataclass(frozen=True)
class Taken:
    """An attempt started and answered: what its taker needs to submit it."""

    id: int
    headers: dict[str, str]  # its token, and the taker's address as the proxy forwards it


def start_and_answer(base: str, count: int, threads: int, network: int) -> tuple[list[Taken], Load]:
    """count anonymous attempts of the quiz by as many takers, every page answered, none submitted.
    Per attempt: start (which shows page 1), save page 1, show and save each further page."""
    api = f"{base}/assessment/api/v1"
    taken: list[Taken | None] = [None] * count

    def take(session: requests.Session, index: int) -> int:
        rng = random.Random(index)
        taker = {"X-Forwarded-For": f"10.{network}.{index // 256}.{index % 256}"}
        started = expect(
            session.post(f"{api}/quizzes/{SLUG}/attempts", json={}, headers=taker, timeout=30), 201
        )
        headers = taker | {"X-Attempt-Token": started["token"]}
        path, questions, made = f"{api}/attempts/{started['id']}", started["questions"], 1
        for page in range(started["page_count"]):
            if page:
                questions = expect(session.get(f"{path}?page={page}", headers=headers, timeout=30), 200)[
                    "questions"
                ]
                made += 1
            answers = {str(q["question_id"]): some_answer(q, rng) for q in questions}
            expect(
                session.put(f"{path}/pages/{page}", json={"responses": answers}, headers=headers, timeout=30),
                200,
            )
            made += 1
        taken[index] = Taken(started["id"], headers)
        return made

    return taken, in_threads(count, threads, take)


def submit(base: str, taken: list[Taken], threads: int) -> Load:
    """Submit each attempt once: the request that closes, grades and writes the graded event."""
    api = f"{base}/assessment/api/v1"

    def hand_in(session: requests.Session, index: int) -> int:
        attempt = taken[index]
        url = f"{api}/attempts/{attempt.id}/submit"
        result = expect(session.post(url, json={}, headers=attempt.headers, timeout=30), 200)
        assert result["state"] == "graded" and result["max_score"] == 10, result
        return 1

    return in_threads(len(taken), threads, hand_in)


# 1: submit and grade on gunicorn + PostgreSQL, against a bare insert ----------------------------


def with_cpu(server: Server, run: Callable[[], Load]) -> tuple[Load, dict[str, float]]:
    """The load run() puts on the server, and the milliseconds of CPU per request that the server,
    the database, Redis and the load process spent on it."""
    before = cpu_seconds({"gunicorn": server.process})
    load = run()
    spent = dict(cpu_per_event(before, cpu_seconds({"gunicorn": server.process}), load.requests))
    spent["load process"] = 1000 * load.client_cpu * load.seconds / load.requests
    return load, spent


@dataclass(frozen=True)
class QuizRun:
    answering: Load
    submitting: Load
    submit_cpu: dict[str, float]  # ms per submit request, by process

    @property
    def cycles(self) -> float:
        """Attempts started, answered and submitted per second, over both phases."""
        return self.submitting.requests / (self.answering.seconds + self.submitting.seconds)

    @property
    def requests_per_cycle(self) -> float:
        return (self.answering.requests + self.submitting.requests) / self.submitting.requests


def graded_so_far(system: ProcessSystem) -> tuple[int, int]:
    """Graded attempts of the quiz, and graded events in the outbox."""

    def count(session) -> tuple[int, int]:
        attempts = session.scalar(
            select(func.count())
            .select_from(Attempt)
            .join(Quiz)
            .where(Quiz.slug == SLUG, Attempt.graded_at.is_not(None))
        )
        events = session.scalar(
            select(func.count()).where(OutboxMessage.event_type == catalog.ATTEMPT_GRADED.name)
        )
        return attempts, events

    return system.query("assessment", count)


def run_quiz(system: ProcessSystem, load: ProcessPoolExecutor, workers: int) -> QuizRun:
    """CYCLES attempts answered, then submitted, on a gunicorn with this many workers."""
    before = graded_so_far(system)
    with gunicorn(system, f"assessment-{workers}-workers", QUIZ_APP, workers, "/assessment/readyz") as server:
        base = server.base
        warm, _ = load.submit(start_and_answer, base, WARM_UP, THREADS, next(NETWORKS)).result()
        load.submit(submit, base, warm, THREADS).result()
        taken, answering = load.submit(start_and_answer, base, CYCLES, THREADS, next(NETWORKS)).result()
        submitting, submit_cpu = with_cpu(server, lambda: load.submit(submit, base, taken, THREADS).result())
    after = graded_so_far(system)
    graded = WARM_UP + CYCLES
    assert (after[0] - before[0], after[1] - before[1]) == (graded, graded), "graded once, one event each"
    return QuizRun(answering, submitting, submit_cpu)


@pytest.fixture(scope="module")
def quiz_runs(backend, load_process) -> dict[int, QuizRun]:
    """The quiz on the Procfile's two workers, then on one, one after the other, under the same load."""
    assert procfile_workers() == 2, "the comparison is of the Procfile's two workers with one"
    return {workers: run_quiz(backend, load_process, workers) for workers in (2, 1)}


def settings() -> str:
    return f"{procfile_workers()} workers x {procfile_threads()} threads, {THREADS} client threads, {CORES} cores"


def test_submit_and_grade_against_a_bare_insert(
    backend, load_process, quiz_runs: dict[int, QuizRun], bench_table: Table
) -> None:
    with gunicorn(backend, "bare", BARE_APP, procfile_workers(), "/healthz") as server:
        load_process.submit(insert_rows, server.base, WARM_UP, THREADS).result()
        baseline, baseline_cpu = with_cpu(
            server, lambda: load_process.submit(insert_rows, server.base, BASELINE_REQUESTS, THREADS).result()
        )
    rows = backend.query("assessment", lambda s: s.scalar(select(func.count()).select_from(BareRow)))
    assert rows == WARM_UP + BASELINE_REQUESTS

    quiz = quiz_runs[2]
    submitted = quiz.submitting
    bench_table.add(
        f"7. quiz submit-and-grade requests, {submitted.requests} submits ({settings()}) (/s)",
        f"{submitted.rate:.0f}",
        f"{baseline.rate:.0f} bare insert",
        f"{submitted.rate / baseline.rate:.2f}x",
        f">= {SUBMIT_TARGET}x",
    )
    bench_table.add(
        f"   full cycles: start, {quiz.requests_per_cycle - 2:.0f} page requests, submit (/s)",
        f"{quiz.cycles:.1f}",
    )
    bench_table.add(
        "   load process CPU, baseline / quiz answering / quiz submits (cores)",
        f"{baseline.client_cpu:.2f} / {quiz.answering.client_cpu:.2f} / {submitted.client_cpu:.2f}",
    )
    # What bounds either rate: the CPU a request costs, all processes on the same cores.
    bench_table.add(
        "   CPU per request, all processes (ms): bare insert / quiz submit",
        f"{sum(baseline_cpu.values()):.2f} / {sum(quiz.submit_cpu.values()):.2f}",
    )
    for name, milliseconds in sorted(quiz.submit_cpu.items(), key=lambda item: -item[1]):
        if milliseconds >= 0.005 or baseline_cpu.get(name, 0.0) >= 0.005:
            bench_table.add(f"     {name}", f"{baseline_cpu.get(name, 0.0):.2f} / {milliseconds:.2f}")


# 2: item analysis ---------------------------------------------------------------------------------

# The mix of a quiz of 30 items from the seeded literacy bank.
ANALYSIS_SLUG = "analisis-tolok-ukur"
ANALYSIS_MIX = {"single_choice": 20, "true_false": 6, "multiple_response": 2, "numeric": 2}


@dataclass(frozen=True)
class Item:
    """A quiz item as attempts answer it: what a taker might respond (JSON, as stored), its grade."""

    question_id: int
    version_id: int
    points: float
    choice_based: bool  # then `responses` are the options, in the order item analysis numbers them
    key: int  # the option of full credit, -1 when there are no options
    responses: list[str]
    fractions: np.ndarray


def item_of(question: Question) -> Item:
    version = question.current
    kind = question_type(version.type)
    if kind.choice_based:
        answers = kind.option_keys(version.body)
    elif version.type == "multiple_response":  # all the right choices, or one choice alone
        right = [choice["key"] for choice in version.body["choices"] if choice["fraction"] > 0]
        answers = [right] + [[choice["key"]] for choice in version.body["choices"]]
    else:  # numeric: each answer the question grades, and a number far off
        answers = [answer["value"] for answer in version.body["answers"]] + [-1]
    responses = [kind.normalise_response(version.body, answer) for answer in answers]
    correct = kind.correct_keys(version.body)
    return Item(
        question_id=question.id,
        version_id=version.id,
        points=version.points,
        choice_based=kind.choice_based,
        key=next((index for index, key in enumerate(answers) if key in correct), -1),
        responses=[json.dumps(response) for response in responses],
        fractions=np.array([kind.grade(version.body, response) for response in responses]),
    )


def analysis_quiz(session: Session) -> list[Item]:
    """A quiz of 30 seeded literacy items in ANALYSIS_MIX, created once; its items in order."""
    bank = session.scalars(
        select(Question).where(Question.name.startswith("LI-")).order_by(Question.id)
    ).all()
    picked = [
        question
        for kind, count in ANALYSIS_MIX.items()
        for question in [q for q in bank if q.current.type == kind][:count]
    ]
    picked.sort(key=lambda question: question.id)
    definition = {"slug": ANALYSIS_SLUG, "title": {"id": "Analisis", "en": "Analysis"}}
    handlers.create_quiz(session, QuizDefinition().load(definition | {"questions": [q.name for q in picked]}))
    session.commit()
    return [item_of(question) for question in picked]


def realistic_answers(items: list[Item], n: int, rng: np.random.Generator) -> np.ndarray:
    """n attempts × items: the index of each response in the item's `responses`, -1 for none.
    Abilities and difficulties drawn normal; who misses the best answer picks any other; about 2%
    leave an item out."""
    ability = rng.normal(size=(n, 1))
    difficulty = rng.normal(scale=1.2, size=(1, len(items)))
    knows = rng.random((n, len(items))) < 1 / (1 + np.exp(-1.3 * (ability - difficulty)))
    picks = np.empty((n, len(items)), dtype=np.int64)
    for j, item in enumerate(items):
        best = int(item.fractions.argmax())
        other = rng.integers(0, len(item.responses) - 1, n)
        picks[:, j] = np.where(knows[:, j], best, other + (other >= best))
    picks[rng.random(picks.shape) < 0.02] = -1
    return picks


def matrices(items: list[Item], picks: np.ndarray) -> tuple:
    """The arguments of analyse, as load_quiz_matrices builds them from the rows."""
    points = np.array([item.points for item in items])
    fractions = np.array([np.append(item.fractions, 0.0)[picks[:, j]] for j, item in enumerate(items)]).T
    choice = np.array([item.choice_based for item in items])
    chosen = np.where(choice, picks, -1)
    n_options = np.array([len(item.responses) if item.choice_based else 0 for item in items])
    keys = np.array([item.key for item in items])
    return fractions * points, points, chosen, keys, n_options, (picks >= 0).sum(axis=0)


def store_attempts(system: ProcessSystem, items: list[Item], picks: np.ndarray) -> None:
    """The attempts as finished, graded rows of the quiz, by COPY (the web app would take hours)."""
    url = make_url(system.databases.url("assessment")).set(drivername="postgresql")
    score = sum(np.append(item.fractions, 0.0)[picks[:, j]] * item.points for j, item in enumerate(items))
    with psycopg.connect(url.render_as_string(hide_password=False)) as connection:
        quiz_id = connection.execute("SELECT id FROM quizzes WHERE slug = %s", [ANALYSIS_SLUG]).fetchone()[0]
        with connection.cursor().copy(
            "COPY attempts (quiz_id, token_hash, seed, language, started_at, finished_at, graded_at,"
            " score, max_score, area_scores) FROM STDIN"
        ) as copy:
            for total in score:
                copy.write_row((quiz_id, "0" * 64, 0, "id", "2026-01-05T02:00:00Z", "2026-01-05T02:20:00Z",
                                "2026-01-05T02:20:00Z", total, len(items), "{}"))  # fmt: skip
        attempt_ids = [
            row[0]
            for row in connection.execute("SELECT id FROM attempts WHERE quiz_id = %s ORDER BY id", [quiz_id])
        ]
        with connection.cursor().copy(
            "COPY attempt_questions (attempt_id, position, page, question_id, version_id, response,"
            " fraction, points) FROM STDIN"
        ) as copy:
            for attempt_id, row in zip(attempt_ids, picks.tolist(), strict=True):
                for j, (item, pick) in enumerate(zip(items, row, strict=True)):
                    fraction = 0.0 if pick < 0 else float(item.fractions[pick])
                    response = None if pick < 0 else item.responses[pick]
                    copy.write_row(
                        (attempt_id, j, j // 5, item.question_id, item.version_id, response, fraction,
                         fraction * item.points)
                    )  # fmt: skip


def test_item_analysis_of_100k_attempts(backend: ProcessSystem, bench_table: Table) -> None:
    items = backend.query("assessment", analysis_quiz)
    assert len(items) == ANALYSIS_ITEMS
    picks = realistic_answers(items, ANALYSIS_ATTEMPTS, np.random.default_rng(2024))
    timings = []
    for _ in range(ANALYSIS_REPEATS):
        started = time.perf_counter()
        result = analyse(*matrices(items, picks))
        timings.append(time.perf_counter() - started)
    median = statistics.median(timings)

    store_attempts(backend, items, picks)
    started = time.perf_counter()
    report = backend.query("assessment", lambda session: quiz_item_analysis(session, ANALYSIS_SLUG))
    from_rows = time.perf_counter() - started
    # The page's figures are those of the matrices: the same attempts, read back from the rows.
    assert report.test.n_attempts == ANALYSIS_ATTEMPTS and 0 < report.test.alpha < 1
    assert report.test.alpha == pytest.approx(result.test.alpha, abs=1e-9)
    assert [item.facility for item in report.items] == pytest.approx([i.facility for i in result.items])
    assert [item.flags for item in report.items] == [item.flags for item in result.items]

    label = f"8. item analysis, {ANALYSIS_ATTEMPTS:,} attempts x {ANALYSIS_ITEMS} items"
    bench_table.add(
        f"{label}: analyse() on the matrices (s, median of {ANALYSIS_REPEATS})",
        f"{median:.3f}",
        f"{ANALYSIS_TARGET_S:g} s",
        f"{median / ANALYSIS_TARGET_S:.2f}x",
        f"< {ANALYSIS_TARGET_S:g} s",
    )
    bench_table.add(
        f"{label}: from PostgreSQL rows, as the page, CSV and API (s)",
        f"{from_rows:.3f}",
        f"{ANALYSIS_TARGET_S:g} s",
        f"{from_rows / ANALYSIS_TARGET_S:.2f}x",
        f"< {ANALYSIS_TARGET_S:g} s",
    )


# 3: two web workers against one ---------------------------------------------------------------


def test_two_web_workers_against_one(quiz_runs: dict[int, QuizRun], bench_table: Table) -> None:
    two, one = quiz_runs[2], quiz_runs[1]
    bench_table.add(
        f"9. two assessment web workers vs one: submits (/s, {CORES} cores)",
        f"{two.submitting.rate:.0f}",
        f"{one.submitting.rate:.0f} one worker",
        f"{two.submitting.rate / one.submitting.rate:.2f}x",
        f">= {WORKERS_TARGET}x",
    )
    bench_table.add(
        "   full cycles (/s)",
        f"{two.cycles:.1f}",
        f"{one.cycles:.1f} one worker",
        f"{two.cycles / one.cycles:.2f}x",
        f">= {WORKERS_TARGET}x",
    )
