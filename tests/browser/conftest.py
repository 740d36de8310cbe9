import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser_page():
    """A headless Debian chromium page driven by Playwright (never a downloaded browser)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is not installed: `make test` installs it (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the Django ORM calls the test
    # makes between browser steps are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def login(page, live_server, username, password):
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


_SET_SQL_JS = """async (el, text) => {
    // the editor loads after the page (static/js/sql_editor.js): wait for it where it will attach
    if (el.hasAttribute("data-sql-editor") && window.DataflowSqlEditor) await window.DataflowSqlEditor.whenReady(el);
    const cm = el.sqlEditor
        || (el.nextElementSibling && el.nextElementSibling.CodeMirror);
    if (!cm) return false;
    cm.setValue(text);
    cm.save();
    return true;
}"""


def fill_sql(page, text, name="sql", within=""):
    """Type SQL into the form field `textarea[name=<name>]`, whether or not the SQL editor
    (CodeMirror, static/js/sql_editor.js) is attached to it. With the editor the textarea is
    hidden, so `page.fill` would time out; the editor's own instance is set instead and copied
    back to the textarea (what the form submits). `within` is an optional CSS prefix scoping the
    textarea, e.g. "#operations form". The first match is used, like `page.fill`."""
    selector = f"{within} textarea[name={name}]".strip()
    field = page.locator(selector).first
    field.wait_for(state="attached")
    if not field.evaluate(_SET_SQL_JS, text):
        field.fill(text)
