"""The one exception root of socius, split by who can act on it.

`UserError`s carry a message that names the thing at fault and how to fix it; the CLI prints
that message alone and exits with `exit_code`. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class SociusError(Exception):
    """Root of every error socius raises on purpose."""


class UserError(SociusError):
    """Bad input from a person: a scenario field, a missing file, a flag. Exit code 2."""

    exit_code = 2


class ScenarioError(UserError):
    """A scenario file that cannot be run as written."""


class RunFolderError(UserError):
    """A run folder that is missing, incomplete or not a socius run."""


class JournalError(SociusError):
    """A journal record that fails its length or checksum check."""


class IllegalTransition(SociusError):
    """A lifecycle move the state machine does not allow (a kept promise broken, say)."""
