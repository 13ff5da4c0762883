"""A small W3C WebDriver client for Debian's chromedriver (no client library needed).

Speaks the protocol over HTTP on 127.0.0.1: sessions, navigation, elements, scripts,
screenshots. The console's browser tests use it; chromedriver and chromium come from
Debian (`.ci/run` installs them when missing), nothing is downloaded.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ELEMENT = "element-6066-11e4-a6e4-4d1c4a8c8c56"


class WebDriverError(AssertionError):
    pass


def _element(found: dict[str, str]) -> str:
    # W3C names the reference ELEMENT's key; older chromedrivers say "ELEMENT".
    return str(found.get(ELEMENT) or next(iter(found.values())))


class Browser:
    """One headless Chromium session, driven through a chromedriver on `port`."""

    def __init__(
        self, port: int, *, width: int = 1280, height: int = 900, javascript: bool = True
    ) -> None:
        self.base = f"http://127.0.0.1:{port}"
        options: dict[str, Any] = {
            "binary": CHROMIUM,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                f"--window-size={width},{height}",
            ],
        }
        if not javascript:  # pages that must work without it
            options["prefs"] = {"profile.managed_default_content_settings.javascript": 2}
        caps = {
            "capabilities": {
                "alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}
            }
        }
        self.session = self._call("POST", "/session", caps)["sessionId"]

    def _call(self, method: str, path: str, body: object | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.loads(r.read())["value"]
        except urllib.error.HTTPError as exc:
            raise WebDriverError(exc.read().decode(errors="replace")[:2000]) from exc

    def _s(self, path: str) -> str:
        return f"/session/{self.session}{path}"

    # --- pages -----------------------------------------------------------------------
    def go(self, url: str) -> None:
        self._call("POST", self._s("/url"), {"url": url})

    def url(self) -> str:
        return str(self._call("GET", self._s("/url")))

    def title(self) -> str:
        return str(self._call("GET", self._s("/title")))

    def source(self) -> str:
        return str(self._call("GET", self._s("/source")))

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self._call("GET", self._s("/screenshot"))))

    def resize(self, width: int, height: int) -> None:
        self._call("POST", self._s("/window/rect"), {"width": width, "height": height})

    def run(self, script: str, *args: Any) -> Any:
        return self._call("POST", self._s("/execute/sync"), {"script": script, "args": list(args)})

    def run_async(self, script: str, *args: Any) -> Any:
        return self._call("POST", self._s("/execute/async"), {"script": script, "args": list(args)})

    # --- elements --------------------------------------------------------------------
    def find(self, css: str) -> str:
        found = self._call("POST", self._s("/element"), {"using": "css selector", "value": css})
        return _element(found)

    def find_all(self, css: str) -> list[str]:
        found = self._call("POST", self._s("/elements"), {"using": "css selector", "value": css})
        return [_element(f) for f in found]

    def click(self, css: str) -> None:
        self._call("POST", self._s(f"/element/{self.find(css)}/click"), {})

    def type(self, css: str, value: str) -> None:
        self._call("POST", self._s(f"/element/{self.find(css)}/value"), {"text": value})

    def text(self, css: str) -> str:
        return str(self._call("GET", self._s(f"/element/{self.find(css)}/text")))

    def attribute(self, css: str, name: str) -> str | None:
        return self._call("GET", self._s(f"/element/{self.find(css)}/attribute/{name}"))

    def displayed(self, css: str) -> bool:
        return bool(self._call("GET", self._s(f"/element/{self.find(css)}/displayed")))

    def wait(self, condition: Callable[[], Any], timeout: float = 15, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = condition()
                if value:
                    return value
            except WebDriverError:
                pass
            if time.monotonic() > deadline:
                raise WebDriverError(f"timed out waiting for {what or condition}")
            time.sleep(0.1)

    def quit(self) -> None:
        try:
            self._call("DELETE", self._s(""))
        except (WebDriverError, OSError):
            pass


class ChromeDriver:
    """A chromedriver process on a free port of 127.0.0.1."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process = subprocess.Popen(
            [DRIVER, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise WebDriverError("chromedriver did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
