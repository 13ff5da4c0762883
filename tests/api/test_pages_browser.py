"""The decline page in a real browser with JavaScript turned off: opening the link changes
nothing, the button declines.

Chromium and ChromeDriver from Debian (`.ci/run` installs them when missing), spoken to
with the W3C WebDriver protocol over HTTP on 127.0.0.1 (no client library needed); the
app is served by werkzeug on 127.0.0.1.
"""

from __future__ import annotations

import base64
import email
import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request
from email.policy import default
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from api.adapters.models import Match
from tests.mailbox import free_port, text_of

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


class WebDriver:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": CHROMIUM,
                        "args": [
                            "--headless=new",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--window-size=900,700",
                        ],
                        # No JavaScript at all: the page must work without it.
                        "prefs": {"profile.managed_default_content_settings.javascript": 2},
                    },
                }
            }
        }
        self.session = self._call("POST", "/session", caps)["sessionId"]

    def _call(self, method: str, path: str, body: object | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())["value"] if method != "DELETE" else {}

    def go(self, url: str) -> None:
        self._call("POST", f"/session/{self.session}/url", {"url": url})

    def source(self) -> str:
        return str(self._call("GET", f"/session/{self.session}/source"))

    def click(self, css: str) -> None:
        found = self._call(
            "POST", f"/session/{self.session}/element", {"using": "css selector", "value": css}
        )
        element = next(iter(found.values()))
        self._call("POST", f"/session/{self.session}/element/{element}/click", {})

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self._call("GET", f"/session/{self.session}/screenshot")))

    def quit(self) -> None:
        self._call("DELETE", f"/session/{self.session}")


@pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)) and not os.environ.get("CI"),
    reason="needs Debian's chromium and chromium-driver",
)
def test_declining_from_the_email_page_in_a_browser_without_javascript(
    app, world, session, tmp_path
):
    owner = world["people"]["owner"]
    [proposal] = [
        m
        for m in (
            email.message_from_bytes(f.read_bytes(), policy=default)
            for f in sorted(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))
        )
        if m["To"] == owner["email"]
    ]
    link = next(
        line.split("Decline: ")[1].strip()
        for line in text_of(proposal).splitlines()
        if "Decline: " in line
    )
    path = link.removeprefix("http://127.0.0.1:5000")
    port = free_port()
    server = make_server("127.0.0.1", port, app)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    driver_port = free_port()
    chromedriver = subprocess.Popen(
        [DRIVER, f"--port={driver_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    match = session.scalar(select(Match).where(Match.mentee_id == owner["participant_id"]))
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{driver_port}/status", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        browser = WebDriver(driver_port)
        try:
            browser.go(f"http://127.0.0.1:{port}{path}")
            page = browser.source()
            assert "Decline the match?" in page
            browser.screenshot(tmp_path / "decline-page.png")
            session.refresh(match)
            assert match.status == "proposed"  # the browser opened the link: nothing changed
            browser.click("button[type=submit]")
            for _ in range(100):  # the click returns before the answer page has loaded
                if "You declined the match" in browser.source():
                    break
                time.sleep(0.1)
            assert "You declined the match" in browser.source()
        finally:
            browser.quit()
    finally:
        chromedriver.terminate()
        chromedriver.wait(timeout=10)
        server.shutdown()
    session.refresh(match)
    assert match.status == "declined" and match.closed_by == "mentee"
