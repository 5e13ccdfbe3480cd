"""`socius view RUN`: a finished or stopped run in the browser, with a time slider over its
ticks (the page of `socius run --view-port` and `socius serve --view-port`, from the record).

It prints the page's address with a token of its own (made now, for this view only) and serves
until Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from actors.cli import flags
from actors.served.tokens import new_token
from actors.served.view.lines import Pass
from actors.served.view.live import until_stopped
from actors.served.view.recorded import Recorded
from actors.served.view.server import Keys, Powers, ViewServer
from world.errors import UserError

DESCRIPTION = (
    "Serve a run folder's page in the browser: the society, its figures and events, inside any "
    "character, with a time slider over the run's ticks (state from the nearest checkpoint)."
)


def parents() -> list[argparse.ArgumentParser]:
    return [flags.tls_flags("serve the page over TLS (https)")]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "run", metavar="RUN", type=flags.fetched_run, help="run folder, or its object store URL"
    )
    p.add_argument(
        "--port",
        type=flags.port("--port"),
        default=0,
        metavar="PORT",
        help="port of the page (default 0: any free one)",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; the page holds the "
        "run's hidden feelings, so beyond it give --tls-cert and --tls-key)",
    )
    p.set_defaults(func=cmd_view)


def cmd_view(args: argparse.Namespace) -> int:
    tls = flags.tls_of(args)
    if tls is None and not flags.loopback(args.host):
        raise UserError(
            f"--host {args.host} listens beyond this machine, and without TLS the page's token "
            f"and the run's hidden feelings would cross the network in the clear: give "
            f"--tls-cert and --tls-key, or use 127.0.0.1"
        )
    run: Path = args.run
    recorded = Recorded(run)
    token = new_token()
    keys = Keys()
    keys.add(Pass("recorded", None, token))
    server = ViewServer(
        recorded.watch, keys, Powers(scrub=recorded.scrub), args.host, args.port, tls
    )
    print(
        f"viewing {run} ({recorded.last} ticks, {len(recorded.checkpoints)} checkpoints) at "
        f"{server.address(token)} until Ctrl-C",
        flush=True,
    )
    try:
        until_stopped()
    finally:
        server.close()
    print("socius view: stopped", file=sys.stderr)
    return 0
