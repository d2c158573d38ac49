import logging
import sys

import pytest

from bot.logs import DropVoiceWarnings, RedactingFormatter, redact

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
