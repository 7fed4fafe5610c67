"""Helm, built from its Go module and cached once per machine, for the chart checks in the test run.

``ensure_helm()`` returns the path of a pinned Helm binary: ``$ESB_HELM`` when set, else
``~/.cache/esb/helm-<version>/helm`` (the cache root follows ``ESB_DEV_CACHE_DIR`` like the dev stack),
building it on first use inside a throw-away wrapper module (``go get -tool`` then ``go build``).
The binary is renamed into place only when complete and builds are serialised by a lock file, so an
interrupted or concurrent build never leaves a half-written binary behind.

Run ``python -m esb.deploy.helm`` to build (or find) it and print its path.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["HELM_MODULE", "HELM_VERSION", "HelmUnavailableError", "ensure_helm", "helm_cache_dir"]

HELM_VERSION = "v4.3.1"
HELM_MODULE = "helm.sh/helm/v4"
_BUILD_TIMEOUT_S = 1800


class HelmUnavailableError(RuntimeError):
    """Helm cannot be provided: Go is missing or the build failed. Install Go and run again."""


def helm_cache_dir(version: str = HELM_VERSION) -> Path:
    root = os.environ.get("ESB_DEV_CACHE_DIR")
    base = Path(root) if root else Path.home() / ".cache" / "esb"
    return base / f"helm-{version}"


def _run(argv: list[str], cwd: Path, what: str, env: dict[str, str]) -> None:
    try:
        result = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, check=False, env=env, timeout=_BUILD_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as exc:
        raise HelmUnavailableError(f"{what} timed out after {_BUILD_TIMEOUT_S} s in {cwd}") from exc
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        raise HelmUnavailableError(f"{what} failed (exit {result.returncode}) in {cwd}:\n{tail}")


def _build(go: str, home: Path, version: str) -> None:
    build = home / "build"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir(parents=True)
    env = {**os.environ, "CGO_ENABLED": "0"}
    package = f"{HELM_MODULE}/cmd/helm"
    partial = home / "helm.partial"
    _run([go, "mod", "init", "esb.local/helm-build"], build, "go mod init", env)
    _run([go, "get", "-tool", f"{package}@{version}"], build, "Fetching the Helm module", env)
    ldflags = f"-s -w -X {HELM_MODULE}/internal/version.version={version}"
    _run(
        [go, "build", "-trimpath", f"-ldflags={ldflags}", "-o", str(partial), package],
        build,
        "Building Helm",
        env,
    )
    partial.rename(home / "helm")
    shutil.rmtree(build, ignore_errors=True)


def ensure_helm(version: str = HELM_VERSION) -> Path:
    """Path of a runnable Helm binary, building it from its Go module the first time."""
    override = os.environ.get("ESB_HELM")
    if override:
        path = Path(override)
        if not path.is_file():
            raise HelmUnavailableError(f"ESB_HELM={override} is not a file")
        return path
    home = helm_cache_dir(version)
    binary = home / "helm"
    if binary.is_file():
        return binary
    go = shutil.which("go")
    if go is None:
        raise HelmUnavailableError(
            f"'go' is not installed but is needed to build Helm {version} from its Go module "
            "(install it, e.g. apt-get install golang-go, or point ESB_HELM at a Helm binary)."
        )
    home.mkdir(parents=True, exist_ok=True)
    with (home / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not binary.is_file():  # another process may have built it while we waited
            _build(go, home, version)
    return binary


def main() -> None:
    try:
        path = ensure_helm()
    except HelmUnavailableError as exc:
        sys.stderr.write(f"{exc}\n")
        raise SystemExit(2) from exc
    sys.stdout.write(f"{path}\n")


if __name__ == "__main__":
    main()
