"""Assembles connectors, state store and engine from a configuration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .config import Config, Secrets, resolve_secrets
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
    crm: ZohoConnector
    erp: OdooConnector

    def close(self) -> None:
        self.crm.close()
        self.erp.close()
        self.state.close()


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
    retry = retry or RetryPolicy(
        max_attempts=config.retry.max_attempts,
        base_delay=config.retry.base_delay,
        max_delay=config.retry.max_delay,
    )
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
    )
    crm = ZohoConnector.from_settings(
        config.crm,
        client_secret=secrets.zoho_client_secret,
        refresh_token=secrets.zoho_refresh_token,
        token_store=StateTokenStore(state),
        retry=retry,
    )
    engine = SyncEngine(crm, erp, state, config.sync, progress=progress)
    return Runtime(engine=engine, state=state, crm=crm, erp=erp)
