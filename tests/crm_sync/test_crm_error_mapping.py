"""The SOAP and FXiaoKe error codes map to the same exit codes as Zoho's: credentials 3,
configuration 2, limits 4 (never a dead letter), the rest 5, each message naming the fix."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import add_customers
from test_fxiaoke_engine import fxiaoke_runtime
from test_soap_engine import soap_runtime

from crm_sync.errors import EXIT_AUTH, EXIT_CONFIG, EXIT_LIMIT, EXIT_UNAVAILABLE, CrmSyncError
from crm_sync.testing import FakeOdoo
from crm_sync.testing.fxiaoke_emulator import Fault as FxiaokeFault
from crm_sync.testing.fxiaoke_emulator import FxiaokeEmulator
from crm_sync.testing.pytest_plugin import (
    fxiaoke_emulator,
    make_fxiaoke_emulator,
    make_soap_crm_server,
    soap_crm_server,
)
from crm_sync.testing.soap_server import SoapCrmServer, SoapFault

__all__ = [
    "fxiaoke_emulator",
    "fxiaoke_runtime",
    "make_fxiaoke_emulator",
    "make_soap_crm_server",
    "soap_crm_server",
    "soap_runtime",
]

SOAP_ROWS: list[tuple[dict[str, Any], int, str, int]] = [
    # (fault, exit code, the fix the message names, attempts)
    ({"code": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."},
     EXIT_LIMIT, "resumes after the limit resets; raise the org's allowance", 1),
    ({"code": "REQUEST_LIMIT_EXCEEDED",
      "message": "ConcurrentRequests (Concurrent API Requests) Limit exceeded."},
     EXIT_LIMIT, "after the retries: run crm-sync alone or less often", 6),
    ({"code": "EXCEEDED_ID_LIMIT"}, EXIT_LIMIT,
     "over one of its limits (EXCEEDED_ID_LIMIT", 1),
    ({"code": "INVALID_FIELD"}, EXIT_CONFIG, "fix the object or field name in the crm settings", 1),
    ({"code": "SERVER_UNAVAILABLE"}, EXIT_UNAVAILABLE, "after the retries: run again later", 6),
    ({"status": 503, "bare": True}, EXIT_UNAVAILABLE, "(HTTP 503) after the retries", 6),
    ({"status": 429, "bare": True}, EXIT_LIMIT, "(HTTP 429) after the retries: run crm-sync", 6),
]  # fmt: skip


@pytest.mark.parametrize(("fault", "exit_code", "fix", "attempts"), SOAP_ROWS)
def test_soap_faults_exit_codes_and_fixes(
    soap_crm_server: SoapCrmServer,
    fake_odoo: FakeOdoo,
    soap_runtime,
    sleeps,
    fault: dict[str, Any],
    exit_code: int,
    fix: str,
    attempts: int,
) -> None:
    add_customers(fake_odoo, 3)
    injected = soap_crm_server.inject(SoapFault(count=50, operation="upsert", **fault))
    runtime = soap_runtime(soap_crm_server, fake_odoo)
    with pytest.raises(CrmSyncError) as caught:
        runtime.engine.run()
    assert caught.value.exit_code == exit_code
    assert fix in caught.value.message
    assert 50 - injected.count == attempts


FXIAOKE_ROWS: list[tuple[dict[str, Any], int, str, int]] = [
    ({"error_code": 30002}, EXIT_LIMIT, "daily API quota is spent (errorCode 30002)", 1),
    ({"error_code": 30004}, EXIT_LIMIT, "as too frequent (errorCode 30004) after the retries", 6),
    ({"error_code": 14001}, EXIT_LIMIT, "as too frequent (errorCode 14001) after the retries", 6),
    ({"status": 429}, EXIT_LIMIT, "(HTTP 429) after the retries", 6),
    ({"error_code": 20005}, EXIT_AUTH, "check crm.app_id, the variables crm.app_secret_env", 1),
    ({"error_code": 50009}, EXIT_UNAVAILABLE, "stayed busy (errorCode 50009) after the retries", 6),
    ({"status": 502}, EXIT_UNAVAILABLE, "(HTTP 502) after the retries: run again later", 6),
]  # fmt: skip


@pytest.mark.parametrize(("fault", "exit_code", "fix", "attempts"), FXIAOKE_ROWS)
def test_fxiaoke_codes_exit_codes_and_fixes(
    fxiaoke_emulator: FxiaokeEmulator,
    fake_odoo: FakeOdoo,
    fxiaoke_runtime,
    sleeps,
    fault: dict[str, Any],
    exit_code: int,
    fix: str,
    attempts: int,
) -> None:
    add_customers(fake_odoo, 3)
    injected = fxiaoke_emulator.inject(FxiaokeFault(count=50, path_contains="create", **fault))
    runtime = fxiaoke_runtime(fxiaoke_emulator, fake_odoo)
    with pytest.raises(CrmSyncError) as caught:
        runtime.engine.run()
    assert caught.value.exit_code == exit_code
    assert fix in caught.value.message
    assert 50 - injected.count == attempts
