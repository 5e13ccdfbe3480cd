"""Playing in the browser: a player's page lives as its character through the served world's
service (the same hall and checks as gRPC) beside a gRPC player in the same world; the journal
records both; the page never carries another character's hidden state; the operator steers
the clock from its page."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from actors.served.player_client import Operator, Player, channel
from tests.actors.test_serve import Served, Stream, _self_signed
from tests.browser.pages import Seen, chromium, served_view
from world.journal import read_journal
from world.record import journal_path
from world.wire import from_batch

pytestmark = [pytest.mark.browser]

TICKS = 4
BROWSER, GRPC = 5, 12
WORDS = "hello from the browser"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Served, str]]:
    s, url = served_view(
        tmp_path, "--paused", "--tick-interval", 0, "--player-wait", 120, "--ticks", TICKS,
        "--checkpoint-every", 0,
    )  # fmt: skip
    yield s, url
    s.kill()


def said(out: Path) -> set[tuple[int, str]]:
    return {
        (int(m.sender[i]), m.text_of(i))
        for b in read_journal(journal_path(out, 0))
        for m in [from_batch(b)]
        for i in range(len(m))
        if m.text[i] >= 0
    }


def grpc_turn(stream: Stream, player: Player, chosen: dict[str, str]) -> bool:
    """Answer what the gRPC player perceived; True once its tick ended."""
    while (p := stream.poll()) is not None:
        kind = p.WhichOneof("what")
        if kind == "decision":
            options = {o.action for o in p.decision.options}
            action = "chat" if "chat" in options else p.decision.options[-1].action
            player.act(p.decision.id, action, words="hello from grpc")
            chosen[p.decision.id] = action
        elif kind == "tick_ended":
            return True
    return False


def browser_turn(seen: Seen, answered: dict[str, str], tick: int) -> bool:
    """Answer every open decision card on the page (chat with words where offered); True
    once the page says the tick ended."""
    page = seen.page
    for card in page.query_selector_all(".decision:not(.closed)"):
        did = card.get_attribute("data-id") or ""
        if did in answered:
            continue
        actions = [b.get_attribute("data-action") for b in card.query_selector_all(".option")]
        action = "chat" if "chat" in actions else str(actions[-1])
        page.fill("#words", WORDS if action == "chat" else "")
        card.query_selector(f'.option[data-action="{action}"]').click()
        answered[did] = action
    return any(m.get("tick_ended", {}).get("tick") == tick for m in seen.messages("perception"))


def test_a_browser_player_and_a_grpc_player_live_in_one_world(
    served: tuple[Served, str],
) -> None:
    """Each tick the browser player answers its decisions on the page (words included) and
    the gRPC player its own; the record holds both players' acts and words; every message the
    player's page received is its own character's or public; it cannot open another's panel."""
    s, url = served
    page_url = url.split("#")[0] + f"#token={s.tokens[BROWSER]}"
    chan = channel(f"127.0.0.1:{s.port}")
    grpc.channel_ready_future(chan).result(timeout=30)
    op = Operator(chan, s.operator)
    other = Player(chan, s.tokens[GRPC])
    other.join()
    stream = Stream(other)
    answered: dict[str, str] = {}
    chosen: dict[str, str] = {}
    with chromium() as browser:
        me = Seen(browser, page_url)
        me.page.wait_for_selector("#play:not([hidden])")
        for tick in range(1, TICKS + 1):
            op.step(1)
            done = {"page": False, "grpc": False}
            while not all(done.values()):
                done["page"] = done["page"] or browser_turn(me, answered, tick)
                done["grpc"] = done["grpc"] or grpc_turn(stream, other, chosen)
                me.page.wait_for_timeout(50)
            if tick == 2:
                assert me.page.is_hidden("#error"), me.page.text_content("#error")
                me.click_character(BROWSER)  # its own panel: its own feelings
                assert me.page.query_selector_all("#panel .hidden-value")
                me.shot("play-browser")
                me.send({"op": "panel", "id": GRPC})
                me.page.wait_for_selector("#error:not([hidden])")
                assert "own character" in (me.page.text_content("#error") or "")
        assert "chat" in answered.values(), "the browser player was offered a chat (seed 3)"
        assert me.errors == [], me.errors
        check_private(me.messages(), BROWSER)
    code, _, err = s.wait()
    assert code == 0, err
    summary = json.loads((s.out / "summary.json").read_text())
    players = summary["players"]
    assert players["answers"] == len(answered) + len(chosen)
    assert players["requests"]["Act:ok"] == len(answered) + len(chosen)
    words = said(s.out)
    assert (BROWSER, WORDS) in words and (GRPC, "hello from grpc") in words


def check_private(messages: list[dict[str, Any]], me: int) -> None:
    """Nothing in `messages` is another character's hidden state: no one's goods, health,
    trust or feelings but `me`'s, no hidden truth of any envelope."""
    for m in messages:
        text = json.dumps(m)
        assert "true_feeling" not in text and "true_standing" not in text, m
        assert not {"people", "edges", "aggregates"} & set(m), m["type"]
        if m["type"] == "panel":
            assert m["panel"]["character"] == me
        if m["type"] in ("tick", "snapshot"):
            assert all(me in (e["from"], e["to"]) for e in m["events"]), m["type"]
        assert m["type"] != "status"


def test_the_operator_steers_the_clock_from_its_page(served: tuple[Served, str]) -> None:
    """Operator page: step runs one tick of a paused world, an event is set off (and a bad one
    refused in a message), the interval is set, resume runs the rest, and the run records the
    intervention; a viewer's page has no controls and its control requests are refused."""
    s, url = served
    with chromium() as browser:
        op = Seen(browser, url)
        op.page.wait_for_selector("#controls:not([hidden])")
        op.page.click("#step")
        op.wait_tick(1)
        op.page.fill("#event", '{"kind": "famine", "ticks": [2, 3], "target": {"groups": [0]}}')
        op.page.click("#intervene")
        op.page.wait_for_selector("#control-status:has-text('event 0 set off for ticks 2..3')")
        op.page.fill("#event", '{"kind": "famine", "tick": 99}')
        op.page.click("#intervene")
        op.page.wait_for_selector("#error:not([hidden])")
        assert "99" in (op.page.text_content("#error") or "")
        op.page.select_option("#event-kind", "windfall")  # each kind fills in an example
        assert json.loads(op.page.input_value("#event"))["kind"] == "windfall"
        op.page.click("#intervene")
        op.page.wait_for_selector("#control-status:has-text('event 1 set off for ticks 2..2')")
        op.page.fill("#interval", "0")
        op.page.click("#set-interval")
        op.page.wait_for_selector("#control-status:has-text('paused')")
        viewer = json.loads((s.out / "tokens.json").read_text())["viewer"]
        player = Seen(browser, url.split("#")[0] + f"#token={viewer}")
        player.wait_tick(1)
        assert player.page.is_hidden("#controls") and player.page.is_hidden("#play")
        player.send({"op": "control", "what": "resume"})
        player.page.wait_for_selector("#error:not([hidden])")
        assert "operator" in (player.page.text_content("#error") or "")
        op.page.click("#resume")
        op.page.wait_for_selector("#conn:has-text('ran all its ticks')", timeout=120_000)
        assert op.errors == [] and player.errors == []
    code, _, err = s.wait()
    assert code == 0, err
    record = [json.loads(line) for line in (s.out / "players.jsonl").read_text().splitlines()]
    assert [r["event"]["kind"] for r in record if "event" in r] == ["famine", "windfall"]


def test_the_page_is_served_over_tls_with_the_service(tmp_path: Path) -> None:
    """serve --tls-cert/--tls-key: the page is https (its address says so), a browser that
    trusts the certificate gets the world over wss, and plain http gets nothing."""
    cert, key = _self_signed(tmp_path)
    s, url = served_view(
        tmp_path, "--paused", "--ticks", 2, "--checkpoint-every", 0,
        "--tls-cert", cert, "--tls-key", key,
    )  # fmt: skip
    try:
        assert url.startswith("https://127.0.0.1:")
        with chromium() as browser:
            seen = Seen(browser, url, any_certificate=True)
            seen.wait_tick(0)
            assert seen.messages("snapshot") and seen.errors == []
        plain = url.replace("https://", "http://").split("#")[0]
        with pytest.raises(OSError):
            urllib.request.urlopen(plain, timeout=10).read()
    finally:
        s.kill()
