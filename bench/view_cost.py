"""What the browser's view costs a world: ticks per second of a 10,000-character town without a
view, with the view but no page, and with three Chromium pages open (the operator's page:
everything it may see); the bytes each page is sent per tick; and how long a page takes to take
in a tick (handle the message and redraw) in Chromium, at 1,000 and 10,000 characters.

Each world runs in process (`LocalRuntime`, the scenario's shards) with no run folder; the
view's hook (`Watch.ticked`) runs after every tick, as `socius run --view-port` runs it. The
first WARM ticks are not timed. It prints; it asserts nothing.

Run: `.venv/bin/python bench/view_cost.py [--ticks N] [--warm W] [--pages P]`
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from machine import cpu  # bench/machine.py

from actors.served.view.lines import Pass
from actors.served.view.server import Keys, ViewServer
from actors.served.view.watch import BetweenTicks, Watch
from world.runtime import LocalRuntime
from world.scenario import Scenario, load_scenario
from world.stats import TickStats

ROOT = Path(__file__).resolve().parents[1]
TOWN = ROOT / "examples" / "town-10k.yaml"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
TOKEN = "bench-token-" + "x" * 20


def world(size: int, ticks: int) -> Scenario:
    return load_scenario(TOWN).with_overrides(ticks=ticks, **{"population.size": size})


def timed(rt: LocalRuntime, ticks: int, warm: int, watch: Watch | None) -> float:
    """Ticks per second over `ticks` ticks after `warm` untimed ones."""
    for t in range(warm + ticks):
        if t == warm:
            start = time.perf_counter()
        stats: TickStats = rt.step()
        if watch is not None:
            watch.ticked(rt.completed, stats)
    return ticks / (time.perf_counter() - start)


def with_view(sc: Scenario, ticks: int, warm: int, pages: int) -> dict[str, float]:
    """Ticks/s with the view and `pages` Chromium pages open; bytes a page is sent per tick,
    and the pages' update times (ms)."""
    rt = LocalRuntime(sc)
    watch = Watch(sc, lambda: rt.villages, TickStats.figures, BetweenTicks())
    watch.look(0, None)
    keys = Keys()
    keys.add(Pass("operator", None, TOKEN))
    server = ViewServer(watch, keys)
    out: dict[str, float] = {}
    try:
        if pages == 0:
            out["ticks_per_s"] = timed(rt, ticks, warm, watch)
            return out
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            opened = []
            for _ in range(pages):
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(server.address(TOKEN))
                page.wait_for_selector("#tick[data-tick='0']", timeout=120_000)
                opened.append(page)
            lines = list(watch.hub.lines)
            sent0 = sum(x.bytes for x in lines)
            out["ticks_per_s"] = timed(rt, ticks, warm, watch)
            last = rt.completed
            for page in opened:
                page.wait_for_selector(f"#tick[data-tick='{last}']", timeout=300_000)
            updates = [u for page in opened for u in page.evaluate("window.socius.state.updates")]
            out["bytes_per_tick"] = (
                (sum(x.bytes for x in lines) - sent0) / len(lines) / (warm + ticks)
            )
            out["update_ms_median"] = statistics.median(updates) if updates else float("nan")
            out["update_ms_max"] = max(updates) if updates else float("nan")
            out["resyncs"] = sum(x.resyncs for x in lines)
            browser.close()
    finally:
        server.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ticks", type=int, default=10, help="timed ticks (default 10)")
    ap.add_argument("--warm", type=int, default=2, help="untimed ticks first (default 2)")
    ap.add_argument("--pages", type=int, default=3, help="Chromium pages open (default 3)")
    args = ap.parse_args()
    print(f"CPU: {cpu()}")
    sc = world(10_000, args.warm + args.ticks)
    bare = timed(LocalRuntime(sc), args.ticks, args.warm, None)
    hook = with_view(sc, args.ticks, args.warm, 0)
    full = with_view(sc, args.ticks, args.warm, args.pages)
    print("10,000 characters (examples/town-10k.yaml, in process):")
    print(f"  no view                 {bare:7.3f} ticks/s")
    print(
        f"  view, no page           {hook['ticks_per_s']:7.3f} ticks/s "
        f"({hook['ticks_per_s'] / bare - 1:+.1%})"
    )
    print(
        f"  view, {args.pages} Chromium pages  {full['ticks_per_s']:7.3f} ticks/s "
        f"({full['ticks_per_s'] / bare - 1:+.1%}); {full['bytes_per_tick'] / 1024:.1f} KiB per "
        f"tick to each page; page update median {full['update_ms_median']:.1f} ms, max "
        f"{full['update_ms_max']:.1f} ms; resyncs {full['resyncs']:.0f}"
    )
    small = with_view(world(1_000, args.warm + args.ticks), args.ticks, args.warm, 1)
    print(
        f"1,000 characters, 1 page: {small['bytes_per_tick'] / 1024:.1f} KiB per tick; page "
        f"update median {small['update_ms_median']:.1f} ms, max {small['update_ms_max']:.1f} ms"
    )


if __name__ == "__main__":
    main()
