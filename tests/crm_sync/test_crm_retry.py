"""The one retry path (``crm_sync.retry.call_with_retry``) every client uses."""

from __future__ import annotations

import random
import time
from email.utils import formatdate

import pytest
from conftest import Sleeps
from pydantic import SecretStr

from crm_sync.errors import (
    AuthError,
    DailyLimitExceeded,
    LimitReached,
    RateLimited,
    RemoteUnavailable,
)
from crm_sync.retry import RetryPolicy, call_with_retry, never, parse_retry_after
from crm_sync.testing import Fault, ZohoEmulator
from crm_sync.zoho_auth import ZohoAuth
from crm_sync.zoho_client import ZohoClient


def policy(sleeps: Sleeps, **options) -> RetryPolicy:
    return RetryPolicy(sleep=sleeps, rng=random.Random(7), **options)


class Flaky:
    """Raises the given errors in turn, then answers ``"ok"``."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def test_transient_errors_are_retried_with_growing_jittered_waits(sleeps: Sleeps) -> None:
    send = Flaky(*(RemoteUnavailable("down") for _ in range(4)))
    assert call_with_retry(policy(sleeps, base_delay=1.0, max_delay=4.0), send) == "ok"
    assert send.calls == 5
    assert [0 <= d <= c for d, c in zip(sleeps.calls, (1, 2, 4, 4))] == [True] * 4


def test_attempts_run_out_and_the_last_error_is_raised(sleeps: Sleeps) -> None:
    send = Flaky(*(RemoteUnavailable(f"down {i}") for i in range(9)))
    with pytest.raises(RemoteUnavailable, match="down 2"):
        call_with_retry(policy(sleeps, max_attempts=3), send)
    assert send.calls == 3 and len(sleeps.calls) == 2


def test_retry_after_in_seconds_and_as_an_http_date_is_honoured(sleeps: Sleeps) -> None:
    in_twenty = parse_retry_after(formatdate(time.time() + 20, usegmt=True))
    assert in_twenty is not None and 18 <= in_twenty <= 20
    send = Flaky(
        RateLimited("slow down", retry_after=7), RateLimited("again", retry_after=in_twenty)
    )
    assert call_with_retry(policy(sleeps, base_delay=0.5), send) == "ok"
    assert 7 <= sleeps.calls[0] <= 7.5 and 18 <= sleeps.calls[1] <= 20.5


def test_a_wait_beyond_the_policy_bound_fails_at_once(sleeps: Sleeps) -> None:
    send = Flaky(RateLimited("come back tomorrow", retry_after=3600))
    with pytest.raises(RateLimited):
        call_with_retry(policy(sleeps, max_retry_after=300), send)
    assert send.calls == 1 and sleeps.calls == []


@pytest.mark.parametrize(
    "error",
    [
        AuthError("refused"),
        LimitReached("credits spent"),
        DailyLimitExceeded("allowance spent"),
    ],
)
def test_errors_waiting_cannot_fix_are_not_retried(sleeps: Sleeps, error: Exception) -> None:
    send = Flaky(error)
    with pytest.raises(type(error)):
        call_with_retry(policy(sleeps), send)
    assert send.calls == 1 and sleeps.calls == []


def test_a_call_that_must_not_be_sent_twice_is_not_retried(sleeps: Sleeps) -> None:
    send = Flaky(RemoteUnavailable("answer lost"))
    with pytest.raises(RemoteUnavailable):
        call_with_retry(policy(sleeps), send, never)
    assert send.calls == 1


def test_zoho_client_honours_an_http_date_retry_after(
    zoho_emulator: ZohoEmulator, sleeps: Sleeps
) -> None:
    when = formatdate(time.time() + 30, usegmt=True)
    zoho_emulator.inject(Fault(count=1, status=503, retry_after=when))
    auth = ZohoAuth(
        accounts_url=zoho_emulator.accounts_url(),
        client_id=zoho_emulator.client_id,
        client_secret=SecretStr(zoho_emulator.client_secret),
        refresh_token=SecretStr(zoho_emulator.refresh_token),
    )
    client = ZohoClient(auth, retry=policy(sleeps, base_delay=1.0))
    assert client.fields("Accounts")
    assert len(sleeps.calls) == 1 and 27 <= sleeps.calls[0] <= 31
