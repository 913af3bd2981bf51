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


def get_settings() -> Settings:
    return Settings()
