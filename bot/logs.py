"""Logging setup: one format, quiet libraries, and no secrets in any line."""

from __future__ import annotations

import logging
import re
import sys

#: Libraries that log every request or migration step at INFO; shown only at DEBUG.
CHATTY_LOGGERS = ("httpx", "alembic", "discord.gateway")

_WEBHOOK_TOKEN = re.compile(r"(/webhooks/\d+/)[\w-]+")


class RedactWebhookTokens(logging.Filter):
    """A webhook URL is a credential: keep its id for debugging, hide its token."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _WEBHOOK_TOKEN.sub(r"\1***", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(RedactWebhookTokens())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    if logging.getLogger().level > logging.DEBUG:
        for name in CHATTY_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
