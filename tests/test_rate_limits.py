"""Rate limits on taking quizzes: one budget per client for starting, saving and submitting, on the
pages and in the API together; 429 as JSON or as a page; counted in memory when embedded and in the
real Redis when distributed, where every web worker shares the count."""

from __future__ import annotations

import html

import pytest
import redis

from services.assessment import create_app
from services.assessment.rate_limits import TOO_MANY
from tests.processes import free_port
from tests.support import REDIS_URL, csrf_token
from tests.test_assessment_bank import seeded

LIMIT = "3/minute"
QUIZ = "/api/v1/quizzes/uji-terbuka"
SHARED_SETTINGS = (
    "TESTING",
    "PUSTAKA_DATA_DIR",
    "SQLALCHEMY_DATABASE_URI",
    "SQLALCHEMY_ENGINE_OPTIONS",
    "PUSTAKA_BROKER_URL",
    "PUSTAKA_EXCHANGE",
    "PUSTAKA_QUEUE_PREFIX",
    "PUSTAKA_ASSESSMENT_RATE_LIMIT",
    "PUSTAKA_RATE_LIMIT_STORAGE_URL",
    "PUSTAKA_TRUSTED_PROXIES",
)


def from_address(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def start(client, address: str = "127.0.0.1", **headers):
    return client.post(f"{QUIZ}/attempts", json={}, headers=headers, **from_address(address))


def another_web_worker(running):
    """A second app of the assessment service, as a second gunicorn worker has: the same database
    and settings, its own process memory."""
    config = running.apps["assessment"].config
    return create_app({key: config[key] for key in SHARED_SETTINGS})


def test_over_the_limit_the_api_and_the_pages_say_so(make_system):
    running = make_system("embedded", extra={"PUSTAKA_ASSESSMENT_RATE_LIMIT": LIMIT})
    seeded(running)
    api = running.client("assessment")
    started = start(api)
    assert started.status_code == 201
    token = {"X-Attempt-Token": started.json["token"]}
    path = f"/api/v1/attempts/{started.json['id']}"
    assert api.put(f"{path}/pages/0", json={"responses": {}}, headers=token).status_code == 200
    assert start(api).status_code == 201  # the third request of the minute
    assert started.headers["X-RateLimit-Limit"] == "3"

    refused = api.post(f"{path}/submit", json={}, headers=token)
    assert refused.status_code == 429
    assert refused.json == {"code": 429, "status": "Too Many Requests", "message": TOO_MANY}
    assert int(refused.headers["Retry-After"]) > 0
    assert api.get(path, headers=token).json["state"] == "in_progress"  # nothing was submitted
    # Reading is not limited, and other clients have budgets of their own.
    assert api.get(QUIZ).status_code == 200 and api.get(path, headers=token).status_code == 200
    assert start(api, "127.0.0.2").status_code == 201

    # The pages share the budget: a readable page, in the visitor's language.
    web = running.client("assessment")
    intro = web.get("/quizzes/uji-terbuka")
    page = web.post("/quizzes/uji-terbuka/start", data={"csrf_token": csrf_token(intro.text)})
    assert page.status_code == 429 and page.mimetype == "text/html"
    assert "Terlalu banyak permintaan dari koneksi Anda dalam waktu singkat." in html.unescape(page.text)


def test_clients_behind_a_trusted_proxy_are_told_apart(make_system):
    running = make_system(
        "embedded", extra={"PUSTAKA_ASSESSMENT_RATE_LIMIT": "1/minute", "PUSTAKA_TRUSTED_PROXIES": 1}
    )
    seeded(running)
    api = running.client("assessment")
    # The proxy appends the address it saw; what a client wrote before it is not believed.
    assert start(api, **{"X-Forwarded-For": "127.0.0.5"}).status_code == 201
    assert start(api, **{"X-Forwarded-For": "127.0.0.6"}).status_code == 201
    assert start(api, **{"X-Forwarded-For": "127.0.0.6"}).status_code == 429
    assert start(api, **{"X-Forwarded-For": "127.0.0.9, 127.0.0.5"}).status_code == 429


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(make_system):
    running = make_system("embedded", extra={"PUSTAKA_ASSESSMENT_RATE_LIMIT": "1/minute"})
    seeded(running)
    api = running.client("assessment")
    assert start(api, **{"X-Forwarded-For": "127.0.0.5"}).status_code == 201
    assert start(api, **{"X-Forwarded-For": "127.0.0.6"}).status_code == 429


def test_embedded_counts_live_in_each_process(make_system):
    running = make_system("embedded", extra={"PUSTAKA_ASSESSMENT_RATE_LIMIT": "1/minute"})
    seeded(running)
    assert start(running.client("assessment")).status_code == 201
    assert start(running.client("assessment")).status_code == 429
    assert start(another_web_worker(running).test_client()).status_code == 201


@pytest.fixture
def redis_client(real_servers):
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


def test_distributed_web_workers_share_the_count_in_redis(make_system, redis_client):
    running = make_system(
        "distributed",
        extra={"PUSTAKA_ASSESSMENT_RATE_LIMIT": LIMIT, "PUSTAKA_RATE_LIMIT_STORAGE_URL": REDIS_URL},
    )
    seeded(running)
    prefix = running.apps["assessment"].config["PUSTAKA_QUEUE_PREFIX"]
    try:
        first, second = running.client("assessment"), another_web_worker(running).test_client()
        assert [start(first).status_code, start(second).status_code, start(first).status_code] == [201] * 3
        assert start(second).status_code == 429
        assert start(first).status_code == 429
        assert start(second, "127.0.0.2").status_code == 201
        assert redis_client.keys(f"{prefix}.assessment*"), "the counts are not in Redis"
    finally:
        for key in redis_client.scan_iter(f"{prefix}.assessment*"):
            redis_client.delete(key)


def test_a_redis_away_leaves_each_process_counting_in_memory(make_system):
    away = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    running = make_system(
        "embedded",
        extra={"PUSTAKA_ASSESSMENT_RATE_LIMIT": "1/minute", "PUSTAKA_RATE_LIMIT_STORAGE_URL": away},
    )
    seeded(running)
    api = running.client("assessment")
    assert start(api).status_code == 201
    assert start(api).status_code == 429


def test_a_malformed_limit_stops_the_start(tmp_path):
    with pytest.raises(ValueError):
        create_app({"PUSTAKA_DATA_DIR": str(tmp_path), "PUSTAKA_ASSESSMENT_RATE_LIMIT": "thirty a minute"})


def test_limits_turned_off_leave_quiz_taking_working(make_system):
    running = make_system("embedded", extra={"PUSTAKA_ASSESSMENT_RATE_LIMIT": "1/minute"})
    seeded(running)
    config = running.apps["assessment"].config
    unlimited = create_app({key: config[key] for key in SHARED_SETTINGS} | {"RATELIMIT_ENABLED": False})
    client = unlimited.test_client()
    assert [start(client).status_code for _ in range(3)] == [201, 201, 201]
