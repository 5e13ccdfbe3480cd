"""The page of a world `socius run --view-port` drives, in a real Chromium: every character in
the graph, the figures of metrics.csv, a character's panel with its hidden feelings as the
checkpoint holds them (operator), none for a viewer, and a bad or missing token refused."""

from __future__ import annotations

import csv
import json
import signal
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from actors.served.view.scene import GRAPH_LIMIT
from tests.actors.test_serve import _self_signed
from tests.browser.pages import Seen, address_in, chromium
from tests.commands import popen_socius, socius
from world.characters import Characters
from world.record import read_shard_snapshot
from world.vocab import EMOTION_NAMES

pytestmark = [pytest.mark.browser]

SIZE, TICKS = 40, 6


class Watched:
    """`socius run --view-port 0` of a small village, waiting with its page open."""

    def __init__(self, tmp: Path, size: int = SIZE, ticks: int = TICKS, *more: object) -> None:
        sc = tmp / "village.yaml"
        sc.write_text(
            yaml.safe_dump(
                {"name": "watched", "seed": 3, "ticks": ticks, "population": {"size": size}}
            )
        )
        self.out = tmp / "run"
        self.proc = popen_socius(
            "run", sc, "--out", self.out, "--quiet", "--checkpoint-every", 0, "--view-port", 0,
            *more,
        )  # fmt: skip
        assert self.proc.stderr is not None
        self.lines = []
        while True:
            line = self.proc.stderr.readline()
            assert line, f"socius run ended: {self.lines}"
            self.lines.append(line)
            if "page stays open" in line:
                break
        self.url = address_in(next(x for x in self.lines if x.startswith("view: ")))
        self.tokens = json.loads((self.out / "tokens.json").read_text())

    def page(self, token: str) -> str:
        return self.url.split("#")[0] + f"#token={token}"

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        self.proc.communicate(timeout=60)
        return self.proc.returncode


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[Watched]:
    w = Watched(tmp_path)
    yield w
    if w.proc.poll() is None:
        w.proc.kill()
        w.proc.communicate()


def last_row(out: Path) -> dict[str, Any]:
    with open(out / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))[-1]


def felt(out: Path, tick: int, cid: int, shards: int = 1) -> dict[str, str]:
    """What character `cid` truly felt at `tick`, from the checkpoint, as the panel shows it."""
    for shard in range(shards):  # whichever shard it lives in
        chars = Characters.from_state(read_shard_snapshot(out, tick, shard)["chars"])
        rows = np.flatnonzero(chars.cid[: len(chars)] == cid)
        if len(rows):
            break
    else:
        raise AssertionError(f"no shard of {out} holds character {cid}")
    q = np.clip(np.rint(chars.emotion[int(rows[0])] * 255), 0, 255)
    return {e: f"{round(int(v) / 255, 2):.2f}" for e, v in zip(EMOTION_NAMES, q, strict=True)}


def test_the_page_of_a_run_shows_every_character_its_figures_and_what_they_felt(
    watched: Watched,
) -> None:
    """The operator's page: no console errors, all 40 characters drawn, the figures table is
    metrics.csv's last row, a click opens a panel whose hidden feelings are the checkpoint's;
    a viewer's page shows what characters showed but never what they felt."""
    row = last_row(watched.out)
    assert int(row["tick"]) == TICKS
    with chromium() as browser:
        op = Seen(browser, watched.url)
        op.wait_tick(TICKS)
        assert op.page.get_attribute("#graph", "data-drawn") == str(SIZE)
        drawn = op.page.evaluate("window.socius.graph.drawn")
        assert sorted(drawn) == list(range(SIZE))
        figures = op.figures()
        for key, value in row.items():
            if key != "tick" and value != "":
                assert figures[key] == pytest.approx(float(value), abs=1e-9), key
        op.click_character(7)
        panel = "#panel[data-character='7']"
        for field in ("name", "role", "group", "culture", "traits", "boundaries", "backstory",
                      "goods", "health", "hunger", "need"):  # fmt: skip
            text = op.page.text_content(f"{panel} [data-field={field}]")
            assert text and text.strip(), field
        assert op.page.query_selector_all(f"{panel} table.relationships tr")
        assert op.page.query_selector_all(f"{panel} ol.memories li")
        hidden = {
            e: op.page.text_content(f"{panel} tr[data-emotion={e}] .hidden-value")
            for e in EMOTION_NAMES
        }
        assert hidden == felt(watched.out, TICKS, 7)
        assert op.page.query_selector_all("#feed li"), "the tick's events are in the feed"
        kind = op.page.eval_on_selector("#feed-kind", "s => s.options[1].value")
        op.page.select_option("#feed-kind", kind)
        kinds = op.page.eval_on_selector_all("#feed li", "ls => ls.map(l => l.dataset.kind)")
        assert kinds and set(kinds) == {kind}
        op.page.select_option("#feed-kind", "")
        op.page.fill("#feed-who", "7")
        ends = op.page.eval_on_selector_all(
            "#feed li", "ls => ls.map(l => [l.dataset.from, l.dataset.to])"
        )
        assert all("7" in pair for pair in ends)
        op.shot("run-operator")
        assert op.errors == [], op.errors

        viewer = Seen(browser, watched.page(watched.tokens["viewer"]))
        viewer.wait_tick(TICKS)
        viewer.click_character(7)
        assert not viewer.page.query_selector_all("#panel .hidden-value")
        assert viewer.page.query_selector_all("#panel .shown-value")
        assert all("hidden" not in m.get("panel", {}) for m in viewer.messages())
        assert viewer.errors == [], viewer.errors
    assert watched.stop() == 0


@pytest.mark.ray
def test_the_page_of_a_run_on_ray_reads_its_shard_actors(tmp_path: Path) -> None:
    """socius run --runtime ray --view-port: the page of a world in two shard actors draws
    every character, its figures are metrics.csv's last row, and a character's hidden
    feelings are what the checkpoint holds."""
    watched = Watched(tmp_path, SIZE, TICKS, "--runtime", "ray", "--shards", 2)
    try:
        row = last_row(watched.out)
        with chromium() as browser:
            op = Seen(browser, watched.url)
            op.wait_tick(TICKS)
            assert sorted(op.page.evaluate("window.socius.graph.drawn")) == list(range(SIZE))
            figures = op.figures()
            for key, value in row.items():
                if key != "tick" and value != "" and not key.startswith("shard_step"):
                    assert figures[key] == pytest.approx(float(value), abs=1e-9), key
            op.click_character(7)
            panel = "#panel[data-character='7']"
            hidden = {
                e: op.page.text_content(f"{panel} tr[data-emotion={e}] .hidden-value")
                for e in EMOTION_NAMES
            }
            assert hidden == felt(watched.out, TICKS, 7, shards=2)
            assert op.errors == [], op.errors
        assert watched.stop() == 0
    finally:
        if watched.proc.poll() is None:
            watched.proc.kill()
            watched.proc.communicate()


def test_a_run_serves_its_page_over_tls(tmp_path: Path) -> None:
    """socius run --view-port with --tls-cert and --tls-key: the address is https, a browser
    that trusts the certificate gets the world over wss, and plain http gets nothing."""
    cert, key = _self_signed(tmp_path)
    watched = Watched(tmp_path, SIZE, 2, "--tls-cert", cert, "--tls-key", key)
    try:
        assert watched.url.startswith("https://127.0.0.1:")
        with chromium() as browser:
            seen = Seen(browser, watched.url, any_certificate=True)
            seen.wait_tick(2)
            assert seen.messages("snapshot") and seen.errors == []
        plain = watched.url.replace("https://", "http://").split("#")[0]
        with pytest.raises(OSError):
            urllib.request.urlopen(plain, timeout=10).read()
        assert watched.stop() == 0
    finally:
        if watched.proc.poll() is None:
            watched.proc.kill()
            watched.proc.communicate()


def test_a_bad_or_missing_token_is_refused(watched: Watched) -> None:
    """A wrong token gets one refusal and nothing of the world; no token, a message saying
    where the address is."""
    with chromium() as browser:
        bad = Seen(browser, watched.page("x" * 32))
        bad.page.wait_for_selector("#error:not([hidden])")
        assert "no valid token" in (bad.page.text_content("#error") or "")
        assert [m["type"] for m in bad.messages()] == ["refused"]
        none = Seen(browser, watched.url.split("#")[0])
        none.page.wait_for_selector("#error:not([hidden])")
        assert "no token" in (none.page.text_content("#error") or "")
        assert none.frames == []
    assert watched.stop() == 0


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--view-host", "0.0.0.0"], "give --tls-cert and --tls-key"),
        (["--tls-cert", "nowhere.pem", "--tls-key", "nowhere.key"], "file not found"),
    ],
)
def test_a_view_the_run_cannot_serve_is_one_line(
    tmp_path: Path, args: list[str], says: str
) -> None:
    """--view-port beyond loopback without TLS, or with a certificate that is not there: one
    line, exit 2, before anything starts."""
    sc = tmp_path / "v.yaml"
    sc.write_text(yaml.safe_dump({"name": "v", "seed": 1, "ticks": 2, "population": {"size": 8}}))
    done = socius("run", sc, "--out", tmp_path / "run", "--view-port", 0, *args)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
    assert not (tmp_path / "run").exists()


def test_view_of_no_run_is_one_line(tmp_path: Path) -> None:
    """socius view of a folder that holds no run: one line, exit 2."""
    done = socius("view", tmp_path / "nothing")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr


def test_a_large_world_draws_a_sample_and_finds_anyone(tmp_path: Path) -> None:
    """1,500 characters: the graph draws an even sample (every third, at most GRAPH_LIMIT),
    the role aggregates count everyone, and search finds a character outside the sample and
    opens its panel."""
    w = Watched(tmp_path, size=1500, ticks=2)
    try:
        with chromium() as browser:
            big = Seen(browser, w.url)
            big.wait_tick(2)
            sample = big.page.evaluate("window.socius.state.roster.sample")
            assert len(sample) <= GRAPH_LIMIT and sample == list(range(0, 1500, 3))
            assert big.page.get_attribute("#graph", "data-drawn") == str(len(sample))
            assert f"{len(sample)} of 1500" in (big.page.text_content("#graph-note") or "")
            counts = big.page.eval_on_selector_all(
                "#aggregates tr[data-role] td:nth-child(2)", "cs => cs.map(c => +c.textContent)"
            )
            assert sum(counts) == 1500
            drawn = set(big.page.evaluate("window.socius.graph.drawn"))
            name = big.page.evaluate("window.socius.state.roster.names[1]")
            assert 1 not in drawn
            big.page.fill("#search", name)
            big.page.click("#found li[data-character='1']")
            big.page.wait_for_selector("#panel[data-character='1'] [data-field=name]")
            assert big.errors == [], big.errors
    finally:
        assert w.stop() == 0
