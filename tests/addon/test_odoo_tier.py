"""Tier 2's reading of Odoo's log: browser tests Odoo skipped for want of a browser."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import odoo_tier  # noqa: E402

LOG = """\
2026-12-07 05:43:59,235 1 INFO db odoo.tests.result: skipped TestOverviewHttp.test_tour : \
websocket-client module is not installed
2026-12-07 05:43:59,236 1 INFO db odoo.tests.result: skipped TestTours.test_portal : \
None not found
2026-12-07 05:43:59,237 1 INFO db odoo.tests.result: skipped TestDunningSms.test_send : \
the sms module is not installed
2026-12-07 05:43:59,238 1 INFO db odoo.addons.x: Chrome headless enable page notifications
"""


def test_browser_skips_lists_each_skipped_tour_with_its_reason():
    assert odoo_tier.browser_skips(LOG) == [
        "TestOverviewHttp.test_tour: websocket-client module is not installed",
        "TestTours.test_portal: None not found",
    ]


def test_browser_skips_ignores_a_run_where_the_browser_worked():
    assert odoo_tier.browser_skips(LOG.splitlines()[-1]) == []
