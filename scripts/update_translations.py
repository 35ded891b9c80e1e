"""Refresh an addon's i18n/<addon>.pot from a real install and merge it into i18n/zh_CN.po.

Existing translations are kept; new terms arrive untranslated and are listed, so a developer
translates them before committing (tier 1 fails while a term is untranslated).

    python3 scripts/update_translations.py [--addon ar_credit_control]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import polib

sys.path.insert(0, str(Path(__file__).resolve().parent))
import odoo_env  # noqa: E402

LANG = "zh_CN"


def export_pot(addon: str, pot_path: Path) -> None:
    db = f"arcc_i18n_{addon}"
    odoo_env.copy_database(odoo_env.ensure_template(demo=False), db)
    try:
        base = odoo_env.odoo_command(db, odoo_env.free_port(), "--log-level", "warn")
        subprocess.run([*base, "-i", addon, "--stop-after-init"], check=True)
        export = subprocess.run(
            [*base, "--modules", addon, "--i18n-export", str(pot_path), "--stop-after-init"],
            check=True,
            capture_output=True,
            text=True,
        )
        sys.stderr.write(export.stderr)
        # Odoo only logs a file it could not read terms from: its strings would silently
        # be missing from the template (and stay untranslated).
        if "Failed to extract terms" in export.stderr:
            raise SystemExit("term extraction failed for a file (see the log above)")
    finally:
        odoo_env.drop_database(db)


def merge(pot_path: Path, po_path: Path) -> list[str]:
    pot = polib.pofile(str(pot_path))
    old = polib.pofile(str(po_path)) if po_path.exists() else polib.POFile()
    known = {(e.msgctxt, e.msgid): e.msgstr for e in old if e.msgstr}
    po = polib.POFile()
    po.metadata = {
        "Project-Id-Version": "Odoo Server 18.0",
        "Language": LANG,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "",
        "Plural-Forms": "nplurals=1; plural=0;",
    }
    missing = []
    for entry in pot:
        entry.msgstr = known.get((entry.msgctxt, entry.msgid), "")
        if not entry.msgstr:
            missing.append(entry.msgid)
        po.append(entry)
    po.save(str(po_path))
    return missing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addon", default="ar_credit_control")
    args = parser.parse_args()
    i18n = odoo_env.ADDONS_DIR / args.addon / "i18n"
    i18n.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pot_tmp = Path(tmp) / f"{args.addon}.pot"
        export_pot(args.addon, pot_tmp)
        (i18n / f"{args.addon}.pot").write_text(pot_tmp.read_text(encoding="utf-8"))
    missing = merge(i18n / f"{args.addon}.pot", i18n / f"{LANG}.po")
    print(f"{len(missing)} terms without a {LANG} translation")
    for msgid in missing:
        print(f"  {msgid!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
