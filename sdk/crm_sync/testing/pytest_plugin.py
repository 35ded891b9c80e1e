"""pytest fixtures for the emulators.

Enable with ``pytest_plugins = ["crm_sync.testing.pytest_plugin"]`` in the root conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from .fxiaoke_emulator import FxiaokeEmulator
from .odoo_fake import FakeOdoo
from .soap_server import SoapCrmServer
from .zoho_emulator import ZohoEmulator

EmulatorT = TypeVar("EmulatorT", ZohoEmulator, SoapCrmServer, FxiaokeEmulator)


def _started(emulator_class: type[EmulatorT]) -> Iterator[Callable[..., EmulatorT]]:
    """A factory fixture's body: emulators started with the given options, all stopped after."""
    started: list[EmulatorT] = []

    def factory(**options: Any) -> EmulatorT:
        emulator = emulator_class(**options).start()
        started.append(emulator)
        return emulator

    yield factory
    for emulator in started:
        emulator.stop()


@pytest.fixture
def make_zoho_emulator() -> Iterator[Callable[..., ZohoEmulator]]:
    """Factory: ``make_zoho_emulator(latency=0.01, refresh_limit=3)`` → a started emulator."""
    yield from _started(ZohoEmulator)


@pytest.fixture
def zoho_emulator(make_zoho_emulator: Callable[..., ZohoEmulator]) -> ZohoEmulator:
    """A started Zoho CRM emulator with default credentials (data centre ``com``)."""
    return make_zoho_emulator()


@pytest.fixture
def fake_odoo() -> Iterator[FakeOdoo]:
    """A started fake Odoo JSON-RPC server with the addon's credit fields on res.partner."""
    with FakeOdoo() as odoo:
        yield odoo


@pytest.fixture
def make_soap_crm_server() -> Iterator[Callable[..., SoapCrmServer]]:
    """Factory: ``make_soap_crm_server(latency=0.01)`` → a started loopback SOAP CRM."""
    yield from _started(SoapCrmServer)


@pytest.fixture
def soap_crm_server(make_soap_crm_server: Callable[..., SoapCrmServer]) -> SoapCrmServer:
    """A started loopback SOAP CRM (``crm_replication.wsdl``) with default credentials."""
    return make_soap_crm_server()


@pytest.fixture
def make_fxiaoke_emulator() -> Iterator[Callable[..., FxiaokeEmulator]]:
    """Factory: ``make_fxiaoke_emulator(latency=0.01)`` → a started FXiaoKe open-API emulator."""
    yield from _started(FxiaokeEmulator)


@pytest.fixture
def fxiaoke_emulator(make_fxiaoke_emulator: Callable[..., FxiaokeEmulator]) -> FxiaokeEmulator:
    """A started FXiaoKe open-API emulator with default app credentials."""
    return make_fxiaoke_emulator()
