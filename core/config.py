"""Settings from the environment (prefix ``FAIRMARKET_``) and an optional ``.env`` file."""

from __future__ import annotations

import math
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.clock import CHINA

DEVELOPMENT_SECRET = "fairmarket-development-secret-change-me"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
MIN_SECRET_ENTROPY_BITS = 256  # 32 random bytes: an HMAC key nobody can search for

HostList = Annotated[list[str], NoDecode]


_HEX = frozenset("0123456789abcdefABCDEF")
_BASE64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=")
MIN_BITS_PER_CHARACTER = 3.5  # Shannon entropy of the key's own characters; repeats score less


def secret_entropy_bits(secret: str) -> float:
    """Entropy of ``secret`` if it was drawn at random from the smallest usual alphabet holding it.

    ``secrets.token_hex(32)`` and ``secrets.token_urlsafe(32)`` score 256 bits and more; a key whose
    characters repeat (``"a"``, ``"abab…"``, ``"0000…"``) scores 0, whatever its length.
    """
    if not secret:
        return 0.0
    counts = Counter(secret)
    shannon = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    if shannon < MIN_BITS_PER_CHARACTER:
        return 0.0
    characters = set(secret)
    alphabet = 16 if characters <= _HEX else 64 if characters <= _BASE64 else 94
    return len(secret) * math.log2(alphabet)


class Settings(BaseSettings):
    # Errors never echo the input: it holds the secret key and the SMTP password.
    model_config = SettingsConfigDict(
        env_prefix="FAIRMARKET_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("data")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty means a SQLite file in data_dir")
    search_url: str = Field(default="", description="empty: embedded SQLite FTS5; http(s)://: Elasticsearch")
    search_index: str = "fairmarket-complaints"
    index_workers: int = Field(
        default=0, ge=0, description="processes that make index entries in a full reindex; 0: one per core"
    )
    secret_key: str = Field(
        default=DEVELOPMENT_SECRET,
        description="signs access tokens; production needs 32 random bytes (secrets.token_urlsafe(32))",
    )
    access_token_minutes: int = 8 * 60
    cors_origins: list[str] = []
    rate_limit_per_minute: int = 120
    trusted_proxies: HostList = Field(
        default=[],
        description="proxies (addresses, networks) whose X-Forwarded-For is believed; comma-separated",
    )
    redis_url: str = Field(default="", description="shares rate limits through Redis; empty: the database")
    delivery_allowed_hosts: HostList = Field(
        default=[],
        description="webhook/IM hosts, IPs or networks allowed although internal; comma-separated",
    )
    max_request_bytes: int = 1_000_000
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, description="465 by default with smtp_security=tls")
    smtp_sender: str = "alerts@fairmarket.local"
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        default="none", description="starttls: upgrade a plain connection; tls: implicit TLS (SMTPS)"
    )
    smtp_username: str = Field(default="", description="log in when set")
    smtp_password: SecretStr = SecretStr("")
    smtp_ca_file: Path | None = Field(
        default=None, description="CA bundle to verify the server's certificate with; default: certifi's"
    )
    schedule_crawl: str = "0 6 * * *"
    schedule_detect: str = "30 6 * * *"
    schedule_index: str = Field(
        default="45 6 * * *", description="keeps the published price indices current; empty turns it off"
    )
    schedule_deliver_seconds: int = Field(default=30, ge=0, description="0 turns the deliver job off")
    schedule_price_check_seconds: int = Field(
        default=120, ge=0, description="complaint-triggered price checks; 0 turns them off"
    )
    schedule_price_follow_seconds: int = Field(
        default=300, ge=0, description="public price follows (confirmations, move notices); 0 turns them off"
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="where the public reaches the pages; links in e-mails to the public start with it",
    )
    schedule_timezone: str = CHINA.key
    schedule_misfire_grace_seconds: int = Field(default=3600, ge=1)
    scheduler_poll_seconds: float = Field(
        default=5.0, gt=0, description="how often a standby scheduler tries the lock and the leader checks it"
    )
    crawl_sources: list[str] = Field(default=[], description="sources the crawl job runs; empty: all")
    job_runs_keep_days: int = Field(default=90, ge=1, description="job_runs older than this are deleted")
    user_agent: str = "FairMarket/0.1 (+price monitoring for the city consumer association)"

    @field_validator("trusted_proxies", "delivery_allowed_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_secret(self) -> Settings:
        if not self.secret_key:
            raise ValueError("FAIRMARKET_SECRET_KEY must not be empty")
        if self.environment == "production" and (
            self.secret_key == DEVELOPMENT_SECRET
            or secret_entropy_bits(self.secret_key) < MIN_SECRET_ENTROPY_BITS
        ):
            raise ValueError(
                "FAIRMARKET_SECRET_KEY must be at least 32 random bytes in production "
                '(python -c "import secrets; print(secrets.token_urlsafe(32))")'
            )
        return self

    @model_validator(mode="after")
    def _check_smtp(self) -> Settings:
        """Implicit TLS listens on 465, not 25; a password never crosses the network in clear text; and
        smtplib logs in with ASCII only, so other credentials fail here rather than at every send."""
        if self.smtp_security == "tls" and "smtp_port" not in self.model_fields_set:
            self.smtp_port = 465
        if self.smtp_username and self.smtp_security == "none" and self.smtp_host not in LOOPBACK_HOSTS:
            raise ValueError(
                "FAIRMARKET_SMTP_USERNAME needs FAIRMARKET_SMTP_SECURITY=starttls or tls for a remote host"
            )
        if not (self.smtp_username + self.smtp_password.get_secret_value()).isascii():
            raise ValueError(
                "FAIRMARKET_SMTP_USERNAME and _PASSWORD must be ASCII (smtplib logs in with ASCII)"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'fairmarket.db').resolve()}"

    @property
    def search_backend(self) -> Literal["sqlite-fts5", "elasticsearch"]:
        return "elasticsearch" if self.search_url.startswith(("http://", "https://")) else "sqlite-fts5"


@lru_cache
def get_settings() -> Settings:
    return Settings()
