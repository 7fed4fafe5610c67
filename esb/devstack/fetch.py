"""Fetch and cache the stack's components from the package registries, once per machine.

- Kafka: ``org.apache.kafka:kafka_2.13`` + ``kafka-tools`` and a Log4j2 binding, copied by Maven.
- Schema registry: Apicurio Registry's ``tar.gz:all`` distribution, copied by Maven and unpacked.
- Jaeger v2: built from its Go module inside a small wrapper module (``go get -tool`` then ``go build``).

Each component lands in a versioned folder under the cache dir; a folder is renamed into place
only when complete, so an interrupted fetch is retried rather than half-used.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
from functools import cache
from pathlib import Path

from esb.devstack.settings import DevStackSettings

__all__ = [
    "MissingToolError",
    "ensure_apicurio",
    "ensure_jaeger",
    "ensure_kafka",
    "find_java",
]


class MissingToolError(RuntimeError):
    """A build or runtime tool the stack needs (Java, Maven, Go) is not installed."""


_KAFKA_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.esb</groupId><artifactId>kafka-dist</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId>
      <version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId>
      <version>{log4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId>
      <version>{log4j}</version></dependency>
  </dependencies>
</project>
"""


def _require(tool: str, purpose: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise MissingToolError(
            f"'{tool}' is not installed but is needed to {purpose}. "
            f"Install it (e.g. apt-get install {_APT_HINTS.get(tool, tool)}) and run again."
        )
    return path


_APT_HINTS = {"mvn": "maven", "go": "golang-go", "java": "openjdk-17-jre-headless"}


def _run(argv: list[str], cwd: Path, what: str) -> None:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        raise RuntimeError(f"{what} failed (exit {result.returncode}) in {cwd}:\n{tail}")


def _java_major(java: Path) -> int | None:
    try:
        out = subprocess.run([str(java), "-version"], capture_output=True, text=True, check=False).stderr
    except OSError:
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if match is None:
        return None
    major = int(match.group(1))
    # Java 8 and older report "1.8.0"
    return int(match.group(2) or 0) if major == 1 else major


@cache
def find_java(min_major: int) -> Path:
    """The newest installed Java whose major version is at least ``min_major``."""
    candidates: list[Path] = []
    on_path = shutil.which("java")
    if on_path:
        candidates.append(Path(on_path).resolve())
    jvm_root = Path("/usr/lib/jvm")
    if jvm_root.is_dir():
        candidates.extend(
            sorted(p / "bin" / "java" for p in jvm_root.iterdir() if (p / "bin" / "java").exists())
        )
    best: tuple[int, Path] | None = None
    for candidate in candidates:
        major = _java_major(candidate)
        if major is not None and major >= min_major and (best is None or major > best[0]):
            best = (major, candidate)
    if best is None:
        raise MissingToolError(
            f"No Java {min_major} or newer found on PATH or under /usr/lib/jvm; "
            f"install a JDK/JRE >= {min_major} and run again."
        )
    return best[1]


def ensure_kafka(settings: DevStackSettings) -> Path:
    """Folder holding every jar Kafka needs on its classpath."""
    home = settings.cache_dir / f"kafka-{settings.kafka_version}"
    libs = home / "libs"
    if libs.is_dir() and any(libs.glob("kafka_2.13-*.jar")):
        return libs
    mvn = _require("mvn", "fetch Kafka from Maven Central")
    home.mkdir(parents=True, exist_ok=True)
    (home / "pom.xml").write_text(
        _KAFKA_POM.format(kafka=settings.kafka_version, log4j=settings.log4j_version)
    )
    partial = home / "libs.partial"
    shutil.rmtree(partial, ignore_errors=True)
    _run(
        [
            mvn,
            "-q",
            "-B",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={partial}",
            "-DincludeScope=runtime",
        ],
        home,
        "Fetching Kafka jars with Maven",
    )
    partial.rename(libs)
    return libs


def ensure_apicurio(settings: DevStackSettings) -> Path:
    """Folder holding Apicurio Registry's ``quarkus-run.jar``."""
    home = settings.cache_dir / f"apicurio-registry-{settings.apicurio_version}"
    app = home / "app"
    if (app / "quarkus-run.jar").is_file():
        return app
    mvn = _require("mvn", "fetch Apicurio Registry from Maven Central")
    home.mkdir(parents=True, exist_ok=True)
    artifact = f"io.apicurio:apicurio-registry-app:{settings.apicurio_version}:tar.gz:all"
    _run(
        [mvn, "-q", "-B", "dependency:copy", f"-Dartifact={artifact}", f"-DoutputDirectory={home}"],
        home,
        "Fetching Apicurio Registry with Maven",
    )
    archive = home / f"apicurio-registry-app-{settings.apicurio_version}-all.tar.gz"
    partial = home / "app.partial"
    shutil.rmtree(partial, ignore_errors=True)
    with tarfile.open(archive) as tar:
        tar.extractall(partial, filter="data")
    runner = next(partial.rglob("quarkus-run.jar"))
    runner.parent.rename(app)
    shutil.rmtree(partial, ignore_errors=True)
    archive.unlink(missing_ok=True)
    return app


def ensure_jaeger(settings: DevStackSettings) -> Path:
    """Path of the Jaeger v2 all-in-one binary, built from its Go module."""
    home = settings.cache_dir / f"jaeger-{settings.jaeger_version}"
    binary = home / "jaeger"
    if binary.is_file():
        return binary
    go = _require("go", "build Jaeger from its Go module")
    build = home / "build"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir(parents=True)
    module = "github.com/jaegertracing/jaeger/cmd/jaeger"
    _run([go, "mod", "init", "esb.local/jaeger-build"], build, "go mod init")
    _run([go, "get", "-tool", f"{module}@{settings.jaeger_version}"], build, "Fetching the Jaeger module")
    _run(
        [go, "build", "-trimpath", "-ldflags=-s -w", "-o", str(home / "jaeger.partial"), module],
        build,
        "Building Jaeger",
    )
    (home / "jaeger.partial").rename(binary)
    shutil.rmtree(build, ignore_errors=True)
    return binary
