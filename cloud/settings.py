"""All configuration of the cloud service, read from the environment (DATABASE_URL, ...)."""

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    # SQLite file by default (zero setup); postgresql+psycopg://user@host:5432/db for PostgreSQL.
    database_url: str = "sqlite:///./var/cloud.db"
    api_prefix: str = "/api/v1"
    # Invalid API keys tolerated from one client address within the window before it gets 429.
    auth_failure_limit: int = 10
    auth_failure_window_s: int = 60
    default_page_size: int = 50
    max_page_size: int = 500
    # Presence answers stop after this many entries (and say so) so one query cannot exhaust memory.
    max_presence_entries: int = 20000
    # Months of DST transitions covered by the UTC-offset tables sent to locks.
    offset_table_months: int = 12
    # Mobile keys (phones): the validity of a key issued without valid_until, and the longest allowed.
    mobile_key_default_days: int = 30
    mobile_key_max_days: int = 366
    # The master key sealing site keys and device secrets (AES-256-GCM, docs/SECURITY.md): 32 bytes as hex or
    # base64 in OPENAKERUN_MASTER_KEY, else read from OPENAKERUN_MASTER_KEY_FILE (`python -m cloud keys
    # init-master` creates it, mode 0600). Never stored in the database.
    master_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAKERUN_MASTER_KEY", "master_key")
    )
    master_key_file: Path = Field(
        default=Path("var/master.key"),
        validation_alias=AliasChoices("OPENAKERUN_MASTER_KEY_FILE", "master_key_file"),
    )

    # --- integrations (docs/INTEGRATIONS.md) ---
    # Webhook URLs must be https:// and must not point into private, loopback or link-local networks (the
    # cloud would otherwise call services behind its own firewall); both can be relaxed for a lab or a test.
    webhook_allow_http: bool = False
    webhook_allow_private_networks: bool = False
    webhook_timeout_s: float = 10.0
    # Retries: base * 2^(attempt - 1) seconds, at most max; a delivery still failing after max_age is given
    # up ("failed"). Three days ride out a receiver's long weekend.
    webhook_backoff_base_s: int = 10
    webhook_backoff_max_s: int = 900
    webhook_max_age_s: int = 3 * 86400
    # Deliveries one worker pass sends to one endpoint before it moves to the next endpoint.
    webhook_batch: int = 50
    webhook_poll_interval_s: float = 2.0
    # How long a worker owns an endpoint while it sends (renewed for every delivery); another worker takes
    # over an endpoint whose lease ran out (its worker died).
    webhook_lease_s: int = 120
    # Delivered and failed deliveries (and their attempts) are deleted after this many days.
    webhook_retention_days: int = 30
    # Requests per minute an integration key may make (a key's own rate_limit_per_min overrides it).
    integration_rate_limit_per_min: int = 120
    # Lifetime of the one-shot unlock a face verification creates: the lock refuses it afterwards.
    face_unlock_ttl_s: int = 30
    # Attendance: longest range of one JSON answer, and of one CSV export (days).
    attendance_max_days: int = 62
    attendance_export_max_days: int = 366

    # --- web console (/console) ---
    console_prefix: str = "/console"
    # Session cookies are `Secure`: browsers send them over HTTPS only (and to http://localhost / 127.0.0.1).
    # Turn off only for a development server reached over plain HTTP on another host name.
    console_cookie_secure: bool = True
    # The origin browsers see (https://locks.example.com) when the service runs behind a TLS proxy; POSTs
    # whose Origin/Referer is not this origin are refused. Unset: the request's own scheme, host and port.
    console_public_origin: str | None = None
    # Peers whose X-Forwarded-For is believed (reverse proxies). Empty: the socket peer is the client.
    trusted_proxies: list[str] = []
    console_session_idle_s: int = 3600
    console_session_max_s: int = 12 * 3600
    console_page_size: int = 25
    # Lockout of one (username, client address): this many failures are free, then each one doubles the wait.
    sign_in_free_failures: int = 3
    sign_in_base_delay_s: int = 2
    sign_in_max_delay_s: int = 900
    sign_in_reset_after_s: int = 86400
    # Sign-in failures one address may make in the window, across every username (slows name spraying).
    sign_in_address_limit: int = 50
    sign_in_address_window_s: int = 600
    password_min_length: int = 12
    # argon2id cost (RFC 9106's second recommended set: 64 MiB, 3 passes, 4 lanes).
    password_hash_memory_kib: int = 65536
    password_hash_time_cost: int = 3
    password_hash_parallelism: int = 4


def get_settings() -> Settings:
    return Settings()
