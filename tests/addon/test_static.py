"""Static checks of the Odoo addons that need no Odoo: manifest, XML, data files, access rules.

Odoo validates all of this again when it installs the addon (tier 2); these checks fail in
seconds, on any machine, with a message that names the file.
"""

from __future__ import annotations

import ast
import csv
import re
from pathlib import Path

import pytest
from lxml import etree

REPO = Path(__file__).resolve().parents[2]
ADDONS_DIR = REPO / "addons"
ADDONS = sorted(p.parent for p in ADDONS_DIR.glob("*/__manifest__.py"))
# The addons of the tier 2 tests (not shipped): the same checks, except icon, readme and
# translations.
TEST_ADDONS = sorted(p.parent for p in (REPO / "tests" / "odoo_addons").glob("*/__manifest__.py"))
# Folders whose files Odoo loads only when the manifest lists them.
DATA_FOLDERS = ("data", "demo", "security", "views", "wizards", "reports", "report")


def manifest(addon: Path) -> dict:
    return ast.literal_eval((addon / "__manifest__.py").read_text(encoding="utf-8"))


def python_models(addon: Path) -> dict[str, dict]:
    """Models the addon defines (``_name``) or extends (``_inherit``), with their field names."""
    models: dict[str, dict] = {}
    for path in addon.rglob("*.py"):
        if "tests" in path.relative_to(addon).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            attrs: dict[str, object] = {}
            fields: set[str] = set()
            abstract = any(
                isinstance(base, ast.Attribute) and base.attr == "AbstractModel"
                for base in node.bases
            )
            for stmt in node.body:
                if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
                    continue
                target = stmt.targets[0]
                if not isinstance(target, ast.Name):
                    continue
                if target.id in ("_name", "_inherit", "_transient", "_auto"):
                    try:
                        attrs[target.id] = ast.literal_eval(stmt.value)
                    except ValueError:
                        pass
                value = stmt.value
                if (
                    isinstance(value, ast.Call)
                    and isinstance(value.func, ast.Attribute)
                    and isinstance(value.func.value, ast.Name)
                    and value.func.value.id == "fields"
                ):
                    fields.add(target.id)
            name = attrs.get("_name")
            inherit = attrs.get("_inherit")
            inherits = [inherit] if isinstance(inherit, str) else list(inherit or [])
            if not name and len(inherits) == 1:
                name = inherits[0]
            if not isinstance(name, str):
                continue
            entry = models.setdefault(
                name, {"new": False, "fields": set(), "inherits": set(), "file": path}
            )
            entry["fields"] |= fields
            entry["inherits"] |= {i for i in inherits if i != name}
            if attrs.get("_name") and attrs["_name"] not in inherits:
                entry["new"] = True
                entry["abstract"] = abstract
    return models


@pytest.fixture(params=ADDONS + TEST_ADDONS, ids=lambda p: p.name)
def addon(request) -> Path:
    return request.param


@pytest.fixture(params=ADDONS, ids=lambda p: p.name)
def shipped_addon(request) -> Path:
    return request.param


def test_there_is_an_addon():
    assert any(a.name == "ar_credit_control" for a in ADDONS)


def test_manifest_keys_and_version(addon):
    data = manifest(addon)
    for key in ("name", "summary", "version", "license", "author", "depends", "data"):
        assert key in data, f"{addon.name}: manifest misses {key!r}"
    assert re.fullmatch(r"18\.0\.\d+\.\d+\.\d+", data["version"]), data["version"]
    assert data["license"] == "LGPL-3"


def test_icon_and_readme(shipped_addon):
    assert (shipped_addon / "static" / "description" / "icon.png").exists(), "no icon"
    assert (shipped_addon / "readme" / "DESCRIPTION.md").exists(), "no readme fragment"


def test_main_addon_dependencies():
    data = manifest(ADDONS_DIR / "ar_credit_control")
    assert {"account", "sale_management"} <= set(data["depends"])
    assert "ar_engine" in data["external_dependencies"]["python"]


def test_listed_files_exist(addon):
    data = manifest(addon)
    for key in ("data", "demo", "assets"):
        files = data.get(key, [])
        if key == "assets":
            continue
        for rel in files:
            assert (addon / rel).is_file(), f"{addon.name}: manifest lists missing {rel}"


def test_every_data_file_is_listed(addon):
    data = manifest(addon)
    listed = set(data.get("data", [])) | set(data.get("demo", []))
    for folder in DATA_FOLDERS:
        for path in (addon / folder).glob("*"):
            if path.suffix in (".xml", ".csv"):
                rel = str(path.relative_to(addon))
                assert rel in listed, f"{addon.name}: {rel} is not listed in the manifest"


def test_every_xml_file_parses(addon):
    for path in addon.rglob("*.xml"):
        etree.parse(str(path))  # raises with the file and line on a syntax error


def test_every_new_model_has_access_rules(addon):
    access = addon / "security" / "ir.model.access.csv"
    rows = list(csv.DictReader(access.open(encoding="utf-8"))) if access.exists() else []
    covered = {row["model_id:id"].split(".")[-1] for row in rows}
    for row in rows:
        assert row["group_id:id"], f"{addon.name}: access rule {row['id']} has no group"
    for name, model in python_models(addon).items():
        if model["new"] and not model["abstract"]:
            xmlid = "model_" + name.replace(".", "_")
            assert xmlid in covered, f"{addon.name}: model {name} has no access rule"


def test_new_models_have_description(addon):
    for path in addon.rglob("models/*.py"):
        source = path.read_text(encoding="utf-8")
        for match in re.finditer(r'^\s+_name = "([\w.]+)"', source, re.M):
            assert "_description" in source, f"{path.name}: {match.group(1)} has no _description"


def _view_model_fields(addon: Path) -> dict[str, set[str]]:
    """Fields our Python declares per model (only models whose fields we fully know)."""
    return {name: m["fields"] for name, m in python_models(addon).items() if m["new"]}


# Fields every model gets from Odoo itself or from the mixins our models inherit.
MAGIC_FIELDS = {"id", "display_name", "create_date", "create_uid", "write_date", "write_uid"}
MIXIN_FIELDS = {
    "mail.thread": {
        "message_ids",
        "message_follower_ids",
        "message_is_follower",
        "has_message",
        "message_attachment_count",
    },
    "mail.activity.mixin": {
        "activity_ids",
        "activity_state",
        "activity_user_id",
        "activity_type_id",
        "activity_date_deadline",
        "activity_summary",
        "my_activity_date_deadline",
        "activity_exception_decoration",
        "activity_exception_icon",
    },
}


def test_view_fields_exist_on_our_models(addon):
    """Every <field> at the top level of a view of one of our own models exists on it."""
    known = _view_model_fields(addon)
    models = python_models(addon)
    for path in addon.rglob("views/*.xml"):
        for record in etree.parse(str(path)).iter("record"):
            if record.get("model") != "ir.ui.view":
                continue
            model_node = record.find("field[@name='model']")
            arch = record.find("field[@name='arch']")
            if model_node is None or arch is None or model_node.text not in known:
                continue
            if record.find("field[@name='inherit_id']") is not None:
                continue
            model = model_node.text
            allowed = set(known[model]) | MAGIC_FIELDS
            for mixin in models[model]["inherits"]:
                allowed |= MIXIN_FIELDS.get(mixin, set())
                allowed |= known.get(mixin, set())
            for field in arch.iter("field"):
                if field is arch:
                    continue
                # Fields of embedded x2many sub-views belong to the related model.
                if any(anc.tag == "field" for anc in _ancestors_within(field, arch)):
                    continue
                assert field.get("name") in allowed, (
                    f"{path.name}: view of {model} uses unknown field {field.get('name')!r}"
                )


def _ancestors_within(node, arch):
    for ancestor in node.iterancestors():
        if ancestor is arch:
            return
        yield ancestor


def test_zh_cn_translation_complete(shipped_addon):
    """Every term Odoo exports for the addon (its .pot) has a Simplified Chinese translation.

    Refresh both files with scripts/update_translations.py after adding user-visible text.
    """
    addon = shipped_addon
    polib = pytest.importorskip("polib")
    pot_path = addon / "i18n" / f"{addon.name}.pot"
    po_path = addon / "i18n" / "zh_CN.po"
    assert po_path.exists(), f"{addon.name}: no i18n/zh_CN.po"
    assert pot_path.exists(), f"{addon.name}: no i18n/{addon.name}.pot"
    po = polib.pofile(str(po_path))
    assert po.metadata.get("Language") == "zh_CN"
    translated = {(e.msgctxt, e.msgid) for e in po if e.msgstr}
    untranslated = [
        e.msgid for e in polib.pofile(str(pot_path)) if (e.msgctxt, e.msgid) not in translated
    ]
    assert not untranslated, f"{len(untranslated)} terms lack zh_CN: {untranslated[:10]}"
