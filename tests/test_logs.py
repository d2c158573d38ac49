import logging

import pytest

from bot.logs import RedactWebhookTokens


@pytest.mark.parametrize(
    "url",
    [
        "https://discord.com/api/webhooks/123456/abc-DEF_ghi",
        "http://127.0.0.1:8080/api/v10/webhooks/123456/abc-DEF_ghi?wait=true",
    ],
)
def test_webhook_tokens_never_reach_the_log(url: str) -> None:
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "POST %s", (url,), None)

    assert RedactWebhookTokens().filter(record)

    assert "abc-DEF_ghi" not in record.getMessage()
    assert "/webhooks/123456/***" in record.getMessage()
