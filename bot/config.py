"""Settings read from the environment (and `.env`), validated once at start."""

from __future__ import annotations

from functools import cached_property
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/sentinel.db"
DEFAULT_DJP_API_URL = "https://djangopackages.org/api/v4/"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Settings(BaseSettings):
    """Every knob of djp-sentinel; see `.env.example` for the documented list."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_token: SecretStr | None = None
    database_url: str = DEFAULT_DATABASE_URL
    djp_api_url: str = DEFAULT_DJP_API_URL
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    dev_guild_id: int | None = None
    poll_interval_seconds: float = Field(default=21600, ge=1)
    stale_after_days: int = Field(default=365, ge=1)
    http_concurrency: int = Field(default=2, ge=1, le=16)
    http_timeout_seconds: float = Field(default=20.0, gt=0)
    discord_global_rate: int = Field(default=50, ge=1)
    log_level: str = "INFO"
    #: Gateway shards in all (unset: as many as Discord recommends) and this process's share.
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = None
    #: Serve /healthz and /metrics on this port (unset: no HTTP server).
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"

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

    @field_validator("djp_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

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


def settings_problem(error: ValidationError) -> str:
    """The first invalid setting in one line, named as its environment variable, e.g.
    "POLL_INTERVAL_SECONDS: input should be greater than or equal to 1" (never its value)."""
    first = error.errors(include_url=False)[0]
    name = str(first["loc"][0]).upper() if first["loc"] else "settings"
    message = str(first["ctx"]["error"]) if first["type"] == "value_error" else first["msg"]
    return f"{name}: {message[:1].lower()}{message[1:]}"
