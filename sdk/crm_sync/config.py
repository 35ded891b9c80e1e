"""Configuration: a TOML file for settings, environment variables for secrets.

The file names the environment variables that hold the secrets (``client_secret_env`` …);
it never holds a secret itself, so it can be committed and shown in support tickets.
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, overload
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from .errors import ConfigError
from .redaction import register_secret
from .zoho_credits import EDITION_CONCURRENCY, ZohoEdition

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

DEFAULT_CONFIG_PATH = "crm-sync.toml"


def is_secure_url(url: str) -> bool:
    """Whether credentials may be sent to ``url``: https, or plain http to this machine only
    (a test emulator, a local proxy). Secrets never cross a network in clear text.

    A URL that parsers may read differently is refused outright: a backslash, white space or a
    control character (``http://evil.example\\@127.0.0.1`` is 127.0.0.1 to ``urlsplit`` but
    evil.example to HTTP clients), a user name or password, a port that is not a number."""
    if not url or any(char == "\\" or not char.isprintable() or char.isspace() for char in url):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError on a port that is not a number)
    except ValueError:
        return False
    if not host or parts.scheme not in ("https", "http") or "@" in parts.netloc:
        return False
    if parts.scheme == "https" or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@overload
def _secure_url(value: str, what: str) -> str: ...
@overload
def _secure_url(value: str | None, what: str) -> str | None: ...
def _secure_url(value: str | None, what: str) -> str | None:
    if value is not None and not is_secure_url(value):
        raise ValueError(
            f"{what} {value!r} is refused: an https:// URL is required "
            "(http:// only to a loopback address)"
        )
    return value


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
    client_secret_env: str = "ZOHO_CLIENT_SECRET"  # noqa: S105 (an environment variable name)
    refresh_token_env: str = "ZOHO_REFRESH_TOKEN"  # noqa: S105 (an environment variable name)
    accounts_module: str = "Accounts"
    payments_module: str = Field(default="Payments", description="empty disables payments")
    timeout_seconds: float = Field(default=30.0, gt=0)
    per_page: int = Field(default=200, ge=1, le=200)
    upsert_batch_size: int = Field(default=100, ge=1, le=100)
    edition: ZohoEdition = Field(
        default="standard", description="Zoho CRM edition: sets the default concurrency limit"
    )
    max_concurrent_calls: int | None = Field(
        default=None, ge=1, le=25, description="calls in flight at once; default: the edition's"
    )
    daily_credit_budget: int | None = Field(
        default=None,
        ge=1,
        description="API credits the sync may spend per UTC day; the run stops before it",
    )
    fields: ZohoFields = ZohoFields()

    @field_validator("data_centre")
    @classmethod
    def _known_dc(cls, value: str) -> str:
        if value not in ZOHO_ACCOUNTS_HOSTS:
            raise ValueError(f"unknown data centre {value!r}; one of {sorted(ZOHO_ACCOUNTS_HOSTS)}")
        return value

    @field_validator("accounts_url")
    @classmethod
    def _secure_accounts_url(cls, value: str | None) -> str | None:
        return _secure_url(value, "accounts server")

    @property
    def resolved_accounts_url(self) -> str:
        return (self.accounts_url or ZOHO_ACCOUNTS_HOSTS[self.data_centre]).rstrip("/")

    @property
    def concurrency_limit(self) -> int:
        return self.max_concurrent_calls or EDITION_CONCURRENCY[self.edition]


# An API name as SOQL takes it: object and field names are written into the query text.
SOAP_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def _soap_api_name(value: str, *, empty_ok: bool = True) -> str:
    if (value or not empty_ok) and not SOAP_API_NAME.fullmatch(value or ""):
        raise ValueError(f"{value!r} is not an API name (letters, digits and _ only)")
    return value


class SoapFields(_Section):
    """Field names of a SOAP CRM (Salesforce Partner API naming), per canonical field.

    An empty name leaves the canonical field unsynchronised (e.g. ``salesperson``).
    """

    @field_validator("*")
    @classmethod
    def _api_name(cls, value: str) -> str:
        return _soap_api_name(value)

    external_id: str = "Odoo_Partner_ID__c"
    name: str = "Name"
    email: str = "Email__c"
    phone: str = "Phone"
    vat: str = "VAT_Number__c"
    street: str = "BillingStreet"
    city: str = "BillingCity"
    zip: str = "BillingPostalCode"
    country: str = "BillingCountry"
    industry: str = "Industry"
    salesperson: str = ""
    credit_grade: str = "Credit_Grade__c"
    credit_limit: str = "Credit_Limit__c"
    credit_exposure: str = "Credit_Exposure__c"
    credit_available: str = "Credit_Available__c"
    amount_overdue: str = "Amount_Overdue__c"
    oldest_overdue_days: str = "Oldest_Overdue_Days__c"
    credit_hold: str = "Credit_Hold__c"
    last_payment_date: str = "Last_Payment_Date__c"
    open_invoice_count: str = "Open_Invoice_Count__c"
    open_invoice_amount: str = "Open_Invoice_Amount__c"
    paid_last_365_days: str = "Paid_Last_365_Days__c"
    archived: str = "Odoo_Archived__c"
    # Payment object
    payment_account: str = "Account__c"
    payment_amount: str = "Amount__c"
    payment_date: str = "Payment_Date__c"
    payment_memo: str = "Reference__c"


class SoapSettings(_Section):
    """A CRM speaking the SOAP replication pattern (login, query/queryMore, upsert, getDeleted)."""

    kind: Literal["soap"] = "soap"
    login_url: str = Field(description="SOAP endpoint of the login call")
    wsdl: str | None = Field(
        default=None, description="WSDL path or URL; default: the packaged crm_replication.wsdl"
    )
    username: str
    password_env: str = "SOAP_CRM_PASSWORD"  # noqa: S105 (an environment variable name)
    customer_object: str = "Account"
    payment_object: str = Field(default="Payment__c", description="empty disables payments")
    # SystemModstamp also moves on changes made by system processes, which LastModifiedDate
    # misses; it is the field replication is meant to follow.
    modified_field: str = "SystemModstamp"
    query_batch_size: int = Field(default=500, ge=200, le=2000)
    upsert_batch_size: int = Field(default=200, ge=1, le=200)
    timeout_seconds: float = Field(default=30.0, gt=0)
    operation_timeout_seconds: float = Field(default=120.0, gt=0)
    deleted_window_days: int = Field(
        default=29, ge=1, le=30, description="getDeleted look-back when there is no cursor yet"
    )
    fields: SoapFields = SoapFields()

    @field_validator("customer_object", "modified_field")
    @classmethod
    def _required_api_name(cls, value: str) -> str:
        return _soap_api_name(value, empty_ok=False)

    @field_validator("payment_object")
    @classmethod
    def _api_name(cls, value: str) -> str:
        return _soap_api_name(value)

    @field_validator("login_url")
    @classmethod
    def _secure_login_url(cls, value: str) -> str:
        return _secure_url(value, "login URL")


class FxiaokeFields(_Section):
    """API names of FXiaoKe object fields, per canonical field (``__c`` marks custom fields)."""

    external_id: str = "odoo_partner_id__c"
    name: str = "name"
    email: str = "email"
    phone: str = "tel"
    vat: str = "uniform_social_credit_code"
    street: str = "address"
    city: str = ""
    zip: str = ""
    country: str = ""
    industry: str = ""
    salesperson: str = ""
    credit_grade: str = "credit_grade__c"
    credit_limit: str = "credit_limit__c"
    credit_exposure: str = "credit_exposure__c"
    credit_available: str = "credit_available__c"
    amount_overdue: str = "amount_overdue__c"
    oldest_overdue_days: str = "oldest_overdue_days__c"
    credit_hold: str = "credit_hold__c"
    last_payment_date: str = "last_payment_date__c"
    open_invoice_count: str = "open_invoice_count__c"
    open_invoice_amount: str = "open_invoice_amount__c"
    paid_last_365_days: str = "paid_last_365_days__c"
    archived: str = "odoo_archived__c"
    # PaymentObj (回款)
    payment_account: str = "account_id"
    payment_amount: str = "payment_amount"
    payment_date: str = "payment_time"
    payment_memo: str = "remark"


class FxiaokeSettings(_Section):
    """纷享销客 (FXiaoKe) open API: app token, ``crm/v2/data/*`` calls."""

    kind: Literal["fxiaoke"] = "fxiaoke"
    base_url: str = "https://open.fxiaoke.com"
    auth: Literal["oauth", "corp_access_token"] = Field(
        default="oauth",
        description="oauth: /oauth2.0/token and Bearer headers (the current documented scheme); "
        "corp_access_token: the older /cgi/corpAccessToken/get/V2 with the token in the body",
    )
    app_id: str
    app_secret_env: str = "FXIAOKE_APP_SECRET"  # noqa: S105 (an environment variable name)
    permanent_code_env: str = "FXIAOKE_PERMANENT_CODE"
    current_open_user_id: str = Field(
        description="who the calls act as (a CRM admin): the CRM employee id (e.g. 1000) or "
        "an openUserId FSUID_…"
    )
    rate_limit_calls: int = Field(
        default=100, ge=0, description="calls per interface per window (0: no pacing)"
    )
    rate_limit_window_seconds: float = Field(default=20.0, gt=0)
    daily_call_budget: int = Field(
        default=0,
        ge=0,
        description="most API calls the sync may make per day, counted across runs (0: none; "
        "the tenant's purchased daily quota still applies)",
    )
    customer_object: str = "AccountObj"
    payment_object: str = Field(default="PaymentObj", description="empty disables payments")
    page_size: int = Field(default=100, ge=1, le=100)
    upsert_batch_size: int = Field(default=100, ge=1, le=100)
    timeout_seconds: float = Field(default=30.0, gt=0)
    date_utc_offset_hours: float = Field(
        default=8.0, ge=-12, le=14, description="time zone of date fields sent as epoch ms"
    )
    sync_deletions: bool = True
    trigger_approval_flow: bool = Field(
        default=False,
        description="send triggerApprovalFlow=true on writes (the API's own default starts "
        "the object's approval flow and locks the record on every create/update)",
    )
    skip_data_status_validate: bool = Field(
        default=False,
        description="custom-object updates: skipDataStatusValidate (modify locked records)",
    )
    # errorCode values; the defaults follow the published global return codes.
    token_error_codes: list[int] = Field(default_factory=lambda: [20016])
    rate_limit_error_codes: list[int] = Field(default_factory=lambda: [14001, 30004])
    quota_error_codes: list[int] = Field(default_factory=lambda: [30002])
    transient_error_codes: list[int] = Field(default_factory=lambda: [-1, 50009])
    fields: FxiaokeFields = FxiaokeFields()

    @field_validator("base_url")
    @classmethod
    def _secure_base_url(cls, value: str) -> str:
        return _secure_url(value, "open-API host")

    @property
    def resolved_base_url(self) -> str:
        return self.base_url.rstrip("/")


CrmSettings = Annotated[ZohoSettings | SoapSettings | FxiaokeSettings, Field(discriminator="kind")]


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
    company_id: int | None = Field(
        default=None,
        description="the Odoo company synchronised: only its customers (and shared ones) and "
        "its books; Odoo ids from the CRM naming another company's partner are refused",
    )
    payment_ref_field: str = "payment_reference"


class StateSettings(_Section):
    backend: Literal["sqlite", "postgresql"] = "sqlite"
    path: str = "crm-sync.sqlite3"
    dsn_env: str = "CRM_SYNC_PG_DSN"


DuplicateRule = Literal["vat", "email", "name"]
DEFAULT_DUPLICATE_RULES: tuple[DuplicateRule, ...] = ("vat", "email", "name")


class SyncSettings(_Section):
    overlap_seconds: float = Field(default=300.0, ge=0)
    erp_page_size: int = Field(default=500, ge=1, le=10_000)
    duplicate_rules: list[DuplicateRule] = Field(
        default_factory=lambda: list(DEFAULT_DUPLICATE_RULES)
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
    crm: CrmSettings
    odoo: OdooSettings
    state: StateSettings = StateSettings()
    sync: SyncSettings = SyncSettings()
    retry: RetrySettings = RetrySettings()

    @model_validator(mode="before")
    @classmethod
    def _zoho_by_default(cls, raw: Any) -> Any:
        """Files written before other CRM kinds existed have no ``crm.kind``: they mean Zoho."""
        if isinstance(raw, Mapping) and isinstance(raw.get("crm"), Mapping):
            if "kind" not in raw["crm"]:
                raw = {**raw, "crm": {**raw["crm"], "kind": "zoho"}}
        return raw


class Secrets(BaseModel):
    """Secrets resolved from the environment; ``repr`` shows ``**********`` only."""

    model_config = ConfigDict(frozen=True)

    zoho_client_secret: SecretStr | None = None
    zoho_refresh_token: SecretStr | None = None
    soap_password: SecretStr | None = None
    fxiaoke_app_secret: SecretStr | None = None
    fxiaoke_permanent_code: SecretStr | None = None
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
    crm = config.crm
    crm_secrets: dict[str, SecretStr]
    if isinstance(crm, SoapSettings):
        crm_secrets = {"soap_password": _require_env(env, crm.password_env, "SOAP CRM password")}
    elif isinstance(crm, FxiaokeSettings):
        crm_secrets = {
            "fxiaoke_app_secret": _require_env(env, crm.app_secret_env, "FXiaoKe appSecret"),
            "fxiaoke_permanent_code": _require_env(
                env, crm.permanent_code_env, "FXiaoKe permanentCode"
            ),
        }
    else:
        crm_secrets = {
            "zoho_client_secret": _require_env(env, crm.client_secret_env, "Zoho client secret"),
            "zoho_refresh_token": _require_env(env, crm.refresh_token_env, "Zoho refresh token"),
        }
    return Secrets(
        **crm_secrets,
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
edition = "standard"                       # free, standard, professional, enterprise, ultimate
# max_concurrent_calls = 10                # default: the edition's limit (5/10/15/20/25)
# daily_credit_budget = 20000              # API credits per UTC day; the run stops before it

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
# company_id = 1                           # only this company's customers and books

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


SOAP_CRM_TOML = """\
[crm]
kind = "soap"
# SOAP endpoint of login(); later calls go to the serverUrl it returns.
login_url = "https://login.example-crm.com/services/Soap/u/59.0"
# wsdl = "/etc/crm-sync/partner.wsdl"      # default: the WSDL shipped with crm_sync
username = "integration@example.com"
password_env = "SOAP_CRM_PASSWORD"         # name of the variable, not the password
customer_object = "Account"
payment_object = "Payment__c"              # "" disables payments from the CRM
modified_field = "SystemModstamp"
query_batch_size = 500                     # QueryOptions batchSize, 200..2000
upsert_batch_size = 200                    # the API's maximum
timeout_seconds = 30                       # connect/read timeout of one HTTP exchange
operation_timeout_seconds = 120            # read timeout of one SOAP operation

# Field names (defaults shown for the ones most often renamed; "" = not synchronised).
[crm.fields]
external_id = "Odoo_Partner_ID__c"         # external-id field holding the Odoo partner id
name = "Name"
email = "Email__c"
vat = "VAT_Number__c"
credit_limit = "Credit_Limit__c"

"""

FXIAOKE_CRM_TOML = """\
[crm]
kind = "fxiaoke"
base_url = "https://open.fxiaoke.com"      # the open-API host of the tenant's cloud
app_id = "FSAID_REPLACE_ME"
app_secret_env = "FXIAOKE_APP_SECRET"       # names of the variables, not the secrets
permanent_code_env = "FXIAOKE_PERMANENT_CODE"
auth = "oauth"                             # or "corp_access_token" (the older scheme)
current_open_user_id = "FSUID_REPLACE_ME"  # the CRM administrator: openUserId or employee id
customer_object = "AccountObj"
payment_object = "PaymentObj"              # 回款; "" disables payments from the CRM
page_size = 100                            # the API's maximum
timeout_seconds = 30
date_utc_offset_hours = 8                  # date fields travel as epoch milliseconds
sync_deletions = true                      # invalidated (作废) accounts archive the partner
trigger_approval_flow = false              # true: every write starts the approval flow (locks)
rate_limit_calls = 100                     # per interface per window: FXiaoKe's 100 calls/20 s
daily_call_budget = 0                      # calls a day this sync may use (0: no budget)

# Field API names (defaults shown for the ones most often renamed; "" = not synchronised).
[crm.fields]
external_id = "odoo_partner_id__c"         # custom field holding the Odoo partner id
name = "name"
email = "email"
vat = "uniform_social_credit_code"
credit_limit = "credit_limit__c"

"""


def default_config_text(kind: str = "zoho") -> str:
    """The commented template for a CRM ``kind`` (zoho, soap or fxiaoke)."""
    sections = {"soap": SOAP_CRM_TOML, "fxiaoke": FXIAOKE_CRM_TOML}
    if kind == "zoho":
        return DEFAULT_TOML
    if kind not in sections:
        raise ConfigError(f"unknown CRM kind {kind!r}; one of zoho, soap, fxiaoke", code="kind")
    start, end = DEFAULT_TOML.index("[crm]"), DEFAULT_TOML.index("[odoo]")
    return DEFAULT_TOML[:start] + sections[kind] + DEFAULT_TOML[end:]


def write_default_config(
    path: str | os.PathLike[str], *, overwrite: bool = False, kind: str = "zoho"
) -> Path:
    """Write a commented configuration template; refuses to overwrite unless asked."""
    file = Path(path)
    if file.exists() and not overwrite:
        raise ConfigError(f"{file} already exists (use --force to overwrite)", code="exists")
    file.write_text(default_config_text(kind), encoding="utf-8")
    return file
