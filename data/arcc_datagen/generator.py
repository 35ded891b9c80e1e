"""Orchestrates a generation run: database, ORM set-up, chunked bulk load, checks."""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

import psycopg2

from ar_engine.sample.instalments import TERMS
from ar_engine.sample.plan import (
    COMPANIES,
    InvoicePlan,
    OpenSaleOrder,
    plan_invoice,
    plan_sale_order,
    plan_unapplied_payment,
)

from . import bulk, dbtools
from .rows import IdCounters, RowBuilder, Sequences

BASE_MODULES = "account,sale_management"
HISTORY_DAYS = 730
SALE_ORDER_WINDOW_DAYS = 90


@dataclass(frozen=True)
class GenerationParams:
    lines: int = 20_000
    customers: int = 500
    seed: int = 1
    today: str = ""  # ISO date; empty: the real today
    in_payment_state: str = "in_payment"

    def today_date(self) -> date:
        return date.fromisoformat(self.today) if self.today else date.today()

    def key(self) -> str:
        """Stable description stored as the database comment, to recognise a template."""
        values = asdict(self)
        values["today"] = self.today_date().isoformat()
        return json.dumps(values, sort_keys=True)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def month_starts(first: date, last: date) -> list[date]:
    months = []
    current = date(first.year, first.month, 1)
    while current <= last:
        months.append(current)
        current = date(current.year + (current.month == 12), current.month % 12 + 1, 1)
    return months


def _customer_pools(params: GenerationParams, rng: random.Random):
    """Customers of each company with a size weight: a few big accounts, many small ones."""
    pools = []
    homes = []
    for _index in range(params.customers):
        draw = rng.random()
        homes.append({0} if draw < 0.55 else {1} if draw < 0.85 else {0, 1})
    sizes = [min(rng.paretovariate(1.3), 50.0) for _ in range(params.customers)]
    for company in range(len(COMPANIES)):
        members = [index for index, home in enumerate(homes) if company in home]
        if not members:
            members = list(range(params.customers))
        cumulative = []
        total = 0.0
        for index in members:
            total += sizes[index]
            cumulative.append(total)
        pools.append((members, cumulative))
    return pools


def generate_documents(
    cr, builder: RowBuilder, params: GenerationParams, profiles, prices: list[int]
) -> dict[str, int]:
    """Plan and write every document month by month, one COPY batch per month."""
    today = params.today_date()
    rng = random.Random(f"{params.seed}:documents")
    pools = _customer_pools(params, random.Random(f"{params.seed}:pools"))
    term_weights = [term.weight for term in TERMS]
    company_weights = [spec.share for spec in COMPANIES]
    months = month_starts(today - timedelta(days=HISTORY_DAYS), today)
    weights = [1.0 + 0.5 * index / max(1, len(months) - 1) for index in range(len(months))]
    lines_per_invoice = 2.6  # refined as we go
    counts = {"invoices": 0, "unapplied_payments": 0, "sale_orders": 0}
    for month_index, month in enumerate(months):
        remaining_weight = sum(weights[month_index:])
        quota = (params.lines - builder.receivable_lines) * weights[month_index] / remaining_weight
        first_day = max(month, today - timedelta(days=HISTORY_DAYS))
        next_month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        last_day = min(next_month - timedelta(days=1), today)
        span = (last_day - first_day).days
        # Payments on account first: they count against the quota too.
        expected_unapplied = sum(p.unapplied_payments_per_year for p in profiles) / 12
        unapplied_count = min(int(quota * 0.2), int(expected_unapplied * (span + 1) / 30))
        for _ in range(unapplied_count):
            company = rng.choices(range(len(COMPANIES)), weights=company_weights)[0]
            members, cumulative = pools[company]
            customer = rng.choices(members, cum_weights=cumulative)[0]
            day = first_day + timedelta(days=rng.randint(0, span))
            builder.add_unapplied_payment(
                plan_unapplied_payment(
                    rng, company=company, customer=customer, day=day, today=today
                )
            )
            counts["unapplied_payments"] += 1
        is_last_month = month_index == len(months) - 1
        # The last month is topped up in a few passes to land on the target; each pass draws
        # its dates after the previous one's so invoice numbers stay in date order.
        cursor_day = first_day
        invoice_count = 0
        for _pass in range(6 if is_last_month else 1):
            wanted = (
                params.lines - builder.receivable_lines
                if is_last_month
                else quota - unapplied_count
            )
            batch = max(0, math.ceil(wanted / lines_per_invoice))
            if batch == 0:
                break
            days = sorted(
                cursor_day + timedelta(days=rng.randint(0, (last_day - cursor_day).days))
                for _ in range(batch)
            )
            cursor_day = days[-1]
            batch_start = builder.receivable_lines
            for day in days:
                company = rng.choices(range(len(COMPANIES)), weights=company_weights)[0]
                members, cumulative = pools[company]
                customer = rng.choices(members, cum_weights=cumulative)[0]
                plan = plan_invoice(
                    rng,
                    company=company,
                    customer=customer,
                    profile=profiles[customer],
                    invoice_date=day,
                    today=today,
                    product_prices=prices,
                    term_weights=term_weights,
                )
                _write_invoice(rng, builder, plan, today, prices)
                counts["invoices"] += 1
            invoice_count += batch
            written = builder.receivable_lines - batch_start
            lines_per_invoice = 0.5 * lines_per_invoice + 0.5 * max(1.0, written / batch)
        if (today - last_day).days < SALE_ORDER_WINDOW_DAYS:
            for _ in range(max(1, invoice_count // 40)):
                company = rng.choices(range(len(COMPANIES)), weights=company_weights)[0]
                members, cumulative = pools[company]
                customer = rng.choices(members, cum_weights=cumulative)[0]
                day = first_day + timedelta(days=rng.randint(0, span))
                builder.add_sale_order(
                    plan_sale_order(
                        rng, company=company, customer=customer, day=day, product_prices=prices
                    )
                )
        bulk.flush(cr, builder.take_buffers())
        log(f"{month:%Y-%m}: {builder.receivable_lines} receivable lines")
    counts["sale_orders"] = builder.seq.sale_order
    counts["receivable_lines"] = builder.receivable_lines
    return counts


def _write_invoice(
    rng: random.Random, builder: RowBuilder, plan: InvoicePlan, today: date, prices: list[int]
) -> None:
    """Recent same-currency invoices sometimes come from a sale order that is partly invoiced."""
    company_currency = COMPANIES[plan.company].currency
    from_order = (
        plan.currency == company_currency
        and (today - plan.invoice_date).days < SALE_ORDER_WINDOW_DAYS
        and rng.random() < 0.15
    )
    if not from_order:
        builder.add_invoice(plan)
        return
    order_name = builder.next_sale_order_name()
    invoice_line_ids = builder.add_invoice(plan, sale_order_name=order_name)
    rest = plan_sale_order(
        rng,
        company=plan.company,
        customer=plan.customer,
        day=plan.invoice_date,
        product_prices=prices,
    )
    order = OpenSaleOrder(
        plan.company, plan.customer, plan.invoice_date - timedelta(days=3), rest.lines[:2]
    )
    builder.add_sale_order(order, list(zip(plan.lines, invoice_line_ids)), name=order_name)


def prepare_database(db: str, *, base_template: str, http_port: int, replace: bool) -> None:
    if dbtools.exists(db):
        if not replace:
            raise SystemExit(f"database {db} exists: pass --replace to rebuild it")
        dbtools.drop(db)
    if not dbtools.exists(base_template):
        log(f"building base template {base_template} ({BASE_MODULES})")
        dbtools.install_modules(
            base_template,
            BASE_MODULES,
            http_port=http_port,
            log_file=Path(f"/tmp/{base_template}.log"),
        )
    dbtools.copy(base_template, db)


def run_setup(db: str, params: GenerationParams, stamp: str):
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    from .setup_orm import setup_company_data

    if not odoo.tools.config.get("addons_path") or "/opt/odoo18/addons" not in str(
        odoo.tools.config.get("addons_path")
    ):
        odoo.tools.config.parse_config([f"--addons-path={dbtools.ADDONS_PATH}"])
    registry = Registry(db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        result = setup_company_data(
            env,
            customers=params.customers,
            seed=params.seed,
            today=params.today_date(),
            in_payment_state=params.in_payment_state,
            stamp=stamp,
        )
        cr.commit()
    Registry.delete(db)
    return result


def generate(db: str, params: GenerationParams) -> dict[str, object]:
    """Fill ``db`` (a fresh copy of the base template) with the data set; return figures."""
    started = time.monotonic()
    stamp = f"{params.today_date().isoformat()} 08:00:00"
    ctx, profiles, prices = run_setup(db, params, stamp)
    log(f"ORM set-up done in {time.monotonic() - started:.1f}s")
    connection = psycopg2.connect(dbname=db)
    try:
        with connection.cursor() as cr:
            cr.execute("SET session_replication_role = replica")
            cr.execute("SET synchronous_commit = off")
            ids = IdCounters(bulk.next_ids(cr))
            cr.execute("SELECT COUNT(*) FROM sale_order")
            sequences = Sequences(sale_order=cr.fetchone()[0])
            builder = RowBuilder(ctx, ids, sequences)
            definitions = bulk.drop_secondary_indexes(cr)
            load_started = time.monotonic()
            counts = generate_documents(cr, builder, params, profiles, prices)
            log(f"bulk load done in {time.monotonic() - load_started:.1f}s")
            index_started = time.monotonic()
            bulk.rebuild_indexes(cr, definitions)
            log(f"{len(definitions)} indexes rebuilt in {time.monotonic() - index_started:.1f}s")
            bulk.reset_sequences(cr)
            bulk.set_sale_order_sequence(cr, sequences.sale_order)
            cr.execute("SET session_replication_role = DEFAULT")
        connection.commit()
        connection.autocommit = True
        with connection.cursor() as cr:
            analyze_started = time.monotonic()
            bulk.analyze(cr)
            log(f"ANALYZE done in {time.monotonic() - analyze_started:.1f}s")
    finally:
        connection.close()
    dbtools.set_comment(db, params.key())
    counts["seconds"] = round(time.monotonic() - started, 1)
    return counts
