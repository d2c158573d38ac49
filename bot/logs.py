"""Logging setup: one format (text, or JSON lines for log collectors), quiet libraries, and no
secrets in any line or traceback.

Redaction applies to the whole formatted record (message, traceback, stack), so a token inside
an exception's text is hidden too, and to uncaught exceptions, which are logged through the same
handler instead of Python's raw traceback printer. JSON lines are redacted field by field before
they are encoded, so a secret is hidden even where JSON would escape one of its characters.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from types import TracebackType
from typing import Literal

LogFormat = Literal["text", "json"]

#: Libraries that log every request or migration step at INFO; shown only at DEBUG.
CHATTY_LOGGERS = ("httpx", "alembic", "discord.gateway")
LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
HIDDEN = "***"
#: Our own packages: only they log at DEBUG. Libraries stay at INFO even then, so DEBUG shows
#: our lines and every HTTP request (httpx, at INFO), never the database driver's statements.
OWN_LOGGERS = ("bot", "cogs", "storage")
#: discord.py warns at every start about voice support, which the bot never uses.
VOICE_WARNINGS = ("PyNaCl is not installed", "davey is not installed")
#: discord.py's lines for a failed gateway (re)connect attempt, each with a full traceback.
RECONNECT_FAILURES = ("Attempting a reconnect", "Failed to connect for shard_id")
#: The loggers that write them.
RECONNECT_LOGGERS = ("discord.client", "discord.shard")

#: A webhook URL is a credential, and so is an interaction's (`/webhooks/APP/TOKEN/…` for its
#: follow-ups, `/interactions/ID/TOKEN/callback` for its answer): keep the id, hide the token.
_URL_TOKEN = re.compile(r"(/(?:webhooks|interactions)/\d+/)[^/?#\s\"']+")
#: A Discord bot token: base64 user id, timestamp and HMAC, joined by dots.
_BOT_TOKEN = re.compile(r"\b[\w-]{20,}\.[\w-]{4,}\.[\w-]{20,}\b")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with webhook and interaction tokens, anything shaped like a bot token, and
    `secrets` hidden."""
    for secret in secrets:
        text = text.replace(secret, HIDDEN)
    text = _URL_TOKEN.sub(rf"\1{HIDDEN}", text)
    return _BOT_TOKEN.sub(HIDDEN, text)


class RedactingFormatter(logging.Formatter):
    """Formats a record as usual, then hides every secret in the whole text."""

    def __init__(self, fmt: str = LOG_FORMAT, *, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        self.secrets = tuple(secret for secret in secrets if secret)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


class JsonFormatter(RedactingFormatter):
    """One JSON object a line: `time` (UTC, ISO 8601), `level`, `logger`, `message`, and
    `traceback` when the record carries one; each value redacted as the text format is."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        redacted = {key: redact(value, self.secrets) for key, value in entry.items()}
        return json.dumps(redacted, ensure_ascii=False)


def _log_uncaught(
    kind: type[BaseException], error: BaseException, traceback: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, traceback)
        return
    logging.getLogger("djp-sentinel").critical("uncaught error", exc_info=(kind, error, traceback))


class DropVoiceWarnings(logging.Filter):
    """Silence discord.py's two "voice will NOT be supported" warnings (no voice here)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(VOICE_WARNINGS)


class OneLineReconnects(logging.Filter):
    """discord.py's failed reconnect attempts as one warning line each, the error's reason in
    place of its traceback: an unreachable Discord is a network matter, and would otherwise
    print some thirty lines per attempt, for as long as it lasts. Our own errors keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and str(record.msg).startswith(RECONNECT_FAILURES):
            error = record.exc_info[1]
            reason = " ".join(str(error).split()) or type(error).__name__
            record.msg = f"{record.msg} ({type(error).__name__}: %s)"
            record.args = (*(record.args if isinstance(record.args, tuple) else ()), reason)
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def _add_filter(logger_name: str, kind: type[logging.Filter]) -> None:
    """Add a `kind` filter to a logger once, however many times logging is configured."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, kind) for f in logger.filters):
        logger.addFilter(kind())


def configure_logging(
    level: str, *, secrets: Iterable[str] = (), log_format: LogFormat = "text"
) -> None:
    """Log to stderr at `level` (a valid level name) as text or JSON lines, hiding webhook and
    interaction tokens, bot tokens and `secrets` everywhere, uncaught exceptions included. Only
    our own loggers go below INFO."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = JsonFormatter if log_format == "json" else RedactingFormatter
    handler.setFormatter(formatter(secrets=secrets))
    numeric = logging.getLevelName(level)
    logging.basicConfig(level=max(numeric, logging.INFO), handlers=[handler], force=True)
    sys.excepthook = _log_uncaught
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(numeric)
    chatty = logging.NOTSET if numeric <= logging.DEBUG else logging.WARNING
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(chatty)
    _add_filter("discord.client", DropVoiceWarnings)
    for name in RECONNECT_LOGGERS:
        _add_filter(name, OneLineReconnects)
