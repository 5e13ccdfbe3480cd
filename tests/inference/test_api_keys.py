"""Endpoints that need keys: `socius run --llm-endpoint` and `socius loadtest --endpoint`
send the key from OPENAI_API_KEY (or the variables `--llm-api-key-env` / `--api-key-env`
name, one for all endpoints or one per endpoint) as a bearer token; a 401 is named as such in
one line; a named variable that is unset is refused before anything starts; and the key is in
no file of the run or load-test folder. The server is socius' instant OpenAI-compatible server
with `--api-key` (it answers 401 as vLLM's `--api-key` does); tests/inference/
test_loadtest_vllm.py runs the load test against a real vLLM server that wants a key."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import yaml

from tests.commands import instant, socius

KEY = "sk-socius-test-0b5e7c41"
VILLAGE = Path(__file__).resolve().parents[2] / "examples" / "village.yaml"


def no_key_in(folder: Path) -> None:
    """No file under `folder` holds the key, in any encoding a file may use for text."""
    files = [f for f in folder.rglob("*") if f.is_file()]
    assert files
    for f in files:
        assert KEY.encode() not in f.read_bytes(), f


def counts(url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{url}/counts", timeout=5) as r:
        return dict(json.loads(r.read()))


def loadtest(url: str, out: Path, *flags: object, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return socius(
        "loadtest", "--endpoint", url, "--characters", 6, "--ticks", 2, "--generators", 0,
        "--out", out, "--quiet", *flags, env={"OPENAI_API_KEY": "", **(env or {})},
    )  # fmt: skip


def test_load_test_sends_the_key_and_names_a_401(tmp_path: Path) -> None:
    with instant("--api-key", KEY) as url:
        refused = loadtest(url, tmp_path / "none")
        assert refused.returncode != 0
        assert "HTTP 401 Unauthorized: the server wants an API key" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr

        wrong = loadtest(url, tmp_path / "wrong", env={"OPENAI_API_KEY": "sk-wrong"})
        assert "refused the API key given" in wrong.stderr and wrong.returncode != 0

        default = loadtest(url, tmp_path / "default", env={"OPENAI_API_KEY": KEY})
        assert default.returncode == 0, default.stderr
        named = loadtest(url, tmp_path / "named", "--api-key-env", "GPU_KEY", env={"GPU_KEY": KEY})
        assert named.returncode == 0, named.stderr
        for run in ("default", "named"):
            (level,) = json.loads((tmp_path / run / "loadtest.json").read_text())["levels"]
            assert level["ok"] == level["requests"] > 0 and level["error"] == 0, level
            no_key_in(tmp_path / run)
        assert KEY not in default.stdout + default.stderr + named.stdout + named.stderr


def test_unset_or_miscounted_key_variables_are_one_line(tmp_path: Path) -> None:
    unset = loadtest("http://127.0.0.1:9", tmp_path / "a", "--api-key-env", "NO_SUCH_KEY_VAR")
    assert unset.returncode == 2
    assert unset.stderr.strip() == (
        "socius: --api-key-env: the environment has no NO_SUCH_KEY_VAR; export "
        "NO_SUCH_KEY_VAR=KEY where socius runs, or drop --api-key-env (the key then comes "
        "from OPENAI_API_KEY, if set)"
    )
    three = socius(
        "loadtest", "--endpoint", "http://127.0.0.1:9,http://127.0.0.1:10",
        "--api-key-env", "A,B,C", "--out", tmp_path / "b",
        env={"A": "1", "B": "2", "C": "3"},
    )  # fmt: skip
    assert three.returncode == 2
    assert "--api-key-env: 3 variables for 2 endpoints" in three.stderr
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_run_sends_each_endpoint_its_key(tmp_path: Path) -> None:
    """A world of llm minds on two keyed endpoints, each with its own key: every request is
    authorized (none answered 401), the run's record keeps the variables' names (a resume
    reads the keys from them again), and no file of the run folder holds a key."""
    data = yaml.safe_load(VILLAGE.read_text())
    data["population"].update(size=8, group_size=4, minds={"llm": 1.0})
    data["llm"] = {"decisions": "all"}
    data["ticks"] = 3
    scenario = tmp_path / "keyed.yaml"
    scenario.write_text(yaml.safe_dump(data))
    other = KEY[::-1]
    env = {"KEY_ONE": KEY, "KEY_TWO": other, "OPENAI_API_KEY": ""}
    with instant("--api-key", KEY) as one, instant("--api-key", other) as two:
        out = tmp_path / "run"
        proc = socius(
            "run", scenario, "--llm-endpoint", f"{one},{two}", "--llm-api-key-env",
            "KEY_ONE,KEY_TWO", "--runtime", "local", "--out", out, "--quiet", env=env,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        first = [counts(one), counts(two)]
        assert all(c["requests"] > 0 and c["unauthorized"] == 0 for c in first), first
    no_key_in(out)
    manifests = list(out.rglob("manifest.json"))
    assert manifests
    for manifest in manifests:  # what a resume starts from
        assert json.loads(manifest.read_text())["options"]["llm"]["key_env"] == [
            "KEY_ONE",
            "KEY_TWO",
        ]
