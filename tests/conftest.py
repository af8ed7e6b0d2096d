"""Fixtures: the servers of this machine, and the system in both of its modes."""

from __future__ import annotations

import pytest

from tests.support import (
    AMQP_URL,
    PG_URL,
    PostgresDatabases,
    RunningSystem,
    check_reachable,
    delete_broker_objects,
    new_prefix,
    service_config,
)

MODES = ("embedded", "distributed")


@pytest.fixture(scope="session")
def real_servers():
    """PostgreSQL and RabbitMQ: a run fails with a clear message when either is away."""
    for url, what in ((PG_URL, "PostgreSQL"), (AMQP_URL, "RabbitMQ")):
        try:
            check_reachable(url, what)
        except RuntimeError as error:
            pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def postgres(real_servers):
    databases = PostgresDatabases(new_prefix())
    databases.create()
    yield databases
    databases.drop()


@pytest.fixture(params=MODES)
def mode(request):
    return request.param


@pytest.fixture
def make_system(request, tmp_path):
    """Build the system in a mode: embedded (SQLite, in-memory bus) or distributed (PostgreSQL, RabbitMQ)."""
    created = []

    def build(mode: str, start: bool = True) -> RunningSystem:
        databases = request.getfixturevalue("postgres") if mode == "distributed" else None
        prefix = new_prefix()
        configs = {
            name: service_config(name, data_dir=str(tmp_path), prefix=prefix, databases=databases)
            for name in ("enrollment", "assessment", "notification")
        }
        running = RunningSystem(mode, configs)
        created.append((running, prefix, databases))
        return running.start() if start else running

    yield build
    for running, prefix, databases in created:
        running.stop()
        if databases:
            for service in databases.names:
                databases.truncate(service)
            delete_broker_objects(prefix)


@pytest.fixture
def running(make_system, mode):
    return make_system(mode)
