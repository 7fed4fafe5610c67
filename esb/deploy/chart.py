"""The Helm chart in ``helm/esb``: its service list, and ``helm lint`` / ``helm template`` runs over it.

The chart's ``values.yaml`` ``services`` map is the one list of the bus's services; docker-compose.yml
and the tests are checked against :func:`chart_services`.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from esb.deploy.helm import ensure_helm

__all__ = [
    "CHART_DIR",
    "REPO_ROOT",
    "HelmResult",
    "Manifest",
    "chart_services",
    "helm_lint",
    "helm_template",
    "render",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = REPO_ROOT / "helm" / "esb"
_TIMEOUT_S = 120

Manifest = dict[str, Any]


@dataclass(frozen=True, slots=True)
class HelmResult:
    """What one helm command did: its exit code and what it printed."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def _declared_services(chart_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    values = yaml.safe_load((chart_dir / "values.yaml").read_text())
    services = values.get("services") or {}
    if not isinstance(services, dict):
        raise TypeError(f"{chart_dir}/values.yaml: services must be a map, got {type(services).__name__}")
    return dict(values.get("defaults") or {}), services


def chart_services(chart_dir: Path = CHART_DIR) -> list[str]:
    """The service names declared in the chart's ``values.yaml`` (enabled or not), sorted."""
    return sorted(str(name) for name in _declared_services(chart_dir)[1])


def chart_service_setting(name: str, key: str, chart_dir: Path = CHART_DIR) -> Any:
    """One top-level setting of a service as the chart's values give it: its own, else ``defaults``'."""
    defaults, services = _declared_services(chart_dir)
    own = services.get(name) or {}
    return own[key] if key in own else defaults.get(key)


def _helm(args: list[str], chart_dir: Path) -> HelmResult:
    helm = ensure_helm()
    result = subprocess.run(
        [str(helm), *args], capture_output=True, text=True, check=False, timeout=_TIMEOUT_S, cwd=chart_dir
    )
    return HelmResult(result.returncode, result.stdout, result.stderr)


def _values_args(values_files: list[Path], set_values: dict[str, str] | None) -> list[str]:
    args: list[str] = []
    for path in values_files:
        args += ["--values", str(path)]
    for key, value in (set_values or {}).items():
        args += ["--set-string", f"{key}={value}"]
    return args


def helm_lint(
    values_files: list[Path], set_values: dict[str, str] | None = None, chart_dir: Path = CHART_DIR
) -> HelmResult:
    """``helm lint --strict`` of the chart with these values."""
    return _helm(["lint", "--strict", str(chart_dir), *_values_args(values_files, set_values)], chart_dir)


def helm_template(
    values_files: list[Path],
    set_values: dict[str, str] | None = None,
    chart_dir: Path = CHART_DIR,
    release: str = "esb",
    namespace: str = "commerce",
    kube_version: str | None = None,
) -> HelmResult:
    """``helm template`` of the chart with these values."""
    args = ["template", release, str(chart_dir), "--namespace", namespace]
    if kube_version is not None:
        args += ["--kube-version", kube_version]
    return _helm([*args, *_values_args(values_files, set_values)], chart_dir)


def render(
    values_files: list[Path],
    set_values: dict[str, str] | None = None,
    chart_dir: Path = CHART_DIR,
    release: str = "esb",
    kube_version: str | None = None,
) -> list[Manifest]:
    """The manifests ``helm template`` renders, parsed; raises with helm's output when it fails."""
    result = helm_template(values_files, set_values, chart_dir, release=release, kube_version=kube_version)
    if not result.ok:
        raise RuntimeError(f"helm template failed (exit {result.returncode}):\n{result.output}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]
