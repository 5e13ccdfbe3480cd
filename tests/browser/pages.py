"""A real Chromium (Debian's, driven by Playwright) on a socius page, and what the page saw:
its console errors and every message its WebSocket carried."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.actors.test_serve import Served

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ADDRESS = re.compile(r"(https?://[^\s]+/#token=[\w-]+)")


def address_in(line: str) -> str:
    m = ADDRESS.search(line)
    assert m, f"no page address in {line!r}"
    return m.group(1)


def served_view(tmp: Path, *flags: object) -> tuple[Served, str]:
    """`socius serve` (tests/actors/test_serve.py's world) with its page; the page's address
    with the operator's token."""
    s = Served(tmp, *flags, "--view-port", 0)
    assert s.proc.stdout is not None
    return s, address_in(s.proc.stdout.readline())


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium; the test is skipped where Debian's chromium is not installed."""
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium (scripts/setup.sh test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Seen:
    """A page, its console errors, and every message its sockets received (parsed)."""

    def __init__(self, browser: Any, url: str, any_certificate: bool = False) -> None:
        """`any_certificate`: trust a self-signed one (the tests' TLS)."""
        context = browser.new_context(
            viewport={"width": 1400, "height": 1100}, ignore_https_errors=any_certificate
        )
        self.page = context.new_page()
        self.errors: list[str] = []
        self.frames: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("websocket", self._socket)
        self.page.goto(url)

    def _socket(self, ws: Any) -> None:
        ws.on("framereceived", lambda payload: self.frames.append(str(payload)))

    def messages(self, kind: str | None = None) -> list[dict[str, Any]]:
        out = [json.loads(f) for f in self.frames]
        return [m for m in out if kind is None or m.get("type") == kind]

    def wait_tick(self, tick: int) -> None:
        self.page.wait_for_selector(f'#tick[data-tick="{tick}"]', timeout=60_000)

    def figures(self) -> dict[str, float]:
        cells = self.page.eval_on_selector_all(
            "#figures tr",
            "rs => rs.map(r => [r.dataset.figure, r.querySelector('td').textContent])",
        )
        return {k: float(v) for k, v in cells}

    def click_character(self, cid: int) -> None:
        at = self.page.evaluate(f"window.socius.graph.screenOf({cid})")
        assert at is not None, f"character {cid} is not drawn"
        self.page.mouse.click(at["x"], at["y"])
        self.page.wait_for_selector(f'#panel[data-character="{cid}"] [data-field=name]')

    def send(self, message: dict[str, Any]) -> None:
        self.page.evaluate(f"window.socius.state.ws.send({json.dumps(json.dumps(message))})")

    def shot(self, name: str) -> Path:
        """A screenshot into the artifacts folder (SOCIUS_ARTIFACTS, else
        tests/browser/artifacts)."""
        folder = Path(os.environ.get("SOCIUS_ARTIFACTS", Path(__file__).with_name("artifacts")))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path
