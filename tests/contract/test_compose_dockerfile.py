"""The Dockerfile's structure (no Docker engine here to build it): stages, user, cache order, health."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache

import pytest
import yaml

from esb.deploy.chart import CHART_DIR, REPO_ROOT, chart_services

pytestmark = pytest.mark.contract


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


@cache
def _instructions() -> tuple[Instruction, ...]:
    """The Dockerfile as instructions: comments dropped, continuation lines joined."""
    text = (REPO_ROOT / "Dockerfile").read_text()
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        current = f"{current} {line[:-1].strip()}" if line.endswith("\\") else f"{current} {line}"
        if not line.endswith("\\"):
            logical.append(current.strip())
            current = ""
    assert not current, "the Dockerfile ends inside a continued line"
    result = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        result.append(Instruction(keyword.upper(), args.strip()))
    return tuple(result)


def _final_stage() -> list[Instruction]:
    instructions = list(_instructions())
    last_from = max(i for i, ins in enumerate(instructions) if ins.keyword == "FROM")
    return instructions[last_from:]


def _only(keyword: str, stage: list[Instruction]) -> Instruction:
    found = [ins for ins in stage if ins.keyword == keyword]
    assert len(found) == 1, f"expected one {keyword}, found {len(found)}"
    return found[0]


def test_multi_stage_on_python_311_slim() -> None:
    args = {
        ins.args.split("=")[0]: ins.args.split("=", 1)[1] for ins in _instructions() if ins.keyword == "ARG"
    }
    assert args["PYTHON_IMAGE"] == "python:3.11-slim"
    froms = [ins.args for ins in _instructions() if ins.keyword == "FROM"]
    assert len(froms) >= 2
    assert all(f.startswith("${PYTHON_IMAGE}") for f in froms)
    assert any("--from=build" in ins.args for ins in _final_stage() if ins.keyword == "COPY")


def test_runs_as_a_non_root_user() -> None:
    user = _only("USER", _final_stage()).args
    name = user.split(":")[0]
    assert name not in {"root", "0"}
    assert re.fullmatch(r"\d+:\d+", user), "numeric, so runAsNonRoot can verify it"
    uid = yaml.safe_load((CHART_DIR / "values.yaml").read_text())["defaults"]["podSecurityContext"][
        "runAsUser"
    ]
    assert name == str(uid), "the chart's runAsUser is the image's user"
    keywords = [ins.keyword for ins in _final_stage()]
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k in {"RUN", "COPY"})


def test_dependencies_install_before_the_code_is_copied() -> None:
    """Editing code must not invalidate the dependency layer: pyproject first, sources after."""
    instructions = list(_instructions())
    copies = [(i, ins.args) for i, ins in enumerate(instructions) if ins.keyword == "COPY"]
    pyproject = next(i for i, args in copies if args.split()[0] == "pyproject.toml")
    install = next(
        i for i, ins in enumerate(instructions) if ins.keyword == "RUN" and "pip install -r" in ins.args
    )
    first_code = min(i for i, args in copies if args.split()[0] in {"bus", "esb", "services", "schemas"})
    assert pyproject < install < first_code
    assert "--mount=type=cache" in instructions[install].args


def test_entry_point_runs_a_service_and_healthcheck_hits_the_ops_port() -> None:
    stage = _final_stage()
    assert json.loads(_only("ENTRYPOINT", stage).args) == ["esb", "run"]
    (service,) = json.loads(_only("CMD", stage).args)
    assert service.replace("_", "-") in chart_services()
    health = _only("HEALTHCHECK", stage).args
    assert "/healthz" in health
    assert "ESB_HTTP_PORT" in health
    env = " ".join(ins.args for ins in stage if ins.keyword == "ENV")
    ops_port = yaml.safe_load((CHART_DIR / "values.yaml").read_text())["defaults"]["opsPort"]
    assert f"ESB_HTTP_PORT={ops_port}" in env


def test_dockerignore_keeps_the_context_small() -> None:
    lines = [
        line.strip()
        for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "**", "everything is excluded unless listed"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = {
        ins.args.split()[0]
        for ins in _instructions()
        if ins.keyword == "COPY" and not ins.args.startswith("--from")
    }
    assert copied <= allowed, f"COPY of files the context excludes: {sorted(copied - allowed)}"
    assert not {".venv", ".git", "tests", ".esb"} & allowed
