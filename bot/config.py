"""Settings read from the environment (and `.env`), validated once at start."""

from __future__ import annotations

from functools import cached_property

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/sentinel.db"
DEFAULT_DJP_API_URL = "https://djangopackages.org/api/v4/"


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
    log_level: str = "INFO"

    @field_validator("djp_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("log_level")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @cached_property
    def token(self) -> str | None:
        return self.discord_token.get_secret_value() if self.discord_token else None
