"""Benchmark: first pull of a large Zoho account, accounts then deleted records.

The emulator (in a child process) holds N accounts and N deleted records and refuses page
tokens past ``--cap`` records (Zoho: 100,000), so each listing goes through page numbers (the
first 2,000), page tokens, and windows by modification time. Odoo is an in-process counter
(crm_sync.testing.large_account). Checks that every record is read once and that the cursors
stand on the last record; prints wall time, calls per listing, API credits and the peak RSS
growth of the sync process.

    python bench/crm_sync_paging.py                 # 250,000 records, cap 100,000
    python bench/crm_sync_paging.py -n 25000 --cap 10000
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
from pathlib import Path

from crm_sync.testing.large_account import deletion_time, pull_large_account, record_time

RSS_GROWTH_LIMIT_MB = 50


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=250_000, help="accounts (and deleted records)")
    parser.add_argument("--cap", type=int, default=100_000, help="page-token cap, records")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crm-sync-paging-") as workdir:
        figures = pull_large_account(args.n, page_token_limit=args.cap, workdir=Path(workdir))
    report = figures.report.as_dict()
    records = 2 * args.n
    print(f"records read      {args.n:,} accounts + {args.n:,} deleted")
    print(f"wall seconds      {figures.seconds:.1f} ({records / figures.seconds:,.0f} records/s)")
    for listing in ("GET /Accounts", "GET /Accounts/deleted"):
        print(f"{listing:<22}{figures.calls.get(listing, 0):>6} calls (pages of 200, refusals)")
    print(f"API credits       {report.get('crm_credits')}")
    print(f"peak RSS growth   {figures.peak_rss_growth_mb:.1f} MB (limit {RSS_GROWTH_LIMIT_MB})")
    print(f"peak RSS          {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB")
    print(f"cursors           {figures.cursors}")
    exact = (
        report.get("odoo_created") == figures.odoo.created == args.n
        and "pull_unchanged" not in report
        and figures.deleted_read == args.n == figures.odoo.archived
        and figures.cursors["cursor:crm.customers"] == record_time(args.n - 1).isoformat()
        and figures.cursors["cursor:crm.deleted"] == deletion_time(args.n - 1, args.n).isoformat()
    )
    print(f"every record once, cursors on the last records: {'yes' if exact else 'NO'}")
    return 0 if exact and figures.peak_rss_growth_mb <= RSS_GROWTH_LIMIT_MB else 1


if __name__ == "__main__":
    sys.exit(main())
