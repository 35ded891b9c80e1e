"""A first pull of a large Zoho account through both paging paths, memory flat.

250,000 accounts and 250,000 deleted records against Zoho's page-token cap of 100,000: each
listing goes through page numbers (2,000), page tokens, and three windows by time. About 35 s
on an idle 2-core machine (``bench/crm_sync_paging.py`` prints the figures).
"""

from __future__ import annotations

import math
from pathlib import Path

from crm_sync.testing.large_account import deletion_time, pull_large_account, record_time

COUNT = 250_000
PAGE_TOKEN_CAP = 100_000
# Peak RSS growth of the sync process over the run: measured at about 5 MB, the same as for
# 25,000 records; keeping the records read (what paging must not do) would add hundreds of MB.
RSS_GROWTH_LIMIT_MB = 25


def test_first_pull_of_a_large_account_reads_every_record_once_with_memory_flat(
    tmp_path: Path,
) -> None:
    figures = pull_large_account(COUNT, page_token_limit=PAGE_TOKEN_CAP, workdir=tmp_path)
    report = figures.report.as_dict()
    # Every account created once in Odoo, none read twice (a second read would count as
    # pull_unchanged), every deletion read once and applied.
    assert report["odoo_created"] == figures.odoo.created == COUNT
    assert "pull_unchanged" not in report and report["dead_letters"] == 0
    assert figures.deleted_read == COUNT
    assert report["odoo_archived"] == figures.odoo.archived == COUNT
    # The cursors stand exactly on the last record of each listing.
    assert figures.cursors["cursor:crm.customers"] == record_time(COUNT - 1).isoformat()
    assert figures.cursors["cursor:crm.deleted"] == deletion_time(COUNT - 1, COUNT).isoformat()
    # Page-token refusals made the reads continue by time: more calls than pages of 200.
    pages_of_200 = math.ceil(COUNT / 200)
    for listing in ("GET /Accounts", "GET /Accounts/deleted"):
        windows = math.ceil(COUNT / PAGE_TOKEN_CAP)
        assert pages_of_200 + windows - 1 <= figures.calls[listing] <= pages_of_200 + 2 * windows
    # Credits: one per call (field metadata and every page read, refused ones included).
    assert report["crm_credits"] == sum(figures.calls.values())
    assert figures.peak_rss_growth_mb < RSS_GROWTH_LIMIT_MB, figures.peak_rss_growth_mb
