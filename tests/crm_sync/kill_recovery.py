"""What the kill-recovery suites check, whichever CRM they kill runs against.

A :class:`CrmShape` names where each CRM keeps the values the checks read; the checks
themselves (no duplicates, no lost update behind a cursor, convergence) are the same for all.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import stored_cursor

from crm_sync.connector import ErpPosition
from crm_sync.odoo_connector import from_odoo_datetime
from crm_sync.testing import FakeOdoo

# The Odoo, state, sync and retry sections of every trial's configuration file.
COMMON_CONFIG = """
[odoo]
url = "{odoo_url}"
database = "{database}"
login = "{login}"
[state]
path = "{state}"
[sync]
overlap_seconds = 2
erp_page_size = 40
[retry]
max_attempts = 3
base_delay = 0.01
max_delay = 0.05
"""


def money(value: float | None) -> str | None:
    return None if value is None else f"{value:.2f}"


@dataclass(frozen=True)
class CrmShape:
    """Where a CRM emulator keeps customer values, and how it stores a credit limit."""

    account_object: str
    id_field: str
    external_id: str
    name: str
    phone: str
    credit_limit: str
    phone_prefix: str
    stored_credit: Callable[[float | None], Any] = lambda value: value

    def accounts(self, crm: Any) -> list[dict[str, Any]]:
        return crm.records(self.account_object)

    def by_partner(self, crm: Any) -> dict[str, dict[str, Any]]:
        return {a[self.external_id]: a for a in self.accounts(crm) if a.get(self.external_id)}

    def add_account(self, crm: Any, name: str, phone: str) -> None:
        crm.add_record(self.account_object, {self.name: name, self.phone: phone})


ZOHO = CrmShape("Accounts", "id", "Odoo_Partner_ID", "Account_Name", "Phone", "Credit_Limit", "+32")
SOAP = CrmShape("Account", "Id", "Odoo_Partner_ID__c", "Name", "Phone", "Credit_Limit__c", "+32")
FXIAOKE = CrmShape(
    "AccountObj", "_id", "odoo_partner_id__c", "name", "tel", "credit_limit__c", "+86", money
)


def seed(odoo: FakeOdoo, crm: Any, shape: CrmShape, partners: int, accounts: int) -> None:
    for index in range(partners):
        odoo.create(
            "res.partner",
            {"name": f"Odoo seed {index}", "is_company": True, "credit_limit": float(index)},
        )
    for index in range(accounts):
        shape.add_account(crm, f"CRM seed {index}", f"{shape.phone_prefix} 0")


def mutate(
    rng: random.Random,
    odoo: FakeOdoo,
    crm: Any,
    shape: CrmShape,
    serial: int,
    *,
    partners: list[dict[str, Any]],
    credit_updates: int,
) -> None:
    """Change data on both sides between runs: credit limits, new partners, CRM phones, a new
    CRM account."""
    for partner in rng.sample(partners, min(credit_updates, len(partners))):
        odoo.write("res.partner", [partner["id"]], {"credit_limit": float(rng.randint(1, 99_999))})
    for index in range(3):
        odoo.create(
            "res.partner",
            {"name": f"Odoo new {serial}-{index}", "is_company": True, "credit_limit": 10.0},
        )
    accounts = shape.accounts(crm)
    for account in rng.sample(accounts, min(3, len(accounts))):
        phone = f"{shape.phone_prefix} {rng.randint(1, 10**8)}"
        crm.update_record(shape.account_object, account[shape.id_field], {shape.phone: phone})
    shape.add_account(crm, f"CRM new {serial}", f"{shape.phone_prefix} 1")


def check_no_duplicates(odoo: FakeOdoo, crm: Any, shape: CrmShape) -> None:
    accounts = shape.accounts(crm)
    linked = [a[shape.external_id] for a in accounts if a.get(shape.external_id)]
    assert len(linked) == len(set(linked)), "two CRM accounts for one Odoo partner"
    names = [a[shape.name] for a in accounts]
    assert len(names) == len(set(names)), "a customer was created twice in the CRM"
    odoo_names = [p["name"] for p in odoo.partners()]
    assert len(odoo_names) == len(set(odoo_names)), "a CRM account was created twice in Odoo"


def check_pushed_state(state: Path, odoo: FakeOdoo, crm: Any, shape: CrmShape) -> None:
    """What the Odoo cursor claims as pushed really is in the CRM, with its latest credit."""
    erp = stored_cursor(state, "erp.customers")
    if not erp:
        return
    position = ErpPosition.decode(erp)
    by_partner = shape.by_partner(crm)
    for partner in odoo.partners():
        if from_odoo_datetime(partner["write_date"]) < position.write_date:
            account = by_partner.get(str(partner["id"]))
            assert account is not None, f"partner {partner['id']} behind the cursor not pushed"
            expected = shape.stored_credit(partner.get("credit_limit"))
            assert account[shape.credit_limit] == expected, "lost credit update"


def check_converged(odoo: FakeOdoo, crm: Any, shape: CrmShape) -> None:
    """One CRM account per customer, both ways, with the same name, phone and credit limit."""
    check_no_duplicates(odoo, crm, shape)
    accounts = shape.accounts(crm)
    by_partner = shape.by_partner(crm)
    partners = odoo.partners()
    assert len(accounts) == len(partners)
    for partner in partners:
        account = by_partner[str(partner["id"])]
        assert account[shape.credit_limit] == shape.stored_credit(partner.get("credit_limit"))
        assert account[shape.name] == partner["name"]
        assert account.get(shape.phone) == partner.get("phone")
