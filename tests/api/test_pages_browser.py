"""The decline page in a real browser with JavaScript turned off: opening the link changes
nothing, the button declines.

Chromium and ChromeDriver from Debian (`.ci/run` installs them when missing), spoken to
with the W3C WebDriver protocol through tests/webdriver.py; the app is served by
werkzeug on 127.0.0.1.
"""

from __future__ import annotations

import email
import os
import threading
from email.policy import default
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from api.adapters.models import Match
from tests.mailbox import free_port, text_of
from tests.webdriver import CHROMIUM, DRIVER, Browser, ChromeDriver


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
    driver = ChromeDriver(free_port())
    match = session.scalar(select(Match).where(Match.mentee_id == owner["participant_id"]))
    try:
        # No JavaScript at all: the page must work without it.
        browser = Browser(driver.port, width=900, height=700, javascript=False)
        try:
            browser.go(f"http://127.0.0.1:{port}{path}")
            page = browser.source()
            assert "Decline the match?" in page
            browser.screenshot(tmp_path / "decline-page.png")
            session.refresh(match)
            assert match.status == "proposed"  # the browser opened the link: nothing changed
            browser.click("button[type=submit]")
            # The click returns before the answer page has loaded.
            browser.wait(
                lambda: "You declined the match" in browser.source(), what="the answer page"
            )
        finally:
            browser.quit()
    finally:
        driver.stop()
        server.shutdown()
    session.refresh(match)
    assert match.status == "declined" and match.closed_by == "mentee"
