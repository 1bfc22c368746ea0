"""Typed settings, read once from the environment (prefix ``SANTUN_``) and ``.env``."""

from __future__ import annotations

import secrets
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob Santun reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="SANTUN_", env_file=".env", extra="ignore", populate_by_name=True
    )

    engine: Literal["auto", "llm", "offline"] = "auto"
    llm_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_timeout: float = Field(default=20.0, gt=0)  # whole-turn budget; then offline answers
    llm_call_timeout: float = Field(default=10.0, gt=0)  # one model call
    llm_max_retries: int = Field(default=2, ge=0, le=10)
    llm_temperature: float = Field(default=0.2, ge=0, le=2)
    llm_max_prompt_tokens: int = Field(default=6000, ge=500)
    prompt_variant: str = "default"
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "openai_api_key")
    )
    data_dir: Path = Path(".santun")
    database_url: str | None = None
    chroma_url: str | None = None
    index_dir: Path | None = None
    embedder: Literal["use", "e5"] = "use"
    secret_key: SecretStr | None = None
    public_url: str | None = None
    now: datetime | None = None
    retention_days: int = Field(default=365, ge=1)
    max_message_chars: int = Field(default=4000, ge=1)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    rate_limit_session_per_minute: int = Field(default=20, ge=1)
    rate_limit_ip_per_minute: int = Field(default=600, ge=1)
    guard_max_regenerations: int = Field(default=2, ge=0)
    cors_origins: list[str] = Field(default_factory=list)  # sites that may embed the widget
    host: str = "127.0.0.1"
    port: int = 8000
    # Outreach channels. A channel without an endpoint writes to a sandbox file under the
    # data dir (demos), never to a real debtor.
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "Bank Nusantara <pengingat@banknusantara.example>"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    whatsapp_api_url: str | None = None  # e.g. https://graph.facebook.com/v21.0
    whatsapp_phone_number_id: str = "santun-demo"
    whatsapp_token: SecretStr | None = None
    whatsapp_app_secret: SecretStr | None = None  # signs WhatsApp webhooks (X-Hub-Signature-256)
    whatsapp_verify_token: SecretStr | None = None  # answers the webhook subscription check
    sms_api_url: str | None = None
    sms_api_key: SecretStr | None = None
    sms_webhook_secret: SecretStr | None = None  # signs SMS webhooks (X-Santun-Signature)
    email_webhook_secret: SecretStr | None = None  # signs inbound e-mail webhooks
    channel_timeout: float = Field(default=10.0, gt=0)

    @property
    def resolved_engine(self) -> Literal["llm", "offline"]:
        """The engine ``auto`` stands for: ``llm`` when an endpoint or key is configured."""
        if self.engine != "auto":
            return self.engine
        return "llm" if (self.openai_api_key or self.llm_base_url) else "offline"

    @property
    def sqlite_path(self) -> Path:
        """Where the default SQLite database lives."""
        return self.data_dir / "santun.db"

    @property
    def checkpoint_path(self) -> Path:
        """Where the LangGraph SQLite checkpoints live."""
        return self.data_dir / "checkpoints.db"

    @property
    def resolved_index_dir(self) -> Path:
        """Where embedded Chroma keeps the vector index."""
        return self.index_dir or self.data_dir

    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL: ``SANTUN_DATABASE_URL`` or SQLite under the data dir."""
        return self.database_url or f"sqlite:///{self.sqlite_path}"

    def signing_key(self) -> bytes:
        """The HMAC key: ``SANTUN_SECRET_KEY``, else one generated once and kept on disk."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip().encode()

    def base_public_url(self) -> str:
        """The public address payment links point at (default: the server's own)."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read once."""
    return Settings()
