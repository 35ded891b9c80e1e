"""Configuration: a TOML file for settings, environment variables for secrets.

The file names the environment variables that hold the secrets (``client_secret_env`` …);
it never holds a secret itself, so it can be committed and shown in support tickets.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic import ValidationError as PydanticValidationError

from .errors import ConfigError
from .redaction import register_secret

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

DEFAULT_CONFIG_PATH = "crm-sync.toml"

# Zoho accounts server per data centre; the API domain comes back with every token.
ZOHO_ACCOUNTS_HOSTS = {
    "com": "https://accounts.zoho.com",
    "eu": "https://accounts.zoho.eu",
    "in": "https://accounts.zoho.in",
    "com.au": "https://accounts.zoho.com.au",
    "com.cn": "https://accounts.zoho.com.cn",
    "jp": "https://accounts.zoho.jp",
    "sa": "https://accounts.zoho.sa",
    "ca": "https://accounts.zohocloud.ca",
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ZohoFields(_Section):
    """API names of the CRM fields, per canonical field."""

    external_id: str = "Odoo_Partner_ID"
    name: str = "Account_Name"
    email: str = "Email"
    phone: str = "Phone"
    vat: str = "VAT_Number"
    street: str = "Billing_Street"
    city: str = "Billing_City"
    zip: str = "Billing_Code"
    country: str = "Billing_Country"
    industry: str = "Industry"
    salesperson: str = "Owner"
    credit_grade: str = "Credit_Grade"
    credit_limit: str = "Credit_Limit"
    credit_exposure: str = "Credit_Exposure"
    credit_available: str = "Credit_Available"
    amount_overdue: str = "Amount_Overdue"
    oldest_overdue_days: str = "Oldest_Overdue_Days"
    credit_hold: str = "Credit_Hold"
    last_payment_date: str = "Last_Payment_Date"
    open_invoice_count: str = "Open_Invoice_Count"
    open_invoice_amount: str = "Open_Invoice_Amount"
    paid_last_365_days: str = "Paid_Last_365_Days"
    archived: str = "Odoo_Archived"
    # Payments module
    payment_account: str = "Account"
    payment_amount: str = "Amount"
    payment_date: str = "Payment_Date"
    payment_memo: str = "Reference"


class ZohoSettings(_Section):
    kind: Literal["zoho"] = "zoho"
    data_centre: str = "com"
    accounts_url: str | None = Field(
        default=None, description="overrides the data centre's accounts server (tests: loopback)"
    )
    client_id: str
    client_secret_env: str = "ZOHO_CLIENT_SECRET"
    refresh_token_env: str = "ZOHO_REFRESH_TOKEN"
    accounts_module: str = "Accounts"
    payments_module: str = Field(default="Payments", description="empty disables payments")
    timeout_seconds: float = Field(default=30.0, gt=0)
    per_page: int = Field(default=200, ge=1, le=200)
    upsert_batch_size: int = Field(default=100, ge=1, le=100)
    fields: ZohoFields = ZohoFields()

    @field_validator("data_centre")
    @classmethod
    def _known_dc(cls, value: str) -> str:
        if value not in ZOHO_ACCOUNTS_HOSTS:
            raise ValueError(f"unknown data centre {value!r}; one of {sorted(ZOHO_ACCOUNTS_HOSTS)}")
        return value

    @property
    def resolved_accounts_url(self) -> str:
        return (self.accounts_url or ZOHO_ACCOUNTS_HOSTS[self.data_centre]).rstrip("/")


class OdooSettings(_Section):
    kind: Literal["jsonrpc"] = "jsonrpc"
    url: str
    database: str
    login: str
    api_key_env: str = "ODOO_API_KEY"
    timeout_seconds: float = Field(default=60.0, gt=0)
    customer_domain: list[Any] = Field(default_factory=lambda: [["is_company", "=", True]])
    crm_id_field: str | None = Field(
        default=None, description="res.partner field holding the CRM id, if the addon adds one"
    )
    payment_ref_field: str = "payment_reference"


class StateSettings(_Section):
    backend: Literal["sqlite", "postgresql"] = "sqlite"
    path: str = "crm-sync.sqlite3"
    dsn_env: str = "CRM_SYNC_PG_DSN"


class SyncSettings(_Section):
    overlap_seconds: float = Field(default=300.0, ge=0)
    erp_page_size: int = Field(default=500, ge=1, le=10_000)
    duplicate_rules: list[Literal["vat", "email", "name"]] = Field(
        default_factory=lambda: ["vat", "email", "name"]
    )
    create_in_odoo: bool = True
    create_in_crm: bool = True
    deletions_from_crm: Literal["archive", "ignore"] = "archive"
    archived_in_odoo: Literal["ignore", "mark"] = "ignore"
    sync_payments: bool = True


class RetrySettings(_Section):
    max_attempts: int = Field(default=6, ge=1, le=20)
    base_delay: float = Field(default=1.0, ge=0)
    max_delay: float = Field(default=60.0, ge=0)


class Config(_Section):
    crm: ZohoSettings
    odoo: OdooSettings
    state: StateSettings = StateSettings()
    sync: SyncSettings = SyncSettings()
    retry: RetrySettings = RetrySettings()


class Secrets(BaseModel):
    """Secrets resolved from the environment; ``repr`` shows ``**********`` only."""

    model_config = ConfigDict(frozen=True)

    zoho_client_secret: SecretStr
    zoho_refresh_token: SecretStr
    odoo_api_key: SecretStr | None = None
    postgres_dsn: SecretStr | None = None


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate a TOML configuration file."""
    file = Path(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file not found: {file}", code="not_found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}", code="toml") from None
    return parse_config(raw, source=str(file))


def parse_config(raw: Mapping[str, Any], source: str = "<config>") -> Config:
    try:
        return Config.model_validate(raw)
    except PydanticValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{source}: {problems}", code="invalid") from None


def _require_env(environ: Mapping[str, str], name: str, purpose: str) -> SecretStr:
    value = environ.get(name, "")
    if not value:
        raise ConfigError(f"environment variable {name} ({purpose}) is not set", code="secret")
    register_secret(value)
    return SecretStr(value)


def resolve_secrets(config: Config, environ: Mapping[str, str] | None = None) -> Secrets:
    """Read the secrets the configuration names from the environment."""
    env = os.environ if environ is None else environ
    api_key = env.get(config.odoo.api_key_env) or None
    dsn = None
    if config.state.backend == "postgresql":
        dsn = _require_env(env, config.state.dsn_env, "PostgreSQL DSN of the state store")
    register_secret(api_key)
    return Secrets(
        zoho_client_secret=_require_env(env, config.crm.client_secret_env, "Zoho client secret"),
        zoho_refresh_token=_require_env(env, config.crm.refresh_token_env, "Zoho refresh token"),
        odoo_api_key=SecretStr(api_key) if api_key else None,
        postgres_dsn=dsn,
    )


DEFAULT_TOML = """\
# crm-sync configuration.
# Secrets never go in this file: it names the environment variables that hold them.

[crm]
kind = "zoho"
# Data centre of the Zoho account: com, eu, in, com.au, com.cn, jp, sa, ca.
data_centre = "com"
# accounts_url = "https://accounts.zoho.com"  # override the accounts server (e.g. a test emulator)
client_id = "1000.REPLACE_ME"
client_secret_env = "ZOHO_CLIENT_SECRET"   # name of the variable, not the secret
refresh_token_env = "ZOHO_REFRESH_TOKEN"
accounts_module = "Accounts"
payments_module = "Payments"               # "" disables payments from the CRM
timeout_seconds = 30
per_page = 200                             # Zoho's maximum
upsert_batch_size = 100                    # Zoho's maximum

# API names of the CRM fields (defaults shown for the ones most often renamed).
[crm.fields]
external_id = "Odoo_Partner_ID"            # unique field holding the Odoo partner id
name = "Account_Name"
email = "Email"
vat = "VAT_Number"
credit_limit = "Credit_Limit"

[odoo]
kind = "jsonrpc"
url = "https://odoo.example.com"
database = "production"
login = "crm-sync@example.com"
api_key_env = "ODOO_API_KEY"
timeout_seconds = 60
customer_domain = [["is_company", "=", true]]
# crm_id_field = "x_crm_id"                # res.partner field holding the CRM id, if any

[state]
backend = "sqlite"                         # or "postgresql" (needs psycopg2)
path = "crm-sync.sqlite3"
# dsn_env = "CRM_SYNC_PG_DSN"              # for backend = "postgresql"

[sync]
overlap_seconds = 300                      # re-read window behind each cursor
duplicate_rules = ["vat", "email", "name"] # how unmatched records find their twin
create_in_odoo = true
create_in_crm = true
deletions_from_crm = "archive"             # "archive" the Odoo partner, or "ignore"
archived_in_odoo = "ignore"                # or "mark" (sets crm.fields.archived)
sync_payments = true

[retry]
max_attempts = 6
base_delay = 1.0
max_delay = 60.0
"""


def write_default_config(path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write a commented configuration template; refuses to overwrite unless asked."""
    file = Path(path)
    if file.exists() and not overwrite:
        raise ConfigError(f"{file} already exists (use --force to overwrite)", code="exists")
    file.write_text(DEFAULT_TOML, encoding="utf-8")
    return file
