"""`socius view RUN`: a recorded run's page scrubs to tick T and shows T's figures, and the
characters as the nearest checkpoint at or before T left them (it says which); beyond this
machine only over TLS."""

from __future__ import annotations

import csv
import signal
from pathlib import Path

import pytest
import yaml

from tests.actors.test_serve import _self_signed
from tests.browser.pages import Seen, address_in, chromium
from tests.browser.test_live_run import felt
from tests.commands import popen_socius, socius

pytestmark = [pytest.mark.browser]


def test_view_scrubs_a_recorded_run(tmp_path: Path) -> None:
    """A run of 12 ticks checkpointed every 5 (kept: 10 and 12): tick 11 shows metrics.csv's
    row 11 and the feelings of checkpoint 10; tick 3 says the characters are as at the start."""
    sc = tmp_path / "v.yaml"
    sc.write_text(
        yaml.safe_dump({"name": "rec", "seed": 5, "ticks": 12, "population": {"size": 30}})
    )
    out = tmp_path / "run"
    done = socius("run", sc, "--runtime", "local", "--out", out, "--quiet", "--checkpoint-every", 5)
    assert done.returncode == 0, done.stderr
    with open(out / "metrics.csv", newline="") as f:
        rows = {int(r["tick"]): r for r in csv.DictReader(f)}
    proc = popen_socius("view", out, "--port", 0)
    try:
        assert proc.stdout is not None
        url = address_in(proc.stdout.readline())
        with chromium() as browser:
            seen = Seen(browser, url)
            seen.wait_tick(12)
            assert seen.page.get_attribute("#scrub-note", "data-checkpoint") == "12"
            seen.page.eval_on_selector(
                "#scrub", "(s) => { s.value = '11'; s.dispatchEvent(new Event('input')); }"
            )
            seen.wait_tick(11)
            assert seen.page.get_attribute("#scrub-note", "data-checkpoint") == "10"
            assert "checkpoint of tick 10" in (seen.page.text_content("#scrub-note") or "")
            figures = seen.figures()
            for key, value in rows[11].items():
                if key != "tick" and value != "":
                    assert figures[key] == pytest.approx(float(value), abs=1e-9), key
            seen.click_character(4)
            timeline = seen.page.eval_on_selector_all(
                "#panel ol.timeline li", "ls => ls.map(l => +l.textContent.split(':')[0].slice(5))"
            )
            assert timeline and all(1 <= t <= 11 for t in timeline)
            assert len(set(timeline)) > 1, "the timeline reaches back before tick 11"
            hidden = {
                e: seen.page.text_content(f"#panel tr[data-emotion={e}] .hidden-value")
                for e in felt(out, 10, 4)
            }
            assert hidden == felt(out, 10, 4)
            seen.shot("recorded-tick-11")
            seen.page.eval_on_selector(
                "#scrub", "(s) => { s.value = '3'; s.dispatchEvent(new Event('input')); }"
            )
            seen.wait_tick(3)
            assert "start (tick 0)" in (seen.page.text_content("#scrub-note") or "")
            assert seen.errors == [], seen.errors
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode == 0
    beyond = socius("view", out, "--host", "0.0.0.0")  # hidden feelings in the clear: refused
    assert beyond.returncode == 2 and beyond.stderr.count("\n") == 1, beyond.stderr
    assert "give --tls-cert and --tls-key" in beyond.stderr
    cert, key = _self_signed(tmp_path)
    proc = popen_socius("view", out, "--port", 0, "--tls-cert", cert, "--tls-key", key)
    try:
        assert proc.stdout is not None
        url = address_in(proc.stdout.readline())
        assert url.startswith("https://127.0.0.1:")
        with chromium() as browser:
            seen = Seen(browser, url, any_certificate=True)
            seen.wait_tick(12)
            assert seen.errors == [], seen.errors
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
