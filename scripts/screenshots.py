"""Screenshots of the demo database for the README: the app's landing screen, a customer's
credit tab, an order on credit hold and a dunning letter.

    python3 scripts/screenshots.py [--database ar_credit_demo] [--out DIR]

Starts Odoo on the demo database (``bash scripts/demo.sh --no-serve`` builds it) on a free
loopback port, logs in as admin through JSON-RPC, drives headless Chromium through the Chrome
DevTools protocol (``websocket-client``) to each screen and saves PNGs; the dunning letter is
the real PDF report, its first page rendered with ``pdftoppm``. The landing screen is whatever
the app's root menu opens, so the pictures follow the product.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import itertools
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import odoo_env  # noqa: E402

WIDTH, HEIGHT = 1360, 820
# The customer whose credit tab is shown: a demo customer with a history worth reading.
PARTNER_XMLID = "ar_credit_control.demo_partner_grade_d"


class Odoo:
    """A JSON-RPC session on a running Odoo."""

    def __init__(self, url: str, database: str) -> None:
        self.url = url
        self.database = database
        self.session_id = ""
        self._ids = itertools.count(1)

    def post(self, path: str, params: dict) -> object:
        body = json.dumps({"jsonrpc": "2.0", "id": next(self._ids), "params": params}).encode()
        request = urllib.request.Request(
            self.url + path, body, {"Content-Type": "application/json"}
        )
        if self.session_id:
            request.add_header("Cookie", f"session_id={self.session_id}")
        with urllib.request.urlopen(request, timeout=120) as response:
            for header in response.headers.get_all("Set-Cookie") or []:
                if header.startswith("session_id="):
                    self.session_id = header.split(";", 1)[0].split("=", 1)[1]
            answer = json.loads(response.read())
        if answer.get("error"):
            raise RuntimeError(json.dumps(answer["error"], indent=1)[:2000])
        return answer["result"]

    def login(self, login: str, password: str) -> None:
        self.post(
            "/web/session/authenticate",
            {"db": self.database, "login": login, "password": password},
        )

    def call(self, model: str, method: str, *args, **kwargs) -> object:
        return self.post(
            "/web/dataset/call_kw",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def download(self, path: str) -> bytes:
        request = urllib.request.Request(self.url + path)
        request.add_header("Cookie", f"session_id={self.session_id}")
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.read()


class Browser:
    """Headless Chromium driven over the DevTools protocol."""

    def __init__(self) -> None:
        import websocket  # noqa: PLC0415 - the test extra installs it

        self.profile = tempfile.mkdtemp(prefix="arcc-shots-")
        port = odoo_env.free_port()
        self.process = subprocess.Popen(
            [
                shutil.which("chromium") or "chromium",
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--window-size={WIDTH},{HEIGHT}",
                f"--remote-debugging-port={port}",
                "--remote-allow-origins=*",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        targets = self._wait_json(f"http://127.0.0.1:{port}/json/list")
        page = next(target for target in targets if target["type"] == "page")
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=120)
        self._ids = itertools.count(1)
        self.send("Page.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=HEIGHT,
            deviceScaleFactor=1,
            mobile=False,
        )

    @staticmethod
    def _wait_json(url: str) -> list:
        for _ in range(100):
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(url, timeout=2) as response:
                    return json.loads(response.read())
            time.sleep(0.2)
        raise RuntimeError("Chromium did not start its DevTools endpoint")

    def send(self, method: str, **params) -> dict:
        message_id = next(self._ids)
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str) -> object:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return
            time.sleep(0.3)
        raise RuntimeError(f"timed out waiting for: {expression}")

    def open(self, url: str, ready_selector: str) -> None:
        self.send("Page.navigate", url=url)
        time.sleep(1.0)
        self.wait_for(
            f"!!document.querySelector({json.dumps(ready_selector)})"
            " && !document.querySelector('.o_loading_indicator, .o_blockUI')"
        )
        time.sleep(1.5)  # charts and fonts settle

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.socket.close()
        self.process.terminate()
        self.process.wait(timeout=30)
        shutil.rmtree(self.profile, ignore_errors=True)


@contextlib.contextmanager
def running_odoo(database: str):
    port = odoo_env.free_port()
    log = Path(tempfile.gettempdir()) / f"arcc-shots-{database}.log"
    process = subprocess.Popen(
        [*odoo_env.odoo_command(database, port), "--workers", "0", "--logfile", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError(f"Odoo stopped: see {log}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(url + "/web/login", timeout=5):
                    break
            time.sleep(0.5)
        else:
            raise RuntimeError(f"Odoo did not answer on {url}: see {log}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=60)


def landing_action(odoo: Odoo) -> int:
    """The action the app's root menu opens (its own, else its first sub-menu's)."""
    root = odoo.call(
        "ir.model.data", "search_read", [["module", "=", "ar_credit_control"],
        ["name", "=", "menu_credit_control_root"]], ["res_id"],
    )[0]["res_id"]  # fmt: skip
    menus = odoo.call("ir.ui.menu", "load_web_menus", [], False)
    if str(root) in menus:
        action = menus[str(root)].get("actionID")
        if action:
            return int(action)
    raise RuntimeError("the app's root menu opens no action")


def xmlid_id(odoo: Odoo, xmlid: str) -> int:
    module, name = xmlid.split(".")
    rows = odoo.call(
        "ir.model.data", "search_read", [["module", "=", module], ["name", "=", name]], ["res_id"]
    )
    return rows[0]["res_id"]


def shrink(path: Path) -> None:
    """Lossy palette PNGs when pngquant is there (screens stay sharp, files a third)."""
    if shutil.which("pngquant"):
        subprocess.run(
            ["pngquant", "--force", "--skip-if-larger", "--quality=70-95", "--output",
             str(path), str(path)],
            check=False,
        )  # fmt: skip


def take(database: str, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    shots = []
    with running_odoo(database) as url:
        odoo = Odoo(url, database)
        odoo.login("admin", "admin")
        browser = Browser()
        try:
            browser.send(
                "Network.setCookie",
                name="session_id",
                value=odoo.session_id,
                url=url,
                httpOnly=True,
            )
            browser.open(f"{url}/odoo/action-{landing_action(odoo)}", ".o_action_manager > *")
            shots.append(out / "overview.png")
            browser.screenshot(shots[-1])

            partner = xmlid_id(odoo, PARTNER_XMLID)
            browser.open(f"{url}/odoo/res.partner/{partner}", ".o_form_view .o_notebook")
            browser.evaluate(
                "document.querySelector('.o_notebook a[name=\"ar_credit\"]').click();"
                "document.querySelector('.o_notebook').scrollIntoView()"
            )
            time.sleep(1.5)
            shots.append(out / "partner_credit.png")
            browser.screenshot(shots[-1])

            held = odoo.call(
                "sale.order", "search", [["credit_hold", "=", True]], limit=1, order="id"
            )
            if not held:
                raise RuntimeError("the demo database has no order on credit hold")
            browser.open(f"{url}/odoo/sale.order/{held[0]}", ".o_form_view .alert-danger")
            shots.append(out / "blocked_order.png")
            browser.screenshot(shots[-1])
        finally:
            browser.close()

        letters = odoo.call(
            "ar.dunning.communication",
            "search",
            [["level_id.channel_letter", "=", True], ["state", "=", "sent"]],
            limit=1,
            order="id desc",
        )
        if not letters:
            raise RuntimeError("the demo database has no dunning letter")
        pdf = odoo.download(f"/report/pdf/ar_credit_control.report_dunning_letter/{letters[0]}")
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "letter.pdf").write_bytes(pdf)
            subprocess.run(
                ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                 str(Path(tmp) / "letter.pdf"), str(Path(tmp) / "letter")],
                check=True,
            )  # fmt: skip
            shots.append(out / "dunning_letter.png")
            shutil.copy(Path(tmp) / "letter.png", shots[-1])
    for shot in shots:
        shrink(shot)
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="ar_credit_demo")
    parser.add_argument(
        "--out", type=Path, default=odoo_env.REPO / "addons/ar_credit_control/readme"
    )
    args = parser.parse_args(argv)
    if not odoo_env.database_exists(args.database):
        parser.error(
            f"no database {args.database}: build it with 'bash scripts/demo.sh --no-serve'"
        )
    for shot in take(args.database, args.out):
        print(f"{shot} ({shot.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
