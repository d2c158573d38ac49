"""The container deployment, checked without a Docker daemon: `compose.yaml` and the
`Dockerfile` are parsed, every service command goes through the real argument parser, every
environment variable is a setting djp-sentinel knows, and the image installs as `make` does."""

from __future__ import annotations

import shlex
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli.main import build_parser
from bot.config import Settings
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


def make_install_steps() -> list[str]:
    """The pip commands of the Makefile's install recipe, with `$(BIN)/python` as `python`."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    recipe = [line.strip() for line in lines if line.startswith("\t") and "pip install" in line]
    return [line.replace("$(BIN)/python", "python") for line in recipe]


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


def test_the_image_installs_as_make_does_and_sets_only_known_settings() -> None:
    steps = [step.strip() for run in instructions("RUN") for step in run.split("&&")]
    variables = {
        name
        for env in instructions("ENV")
        for name, _, _ in (pair.partition("=") for pair in shlex.split(env))
    }

    assert make_install_steps() != []
    assert [step for step in steps if "pip install" in step] == make_install_steps()
    assert variables - PYTHON_ENVIRONMENT <= SETTINGS
