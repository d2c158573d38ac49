"""The container deployment, checked without a Docker daemon: `compose.yaml` and the
`Dockerfile` are parsed, every service command goes through the real argument parser, every
environment variable is a setting djp-sentinel knows, the image installs the application
without its development tools, and its health check is run for real against a local server."""

from __future__ import annotations

import http.server
import re
import shlex
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli.main import build_parser
from bot.config import Settings
from bot.process.loops import STOP_GRACE
from bot.process.roles import parse_roles

ROOT = Path(__file__).resolve().parent.parent
#: Variables the image sets for Python itself, not for djp-sentinel.
PYTHON_ENVIRONMENT = {"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "VIRTUAL_ENV", "PATH"}
SETTINGS = {name.upper() for name in Settings.model_fields}


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def sentinel_services() -> dict[str, dict[str, Any]]:
    """The services built from this repository's image."""
    return {name: s for name, s in compose()["services"].items() if "build" in s}


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    pairs = [line.split(maxsplit=1) for line in lines if line and not line.startswith("#")]
    return [(instruction.upper(), arguments) for instruction, arguments in pairs]


def instructions(name: str) -> list[str]:
    return [arguments for instruction, arguments in dockerfile() if instruction == name]


def install_steps() -> list[str]:
    """The image's `pip install` commands."""
    steps = [step.strip() for run in instructions("RUN") for step in run.split("&&")]
    return [step for step in steps if "pip install" in step]


def health_check_command() -> list[str]:
    """The HEALTHCHECK's command (shell form), with `python` as this interpreter."""
    [healthcheck] = instructions("HEALTHCHECK")
    command = shlex.split(healthcheck.partition(" CMD ")[2])
    return [sys.executable if command[0] == "python" else command[0], *command[1:]]


@pytest.fixture
def healthz_port() -> Iterator[int]:
    """A local server answering 200 on /healthz, on a port of its own."""

    class Healthz(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Healthz)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("name", sorted(sentinel_services()))
def test_every_service_command_is_a_valid_invocation(name: str) -> None:
    command = sentinel_services()[name]["command"]

    args = build_parser().parse_args(command)  # exits (failing the test) on a bad command

    assert args.command in {"run", "db"}


def test_the_services_are_one_gateway_one_monitor_two_delivery_workers_and_an_upgrade() -> None:
    roles: Counter[str] = Counter()
    for service in sentinel_services().values():
        args = build_parser().parse_args(service["command"])
        if args.command == "db":
            assert args.db_command == "upgrade"
            assert service["restart"] == "no"
            continue
        replicas = service.get("deploy", {}).get("replicas", 1)
        for role in parse_roles(args.roles):
            roles[role.value] += replicas
        assert service["depends_on"]["upgrade"]["condition"] == "service_completed_successfully"

    assert roles == {"gateway": 1, "monitor": 1, "delivery": 2}


def test_every_service_reads_env_and_sets_only_known_settings() -> None:
    for name, service in sentinel_services().items():
        assert service["env_file"] == ".env", name
        unknown = set(service.get("environment", {})) - SETTINGS
        assert unknown == set(), name
        assert service["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://")


def test_postgresql_16_keeps_its_data_in_a_volume_and_reports_its_health() -> None:
    document = compose()
    db = document["services"]["db"]

    assert db["image"] == "postgres:16"
    volume = db["volumes"][0].split(":")[0]
    assert volume in document["volumes"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert document["services"]["upgrade"]["depends_on"]["db"]["condition"] == "service_healthy"


def test_the_image_is_slim_non_root_and_checks_healthz() -> None:
    [base] = instructions("FROM")
    [user] = instructions("USER")
    [entrypoint] = instructions("ENTRYPOINT")
    [healthcheck] = instructions("HEALTHCHECK")

    assert base.startswith("python:")
    assert base.endswith("-slim")
    assert user not in {"root", "0"}
    assert yaml.safe_load(entrypoint) == ["djp-sentinel"]
    assert "/healthz" in healthcheck


def test_the_image_sets_only_known_settings() -> None:
    variables = {
        name
        for env in instructions("ENV")
        for name, _, _ in (pair.partition("=") for pair in shlex.split(env))
    }

    assert variables - PYTHON_ENVIRONMENT <= SETTINGS


def test_the_image_installs_the_application_without_development_tools() -> None:
    application = [step for step in install_steps() if "--upgrade pip" not in step]

    assert len(application) == 1
    [install] = application
    words = shlex.split(install)
    assert words[-1] == ".", install  # the project itself, with no extras such as [dev]
    assert not {"-e", "--editable"} & set(words), install


def test_the_health_check_follows_metrics_port(healthz_port: int) -> None:
    def check(port: int) -> int:
        environment = {"METRICS_PORT": str(port), "PATH": "/usr/bin:/bin"}
        return subprocess.run(health_check_command(), env=environment, timeout=30).returncode

    assert check(healthz_port) == 0
    assert check(9) != 0  # nothing answers there: the check fails rather than passing blindly


def test_compose_refuses_to_start_without_a_database_password() -> None:
    text = (ROOT / "compose.yaml").read_text()
    uses = re.findall(r"\$\{POSTGRES_PASSWORD([^}]*)\}", text)

    assert len(uses) == 2  # the database's own, and the application's DATABASE_URL
    assert all(use.startswith(":?") for use in uses), uses


def test_compose_waits_longer_than_the_app_takes_to_stop() -> None:
    for name, service in sentinel_services().items():
        grace = service["stop_grace_period"]
        assert grace.endswith("s"), name
        assert float(grace.removesuffix("s")) >= STOP_GRACE + 5, name
