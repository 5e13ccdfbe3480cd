"""The page's bundle shipped in the package is built from the sources in web/: the hash of
those sources, recorded beside the bundle by `npm run build`, matches them (rebuild with
`cd web && npm ci && npm run build`), and the page loads nothing from elsewhere."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
STATIC = ROOT / "actors" / "served" / "view" / "static"


def sources_hash() -> str:
    """The hash web/build.mjs records: sorted paths, each path, NUL, its bytes, NUL."""
    files = [p for p in (WEB / "src").rglob("*") if p.is_file()]
    files += [WEB / n for n in ("package.json", "package-lock.json", "build.mjs")]
    h = hashlib.sha256()
    for rel in sorted(p.relative_to(WEB).as_posix() for p in files):
        h.update(rel.encode())
        h.update(b"\0")
        h.update((WEB / rel).read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def test_the_committed_bundle_is_built_from_the_sources() -> None:
    """SOURCES.sha256 beside the bundle is the hash of web/'s sources now."""
    recorded = (STATIC / "SOURCES.sha256").read_text().strip()
    assert recorded == sources_hash(), (
        "actors/served/view/static is stale against web/: cd web && npm ci && npm run build, "
        "then commit the result"
    )


def test_the_page_loads_nothing_from_elsewhere() -> None:
    """No CDN: the page's HTML and bundle name no outside script, style or font."""
    html = (STATIC / "index.html").read_text()
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert {p.name for p in STATIC.iterdir()} >= {"index.html", "app.js", "style.css"}
    bundle = (STATIC / "app.js").read_text()
    assert not re.search(r"""import\s*\(?["']https?://""", bundle)
