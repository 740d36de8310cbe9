#!/usr/bin/env python
"""Log in with headless chromium and screenshot pages, as a user would, against a running app
(`make run`): used to look at pages and to refresh docs/screenshots/.

    bin/screenshots.py [--user dba] [--password PW] [--totp SECRET] OUTDIR STEP...

The server is http://$DATAFLOW_HOST:$DATAFLOW_PORT (what `make run` listens on; default
127.0.0.1:8000), or --base URL. The password and the authenticator (TOTP) secret default to the
demo's, read from .dataflow/demo-credentials.txt (written by `manage.py seed_demo`).

Each STEP is one of:
    /path/                   open the page and screenshot it (named after the path)
    shot:NAME                screenshot the current page as NAME.png
    click:SELECTOR           click (an empty authenticator-code field on the page is filled first
                             with a current code, so approvals and executions pass step-up)
    fill:SELECTOR::VALUE     type into a field
    select:SELECTOR::VALUE   choose an option (by its value)
    wait:SELECTOR            wait until it is on the page (up to 10 minutes: e.g. a job's state)

e.g. bin/screenshots.py --user manager out /plans/3/ "fill:form.signoff textarea[name=comment]::Looks right" \
        "click:form.signoff button:has-text('Approve')" shot:approved
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CREDENTIALS = ROOT / ".dataflow" / "demo-credentials.txt"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CODE_FIELD = "input[name=step_up_code]"


def base_url() -> str:
    """Where `make run` (bin/run-dev) serves: DATAFLOW_HOST and DATAFLOW_PORT, as it reads them."""
    host = os.environ.get("DATAFLOW_HOST", "127.0.0.1")
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"http://{host}:{os.environ.get('DATAFLOW_PORT', '8000')}"


def demo_credentials(path: Path = CREDENTIALS) -> tuple[dict[str, str], str | None]:
    """The demo users' passwords and the latest authenticator secret from seed_demo's file."""
    passwords, secret = {}, None
    if not path.exists():
        return passwords, secret
    for line in path.read_text().splitlines():
        if match := re.match(r"^(\S+) / (\S+)\s+\(", line):
            passwords[match[1]] = match[2]
        elif match := re.match(r"^authenticator secret of .*?: ([A-Z2-7]+)\b", line):
            secret = match[1]
    return passwords, secret


def totp_code(secret: str, at: float | None = None) -> str:
    """The current RFC 6238 code of a base32 secret (django-otp's own TOTP: 6 digits, 30 s)."""
    import base64

    from django_otp.oath import TOTP

    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    totp = TOTP(key, step=30, digits=6)
    if at is not None:
        totp.time = at
    return f"{totp.token():06d}"


class Session:
    """One logged-in chromium page. Codes are typed at most once per 30-s step (the server
    accepts each code once), waiting for the next step when one was used already."""

    def __init__(self, page, base: str, secret: str | None):
        self.page, self.base, self.secret = page, base.rstrip("/"), secret
        self._last_step = None

    def login(self, user: str, password: str) -> None:
        self.page.goto(f"{self.base}/accounts/login/")
        self.page.fill("input[name=username]", user)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state("networkidle")
        if "/accounts/login/" in self.page.url:
            raise SystemExit(f"login as {user} failed at {self.base}: {self.page.inner_text('.card')[:200]}")

    def code(self) -> str:
        if not self.secret:
            raise SystemExit("this page asks for an authenticator code: pass --totp SECRET (or seed the demo)")
        step = int(time.time() // 30)
        if step == self._last_step:
            time.sleep(30 - time.time() % 30 + 0.5)
            step = int(time.time() // 30)
        self._last_step = step
        return totp_code(self.secret)

    def fill_code_fields(self) -> None:
        for field in self.page.locator(CODE_FIELD).all():
            if field.is_visible() and not field.input_value():
                field.fill(self.code())

    def shot(self, out: Path, name: str) -> Path:
        self.page.wait_for_load_state("networkidle")
        path = out / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        print(path)
        return path

    def step(self, out: Path, step: str) -> None:
        kind, _, arg = step.partition(":")
        if step.startswith("/"):
            self.page.goto(self.base + step)
            self.page.wait_for_load_state("networkidle")
            self.shot(out, step.strip("/").replace("/", "_").replace("?", "_") or "dashboard")
        elif kind == "shot":
            self.shot(out, arg)
        elif kind == "click":
            self.fill_code_fields()
            self.page.click(arg)
            self.page.wait_for_load_state("networkidle")
        elif kind in ("fill", "select"):
            selector, _, value = arg.rpartition("::")
            (self.page.fill if kind == "fill" else self.page.select_option)(selector, value)
        elif kind == "wait":
            self.page.wait_for_selector(arg, timeout=600_000)
        else:
            raise SystemExit(f"unknown step {step!r} (see --help)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--base", default=None, help="server URL (default: DATAFLOW_HOST/DATAFLOW_PORT)")
    parser.add_argument("--user", default="dba")
    parser.add_argument("--password", default=None, help="default: the demo password of --user")
    parser.add_argument("--totp", default=None, help="authenticator secret (base32); default: the demo's")
    parser.add_argument("outdir")
    parser.add_argument("steps", nargs="+")
    args = parser.parse_args(argv)
    passwords, demo_secret = demo_credentials()
    password = args.password or passwords.get(args.user)
    if not password:
        parser.error(f"no password for {args.user}: pass --password (or run `make run`, which seeds the demo)")
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        session = Session(page, args.base or base_url(), args.totp or demo_secret)
        session.login(args.user, password)
        for step in args.steps:
            session.step(out, step)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
