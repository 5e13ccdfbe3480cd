"""An HTML page of a report, with its PNG figures in a folder beside it."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from world.record import atomic_write

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th { background: #f4f4f4; } td.l, th.l { text-align: left; }
.headline { background: #f6f8fa; padding: 0.8em 1em; border-left: 4px solid #3465a4; }
code { background: #f4f4f4; padding: 0 0.2em; }
"""


class Page:
    """An HTML page being written, with its PNGs in `assets` (referenced relatively)."""

    def __init__(self, out: Path, title: str) -> None:
        self.out = out
        self.assets = out.with_name(out.stem + "_files")
        self.assets.mkdir(parents=True, exist_ok=True)
        self.title = title
        self.parts: list[str] = []

    def add(self, markup: str) -> None:
        self.parts.append(markup)

    def text(self, tag: str, words: str, cls: str = "") -> None:
        attr = f' class="{cls}"' if cls else ""
        self.add(f"<{tag}{attr}>{html.escape(words)}</{tag}>")

    def image(self, name: str, caption: str) -> Path:
        """Where to draw the PNG `name`; the page shows it with its caption."""
        rel = f"{self.assets.name}/{name}"
        self.add(
            f'<figure><img src="{html.escape(rel)}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
        return self.assets / name

    def table(self, header: list[str], rows: list[list[Any]], left: int = 0) -> None:
        """A table; the first `left` columns are text (left-aligned)."""

        def cells(tag: str, values: list[Any]) -> str:
            return "".join(
                f"<{tag}{' class=l' if i < left else ''}>{html.escape(str(v))}</{tag}>"
                for i, v in enumerate(values)
            )

        body = "".join(f"<tr>{cells('td', r)}</tr>" for r in rows)
        self.add(f"<table><tr>{cells('th', header)}</tr>{body}</table>")

    def write(self) -> Path:
        doc = (
            f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title><style>{STYLE}</style></head>"
            f"<body><h1>{html.escape(self.title)}</h1>\n"
            + "\n".join(self.parts)
            + "</body></html>\n"
        )
        atomic_write(self.out, doc.encode())
        return self.out
