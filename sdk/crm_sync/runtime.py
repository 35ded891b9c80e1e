"""Assembles connectors, state store and engine from a configuration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .config import Config, FxiaokeSettings, Secrets, SoapSettings, resolve_secrets
from .connector import CrmConnector
from .engine import Progress, SyncEngine
from .errors import ConfigError
from .odoo_connector import OdooConnector
from .odoo_env import OdooEnvGateway
from .odoo_rpc import OdooJsonRpcGateway
from .retry import RetryPolicy
from .state import StateStore, open_state_store
from .zoho_auth import StateTokenStore
from .zoho_connector import ZohoConnector


@dataclass
class Runtime:
    engine: SyncEngine
    state: StateStore
    crm: CrmConnector
    erp: OdooConnector

    def close(self) -> None:
        self.crm.close()
        self.erp.close()
        self.state.close()


def retry_policy(config: Config) -> RetryPolicy:
    """The retry policy the configuration's ``[retry]`` section describes."""
    return RetryPolicy(
        max_attempts=config.retry.max_attempts,
        base_delay=config.retry.base_delay,
        max_delay=config.retry.max_delay,
    )


def build_runtime(
    config: Config,
    *,
    environ: Mapping[str, str] | None = None,
    secrets: Secrets | None = None,
    odoo_env: Any = None,
    state: StateStore | None = None,
    retry: RetryPolicy | None = None,
    progress: Progress | None = None,
) -> Runtime:
    """Build everything a run needs.

    Inside Odoo pass ``odoo_env`` (the cron's ``env``) and ``state`` (the addon's store):
    the Odoo side then runs in-process and no Odoo API key is needed.
    """
    secrets = secrets or resolve_secrets(config, environ)
    retry = retry or retry_policy(config)
    if state is None:
        dsn = secrets.postgres_dsn.get_secret_value() if secrets.postgres_dsn else None
        state = open_state_store(config.state.backend, path=config.state.path, dsn=dsn)
    if odoo_env is not None:
        gateway: Any = OdooEnvGateway(odoo_env)
    else:
        if secrets.odoo_api_key is None:
            raise ConfigError(
                f"environment variable {config.odoo.api_key_env} (Odoo API key) is not set",
                code="secret",
            )
        gateway = OdooJsonRpcGateway(
            config.odoo.url,
            config.odoo.database,
            config.odoo.login,
            secrets.odoo_api_key,
            timeout=config.odoo.timeout_seconds,
            retry=retry,
        )
    erp = OdooConnector(
        gateway,
        customer_domain=config.odoo.customer_domain,
        crm_id_field=config.odoo.crm_id_field,
        payment_ref_field=config.odoo.payment_ref_field,
        company_id=config.odoo.company_id,
    )
    crm = build_crm_connector(config, secrets, state=state, retry=retry)
    engine = SyncEngine(crm, erp, state, config.sync, progress=progress)
    return Runtime(engine=engine, state=state, crm=crm, erp=erp)


def _secret(secrets: Secrets, name: str, variable: str) -> Any:
    value = getattr(secrets, name)
    if value is None:
        raise ConfigError(f"environment variable {variable} is not set", code="secret")
    return value


def build_crm_connector(
    config: Config, secrets: Secrets, *, state: StateStore, retry: RetryPolicy
) -> CrmConnector:
    """The connector of ``config.crm.kind``; tokens are cached in the state store."""
    settings = config.crm
    if isinstance(settings, SoapSettings):
        from .soap_connector import SoapConnector  # zeep loads only when a SOAP CRM is used

        return SoapConnector.from_settings(
            settings,
            password=_secret(secrets, "soap_password", settings.password_env),
            retry=retry,
        )
    if isinstance(settings, FxiaokeSettings):
        from .fxiaoke_connector import FxiaokeConnector

        return FxiaokeConnector.from_settings(
            settings,
            app_secret=_secret(secrets, "fxiaoke_app_secret", settings.app_secret_env),
            permanent_code=_secret(secrets, "fxiaoke_permanent_code", settings.permanent_code_env),
            token_store=StateTokenStore(state),
            retry=retry,
        )
    return ZohoConnector.from_settings(
        settings,
        client_secret=_secret(secrets, "zoho_client_secret", settings.client_secret_env),
        refresh_token=_secret(secrets, "zoho_refresh_token", settings.refresh_token_env),
        token_store=StateTokenStore(state),
        retry=retry,
        state=state,
    )
