"""Settings read from the environment (and `.env`), validated once at start."""

from __future__ import annotations

import re
from functools import cached_property
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DJP_API_URL = "https://djangopackages.org/api/v4/"
DEFAULT_PYPI_URL = "https://pypi.org/"
DEFAULT_ENDOFLIFE_URL = "https://endoflife.date/api/"
DEFAULT_OSV_API_URL = "https://api.osv.dev/"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def default_database_url() -> str:
    """SQLite in the user's data directory: the same file from whichever folder the CLI runs."""
    from platformdirs import user_data_path

    return f"sqlite+aiosqlite:///{user_data_path('djp-sentinel') / 'sentinel.db'}"


def _quota(default: int, description: str) -> Any:
    """A limit on what one channel or server may hold: a whole number, at least 1."""
    return Field(default=default, ge=1, description=description)


class Settings(BaseSettings):
    """Every knob of djp-sentinel; see `.env.example` for the documented list."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_token: SecretStr | None = Field(
        default=None, description="the bot token; `run` and `sync-commands` need it"
    )
    #: Left out of `repr` (it may hold a password); `secrets` hands its password to the logs.
    database_url: str = Field(
        default_factory=default_database_url,
        description="any SQLAlchemy async URL, e.g. postgresql+asyncpg://…",
        repr=False,
    )
    djp_api_url: str = Field(
        default=DEFAULT_DJP_API_URL, description="base of the Django Packages API"
    )
    pypi_url: str = Field(
        default=DEFAULT_PYPI_URL,
        description="base of PyPI (reads its journal at {PYPI_URL}pypi, then "
        "{PYPI_URL}pypi/<project>/json for the projects it names); empty: off",
    )
    endoflife_url: str = Field(
        default=DEFAULT_ENDOFLIFE_URL,
        description="base of endoflife.date's API (reads {ENDOFLIFE_URL}django.json); empty: off",
    )
    osv_api_url: str = Field(
        default=DEFAULT_OSV_API_URL,
        description="base of the OSV API, for security advisories (empty: advisories off)",
    )
    discord_api_base: str | None = Field(
        default=None, description="REST base for Discord (a proxy, or a local fake)"
    )
    discord_gateway_url: str | None = Field(
        default=None, description="gateway URL (default: the one DISCORD_API_BASE announces)"
    )
    webhook_test_host: str | None = Field(
        default=None,
        description="tests only: a local Discord's host (127.0.0.1, or 127.0.0.1:PORT) whose "
        "http webhook URLs are accepted besides Discord's https hosts",
    )
    dev_guild_id: int | None = Field(
        default=None, description="sync slash commands to this guild only, at start"
    )
    poll_interval_seconds: float = Field(
        default=21600, ge=1, description="seconds between refreshes of watched records"
    )
    stale_after_days: int = Field(
        default=365, ge=1, description="days without a commit before a package is stale"
    )
    http_concurrency: int = Field(
        default=2, ge=1, le=16, description="parallel requests to Django Packages"
    )
    http_timeout_seconds: float = Field(
        default=20.0, gt=0, description="seconds before a request to Django Packages fails"
    )
    discord_global_rate: int = Field(
        default=50, ge=1, description="requests per second the bot allows itself towards Discord"
    )
    log_level: str = Field(
        default="INFO", description="DEBUG adds our debug lines and every HTTP request"
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="json: one JSON object a line, for log collectors"
    )
    shard_count: int | None = Field(
        default=None, ge=1, description="gateway shards in all (default: Discord's advice)"
    )
    shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = Field(
        default=None, description="the shards this process holds, e.g. 0,1"
    )
    retention_days: int = Field(
        default=90, ge=1, description="days settled alerts and poll-cycle figures are kept"
    )
    history_retention_days: int = Field(
        default=730,
        ge=60,
        description="days of package history, and of release alerts sent, kept (each "
        "package's newest row, and its versions' newest rows, are always kept)",
    )
    metrics_port: int | None = Field(
        default=None, ge=1, le=65535, description="serve /healthz and /metrics on this port"
    )
    metrics_host: str = Field(default="127.0.0.1", description="the address they listen on")
    upstream_searches_per_minute: int = Field(
        default=30, ge=0, description="searches of Django Packages autocomplete may make a minute"
    )
    upstream_searches_per_user_minute: int = Field(
        default=5, ge=0, description="of those, searches one Discord user's typing may cause"
    )
    max_subscriptions_per_channel: int = _quota(100, "packages and grids one channel may follow")
    max_subscriptions_per_guild: int = _quota(
        500, "packages and grids one server may follow in all"
    )
    max_marks_per_channel: int = _quota(200, "feature-complete marks in one channel")
    max_marks_per_guild: int = _quota(1000, "feature-complete marks in one server in all")
    max_webhook_routes_per_channel: int = _quota(
        100, "packages and grids one channel may follow via webhooks"
    )
    max_webhook_routes_per_guild: int = _quota(
        500, "packages and grids one server may follow via webhooks"
    )

    @field_validator(
        "dev_guild_id",
        "shard_count",
        "metrics_port",
        "metrics_host",
        "webhook_test_host",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any, info: ValidationInfo) -> Any:
        """`NAME=` (a line of .env.example uncommented and left blank) is the default, as it
        already was for SHARD_IDS or DISCORD_API_BASE; for METRICS_HOST that is 127.0.0.1, not
        the every-interface address a blank host would mean to the server."""
        if isinstance(value, str) and not value.strip() and info.field_name:
            return cls.model_fields[info.field_name].get_default(call_default_factory=True)
        return value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip()) or None
        return value

    @field_validator("shard_ids")
    @classmethod
    def _within_count(
        cls, value: tuple[int, ...] | None, info: ValidationInfo
    ) -> tuple[int, ...] | None:
        count = info.data.get("shard_count")
        if value is None:
            return value
        if count is None:
            raise ValueError("needs SHARD_COUNT, the number of shards in all")
        if any(not 0 <= shard < count for shard in value):
            raise ValueError(f"shard ids run from 0 to SHARD_COUNT - 1 ({count - 1})")
        return value

    @field_validator("djp_api_url", "pypi_url", "endoflife_url", "osv_api_url")
    @classmethod
    def _a_web_address(cls, value: str, info: ValidationInfo) -> str:
        """An http(s) URL with a host, or empty (that source off; Django Packages cannot be),
        checked here so a typo is one line at start rather than every request failing."""
        value = value.strip()
        if not value and info.field_name != "djp_api_url":
            return value
        try:
            parts = urlsplit(value)
            well_formed = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:  # e.g. an unclosed IPv6 bracket
            well_formed = False
        if not well_formed:
            off = "" if info.field_name == "djp_api_url" else " (empty turns this source off)"
            raise ValueError(f"not an http:// or https:// URL{off}")
        return value

    @field_validator("djp_api_url", "osv_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if not value or value.endswith("/") else value + "/"

    @field_validator("webhook_test_host")
    @classmethod
    def _a_host(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[\w.-]+(?::\d+)?", value):
            raise ValueError("give a host name or address, and a port if one, e.g. 127.0.0.1")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"{value!r} is not a log level: use {', '.join(LOG_LEVELS)}")
        return level

    @cached_property
    def token(self) -> str | None:
        return self.discord_token.get_secret_value() if self.discord_token else None

    @property
    def secrets(self) -> tuple[str, ...]:
        """What no log line may show: the bot token, the database password, and the
        credentials an upstream URL carries (a private package index's token, say), each as
        written and percent-decoded. An upstream's user name counts when it has no password
        (`https://TOKEN@host/`); the database's never does."""
        upstreams = (self.djp_api_url, self.pypi_url, self.endoflife_url, self.osv_api_url)
        written = [
            url_password(self.database_url),
            *(url_password(url) or url_user(url) for url in upstreams),
        ]
        candidates = (self.token, *written, *(unquote(secret) for secret in written))
        return tuple(dict.fromkeys(secret for secret in candidates if secret))


def _userinfo(url: str) -> str:
    """The part of a URL between `://` and the last `@` ("" without one)."""
    _scheme, separator, rest = url.partition("://")
    userinfo, _at, _host = rest.rpartition("@")
    return userinfo if separator else ""


def url_password(url: str) -> str:
    """The password in a URL: what follows the first `:` of its user info ("" without one).
    Unlike a regex, it keeps `/`, `:`, `@` and spaces."""
    return _userinfo(url).partition(":")[2]


def url_user(url: str) -> str:
    """The user name in a URL's user info ("" without one)."""
    return _userinfo(url).partition(":")[0]


def settings_problem(error: ValidationError) -> str:
    """The first invalid setting in one line, named as its environment variable, e.g.
    "POLL_INTERVAL_SECONDS: input should be greater than or equal to 1" (never its value)."""
    first = error.errors(include_url=False)[0]
    name = str(first["loc"][0]).upper() if first["loc"] else "settings"
    message = str(first["ctx"]["error"]) if first["type"] == "value_error" else first["msg"]
    return f"{name}: {message[:1].lower()}{message[1:]}"
