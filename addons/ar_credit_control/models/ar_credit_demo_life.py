"""The demo's crowd: about 200 customers with 18 months of invoices and payments in several
currencies, planned by the sample planner (``ar_engine.sample``, seeded) and written through
Odoo's ORM in batches. The addon's own features then run over them (credit evaluation and
policies, dunning runs on past dates, promises, disputes, statements, warnings, forecast,
orders on hold), so every state the demo shows was reached the way a real database reaches it.

Only the demo data calls this (a ``function`` tag of the demo XML): a database installed
without demo data never runs it.
"""

import logging
import random
import time
from collections import defaultdict
from datetime import date, timedelta

from odoo import Command, api, fields, models

from ar_engine.sample.instalments import TERMS
from ar_engine.sample.plan import (
    COMPANIES,
    currency_rate,
    plan_invoice,
    plan_unapplied_payment,
)
from ar_engine.sample.profiles import assign_profiles

from .ar_credit_demo import DEMO_HISTORIES

_logger = logging.getLogger(__name__)

SEED = "ar_credit_control demo"
CUSTOMERS = 194  # with the six graded customers of the demo XML: 200
HISTORY_DAYS = 548  # 18 months
NEW_CUSTOMER_SHARE = 0.08  # first invoice in the last weeks: graded "new"
# Days between two invoices of a customer, by size: a few big accounts, many small ones.
CADENCES = ((60, 0.04), (180, 0.16), (540, 0.80))
PRODUCTS = (
    ("Office chairs", 12000),
    ("Standing desks", 48000),
    ("Printer paper (pallet)", 9000),
    ("Toner cartridges", 4500),
    ("Network switches", 99000),
    ("Maintenance contract", 25000),
)
NAME_FIRST = (
    "Amber", "Blue Ridge", "Cedar", "Delta", "Evergreen", "Falcon", "Golden Gate", "Harbour",
    "Ivory", "Jade", "Keystone", "Lakeside", "Maple", "Northwind", "Orchid", "Pioneer",
    "Quartz", "Redwood", "Summit", "Tidewater", "Union", "Vista", "Willow", "Yangtze", "Zenith",
)  # fmt: skip
NAME_SECTOR = (
    "Logistics", "Trading", "Foods", "Machinery", "Textiles", "Electronics", "Retail",
    "Pharma", "Construction", "Energy", "Packaging", "Motors",
)  # fmt: skip
CITIES = ("Springfield", "Riverside", "Fairview", "Kingston", "Newport", "Ashford")
COUNTRIES = ("us", "us", "us", "cn", "cn", "de", "fr", "uk", "sg")
DUNNING_RUN_EVERY_DAYS = 14
DUNNING_RUNS = 6
BATCH = 100


class ArCreditDemo(models.AbstractModel):
    _inherit = "ar.credit.demo"

    @api.model
    def _create_demo_life(self, customers=CUSTOMERS):
        company = self.env.company
        if not self.env["account.journal"].search(
            [("type", "=", "sale"), *self.env["account.journal"]._check_company_domain(company)],
            limit=1,
        ):
            return  # no chart of accounts: nothing to invoice with
        if company.currency_id.name != COMPANIES[0].currency:
            # The planner's exchange rates are quoted against its first company's currency.
            _logger.info("demo data: %s is not in USD, no extra customers", company.name)
            return
        self = self.with_context(tracking_disable=True, mail_create_nolog=True, mail_notrack=True)
        rng = random.Random(SEED)  # noqa: S311 - seeded demo data, not a secret
        today = fields.Date.context_today(self)
        started = time.monotonic()

        def step(name):
            _logger.info("demo data: %s (%.1f s)", name, time.monotonic() - started)

        currencies = self._demo_currencies(company, today)
        terms = self._demo_payment_terms()
        partners, profiles, starts = self._demo_customers(rng, customers, today)
        plans, unapplied = self._demo_plans(rng, partners, profiles, starts, today)
        invoices = self._demo_post_invoices(plans, partners, currencies, terms)
        step(f"{len(invoices)} invoices of {len(partners)} customers posted")
        self._demo_settle(plans, invoices, partners, currencies)
        self._demo_unapplied_payments(unapplied, partners, company)
        step("payments and credit notes posted and reconciled")
        self._demo_promises_and_disputes(rng, partners, plans, invoices, today)
        everyone = partners | self._demo_graded_partners()
        profiles = self.env["ar.credit.evaluation"]._evaluate_partners(
            everyone, company, trigger="manual"
        )
        self.env["ar.credit.policy"]._apply_to_profiles(profiles)
        step("credit evaluated, policies applied")
        self.env["ar.payment.promise"]._cron_detect_broken_promises()
        self._demo_dunning_runs(company, today)
        step("dunning runs")
        self._demo_orders_on_hold(profiles)
        self._demo_statements(company, profiles)
        step("orders on hold, statements")
        self.env["ar.warning.rule"]._cron_evaluate_warnings()
        self.env["ar.collection.forecast"]._refresh(company, today)
        # The receivables KPIs of the months the nightly job keeps (the overview's DSO/CEI
        # trend reads them), month by month: the job itself commits, an install may not.
        kpi_months = self.env["ar.receivable.kpi.month"]
        for company_month in kpi_months._months_due():
            if company_month[0] == company:
                kpi_months._refresh_month(*company_month)
        # Limits, holds and exposure as the customer list shows them after the day's work.
        self.env["ar.credit.evaluation"]._refresh_snapshots(company, profiles)
        step("warnings, forecast and credit figures")

    # ------------------------------------------------------------------ reference data

    def _demo_currencies(self, company, today):
        """The invoice currencies of the planner's first company, active with monthly rates."""
        spec = COMPANIES[0]
        currencies = {company.currency_id.name: company.currency_id}
        rates = []
        for code, _share in spec.foreign_currencies:
            currency = (
                self.env["res.currency"]
                .with_context(active_test=False)
                .search([("name", "=", code)], limit=1)
            )
            currency.active = True
            currencies[code] = currency
            have = set(
                self.env["res.currency.rate"]
                .search([("currency_id", "=", currency.id), ("company_id", "=", company.id)])
                .mapped("name")
            )
            month = date(today.year, today.month, 1) - timedelta(days=HISTORY_DAYS + 31)
            month = month.replace(day=1)
            while month <= today:
                if month not in have:
                    rates.append(
                        {
                            "name": month,
                            "currency_id": currency.id,
                            "company_id": company.id,
                            "rate": currency_rate(company.currency_id.name, code, month),
                        }
                    )
                month = (month + timedelta(days=32)).replace(day=1)
        self.env["res.currency.rate"].create(rates)
        return currencies

    def _demo_payment_terms(self):
        return [
            self.env["account.payment.term"].create(
                {
                    "name": f"{term.name} (demo)",
                    "line_ids": [
                        Command.create(
                            {"value": "percent", "value_amount": percent, "nb_days": days}
                        )
                        for percent, days in term.lines
                    ],
                }
            )
            for term in TERMS
        ]

    def _demo_customers(self, rng, count, today):
        profiles = assign_profiles(count, rng)
        names = rng.sample([f"{a} {b}" for a in NAME_FIRST for b in NAME_SECTOR], count)
        countries = {code: self.env.ref(f"base.{code}") for code in set(COUNTRIES)}
        values, starts = [], []
        for index, name in enumerate(names):
            slug = name.lower().replace(" ", "-")
            values.append(
                {
                    "name": name,
                    "is_company": True,
                    "customer_rank": 1,
                    "ref": f"DEMO-{index + 1:03d}",
                    "email": f"accounts@{slug}.example.com",
                    "phone": f"+1 555 01{index:02d}",
                    "country_id": countries[rng.choice(COUNTRIES)].id,
                    "street": f"{rng.randint(1, 400)} {rng.choice(NAME_FIRST)} Road",
                    "city": rng.choice(CITIES),
                    "zip": f"{rng.randint(10000, 99999)}",
                }
            )
            if rng.random() < NEW_CUSTOMER_SHARE:
                starts.append(today - timedelta(days=rng.randint(10, 45)))
            else:
                starts.append(today - timedelta(days=HISTORY_DAYS - rng.randint(0, 60)))
        return self.env["res.partner"].create(values), profiles, starts

    def _demo_graded_partners(self):
        return self.env["res.partner"].browse(
            [self.env.ref(f"ar_credit_control.{xmlid}").id for xmlid, _i, _g in DEMO_HISTORIES]
        )

    # ------------------------------------------------------------------ documents

    def _demo_plans(self, rng, partners, profiles, starts, today):
        """Invoices (with their settlements) and payments on account, in date order."""
        prices = [price for _name, price in PRODUCTS]
        term_weights = [term.weight for term in TERMS]
        cadences, weights = zip(*CADENCES)
        plans, unapplied = [], []
        for index, profile in enumerate(profiles):
            cadence = rng.choices(cadences, weights=weights)[0]
            day = starts[index] + timedelta(days=rng.randint(0, min(cadence, 300)))
            if starts[index] > today - timedelta(days=60):  # a new customer
                day = starts[index]
            while day <= today - timedelta(days=2):
                plans.append(
                    plan_invoice(
                        rng,
                        company=0,
                        customer=index,
                        profile=profile,
                        invoice_date=day,
                        today=today,
                        product_prices=prices,
                        term_weights=term_weights,
                    )
                )
                day += timedelta(days=max(5, int(rng.gauss(cadence, cadence / 4))))
            if rng.random() < profile.unapplied_payments_per_year / 4:
                paid_on = today - timedelta(days=rng.randint(3, 200))
                unapplied.append(
                    plan_unapplied_payment(rng, company=0, customer=index, day=paid_on, today=today)
                )
        plans.sort(key=lambda plan: (plan.invoice_date, plan.customer))
        return plans, unapplied

    def _demo_post_invoices(self, plans, partners, currencies, terms):
        company = self.env.company
        tax = company.account_sale_tax_id
        moves = self.env["account.move"]
        for start in range(0, len(plans), BATCH):
            batch = self.env["account.move"].create(
                [
                    {
                        "move_type": "out_invoice",
                        "partner_id": partners[plan.customer].id,
                        "invoice_date": plan.invoice_date,
                        "currency_id": currencies[plan.currency].id,
                        "invoice_payment_term_id": terms[plan.term].id,
                        "invoice_line_ids": self._demo_lines(plan.lines, tax),
                    }
                    for plan in plans[start : start + BATCH]
                ]
            )
            batch.action_post()
            moves |= batch
        return moves

    def _demo_lines(self, lines, tax):
        return [
            Command.create(
                {
                    "name": PRODUCTS[line.product_index][0],
                    "quantity": line.quantity,
                    "price_unit": line.price_cents / 100.0,
                    "tax_ids": [Command.set(tax.ids)],
                }
            )
            for line in lines
        ]

    def _demo_settle(self, plans, invoices, partners, currencies):
        """Each planned settlement as a real payment or credit note, reconciled with the
        instalments it pays. A piece that clears an instalment pays what Odoo has left on it,
        so rounding never leaves a cent open."""
        tax = self.env.company.account_sale_tax_id
        payments, refunds = [], []
        for plan, invoice in zip(plans, invoices):
            lines = invoice.line_ids.filtered(
                lambda line: line.account_id.account_type == "asset_receivable"
            ).sorted(lambda line: (line.date_maturity, line.id))
            left = [line.amount_currency for line in lines]
            planned_left = [receivable.amount_cents for receivable in plan.instalments]
            for settlement in plan.settlements:
                targets, amount = [], 0.0
                for piece in settlement.pieces:
                    planned_left[piece.instalment] -= piece.amount_cents
                    part = (
                        left[piece.instalment]
                        if planned_left[piece.instalment] <= 0
                        else piece.amount_cents / 100.0
                    )
                    left[piece.instalment] -= part
                    amount += part
                    targets.append(lines[piece.instalment])
                if settlement.kind == "refund":
                    refunds.append((plan, invoice, settlement, targets))
                elif amount > 0:
                    payments.append((settlement.day, plan, invoice, round(amount, 2), targets))
        refund_moves = self.env["account.move"].create(
            [
                {
                    "move_type": "out_refund",
                    "partner_id": invoice.partner_id.id,
                    "invoice_date": settlement.day,
                    "currency_id": invoice.currency_id.id,
                    "reversed_entry_id": invoice.id,
                    "invoice_line_ids": self._demo_lines(settlement.refund_lines, tax),
                }
                for _plan, invoice, settlement, _targets in refunds
            ]
        )
        refund_moves.action_post()
        payments.sort(key=lambda entry: entry[0])
        payment_records = self.env["account.payment"]
        for start in range(0, len(payments), BATCH):
            batch = self.env["account.payment"].create(
                [
                    {
                        "payment_type": "inbound",
                        "partner_type": "customer",
                        "partner_id": invoice.partner_id.id,
                        "amount": amount,
                        "currency_id": invoice.currency_id.id,
                        "date": day,
                        "memo": invoice.name,
                    }
                    for day, _plan, invoice, amount, _targets in payments[start : start + BATCH]
                ]
            )
            batch.action_post()
            payment_records |= batch
        plan_groups = []
        for payment, (_day, _plan, _invoice, _amount, targets) in zip(payment_records, payments):
            plan_groups.append(self._demo_receivable(payment.move_id) | self._demo_concat(targets))
        for refund, (_plan, _invoice, _settlement, targets) in zip(refund_moves, refunds):
            if targets:
                plan_groups.append(self._demo_receivable(refund) | self._demo_concat(targets))
        for start in range(0, len(plan_groups), BATCH):
            # An instalment a credit note already cleared is left out of a later payment's
            # group: the payment then stays on the customer's account.
            groups = [
                group.filtered(lambda line: not line.reconciled)
                for group in plan_groups[start : start + BATCH]
            ]
            self.env["account.move.line"]._reconcile_plan(
                [group for group in groups if len(group.move_id) > 1]
            )

    def _demo_receivable(self, move):
        return move.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )

    def _demo_concat(self, lines):
        return self.env["account.move.line"].browse([line.id for line in lines])

    def _demo_unapplied_payments(self, unapplied, partners, company):
        payments = self.env["account.payment"].create(
            [
                {
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": partners[entry.customer].id,
                    "amount": entry.amount_cents / 100.0,
                    "currency_id": company.currency_id.id,
                    "date": entry.day,
                }
                for entry in unapplied
            ]
        )
        payments.action_post()

    # ------------------------------------------------------------------ collection work

    def _demo_promises_and_disputes(self, rng, partners, plans, invoices, today):
        """Promises to pay, as a collector records them: kept ones on invoices paid late,
        broken ones on invoices still open after the promised date, open ones ahead; disputes
        on open invoices of customers who dispute."""
        open_overdue = defaultdict(list)
        paid_late = defaultdict(list)
        for plan, invoice in zip(plans, invoices):
            due = plan.instalments[-1].due
            if invoice.payment_state in ("not_paid", "partial") and due < today:
                open_overdue[plan.customer].append(invoice)
            elif invoice.payment_state in ("paid", "in_payment") and plan.settlements:
                last = plan.settlements[-1]
                if last.kind == "payment" and (last.day - due).days > 10:
                    paid_late[plan.customer].append((invoice, last.day))
        promises = []
        for customer, late in sorted(paid_late.items())[:24:3]:
            invoice, paid_on = late[-1]
            promises.append(
                {
                    "partner_id": partners[customer].id,
                    "move_ids": [Command.set(invoice.ids)],
                    "amount": invoice.amount_total_signed,
                    "date_made": paid_on - timedelta(days=12),
                    "promised_date": paid_on - timedelta(days=rng.randint(0, 3)),
                    "note": "Promised on the phone.",
                    "_kept": True,
                }
            )
        # Every fourth customer with something overdue made a promise, every fourth (another)
        # disputes an invoice: the others go through the dunning ladder.
        overdue_customers = sorted(open_overdue)
        for position, customer in enumerate(overdue_customers[0:48:4]):
            invoice = open_overdue[customer][-1]
            broken = position % 2 == 0
            promises.append(
                {
                    "partner_id": partners[customer].id,
                    "move_ids": [Command.set(invoice.ids)],
                    "amount": invoice.amount_residual_signed,
                    "date_made": today - timedelta(days=20 if broken else 3),
                    "promised_date": today + timedelta(days=-6 if broken else 9),
                    "note": "Promised on the phone.",
                    "_kept": False,
                }
            )
        kept = [values.pop("_kept") for values in promises]
        records = self.env["ar.payment.promise"].create(promises)
        records.browse([r.id for r, is_kept in zip(records, kept) if is_kept]).action_mark_kept()
        disputes = []
        reasons = ["quality", "delivery", "price", "invoice_error"]
        for position, customer in enumerate(overdue_customers[2:48:4]):
            invoice = open_overdue[customer][0]
            disputes.append(
                {
                    "partner_id": partners[customer].id,
                    "move_ids": [Command.set(invoice.ids)],
                    "reason": reasons[position % len(reasons)],
                    "description": "The customer contests part of this invoice.",
                    "date_opened": today - timedelta(days=rng.randint(3, 40)),
                }
            )
        records = self.env["ar.dispute"].create(disputes)
        settled = records[-3:]
        settled.write({"resolution": "Credit note agreed with the customer."})
        settled.action_resolve()

    def _demo_dunning_runs(self, company, today):
        """The daily run as it went on past days (every two weeks), then today's: customers
        climb the ladder one level a run, as they would have."""
        runs = self.env["ar.dunning.run"]
        for back in range(DUNNING_RUNS, -1, -1):
            runs._run_company(
                company,
                trigger="cron",
                commit=False,
                run_date=today - timedelta(days=back * DUNNING_RUN_EVERY_DAYS),
            )

    def _demo_orders_on_hold(self, profiles):
        """Quotations of customers whose credit does not cover them, confirmed: the credit
        check puts them on hold and asks a credit manager."""
        product = self.env["product.product"].create(
            {"name": "Conference table", "list_price": 6800.0, "type": "consu"}
        )
        blocked = profiles.filtered(lambda p: p.grade in ("D", "E"))[:6]
        orders = self.env["sale.order"].create(
            [
                {
                    "partner_id": profile.partner_id.id,
                    "order_line": [
                        Command.create(
                            {"product_id": product.id, "product_uom_qty": 2 + n, "price_unit": 6800}
                        )
                    ],
                }
                for n, profile in enumerate(blocked)
            ]
        )
        orders.action_confirm()

    def _demo_statements(self, company, profiles):
        """This month's outstanding statements, sent to the VIP customers."""
        vip = profiles.filtered(lambda p: p.segment == "vip").partner_id[:8]
        if vip:
            run = self.env["ar.statement.run"].create(
                {"company_id": company.id, "partner_ids": [Command.set(vip.ids)]}
            )
            run.action_send()
