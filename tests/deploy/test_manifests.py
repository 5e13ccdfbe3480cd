"""The deployment files in deploy/: they parse, KubeRay and the Ray cluster launcher would take
them, and every `socius ...` command they show is one the real command line accepts."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from actors.cli.main import build_parser
from actors.cli.run import launch_of
from world.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBERAY = DEPLOY / "kuberay"
LAUNCHER = DEPLOY / "ray-cluster.yaml"
DOCKERFILE = KUBERAY / "Dockerfile"
README = DEPLOY / "README.md"
YAML_FILES = sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])
RUNS = "/runs"  # where the run-folder volume is mounted in every Ray pod
RESOURCE = "socius_worker"
SUBCOMMANDS = {"run", "resume", "validate", "journal"}
SHELL_WORDS = {"socius", "ray", "kubectl", "docker", "pip"}  # comment lines that are commands
OPERATORS = set("();<>|&")


def load(path: Path) -> list[Any]:
    return list(yaml.safe_load_all(path.read_text(encoding="utf-8")))


def one(path: Path) -> dict[str, Any]:
    docs = load(path)
    assert len(docs) == 1, f"{path.name} should hold one document"
    return docs[0]


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def ray_pin() -> str:
    """The version in `ray[default]==X` of pyproject.toml."""
    for dep in pyproject()["project"]["dependencies"]:
        match = re.fullmatch(r"ray(\[[^\]]*\])?==(\S+)", dep.replace(" ", ""))
        if match:
            return match.group(2)
    raise AssertionError("pyproject.toml pins no ray version (ray[default]==X)")


def cluster_specs() -> list[tuple[str, dict[str, Any]]]:
    """The RayCluster spec and the RayJob's rayClusterSpec."""
    return [
        ("raycluster.yaml", one(KUBERAY / "raycluster.yaml")["spec"]),
        ("rayjob.yaml", one(KUBERAY / "rayjob.yaml")["spec"]["rayClusterSpec"]),
    ]


def groups(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(name, group spec) of the head group and every worker group."""
    heads = [("head", spec["headGroupSpec"])]
    return heads + [(g["groupName"], g) for g in spec["workerGroupSpecs"]]


def containers() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(where, pod spec, container) for every container of every Ray pod in the manifests."""
    for name, spec in cluster_specs():
        for group, g in groups(spec):
            pod = g["template"]["spec"]
            for c in pod["containers"]:
                yield f"{name} {group}/{c['name']}", pod, c


def strings(node: Any) -> Iterator[str]:
    """Every string value in a parsed YAML document."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def socius_argvs(line: str) -> list[list[str]]:
    """The arguments of each `socius ...` command in one shell line, without `socius`; also
    the ones inside a quoted argument, as in `ray exec CONFIG "socius run ..."`."""
    lex = shlex.shlex(line, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    found: list[list[str]] = []
    command: list[str] = []
    for token in [*lex, ";"]:
        if set(token) <= OPERATORS:
            found.extend(_in_command(command))
            command = []
        else:
            command.append(token)
    return found


def _in_command(tokens: list[str]) -> list[list[str]]:
    for i, token in enumerate(tokens):
        if token == "socius" and tokens[i + 1 : i + 2] and tokens[i + 1] in SUBCOMMANDS:
            return [tokens[i + 1 :]]
        if " " in token and "socius" in token:
            nested = socius_argvs(token)
            if nested:
                return nested
    return []


def comment_commands(path: Path) -> Iterator[tuple[str, str]]:
    """(where, line) for each comment line of a file that is a shell command."""
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.strip()
        if text.startswith("#"):
            text = text.lstrip("#").strip()
            if text.split(" ", 1)[0] in SHELL_WORDS:
                yield f"{path.relative_to(ROOT)}:{n} (comment)", text


def readme_lines() -> Iterator[tuple[str, str]]:
    """(where, line) for each line inside a fenced code block of deploy/README.md."""
    fenced = False
    for n, line in enumerate(README.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            fenced = not fenced
        elif fenced and line.strip():
            yield f"deploy/README.md:{n}", line.strip()


def deploy_commands() -> list[tuple[str, list[str]]]:
    """(where, argv) for every socius command in the YAML values, comments and Dockerfile."""
    lines: list[tuple[str, str]] = []
    for path in YAML_FILES:
        name = str(path.relative_to(ROOT))
        for doc in load(path):
            for value in strings(doc):
                lines += [(f"{name} (value)", line) for line in value.splitlines()]
        lines += comment_commands(path)
    lines += comment_commands(DOCKERFILE)
    for n, line in enumerate(DOCKERFILE.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("RUN "):
            lines.append((f"deploy/kuberay/Dockerfile:{n}", line.removeprefix("RUN ")))
    return [(where, argv) for where, line in lines for argv in socius_argvs(line)]


def readme_commands() -> list[tuple[str, list[str]]]:
    return [(where, argv) for where, line in readme_lines() for argv in socius_argvs(line)]


def check(where: str, argv: list[str]) -> Any:
    """Parse `socius ARGV` with the real parser; a scenario it names must exist here. Returns
    the parsed arguments."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit:
        pytest.fail(f"{where}: the CLI rejects `socius {shlex.join(argv)}`")
    scenario = getattr(args, "scenario", None)
    if scenario is not None:
        assert not Path(scenario).is_absolute(), f"{where}: {scenario} is not in the repository"
        assert (ROOT / scenario).is_file(), f"{where}: no scenario {scenario} in the repository"
    return args


def worker_resources(params: dict[str, str]) -> dict[str, float]:
    """The custom resources in KubeRay rayStartParams: `resources: '"{\\"NAME\\": N}"'`."""
    if "resources" not in params:
        return {}
    (text,) = shlex.split(params["resources"])
    return json.loads(text)


def ray_start_resources(command: str) -> dict[str, float] | None:
    """The --resources of a `ray start` command line, or None if it is not `ray start`."""
    tokens = shlex.split(command.split(";")[-1])
    if tokens[:2] != ["ray", "start"]:
        return None
    for token in tokens:
        if token.startswith("--resources="):
            return json.loads(token.removeprefix("--resources="))
    return {}


def entrypoint() -> tuple[str, list[str]]:
    argvs = socius_argvs(one(KUBERAY / "rayjob.yaml")["spec"]["entrypoint"])
    assert len(argvs) == 1, "the RayJob entrypoint should be one socius command"
    return "rayjob.yaml entrypoint", argvs[0]


def test_deploy_holds_the_expected_files() -> None:
    """deploy/ holds the launcher config, the KubeRay manifests, the Dockerfile and a README."""
    names = {str(p.relative_to(DEPLOY)) for p in YAML_FILES}
    assert names >= {
        "ray-cluster.yaml",
        "kuberay/raycluster.yaml",
        "kuberay/rayjob.yaml",
        "kuberay/runs-pvc.yaml",
    }
    assert DOCKERFILE.is_file()
    assert README.is_file()


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_yaml_parses(path: Path) -> None:
    """Every YAML file under deploy/ parses with yaml.safe_load_all into mappings."""
    docs = load(path)
    assert docs
    assert all(isinstance(doc, dict) for doc in docs)


def test_raycluster_and_rayjob_kinds() -> None:
    """The KubeRay manifests are ray.io/v1 RayCluster and RayJob, the claim a v1 PVC."""
    assert {k: one(KUBERAY / "raycluster.yaml")[k] for k in ("apiVersion", "kind")} == {
        "apiVersion": "ray.io/v1",
        "kind": "RayCluster",
    }
    assert {k: one(KUBERAY / "rayjob.yaml")[k] for k in ("apiVersion", "kind")} == {
        "apiVersion": "ray.io/v1",
        "kind": "RayJob",
    }
    pvc = one(KUBERAY / "runs-pvc.yaml")
    assert (pvc["apiVersion"], pvc["kind"]) == ("v1", "PersistentVolumeClaim")


@pytest.mark.parametrize("name, spec", cluster_specs(), ids=[n for n, _ in cluster_specs()])
def test_cluster_spec_has_the_fields_kuberay_requires(name: str, spec: dict[str, Any]) -> None:
    """headGroupSpec and workerGroupSpecs (groupName, replicas within min/max, rayStartParams,
    a pod template with an image, requests and limits); rayStartParams values are strings."""
    assert spec["workerGroupSpecs"], f"{name}: no worker group"
    for group, g in groups(spec):
        params = g["rayStartParams"]
        assert isinstance(params, dict)
        assert all(isinstance(v, str) for v in params.values()), (
            f"{name} {group}: KubeRay's rayStartParams is a map of strings"
        )
        if group != "head":
            assert g["minReplicas"] <= g["replicas"] <= g["maxReplicas"], f"{name} {group}"
        pod = g["template"]["spec"]
        assert pod["containers"], f"{name} {group}: no container"
        for c in pod["containers"]:
            assert c["name"] and c["image"], f"{name} {group}"
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c["resources"][kind]), f"{name} {group} {kind}"


def test_rayjob_fields() -> None:
    """The RayJob has an entrypoint and a rayClusterSpec, shuts its cluster down after the run
    and says when."""
    spec = one(KUBERAY / "rayjob.yaml")["spec"]
    assert isinstance(spec["entrypoint"], str)
    assert isinstance(spec["rayClusterSpec"], dict)
    assert spec["shutdownAfterJobFinishes"] is True
    assert isinstance(spec["ttlSecondsAfterFinished"], int)
    assert spec["ttlSecondsAfterFinished"] >= 0


def test_rayjob_cluster_is_the_raycluster() -> None:
    """The RayJob's rayClusterSpec is the RayCluster's spec, so a fix to one reaches both."""
    (_, cluster), (_, job) = cluster_specs()
    assert job == cluster


@pytest.mark.parametrize("name, spec", cluster_specs(), ids=[n for n, _ in cluster_specs()])
def test_kuberay_workers_declare_socius_worker(name: str, spec: dict[str, Any]) -> None:
    """Every worker group's rayStartParams declares socius_worker; the head declares none."""
    assert RESOURCE not in worker_resources(spec["headGroupSpec"]["rayStartParams"])
    for g in spec["workerGroupSpecs"]:
        amount = worker_resources(g["rayStartParams"]).get(RESOURCE, 0)
        assert amount > 0, f"{name} {g['groupName']}: no {RESOURCE} resource"


def test_launcher_workers_declare_socius_worker() -> None:
    """The cluster launcher starts workers with --resources naming socius_worker, the head
    without it."""
    config = one(LAUNCHER)
    worker = [ray_start_resources(c) for c in config["worker_start_ray_commands"]]
    head = [ray_start_resources(c) for c in config["head_start_ray_commands"]]
    starts = [r for r in worker if r is not None]
    assert starts, "no `ray start` among worker_start_ray_commands"
    assert all(r.get(RESOURCE, 0) > 0 for r in starts)
    assert all(RESOURCE not in r for r in head if r is not None)


def test_launcher_config_is_what_ray_up_accepts() -> None:
    """The launcher config passes the preparation and schema check `ray up` runs, on the
    local provider, and installs the wheel of this version of socius."""
    from ray.autoscaler._private.util import prepare_config, validate_config

    config = one(LAUNCHER)
    assert config["cluster_name"] == "socius"
    assert config["provider"]["type"] == "local"
    assert config["provider"]["head_ip"] and config["provider"]["worker_ips"]
    assert config["auth"]["ssh_user"]
    assert config["max_workers"] <= len(config["provider"]["worker_ips"])
    validate_config(prepare_config(config))
    head, worker = config["head_start_ray_commands"], config["worker_start_ray_commands"]
    assert head[0] == worker[0] == "ray stop"
    assert "--head" in head[-1] and "--port=6379" in head[-1]
    assert "--address=$RAY_HEAD_IP:6379" in worker[-1]
    version = pyproject()["project"]["version"]
    assert any(f"socius-{version}-py3-none-any.whl" in c for c in config["setup_commands"])
    assert config["file_mounts"]["~/examples"] == "./examples"


def test_deploy_socius_commands_parse() -> None:
    """Every socius command in deploy/ (the RayJob entrypoint, YAML values, commands in
    comments, Dockerfile RUN lines) is accepted by the CLI parser and names real scenarios."""
    commands = deploy_commands()
    wheres = " ".join(where for where, _ in commands)
    for name in ("rayjob.yaml (value)", "ray-cluster.yaml", "raycluster.yaml", "Dockerfile"):
        assert name in wheres, f"found no socius command in {name}"
    assert {argv[0] for _, argv in commands} >= {"run", "resume", "validate"}
    for where, argv in commands:
        check(where, argv)


def test_readme_socius_commands_parse() -> None:
    """Every socius command in deploy/README.md code blocks parses and names real scenarios."""
    commands = readme_commands()
    starts = [line for _, line in readme_lines() if line.startswith("socius ")]
    assert starts, "deploy/README.md shows no `socius ...` line"
    assert len(commands) > len(starts)  # those lines, and the ones inside ray exec/job submit
    assert {argv[0] for _, argv in commands} >= {"run", "resume"}
    for where, argv in commands:
        check(where, argv)


def test_runs_name_an_absolute_run_folder() -> None:
    """Every run and resume shown names its run folder by an absolute path (a relative one,
    like the default runs/..., is resolved on the driver's node only)."""
    for where, argv in deploy_commands() + readme_commands():
        args = check(where, argv)
        if args.command == "run":
            assert args.out is not None and args.out.is_absolute(), f"{where}: give --out /..."
        if args.command == "resume":
            assert args.run.is_absolute(), f"{where}: {args.run} is relative"


def test_kuberay_run_folders_are_on_the_runs_volume() -> None:
    """On Kubernetes every run folder is under /runs, the mount of the shared claim."""
    commands = [(w, a) for w, a in deploy_commands() if "kuberay" in w]
    folders = []
    for where, argv in commands:
        args = check(where, argv)
        if args.command in ("run", "resume"):
            folders.append((where, args.out if args.command == "run" else args.run))
    assert folders
    for where, folder in folders:
        assert Path(RUNS) in folder.parents, f"{where}: {folder} is not under {RUNS}"


def test_rayjob_entrypoint_fits_the_cluster() -> None:
    """The entrypoint runs a scenario with checkpoints (so it can be resumed), joins the
    job's cluster, and its shard actors fit the socius_worker resources of the workers."""
    where, argv = entrypoint()
    args = check(where, argv)
    assert args.command == "run"
    assert args.address == "auto"
    assert launch_of(args).runtime == "ray"
    assert args.checkpoint_every > 0
    per_actor = args.actor_resources or {}
    assert per_actor.get(RESOURCE, 0) > 0, "shard actors should be pinned to workers"
    spec = one(KUBERAY / "rayjob.yaml")["spec"]["rayClusterSpec"]
    total: dict[str, float] = {}
    for g in spec["workerGroupSpecs"]:
        for name, amount in worker_resources(g["rayStartParams"]).items():
            total[name] = total.get(name, 0) + amount * g["replicas"]
    sc = load_scenario(ROOT / args.scenario)
    shards = args.shards or sc.shards
    assert shards is not None
    for name, amount in per_actor.items():
        assert shards * amount <= total.get(name, 0), f"{shards} shards need {name}"


def test_images_match_the_pinned_ray() -> None:
    """The Dockerfile builds on rayproject/ray:<the pinned ray>-py3XX (a Python socius
    supports), rayVersion says the same, and the pods run that image or the socius image."""
    pin = ray_pin()
    text = DOCKERFILE.read_text(encoding="utf-8")
    base = re.search(r"^FROM\s+rayproject/ray:(\S+)", text, re.MULTILINE)
    assert base, "the Dockerfile should build FROM rayproject/ray:..."
    version, _, python = base.group(1).partition("-")
    assert version == pin
    minimum = pyproject()["project"]["requires-python"].removeprefix(">=")
    assert re.fullmatch(r"py3\d+", python)
    assert (3, int(python.removeprefix("py3"))) >= tuple(int(x) for x in minimum.split("."))
    built = set(re.findall(r"docker build .*-t (\S+)", text))
    assert built, "the Dockerfile should say how it is built (docker build ... -t NAME)"
    for name, spec in cluster_specs():
        assert spec["rayVersion"] == pin, name
    for where, _, c in containers():
        image = c["image"]
        assert image in built or image.startswith(f"rayproject/ray:{pin}-"), f"{where}: {image}"


def test_pods_work_where_the_image_put_the_examples() -> None:
    """Every Ray container's workingDir is the Dockerfile's WORKDIR, which holds examples/, so
    the relative scenario path of the entrypoint resolves."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    workdir = re.search(r"^WORKDIR\s+(\S+)", text, re.MULTILINE)
    assert workdir
    assert re.search(r"^COPY\s.*\bexamples\b", text, re.MULTILINE)
    for where, _, c in containers():
        assert c.get("workingDir") == workdir.group(1), where


def test_run_folder_volume_is_the_shared_claim() -> None:
    """Every Ray container mounts the run folder at /runs, and every volume mounted there is
    the ReadWriteMany claim defined in runs-pvc.yaml."""
    pvc = one(KUBERAY / "runs-pvc.yaml")
    assert "ReadWriteMany" in pvc["spec"]["accessModes"]
    claim = pvc["metadata"]["name"]
    for where, pod, c in containers():
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        mounts = [m for m in c.get("volumeMounts", []) if m["mountPath"] == RUNS]
        assert mounts, f"{where}: nothing mounted at {RUNS}"
        for m in mounts:
            source = volumes[m["name"]].get("persistentVolumeClaim", {})
            assert source.get("claimName") == claim, f"{where}: {RUNS} is not claim {claim}"


def test_checker_is_not_vacuous() -> None:
    """Negative control: the parser rejects a made-up flag, and the checker catches it inside
    a quoted command and catches a scenario that does not exist."""
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "examples/village.yaml", "--bogus"])
    line = 'ray exec deploy/ray-cluster.yaml "socius run examples/village.yaml --bogus"'
    (argv,) = socius_argvs(line)
    with pytest.raises(pytest.fail.Exception):
        check("control", argv)
    with pytest.raises(AssertionError):
        check("control", ["run", "examples/no-such-town.yaml", "--out", "/runs/x"])
