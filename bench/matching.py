"""Benchmark of cash application (ar_engine.matching): speed at scale and matching quality.

1. Synthetic: N open items, M noisy remittances (data/remittances.py), timed end to end
   (index build + matching), with precision/recall of the auto-accepted proposals per kind.
2. IBM sample (/work/shared/data/ibm-accounts-receivable.csv, read in place): each settled
   invoice becomes a payment on its settled date with a noisy memo; some payments of one
   customer on one day are combined.

precision = correct auto-accepted / auto-accepted; recall = correct auto-accepted / payments
that have a true match; a proposal is correct when its item set is the truth.

Run: python bench/matching.py [--items 100000] [--payments 10000] [--ibm PATH]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "sdk"))
sys.path.insert(0, str(ROOT / "data"))

import remittances  # noqa: E402

from ar_engine._ibm_dataset import load_ibm_invoices  # noqa: E402
from ar_engine.matching import Matcher, OpenItem, Payment  # noqa: E402

DEFAULT_IBM = Path("/work/shared/data/ibm-accounts-receivable.csv")


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def print_quality(cases, matches) -> dict:
    figures = remittances.score(cases, matches)
    print(
        f"  precision {figures['precision']:.4f}  recall {figures['recall']:.4f}  "
        f"auto-accepted {figures['auto_accepted']}/{figures['payments']}  "
        f"left for a person {figures['left_for_person']:.1%}"
    )
    per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for case, match in zip(cases, matches):
        row = per_kind[case.kind]
        row[0] += 1
        if match.auto_accept:
            row[1] += 1
            row[2] += frozenset(match.best.item_ids) == case.true_item_ids
    print(f"  {'kind':<16}{'payments':>9}{'auto':>7}{'correct':>9}")
    for kind, (count, auto, correct) in sorted(per_kind.items()):
        print(f"  {kind:<16}{count:>9}{auto:>7}{correct:>9}")
    return figures


def synthetic(n_items: int, n_payments: int, seed: int) -> dict:
    n_partners = max(n_items // 5, 1)
    items = remittances.generate_open_items(n_items, n_partners, seed=seed)
    cases = remittances.generate_remittances(items, n_payments, seed=seed + 1)
    payments = [case.payment for case in cases]
    wall, cpu = time.perf_counter(), time.process_time()
    matcher = Matcher(items)
    build_wall, build_cpu = time.perf_counter() - wall, time.process_time() - cpu
    matches = matcher.match(payments)
    total_wall, total_cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"synthetic: {len(payments)} payments x {len(items)} open items "
        f"({n_partners} partners, 2 companies)"
    )
    print(
        f"  index build {build_wall:.2f} s wall / {build_cpu:.2f} s cpu; "
        f"build + match {total_wall:.2f} s wall / {total_cpu:.2f} s cpu; "
        f"peak memory {peak_memory_mb():.0f} MB"
    )
    figures = print_quality(cases, matches)
    figures["seconds"] = total_wall
    return figures


def ibm_cases(path: Path, seed: int) -> tuple[list[OpenItem], list[remittances.Remittance]]:
    """Open items and noisy payments made from the settled invoices of the IBM sample."""
    rng = random.Random(seed)
    invoices = load_ibm_invoices(path)
    items = [
        OpenItem(
            id=invoice.invoice_number,
            partner_id=invoice.customer_id,
            company_id=invoice.country_code,
            currency="USD",
            residual=invoice.amount,
            due_date=invoice.due_date,
            invoice_number=invoice.invoice_number,
        )
        for invoice in invoices
    ]
    by_day: dict[tuple[str, object], list] = defaultdict(list)
    for invoice in invoices:
        by_day[(invoice.customer_id, invoice.settled_date)].append(invoice)
    cases = []
    for (customer, settled), group in sorted(by_day.items(), key=lambda pair: str(pair[0])):
        bundles = [group] if len(group) > 1 and rng.random() < 0.6 else [[i] for i in group]
        for bundle in bundles:
            roll = rng.random()
            numbers = [invoice.invoice_number for invoice in bundle]
            kind = "combined" if len(bundle) > 1 else "clean"
            if roll < 0.1:
                numbers = [remittances.add_typo(number, rng) for number in numbers]
                kind = "typo"
            memo = remittances.memo_for(numbers, rng)
            partner: str | None = customer
            if roll > 0.93:
                memo, kind = "PAYMENT", "no_reference"
            elif rng.random() < 0.15:
                partner = None
            amount = sum(invoice.amount for invoice in bundle)
            if 0.85 < roll <= 0.93:
                amount -= round(min(10.0, amount * 0.01) * rng.uniform(0.2, 1.0), 2)
                kind = "bank_fee"
            payment = Payment(
                id=len(cases) + 1,
                company_id=bundle[0].country_code,
                currency="USD",
                amount=round(amount, 2),
                date=settled,
                memo=memo,
                partner_id=partner,
            )
            truth = frozenset(invoice.invoice_number for invoice in bundle)
            cases.append(remittances.Remittance(payment, truth, kind))
    return items, cases


def ibm(path: Path, seed: int) -> dict | None:
    if not path.exists():
        print(f"IBM sample not found at {path}: skipped")
        return None
    items, cases = ibm_cases(path, seed)
    start = time.perf_counter()
    matches = Matcher(items).match([case.payment for case in cases])
    seconds = time.perf_counter() - start
    print(
        f"IBM sample: {len(cases)} payments x {len(items)} open items "
        f"(all invoices open at once), {seconds:.2f} s"
    )
    return print_quality(cases, matches)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--payments", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ibm", type=Path, default=DEFAULT_IBM)
    args = parser.parse_args()
    figures = synthetic(args.items, args.payments, args.seed)
    ibm_figures = ibm(args.ibm, args.seed)
    failures = []
    for name, result in (("synthetic", figures), ("IBM", ibm_figures)):
        if result is None:
            continue
        if result["precision"] < 0.99:
            failures.append(f"{name} precision {result['precision']:.4f} < 0.99")
        if result["recall"] < 0.95:
            failures.append(f"{name} recall {result['recall']:.4f} < 0.95")
    if figures["seconds"] > 5.0:
        failures.append(f"synthetic run took {figures['seconds']:.2f} s > 5 s")
    print("targets met" if not failures else "targets missed: " + "; ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
