"""One Settings object, read from the environment (prefix ``PROBITY_``) and ``.env``.

Nothing reads the environment at import time: call :func:`load_settings`.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from backend.kernel.files import private_dir, write_private

log = logging.getLogger("probity.settings")
#: a value once shipped as the default: refused wherever it is set
PLACEHOLDER_SECRET = "change-me-in-production"  # noqa: S105 - refused, never used
#: without PROBITY_SECRET_KEY the key is kept here, in the data directory (made once, mode 0600)
KEY_FILE_NAME = "secret.key"
MIN_SECRET_LENGTH = 32


def processors() -> int:
    """The processors this process may run on (its affinity where the system tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PROBITY_", env_file=".env", extra="ignore", populate_by_name=True
    )

    env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///./var/probity.db"
    data_dir: Path = Path("./var")
    #: unset: read from <data_dir>/secret.key, made there once (random) outside production
    secret_key: SecretStr = SecretStr("")
    demo_password: SecretStr = SecretStr("demo")
    #: key for check-up answers and scores at rest; unset: derived from secret_key with its own label
    checkup_key: SecretStr | None = None

    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=14, ge=1, le=365)
    #: sign-in sessions end after this many minutes unused (noticed when the access token is
    #: renewed), and always refresh_token_days after sign-in
    session_idle_minutes: int = Field(default=30, ge=1)
    #: wrong passwords for one username before each further attempt waits 1 s, 2 s, 4 s …
    #: (at most login_lock_minutes); a sign-in resets the count
    login_max_failures: int = Field(default=5, ge=1)
    login_lock_minutes: int = Field(default=15, ge=1)
    #: a username's wrong passwords are forgotten after this many hours without another one (and
    #: its row deleted by the daily retention pass, as are addresses' past windows)
    login_failure_memory_hours: int = Field(default=24, ge=1)
    #: wrong passwords from one client address (any usernames) per window before it waits for
    #: the window's end
    login_address_max_failures: int = Field(default=100, ge=1)
    login_address_window_minutes: int = Field(default=15, ge=1)
    #: roles (comma-separated) that must sign in with a TOTP second factor (backend/auth/totp.py);
    #: unset: admin,committee,inspector with env=production, nobody elsewhere (demo accounts sign
    #: in with the password until they enrol)
    totp_required_roles: str | None = None
    password_min_length: int = Field(default=10, ge=8, le=128)
    password_hash_memory_kib: int = Field(default=65536, ge=64)
    password_hash_time_cost: int = Field(default=3, ge=1)
    #: threads hashing and checking passwords (off the event loop), per process
    password_hash_threads: int = Field(default=4, ge=1, le=64)

    max_body_bytes: int = Field(default=10_000_000, ge=1024)
    timezone: str = "Asia/Shanghai"
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    #: how long a request waits for a pooled database connection before it is answered 503
    #: ``server_busy`` with Retry-After (a burst beyond what the server can answer)
    database_pool_timeout_seconds: float = Field(default=30.0, gt=0)
    #: PostgreSQL: a pooled connection idle longer than this is checked (one round trip) before a
    #: request uses it, and replaced if the server closed it; 0: checked every time
    database_ping_idle_seconds: float = Field(default=1.0, ge=0, le=3600)
    #: requests working with the database at once per process; the others wait, acts before reads,
    #: each in arrival order (at most the pool timeout): backend/kernel/admission.py. 0: twice the
    #: processors this process may run on, at least 4 and at most 32 (``active_limit``)
    max_active_requests: int = Field(default=0, ge=0, le=10_000)
    #: how long `probity serve` keeps an idle HTTP connection open (uvicorn's default is 5 s)
    keep_alive_seconds: int = Field(default=75, ge=1, le=3600)
    #: HTTP processes of `probity serve` (roles all and api) sharing its port: the first of the
    #: role asked, the others api (backend/roles.py HttpHelpers); `--processes` overrides it
    http_processes: int = Field(default=1, ge=1, le=64)
    #: SQLite: how long a writing transaction waits for its process's turn (backend/kernel/turns.py)
    sqlite_write_wait_seconds: float = Field(default=15.0, gt=0, le=600)
    #: how long a person's unit, roles and scope are cached per process (changes made in the same
    #: process apply at once; account disabling and sign-out always apply at once)
    principal_cache_seconds: float = Field(default=5.0, ge=0)
    log_level: str = "INFO"
    #: the event loop `probity serve` runs on. asyncio by default: under full load uvloop (0.23,
    #: via uvicorn) admitted new connections one per loop pass, so a phone connecting to a busy
    #: server waited 100–600 ms for its first answer while open connections were served in ~20 ms
    #: (benchmarks/inbox.py --server-loop; README "Inbox performance")
    server_loop: Literal["asyncio", "uvloop"] = "asyncio"
    #: freeze the heap after start-up and warm-up (backend/kernel/heap.py); unset means on, except
    #: with env=test (a test run starts many apps in one process)
    settle_heap: bool | None = None

    #: business data store (DuckDB): memory cap, rule time limit, largest upload
    duckdb_memory_limit: str = "2GB"
    #: several processes take turns with the store file (backend/data/store.py): how long one waits
    #: for its turn (an import or rule run in another process) before answering ``store_busy``, and
    #: how long a process keeps the file open after its work when nobody else waits for it
    duckdb_wait_seconds: float = Field(default=300.0, gt=0)
    duckdb_linger_seconds: float = Field(default=2.0, ge=0)
    rule_timeout_seconds: float = Field(default=60.0, gt=0)
    #: a run's hits reach the operational database in pages of this many (plus the rest of the
    #: last hit's object and period): the engine's memory and one INSERT's size stay bounded
    rule_hit_page_size: int = Field(default=5000, ge=1)
    #: which engine runs the rules (backend/engine/engines.py): DuckDB embedded (the default) or
    #: Apache Spark (the ``spark`` extra and a Java runtime; README "Running at province scale")
    business_engine: Literal["duckdb", "spark"] = "duckdb"
    #: where business tables live: unset, the DuckDB file <data_dir>/business.duckdb (DuckDB only);
    #: ``file:///dir`` (or ``s3://bucket/prefix``, configured in the engines), Parquet partitioned by
    #: period, read by both engines (backend/data/parquet.py)
    business_store: str | None = None
    #: the Spark master (``local[2]``, ``spark://host:7077``, ``yarn``, ``k8s://…``) and Spark
    #: settings passed through as they are (JSON: {"spark.executor.memory": "8g", …})
    spark_master: str = "local[*]"
    spark_conf: dict[str, str] = Field(default_factory=dict)
    upload_max_bytes: int = Field(default=4_000_000_000, ge=1024)

    #: public intake (backend/intake): proof-of-work bits per report (~65 000 hashes at 16: about a
    #: second on a phone), reports per sender address per hour and per day, files per report and
    #: the largest file
    intake_pow_bits: int = Field(default=16, ge=0, le=28)
    intake_per_hour: int = Field(default=3, ge=1)
    intake_per_day: int = Field(default=10, ge=1)
    intake_max_files: int = Field(default=3, ge=0, le=10)
    intake_file_max_bytes: int = Field(default=5_000_000, ge=1024)

    #: warning lifecycle: largest verification photo, reminder before the deadline and supervision
    #: order after it, in working days
    photo_max_bytes: int = Field(default=8_000_000, ge=1024)
    #: rendered own-inbox pages kept per process (SQLite; each ~12 KB), reused while the person's
    #: warnings are unchanged and no item's deadline has passed; 0 keeps none
    inbox_cache_pages: int = Field(default=4096, ge=0, le=1_000_000)
    #: statistics (the dashboard, GET /api/stats) of one scope and period are reused for this many
    #: seconds, and callers asking at the same time share one computation; 0 computes every call
    stats_cache_seconds: float = Field(default=20, ge=0, le=3600)
    #: PostgreSQL: keep those pages and signed-in sessions too, told of changes by the database
    #: (LISTEN, migration 0010; backend/kernel/watch.py); unset means on, except with env=test (a
    #: change written by another connection shows once its notification is read, milliseconds later)
    watch_changes: bool | None = None
    #: reads of case content answered without a transaction (inbox lists) reach the trail in
    #: batches this often (and when the app stops); within it, one person's repeated identical
    #: reads make one record (see backend/audit/reads.py)
    read_trail_seconds: float = Field(default=1.0, gt=0, le=5)
    #: a signed checkpoint of the trail's head is added to <data_dir>/audit/checkpoints.jsonl at
    #: most this often while the trail grows (and at `probity audit verify` / `audit head`)
    audit_checkpoint_seconds: float = Field(default=60.0, gt=0)
    #: records of the trail are written with their change and chained into the trail's hash
    #: chain by each process's sealer this often (backend/audit/sealing.py)
    audit_seal_seconds: float = Field(default=1.0, gt=0, le=10)
    #: ended sessions (expired or signed out) and finished deliveries (with their attempts and
    #: routes) are deleted this many days after they ended (`probity retention`, and a daily job)
    session_retention_days: int = Field(default=30, ge=1)
    delivery_retention_days: int = Field(default=184, ge=1)
    reminder_working_days: int = Field(default=3, ge=0, le=30)
    supervision_after_working_days: int = Field(default=5, ge=1, le=60)
    #: the scheduler (backend/schedule): daily check-up reminders at this local time (`timezone`);
    #: a process running a job holds its lease this long, renewed while it runs (a crashed run is
    #: taken over once it lapses); due jobs are looked for this often
    checkup_reminder_at: time = time(9, 0)
    schedule_lease_seconds: float = Field(default=120.0, ge=5)
    schedule_poll_seconds: float = Field(default=15.0, gt=0, le=600)

    #: delivery (backend/delivery, notifications/): outbox workers run in `probity serve` unless
    #: disabled; unset means on, except with env=test (tests drive the worker step by step)
    workers_enabled: bool | None = None
    #: the address people open from a push, Telegram or e-mail link
    public_url: str = "http://127.0.0.1:8000"
    #: the VAPID contact (sub claim) push services may write to
    vapid_subscriber: str = "probity-admin@example.com"
    push_ttl_seconds: int = Field(default=24 * 3600, ge=0, le=28 * 24 * 3600)
    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("PROBITY_TELEGRAM_BOT_TOKEN", "PROBITY_TELEGRAM_TOKEN")
    )
    telegram_api_base: str = Field(
        default="https://api.telegram.org/bot",
        validation_alias=AliasChoices("PROBITY_TELEGRAM_API_BASE", "PROBITY_TELEGRAM_BASE_URL"),
    )
    #: the bot (bot/): unset means on when a token is set, except with env=test
    telegram_bot_enabled: bool | None = None
    #: unset: a webhook route in the app with env=production, long polling elsewhere
    telegram_mode: Literal["polling", "webhook"] | None = None
    #: sent by Telegram with every webhook call; unset: derived from PROBITY_SECRET_KEY
    telegram_webhook_secret: SecretStr | None = None
    #: file downloads; unset: telegram_api_base with "/bot" turned into "/file/bot"
    telegram_file_base: str | None = None
    #: the bot's @username for deep links; unset: asked from Telegram when the bot starts
    telegram_bot_username: str | None = None
    #: a half-finished reply in a chat is dropped after this many minutes without an answer
    telegram_conversation_minutes: float = Field(default=30.0, gt=0, le=7 * 24 * 60)
    delivery_poll_seconds: float = Field(default=0.25, gt=0)
    delivery_batch: int = Field(default=200, ge=1, le=5000)
    delivery_concurrency: int = Field(default=64, ge=1, le=1024)
    #: batches a worker has on the wire at once (the next is fetched while one finishes)
    delivery_pipeline: int = Field(default=2, ge=1, le=8)
    delivery_max_attempts: int = Field(default=4, ge=1, le=20)
    delivery_backoff_seconds: float = Field(default=2.0, ge=0)
    delivery_backoff_max_seconds: float = Field(default=300.0, ge=0)
    delivery_lease_seconds: float = Field(default=60.0, gt=0)
    delivery_timeout_seconds: float = Field(default=10.0, gt=0)
    #: events older than this are not rung on any channel any more (the in-app list still has them)
    delivery_horizon_hours: float = Field(default=48.0, gt=0)
    delivery_language: Literal["zh", "en"] = "zh"
    #: integrity education hours each person is to study in twelve months (the portrait counts
    #: what is short of it)
    education_hours_required: float = Field(default=8.0, ge=0, le=200)
    #: push services on private, loopback or link-local addresses (and over plain http) are
    #: accepted: an on-premises push service, or a local test fake. Off: public https only
    push_allow_private: bool = False
    #: proxies (IPs or CIDRs, comma-separated) whose X-Forwarded-Proto is believed (HSTS is sent
    #: only on https); empty: none
    trusted_proxies: str = ""

    @property
    def active_limit(self) -> int:
        """Requests working with the database at once per process (``max_active_requests``; 0:
        twice the processors this process may run on, 4 to 32): more at once than the processors
        answer only share them more thinly, each request taking longer (README, "Writes under
        load")."""
        if self.max_active_requests:
            return self.max_active_requests
        return min(32, max(4, 2 * processors()))

    @property
    def heap_settles(self) -> bool:
        return self.env != "test" if self.settle_heap is None else self.settle_heap

    @property
    def watches_changes(self) -> bool:
        return self.env != "test" if self.watch_changes is None else self.watch_changes

    @property
    def run_workers(self) -> bool:
        return self.env != "test" if self.workers_enabled is None else self.workers_enabled

    @property
    def telegram_offered(self) -> bool:
        """The deployment has Telegram: a bot token is set and the bot is not switched off
        (``PROBITY_TELEGRAM_BOT_ENABLED=false``). Only then is Telegram a channel people can bind
        and alerts are routed to (mainland deployments leave it off: Telegram is blocked there)."""
        return self.telegram_bot_token is not None and self.telegram_bot_enabled is not False

    @property
    def totp_enforced_roles(self) -> frozenset[str]:
        value = self.totp_required_roles
        if value is None:
            value = "admin,committee,inspector" if self.env == "production" else ""
        return frozenset(r.strip() for r in value.split(",") if r.strip())

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "PROBITY_DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        return value

    @model_validator(mode="after")
    def _lease_covers_a_send(self) -> Settings:
        """A delivery lease must outlast the worst case of one send (every post of a Web Push
        message timing out, ``2 × delivery_timeout_seconds``) twice over: leases are renewed every
        quarter of their length, and a worker sends only while its lease holds longer than that."""
        worst = 2 * self.delivery_timeout_seconds
        if self.delivery_lease_seconds < 2 * worst:
            raise ValueError(
                f"PROBITY_DELIVERY_LEASE_SECONDS (delivery_lease_seconds={self.delivery_lease_seconds:g}) "
                f"must be at least 4 × PROBITY_DELIVERY_TIMEOUT_SECONDS ({2 * worst:g})"
            )
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            ipaddress.ip_network(part, strict=False)  # a ValueError names the bad part
        return value

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        parts = filter(None, (p.strip() for p in self.trusted_proxies.split(",")))
        return tuple(ipaddress.ip_network(p, strict=False) for p in parts)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def duckdb_path(self) -> Path:
        return self.data_dir / "business.duckdb"

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file (None on PostgreSQL or in memory)."""
        if not self.is_sqlite:
            return None
        path = self.database_url.split("///", 1)[-1].split("?", 1)[0]
        return None if path in {"", ":memory:"} else Path(path)

    @property
    def database_files(self) -> list[Path]:
        """The files of the operational and business databases (with their journals, and the lock
        files through which processes take turns with them: never backed up)."""
        bases = [self.duckdb_path] + ([self.sqlite_path] if self.sqlite_path else [])
        suffixes = ("", "-wal", "-shm", ".wal", ".turn", ".turn-queue", ".holder", ".waiting")
        return [base.with_name(base.name + suffix) for base in bases for suffix in suffixes]

    #: where the secret key came from: "env" (PROBITY_SECRET_KEY), "file" (kept in the data
    #: directory), "made" (just made and kept there), "missing" (production, neither)
    _key_origin: str = PrivateAttr(default="env")

    @model_validator(mode="after")
    def _secret_key_from_file(self) -> Settings:
        if self.secret_key.get_secret_value():
            return self
        path = self.secret_key_file
        if path.exists():
            self.secret_key = SecretStr(path.read_text().strip())
            self._key_origin = "file"
        elif self.env == "production":
            self._key_origin = "missing"
        else:
            private_dir(self.data_dir)
            made = write_private(path, secrets.token_urlsafe(48).encode(), exclusive=True)
            self.secret_key = SecretStr(path.read_text().strip())  # another process may have won
            self._key_origin = "made" if made else "file"
        return self

    @property
    def secret_key_file(self) -> Path:
        return self.data_dir / KEY_FILE_NAME

    @property
    def key_origin(self) -> str:
        return self._key_origin

    def check_secrets(self) -> None:
        """Refuse a missing, short or once-public secret key; in development, say (in the log)
        that the key is the one kept in the data directory."""
        key = self.secret_key.get_secret_value()
        if self._key_origin == "missing":
            raise ValueError(
                "PROBITY_SECRET_KEY is not set and there is no key file "
                f"{self.secret_key_file}: production needs a random key of at least "
                f"{MIN_SECRET_LENGTH} characters"
            )
        if key == PLACEHOLDER_SECRET or len(key) < MIN_SECRET_LENGTH:
            where = "PROBITY_SECRET_KEY" if self._key_origin == "env" else str(self.secret_key_file)
            raise ValueError(
                f"PROBITY_SECRET_KEY ({where}) must be a random value of at least "
                f"{MIN_SECRET_LENGTH} characters, not a placeholder"
            )
        if self.env == "development" and self._key_origin in {"file", "made"}:
            log.warning(
                "PROBITY_SECRET_KEY is not set: using the key %s %s (development only; "
                "production refuses to start without a key)",
                "just made and kept in" if self._key_origin == "made" else "kept in",
                self.secret_key_file,
            )


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
