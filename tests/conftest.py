"""Fixtures: the servers of this machine, and the system in each way it runs."""

from __future__ import annotations

import pytest

from tests.processes import ProcessSystem
from tests.processes import distributed_processes as start_distributed
from tests.support import (
    AMQP_URL,
    PG_URL,
    REDIS_URL,
    PostgresDatabases,
    RunningSystem,
    check_reachable,
    delete_broker_objects,
    new_prefix,
    service_config,
)

# In-process services with worker threads, and the real processes speaking HTTP.
MODES = ("embedded", "distributed", "embedded-processes", "distributed-processes")


@pytest.fixture(scope="session")
def real_servers():
    """PostgreSQL, RabbitMQ and Redis: a run fails with a clear message when one is away."""
    for url, what in ((PG_URL, "PostgreSQL"), (AMQP_URL, "RabbitMQ"), (REDIS_URL, "Redis")):
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


@pytest.fixture
def make_system(request, tmp_path):
    """Build the in-process system: embedded (SQLite, in-memory bus) or distributed (PostgreSQL, RabbitMQ)."""
    created = []

    def build(mode: str, start: bool = True, extra: dict | None = None) -> RunningSystem:
        databases = request.getfixturevalue("postgres") if mode == "distributed" else None
        prefix = new_prefix()
        configs = {
            name: service_config(
                name, data_dir=str(tmp_path), prefix=prefix, databases=databases, extra=extra
            )
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


@pytest.fixture(scope="module")
def embedded_processes(tmp_path_factory):
    system = ProcessSystem("embedded", tmp_path_factory.mktemp("embedded"), new_prefix()).start()
    yield system
    system.stop()


@pytest.fixture(scope="module")
def distributed_processes(real_servers, tmp_path_factory):
    with start_distributed(tmp_path_factory.mktemp("distributed")) as system:
        yield system


@pytest.fixture(params=MODES)
def running(request, make_system):
    """The system in each of the ways it runs; process-based ones are shared by a module's tests."""
    if request.param.endswith("-processes"):
        return request.getfixturevalue(request.param.replace("-", "_"))
    return make_system(request.param)
