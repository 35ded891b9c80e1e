"""Set up companies, chart of accounts, journals, currencies and rates, payment terms, products
and customers through Odoo's ORM, and collect the ids the bulk writer needs.

Everything small and configuration-like goes through the ORM so Odoo's own defaults and
constraints apply; only the high-volume documents are written with SQL afterwards.
"""

from __future__ import annotations

import random
from datetime import date

from odoo import Command

from ar_engine.sample.instalments import TERMS
from ar_engine.sample.plan import COMPANIES, currency_rate
from ar_engine.sample.profiles import PaymentProfile, assign_profiles

from .rows import CompanyContext, GenerationContext

PRODUCT_NAMES = (
    "Consulting hour",
    "Support plan",
    "Installation",
    "Training day",
    "Spare part kit",
    "Sensor unit",
    "Controller board",
    "Cable set",
    "Maintenance visit",
    "Software licence",
    "Hosting month",
    "Calibration",
    "Pump assembly",
    "Valve set",
    "Filter pack",
    "Motor 2 kW",
    "Gearbox",
    "Inspection report",
    "Data migration",
    "Custom development",
)
NAME_PARTS_A = (
    "North",
    "Blue",
    "Pacific",
    "Golden",
    "Silver",
    "Eastern",
    "Prime",
    "Summit",
    "Harbor",
    "Green",
    "Atlas",
    "Nova",
    "Delta",
    "Crown",
    "Vertex",
    "Orion",
)
NAME_PARTS_B = (
    "Logistics",
    "Trading",
    "Foods",
    "Machinery",
    "Textiles",
    "Electronics",
    "Retail",
    "Pharma",
    "Construction",
    "Energy",
    "Media",
    "Packaging",
    "Motors",
)
NAME_PARTS_C = ("Ltd", "Inc.", "GmbH", "SA", "Co.", "LLC", "BV", "Pte Ltd")


def _months(today: date, count: int) -> list[date]:
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append(date(year, month, 1))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return months[::-1]


def _companies(env):
    main = env.ref("base.main_company")
    currencies = {code: env.ref(f"base.{code}") for code in ("USD", "EUR", "CNY")}
    for currency in currencies.values():
        currency.active = True
    main.write({"name": COMPANIES[0].name})
    if main.currency_id != currencies[COMPANIES[0].currency]:
        raise RuntimeError(f"the main company must be in {COMPANIES[0].currency}")
    second = env["res.company"].search([("name", "=", COMPANIES[1].name)], limit=1)
    if not second:
        second = env["res.company"].create(
            {
                "name": COMPANIES[1].name,
                "currency_id": currencies[COMPANIES[1].currency].id,
            }
        )
        env.user.company_ids = [Command.link(second.id)]
        env["account.chart.template"].try_loading("generic_coa", second, install_demo=False)
    if not main.chart_template:
        env["account.chart.template"].try_loading("generic_coa", main, install_demo=False)
    return [main, second], currencies


def _rates(env, companies, currencies, today: date) -> None:
    values = []
    for spec, company in zip(COMPANIES, companies):
        for code, _share in spec.foreign_currencies:
            existing = env["res.currency.rate"].search_count(
                [
                    ("company_id", "=", company.id),
                    ("currency_id", "=", currencies[code].id),
                ]
            )
            if existing:
                continue
            for month in _months(today, 27):
                values.append(
                    {
                        "name": month,
                        "company_id": company.id,
                        "currency_id": currencies[code].id,
                        "rate": currency_rate(spec.currency, code, month),
                    }
                )
    env["res.currency.rate"].create(values)


def _direct_bank_journal(env, company):
    """A bank journal whose receipts post straight on the bank account.

    Odoo 18 treats such payments as matched with the bank (no statement line needed), which
    keeps history cheap; recent payments use the normal journal and its Outstanding Receipts.
    """
    journal = env["account.journal"].search(
        [("company_id", "=", company.id), ("code", "=", "BNKD")], limit=1
    )
    if not journal:
        journal = (
            env["account.journal"]
            .with_company(company)
            .create(
                {
                    "name": "Bank (lockbox)",
                    "code": "BNKD",
                    "type": "bank",
                    "company_id": company.id,
                }
            )
        )
    method_line = journal.inbound_payment_method_line_ids.filtered(
        lambda line: line.payment_method_id.code == "manual"
    )[:1]
    method_line.payment_account_id = journal.default_account_id
    return journal, method_line


def _company_context(env, company) -> CompanyContext:
    journal_model = env["account.journal"].with_company(company)
    sale_journal = journal_model.search(
        [("company_id", "=", company.id), ("type", "=", "sale")], limit=1
    )
    bank_journal = journal_model.search(
        [("company_id", "=", company.id), ("type", "=", "bank"), ("code", "!=", "BNKD")], limit=1
    )
    outstanding = (
        env["account.chart.template"]
        .with_company(company)
        .ref("account_journal_payment_debit_account_id")
    )
    bank_method = bank_journal.inbound_payment_method_line_ids.filtered(
        lambda line: line.payment_method_id.code == "manual"
    )[:1]
    bank_method.payment_account_id = outstanding
    direct_journal, direct_method = _direct_bank_journal(env, company)
    tax = company.account_sale_tax_id
    if tax.amount != 15 or tax.amount_type != "percent" or tax.price_include:
        raise RuntimeError(f"unexpected default sale tax {tax.name} on {company.name}")
    invoice_rep = tax.invoice_repartition_line_ids.filtered(lambda r: r.repartition_type == "tax")
    refund_rep = tax.refund_repartition_line_ids.filtered(lambda r: r.repartition_type == "tax")
    receivable = env["res.partner"].with_company(company).new({}).property_account_receivable_id
    team = env["crm.team"].search(
        [("company_id", "in", (company.id, False))], order="company_id", limit=1
    )
    pricelist = env["product.pricelist"].search(
        [("company_id", "=", company.id), ("currency_id", "=", company.currency_id.id)], limit=1
    ) or env["product.pricelist"].create(
        {
            "name": f"Default {company.currency_id.name}",
            "company_id": company.id,
            "currency_id": company.currency_id.id,
        }
    )
    return CompanyContext(
        company_id=company.id,
        currency_id=company.currency_id.id,
        sale_journal_id=sale_journal.id,
        sale_journal_code=sale_journal.code,
        outstanding_journal_id=bank_journal.id,
        outstanding_journal_code=bank_journal.code,
        outstanding_method_line_id=bank_method.id,
        outstanding_account_id=outstanding.id,
        direct_journal_id=direct_journal.id,
        direct_journal_code=direct_journal.code,
        direct_method_line_id=direct_method.id,
        direct_account_id=direct_journal.default_account_id.id,
        receivable_account_id=receivable.id,
        income_account_id=sale_journal.default_account_id.id,
        tax_account_id=invoice_rep.account_id.id,
        tax_id=tax.id,
        tax_name=tax.name,
        tax_group_id=tax.tax_group_id.id,
        tax_invoice_repartition_id=invoice_rep.id,
        tax_refund_repartition_id=refund_rep.id,
        pricelist_id=pricelist.id,
        team_id=team.id,
    )


def _payment_terms(env) -> list[int]:
    ids = []
    for term in TERMS:
        record = env["account.payment.term"].search([("name", "=", term.name)], limit=1)
        if not record:
            record = env["account.payment.term"].create(
                {
                    "name": term.name,
                    "line_ids": [
                        Command.create(
                            {"value": "percent", "value_amount": percent, "nb_days": days}
                        )
                        for percent, days in term.lines
                    ],
                }
            )
        ids.append(record.id)
    return ids


def _products(env, rng: random.Random):
    products = env["product.product"].search([("default_code", "=like", "ARCC-%")], order="id")
    if not products:
        products = env["product.product"].create(
            [
                {
                    "name": name,
                    "default_code": f"ARCC-{index:03d}",
                    "type": "service",
                    "invoice_policy": "order",
                    "list_price": rng.choice((45, 90, 120, 250, 480, 990)),
                    "company_id": False,
                }
                for index, name in enumerate(PRODUCT_NAMES)
            ]
        )
    return products


def customer_name(index: int, rng: random.Random) -> str:
    return (
        f"{rng.choice(NAME_PARTS_A)} {rng.choice(NAME_PARTS_B)} {rng.choice(NAME_PARTS_C)}"
        f" #{index + 1:05d}"
    )


def _customers(env, count: int, profiles: list[PaymentProfile], rng: random.Random):
    existing = env["res.partner"].search([("ref", "=like", "ARCC-C%")], order="id")
    if existing:
        return existing
    terms = {t.name: t for t in env["account.payment.term"].search([])}
    values = []
    for index in range(count):
        profile = profiles[index]
        values.append(
            {
                "name": customer_name(index, rng),
                "ref": f"ARCC-C{index + 1:05d}",
                "is_company": True,
                "customer_rank": 1,
                "comment": f"Payment behaviour: {profile.name}",
                "property_payment_term_id": terms[rng.choice(TERMS).name].id,
            }
        )
    partners = env["res.partner"]
    for start in range(0, len(values), 1000):
        partners |= env["res.partner"].create(values[start : start + 1000])
    return partners


def setup_company_data(
    env, *, customers: int, seed: int, today: date, in_payment_state: str, stamp: str
) -> tuple[GenerationContext, list[PaymentProfile], list[int]]:
    """Create (or find) the configuration; return the writer context, each customer's profile
    and the products' list prices in cents."""
    rng = random.Random(f"{seed}:setup")
    companies, currencies = _companies(env)
    _rates(env, companies, currencies, today)
    company_contexts = tuple(_company_context(env, company) for company in companies)
    term_ids = _payment_terms(env)
    products = _products(env, rng)
    profiles = assign_profiles(customers, random.Random(f"{seed}:profiles"))
    partners = _customers(env, customers, profiles, rng)
    if len(partners) != customers:
        raise RuntimeError(f"database holds {len(partners)} generated customers, not {customers}")
    env.flush_all()
    ctx = GenerationContext(
        companies=company_contexts,
        currency_ids={code: currency.id for code, currency in currencies.items()},
        customer_ids=partners.ids,
        customer_names=partners.mapped("name"),
        product_ids=products.ids,
        product_names=products.mapped("name"),
        uom_id=products[0].uom_id.id,
        term_ids=term_ids,
        payment_method_id=env.ref("account.account_payment_method_manual_in").id,
        user_id=env.ref("base.user_admin").id,
        in_payment_state=in_payment_state,
        stamp=stamp,
    )
    prices = [int(round(price * 100)) for price in products.mapped("list_price")]
    return ctx, profiles, prices
