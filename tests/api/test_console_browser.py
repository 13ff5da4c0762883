"""The coordinator console in a real browser: Debian's headless Chromium driven over
WebDriver (tests/webdriver.py) through a whole cycle on the demo program, with axe-core
(vendored in tests/vendor/axe-core) checking every page it opens.

The journey: log in as the demo coordinator, open the demo program, start a round and
watch it finish, expand a pair's explanation, forbid that pair, run again and see the
pair gone, publish, cancel a match, import a CSV with one bad row and see its error. The
screenshots of the program home and the round review in docs/ are written here, so the
README's pictures stay current.

The app is served by werkzeug on 127.0.0.1 from the test's database transaction; one
request at a time (a lock), since the test's connection is shared. A round is handed to
a stand-in for the job queue and the test then runs it as the worker would
(round_runs.execute, under the same lock), so the browser really watches a queued round
turn into its review through the page's polling.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from api.adapters.models import Match, Round, RoundPair
from api.entrypoints import seeding
from api.services import round_runs
from tests.api.test_csv_import import GOOD_ROWS, HEADER
from tests.mailbox import free_port
from tests.webdriver import CHROMIUM, DRIVER, Browser, ChromeDriver

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
DOCS = ROOT / "docs"

pytestmark = pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)) and not os.environ.get("CI"),
    reason="needs Debian's chromium and chromium-driver",
)

AXE_SOURCE = AXE.read_text(encoding="utf-8") if AXE.exists() else ""
AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']}).then(r => done(
  r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
   .map(v => v.id + ' (' + v.impact + '): '
             + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))
)).catch(e => done(['axe failed: ' + e]));
"""


class Queued:
    """Stands in for the RQ queue: remembers the rounds handed to it (the test works them)."""

    def __init__(self) -> None:
        self.rounds: list[int] = []

    def enqueue_round(self, round_id: int, attempt: int = 1, *, timeout: int = 0) -> None:
        self.rounds.append(round_id)


class Site:
    """The app on a free port, one request at a time."""

    def __init__(self, app) -> None:
        self.lock = threading.Lock()

        def serialised(environ, start_response):
            with self.lock:
                answer = app(environ, start_response)
                try:
                    return list(answer)
                finally:
                    if hasattr(answer, "close"):
                        answer.close()

        self.port = free_port()
        self.server = make_server("127.0.0.1", self.port, serialised, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def demo(app, session_factory, monkeypatch):
    with session_factory() as s:
        seeding.seed(s, seeding.resolve_dir(None))
    queue = Queued()
    monkeypatch.setattr("api.http.context.round_queue", lambda: queue)
    # Served over plain HTTP on the loopback here; the Secure flag has its own test
    # (tests/api/test_console.py) and is on outside debug.
    app.config["SESSION_COOKIE_SECURE"] = False
    site = Site(app)
    driver = ChromeDriver(free_port())
    browser = Browser(driver.port)
    try:
        yield site, browser, queue
    finally:
        browser.quit()
        driver.stop()
        site.stop()


def accessible(browser: Browser, checked: list[str]) -> None:
    """axe-core finds no serious or critical violation on the page shown."""
    browser.run(AXE_SOURCE + "\nreturn true;")
    violations = browser.run_async(AXE_RUN)
    assert violations == [], f"{browser.url()}: {violations}"
    checked.append(browser.url())


def work(site: Site, session, queue: Queued) -> int:
    """Run the round the page handed to the queue, as a worker would."""
    round_id = queue.rounds.pop()
    with site.lock:
        done = round_runs.execute(session, round_id)
        assert done is not None and done.status == "proposed"
    return round_id


def test_a_coordinator_runs_a_whole_cycle_in_the_browser_and_every_page_is_accessible(
    demo, session, tmp_path
):
    site, browser, queue = demo
    checked: list[str] = []

    # Log in as the demo coordinator.
    browser.go(f"{site.base}/console/login")
    accessible(browser, checked)
    browser.type("#email", seeding.COORDINATOR_EMAIL)
    browser.type("#password", seeding.DEMO_PASSWORD)
    browser.click("form.stack button[type=submit]")
    browser.wait(lambda: "Your programs" in browser.source(), what="the programs page")
    accessible(browser, checked)

    # Open the demo program.
    browser.click("table tbody th a")
    browser.wait(lambda: "Funnel" in browser.source(), what="the program home")
    home = browser.url()
    accessible(browser, checked)

    # Start a round, watch it finish (the page polls while it is queued).
    browser.click("a[href$='#start']")
    browser.wait(lambda: "Start the round" in browser.source())
    accessible(browser, checked)
    browser.click("#start ~ form button[type=submit], section[aria-labelledby=start] form > button")
    browser.wait(lambda: "<progress" in browser.source(), what="the progress page")
    accessible(browser, checked)
    first = work(site, session, queue)
    browser.wait(lambda: "Review of round" in browser.source(), timeout=10, what="the review")
    assert browser.url().endswith(f"/rounds/{first}")
    accessible(browser, checked)

    # Expand the best pair's explanation: its per-criterion bars.
    row = "table.pairs tbody tr:first-child"
    mentee = browser.attribute(row, "data-mentee")
    mentor = browser.attribute(row, "data-mentor")
    assert not browser.displayed(f"{row} table.why")
    browser.click(f"{row} details summary")
    browser.wait(lambda: browser.displayed(f"{row} table.why"), what="the explanation")
    assert "Needs covered" in browser.text(f"{row} table.why")
    DOCS.mkdir(exist_ok=True)
    browser.resize(1280, 1500)
    browser.run("window.scrollTo(0, 0)")
    browser.screenshot(DOCS / "console-round-review.png")
    browser.resize(1280, 900)

    # Forbid that pair, run again: the pair is gone.
    browser.click(f"{row} button.forbid")
    browser.wait(lambda: "no round pairs them any more" in browser.source(), what="the notice")
    browser.click(".actions form:nth-of-type(1) button")
    browser.wait(lambda: "<progress" in browser.source(), what="the second round's progress")
    second = work(site, session, queue)
    browser.wait(lambda: browser.url().endswith(f"/rounds/{second}"), what="the second review")
    browser.wait(lambda: "Review of round" in browser.source())
    rows = browser.find_all(f"tr[data-mentee='{mentee}'][data-mentor='{mentor}']")
    assert rows == []
    with site.lock:
        pairs = set(
            session.execute(
                select(RoundPair.mentee_id, RoundPair.mentor_id).where(RoundPair.round_id == second)
            ).all()
        )
    assert (int(mentee), int(mentor)) not in pairs and pairs

    # Publish behind its confirmation.
    browser.click(".actions a.button")
    browser.wait(lambda: "become proposals" in browser.source(), what="the confirmation")
    accessible(browser, checked)
    browser.click("#publish-confirm")
    browser.wait(lambda: "is published" in browser.source(), what="the matches page")
    accessible(browser, checked)

    # Cancel a match, with a reason.
    match_id = int(str(browser.attribute("table.matches tbody tr", "id")).split("-")[1])
    browser.type(f"#match-{match_id} input[name=reason]", "The mentee changed teams")
    browser.click(f"#match-{match_id} button[type=submit]")
    browser.wait(lambda: "is cancelled" in browser.source(), what="the cancellation")
    with site.lock:
        match = session.get(Match, match_id)
        session.refresh(match)
        assert match.status == "cancelled" and match.close_reason == "The mentee changed teams"

    # Participants, a profile, and an import with one bad row.
    browser.go(home + "/participants")
    accessible(browser, checked)
    browser.click("table tbody th a")
    browser.wait(lambda: "Profile of" in browser.source())
    accessible(browser, checked)
    browser.go(home + "/participants/import")
    accessible(browser, checked)
    bad = 'cy@example.org,Cy,mentee,,,,en,Mars/Base,"tue 10:00-11:00",2,,,,,open\n'
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(HEADER + GOOD_ROWS + bad, encoding="utf-8")
    browser.type("#file", str(csv_file))
    browser.click("form.stack button[type=submit]")
    browser.wait(lambda: 'class="bad"' in browser.source(), what="the import's errors")
    assert "timezone" in browser.text("tr.bad") and "cy@example.org" in browser.text("tr.bad")
    assert len(browser.find_all("tr.bad")) == 1
    accessible(browser, checked)

    # The program home after the cycle, for the README; then log out.
    browser.go(home)
    browser.wait(lambda: "Funnel" in browser.source())
    browser.resize(1280, 1000)
    browser.screenshot(DOCS / "console-program-home.png")
    browser.click("form.logout button")
    browser.wait(lambda: "You are logged out." in browser.source())
    with site.lock:
        assert session.get(Round, second).status == "published"
    assert len(checked) >= 11
