import json
import logging
import re
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.config import LOG_LEVELS, Settings
from bot.logs import (
    DropVoiceWarnings,
    JsonFormatter,
    OneLineReconnects,
    RedactingFormatter,
    redact,
)

TOKEN = "MTA1Mjk4MDAxMjM0NTY3ODk.GaBcDe.abcdefghijklmnopqrstuvwxyz012345"


@pytest.mark.parametrize(
    "url",
    [
        "https://discord.com/api/webhooks/123456/abc-DEF_ghi",
        "http://127.0.0.1:8080/api/v10/webhooks/123456/abc-DEF_ghi?wait=true",
    ],
)
def test_webhook_tokens_never_reach_the_log(url: str) -> None:
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "POST %s", (url,), None)

    line = RedactingFormatter().format(record)

    assert "abc-DEF_ghi" not in line
    assert "/webhooks/123456/***" in line


INTERACTION_TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5OnNlY3JldA.x-y_z"


@pytest.mark.parametrize(
    "url",
    [
        f"https://discord.com/api/v10/interactions/987654/{INTERACTION_TOKEN}/callback",
        f"https://discord.com/api/v10/webhooks/555/{INTERACTION_TOKEN}/messages/@original",
    ],
)
def test_interaction_tokens_never_reach_the_log(url: str) -> None:
    record = logging.LogRecord("discord.http", logging.DEBUG, __file__, 1, "POST %s", (url,), None)

    line = RedactingFormatter().format(record)

    assert "aW50ZXJhY3Rpb24" not in line
    assert "/987654/***/callback" in line or "/555/***/messages/@original" in line


def test_tracebacks_are_redacted_too() -> None:
    try:
        raise ValueError(f"https://discord.com/api/webhooks/1/hook-token and {TOKEN} and s3cret")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("bot", logging.ERROR, __file__, 1, "failed", (), exc_info)

    text = RedactingFormatter(secrets=["s3cret"]).format(record)

    assert "Traceback" in text
    for secret in ("hook-token", TOKEN, "s3cret"):
        assert secret not in text


def test_redact_keeps_ordinary_text() -> None:
    text = "django-flatblocks 1.0.1 released (was 1.0.0) at https://pypi.org/project/x/"

    assert redact(text) == text


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ("PyNaCl is not installed, voice will NOT be supported", False),
        ("davey is not installed, voice will NOT be supported", False),
        ("Shard ID %s has connected to Gateway", True),
    ],
)
def test_only_the_voice_support_warnings_are_silenced(message: str, shown: bool) -> None:
    record = logging.LogRecord("discord.client", logging.WARNING, __file__, 1, message, (), None)

    assert DropVoiceWarnings().filter(record) is shown


def test_a_failed_discord_reconnect_is_one_warning_line_and_our_errors_keep_tracebacks() -> None:
    def record(name: str, message: str, *args: object) -> logging.LogRecord:
        try:
            raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 443)")
        except ConnectionRefusedError:
            exc_info = sys.exc_info()
        return logging.LogRecord(name, logging.ERROR, __file__, 1, message, args, exc_info)

    reconnect = record("discord.shard", "Attempting a reconnect for shard ID %s in %.2fs", 0, 7.5)
    ours = record("bot.delivery", "delivery failed")
    for each in (reconnect, ours):
        OneLineReconnects().filter(each)
    formatter = RedactingFormatter()

    assert formatter.format(reconnect).endswith(
        "WARNING discord.shard: Attempting a reconnect for shard ID 0 in 7.50s "
        "(ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 443))"
    )
    assert "Traceback" in formatter.format(ours)


def test_json_lines_carry_the_record_and_hide_its_secrets() -> None:
    secret = 'pass"word\\with escapes'  # characters JSON would escape, hiding it from a text search
    try:
        raise ValueError(f"https://discord.com/api/webhooks/1/hook-token failed with {secret}")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "bot.delivery", logging.ERROR, __file__, 1, "post %s", (TOKEN,), exc_info
    )

    line = JsonFormatter(secrets=[secret]).format(record)

    entry = json.loads(line)
    assert "\n" not in line
    assert (entry["level"], entry["logger"], entry["message"]) == (
        "ERROR",
        "bot.delivery",
        "post ***",
    )
    assert entry["time"].endswith("+00:00")
    assert "ValueError" in entry["traceback"]
    assert "/webhooks/1/***" in entry["traceback"]
    for hidden in ("hook-token", secret, TOKEN):
        assert hidden not in entry["traceback"] + entry["message"]


@pytest.mark.parametrize("password", ["hunter2", "hun/ter2", "hun ter2", "p@ss:word"])
def test_settings_never_show_the_database_password(password: str) -> None:
    settings = Settings(
        _env_file=None,
        database_url=f"postgresql+asyncpg://bot:{password}@db:5432/sentinel",
        discord_token=SecretStr(TOKEN),
    )

    assert password not in repr(settings)
    assert password not in str(settings)
    assert "MTA1Mjk4" not in repr(settings)
    assert settings.secrets[0].startswith("MTA1Mjk4")


@pytest.mark.parametrize(
    ("setting", "url", "secret"),
    [
        ("pypi_url", "https://__token__:idx-s3cr3t@index.example/", "idx-s3cr3t"),
        ("pypi_url", "https://tok%2Fen@index.example/", "tok%2Fen"),
        ("osv_api_url", "https://reader:p@ss@osv.example/", "p@ss"),
    ],
)
def test_an_upstream_url_credential_never_reaches_a_log_line(
    setting: str, url: str, secret: str
) -> None:
    settings = Settings(_env_file=None).model_copy(update={setting: url})
    record = logging.LogRecord(
        "bot.pypi", logging.WARNING, __file__, 1, f"PyPI refused {url}pypi/x/json", None, None
    )

    line = RedactingFormatter(secrets=settings.secrets).format(record)

    assert secret not in line
    assert "index.example" in line or "osv.example" in line


def test_the_example_settings_name_every_log_level_accepted() -> None:
    example = (Path(__file__).resolve().parent.parent / ".env.example").read_text()
    comment = example.split("\nLOG_LEVEL=", 1)[0].rsplit("\n", 1)[-1]

    assert re.findall(r"[A-Z]+", comment) == list(LOG_LEVELS)
