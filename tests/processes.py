"""The system as real processes: `pustaka run` (embedded), or gunicorn and workers (distributed)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import requests
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from shared.config import SERVICES
from tests.support import (
    AMQP_URL,
    REDIS_URL,
    UNTHROTTLED,
    HttpClient,
    PostgresDatabases,
    delete_broker_objects,
    new_prefix,
)

BIN = Path(sys.executable).parent
PROCFILE = dict(
    line.split(": ", 1)
    for line in (Path(__file__).parents[1] / "deploy" / "Procfile").read_text().splitlines()
    if line and not line.startswith("#")
)
ADMIN_EMAIL, ADMIN_PASSWORD = "root-admin@test.local", "root-admin-password"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ProcessSystem:
    def __init__(
        self,
        mode: str,
        data_dir: Path,
        prefix: str,
        databases: PostgresDatabases | None = None,
        extra_env: dict[str, str] | None = None,
    ):
        self.mode = mode
        self.databases = databases
        self.data_dir = data_dir
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs = data_dir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "PUSTAKA_DATA_DIR": str(data_dir),
            "PUSTAKA_EXCHANGE": f"{prefix}.events",
            "PUSTAKA_QUEUE_PREFIX": prefix,
            "PUSTAKA_RETRY_BACKOFF": "0.05",
            "PUSTAKA_RELAY_INTERVAL": "0.02",
            "PUSTAKA_ADMIN_EMAIL": ADMIN_EMAIL,
            "PUSTAKA_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
            "PUSTAKA_ASSESSMENT_RATE_LIMIT": UNTHROTTLED,
            **(extra_env or {}),
        }
        if databases:
            self.ports = {service: free_port() for service in SERVICES}
            self.env["PUSTAKA_BROKER_URL"] = AMQP_URL
            self.env["PUSTAKA_RATE_LIMIT_STORAGE_URL"] = REDIS_URL
            for service in SERVICES:
                self.env[f"PUSTAKA_{service.upper()}_PORT"] = str(self.ports[service])
                self.env[f"PUSTAKA_{service.upper()}_DATABASE_URL"] = databases.url(service)
                self.env[f"PUSTAKA_{service.upper()}_URL"] = f"{self.base_url(service)}/{service}"
        else:
            port = free_port()
            self.ports = dict.fromkeys(SERVICES, port)
        self.engines = {}

    def base_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
        process = subprocess.Popen(
            command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes[name] = process
        return process

    def start(self) -> ProcessSystem:
        if self.databases:
            subprocess.run([BIN / "pustaka", "migrate"], env=self.env, check=True, capture_output=True)
            for name in PROCFILE:
                self.start_process(name)
        else:
            self._spawn(
                "embedded",
                [str(BIN / "pustaka"), "run", "--port", str(self.ports["enrollment"]), "--no-seed"],
            )
        for service in SERVICES:
            self.wait_ready(service)
        return self

    def start_process(self, name: str) -> None:
        """Start one entry of deploy/Procfile, as honcho does."""
        self._spawn(name, ["bash", "-c", PROCFILE[name]])

    def kill(self, name: str) -> None:
        """Kill without warning, as a crash would."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def wait_ready(self, service: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base_url(service)}/{service}/readyz", timeout=10).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):
                pass
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited: {(self.logs / f'{name}.log').read_text()[-3000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"{service} not ready after {timeout}s")

    def stop(self) -> None:
        for process in self.processes.values():
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for engine in self.engines.values():
            engine.dispose()

    def client(self, service: str) -> HttpClient:
        return HttpClient(self.base_url(service), service)

    def query(self, service: str, function: Callable):
        if service not in self.engines:
            url = (
                self.databases.url(service)
                if self.databases
                else f"sqlite:///{self.data_dir / service}.sqlite"
            )
            self.engines[service] = create_engine(url, connect_args={} if self.databases else {"timeout": 30})
        session = sessionmaker(bind=self.engines[service], expire_on_commit=False)()
        try:
            return function(session)
        finally:
            session.close()

    def seed(self, service: str) -> None:
        subprocess.run([BIN / "pustaka", "seed", service], env=self.env, check=True, capture_output=True)


@contextlib.contextmanager
def distributed_processes(data_dir: Path, extra_env: dict[str, str] | None = None) -> Iterator[ProcessSystem]:
    """The distributed mode as processes, on databases, an exchange and queues of its own, removed after."""
    prefix = new_prefix()
    databases = PostgresDatabases(prefix)
    databases.create()
    system = ProcessSystem("distributed", data_dir, prefix, databases, extra_env)
    try:
        yield system.start()
    finally:
        system.stop()
        databases.drop()
        delete_broker_objects(prefix)
