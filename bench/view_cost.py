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
import contextlib
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
    """The town of examples/town-10k.yaml at `size` characters."""
    return load_scenario(TOWN).with_overrides(ticks=ticks, **{"population.size": size})


def side_by_side(sc: Scenario, ticks: int, warm: int, pages: int) -> dict[str, float]:
    """Two copies of the world stepped in turn, tick by tick (so both meet the same load on a
    shared machine): one bare, one with the view's hook after each tick and `pages` Chromium
    pages open. Ticks/s of each (the hook included), the hook's own time, the bytes a page is
    sent per tick, and the pages' update times (ms)."""
    bare, seen = LocalRuntime(sc), LocalRuntime(sc)
    watch = Watch(sc, lambda: seen.villages, TickStats.figures, BetweenTicks())
    watch.look(0, None)
    keys = Keys()
    keys.add(Pass("operator", None, TOKEN))
    server = ViewServer(watch, keys)
    out: dict[str, float] = {}
    try:
        with contextlib.ExitStack() as stack:
            opened = []
            if pages:
                from playwright.sync_api import sync_playwright

                p = stack.enter_context(sync_playwright())
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                stack.callback(browser.close)
                for _ in range(pages):
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    page.goto(server.address(TOKEN))
                    page.wait_for_selector("#tick[data-tick='0']", timeout=300_000)
                    opened.append(page)
            lines = list(watch.hub.lines)
            spent = {"bare": 0.0, "seen": 0.0, "hook": 0.0}
            sent0 = 0
            for t in range(warm + ticks):
                if t == warm:
                    spent = dict.fromkeys(spent, 0.0)
                    sent0 = sum(x.bytes for x in lines)
                t0 = time.perf_counter()
                bare.step()
                t1 = time.perf_counter()
                stats = seen.step()
                t2 = time.perf_counter()
                watch.ticked(seen.completed, stats)
                t3 = time.perf_counter()
                spent["bare"] += t1 - t0
                spent["seen"] += t3 - t1
                spent["hook"] += t3 - t2
            out["bare"] = ticks / spent["bare"]
            out["seen"] = ticks / spent["seen"]
            out["hook_ms"] = 1000 * spent["hook"] / ticks
            out["hook_share"] = spent["hook"] / spent["bare"]
            if opened:
                for page in opened:
                    page.wait_for_selector(f"#tick[data-tick='{seen.completed}']", timeout=600_000)
                sent = sum(x.bytes for x in lines) - sent0
                out["bytes_per_tick"] = sent / len(lines) / ticks
                updates = [u for pg in opened for u in pg.evaluate("window.socius.state.updates")]
                out["update_ms_median"] = statistics.median(updates)
                out["update_ms_max"] = max(updates)
                out["resyncs"] = sum(x.resyncs for x in lines)
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
    for size, pages in ((10_000, 0), (10_000, args.pages), (1_000, 1)):
        sc = world(size, args.warm + args.ticks)
        f = side_by_side(sc, args.ticks, args.warm, pages)
        print(
            f"{size:,} characters, {pages} Chromium page(s): {f['bare']:.3f} ticks/s bare, "
            f"{f['seen']:.3f} with the view ({f['seen'] / f['bare'] - 1:+.1%}); the hook "
            f"{f['hook_ms']:.1f} ms a tick ({f['hook_share']:.1%} of a bare tick)"
        )
        if pages:
            print(
                f"    {f['bytes_per_tick'] / 1024:.1f} KiB per tick to each page; page update "
                f"median {f['update_ms_median']:.1f} ms, max {f['update_ms_max']:.1f} ms; "
                f"resyncs {f['resyncs']:.0f}"
            )


if __name__ == "__main__":
    main()
