#!/usr/bin/env bash
# Installs everything socius needs into ./.venv (idempotent; re-runs only when pyproject changes).
#   scripts/setup.sh          the runtime
#   scripts/setup.sh test     the runtime plus the test tools
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"
venv="${VENV:-.venv}"
py="${PYTHON:-python3}"
if ! "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "socius needs Python 3.11 or newer; '$py' is $("$py" --version 2>&1). Set PYTHON=python3.11." >&2
  exit 2
fi
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
spec="."
[ "$extra" = "test" ] && spec=".[test]"
stamp="$venv/.socius-installed-$(echo "$extra" | tr -c 'a-z' '_')"
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log="$venv/pip-install.log"
  if ! { "$venv/bin/python" -m pip install --upgrade pip && "$venv/bin/python" -m pip install -e "$spec"; } >"$log" 2>&1; then
    grep -vE "is ignored: it is neither" "$log" | tail -n 40 >&2
    echo "socius: installing into $venv failed (full log: $log)" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi
