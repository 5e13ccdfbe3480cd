"""Tokens of a served world: one for the operator, one per playable character, and a read-only
`viewer` token for the browser's view (which plays nothing and sees no hidden feelings).

Generated at start into a file only its owner can read (mode 0600), or read from such a file.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from pathlib import Path

from world.errors import UserError

#: The character an operator's token stands for (it plays none).
OPERATOR = -1


def read_tokens(path: Path, playable: list[int]) -> dict[str, int]:
    """The tokens file as token -> character (OPERATOR for the operator's), checked."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UserError(
            f"--tokens {path}: others can read it (mode {stat.S_IMODE(mode):o}); "
            f"run chmod 600 {path}"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        tokens = {str(data["operator"]): OPERATOR}
        for cid, token in dict(data.get("characters", {})).items():
            tokens[str(token)] = int(cid)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise UserError(
            f"--tokens {path}: not a tokens file; expected JSON "
            f'{{"operator": "TOKEN", "characters": {{"ID": "TOKEN", ...}}}}'
        ) from None
    if len(tokens) != 1 + len(dict(data.get("characters", {}))):
        raise UserError(f"--tokens {path}: a token is used twice; give each one its own")
    if any(len(t) < 16 for t in tokens):
        raise UserError(f"--tokens {path}: tokens must be at least 16 characters long")
    stray = sorted(c for c in tokens.values() if c != OPERATOR and c not in playable)
    if stray:
        raise UserError(
            f"--tokens {path}: character {stray[0]} is not playable in this scenario; "
            f"playable: {', '.join(map(str, playable[:20]))}"
        )
    return tokens


def new_token() -> str:
    """A fresh secret of 192 bits, in hex: a token never starts with '-', so a shell and
    `socius play --token` take it as a value, never as a flag (a url-safe token did, one time
    in 64)."""
    return secrets.token_hex(24)


def write_tokens(path: Path, playable: list[int]) -> dict[str, int]:
    """New tokens for the operator and every playable character, in a file only its owner
    can read."""
    operator = new_token()
    characters = {str(c): new_token() for c in playable}
    data = {"operator": operator, "characters": characters, "viewer": new_token()}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
    return {operator: OPERATOR, **{t: int(c) for c, t in characters.items()}}


def viewer_token(path: Path) -> str | None:
    """The tokens file's read-only viewer token, if it has one (older files do not)."""
    try:
        token = json.loads(path.read_text(encoding="utf-8")).get("viewer")
    except (OSError, ValueError, AttributeError):
        return None
    return str(token) if isinstance(token, str) and len(token) >= 16 else None
