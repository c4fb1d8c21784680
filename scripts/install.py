"""Install what the local platform needs, only when missing: PostgreSQL, Keycloak, OPA, the extension, TLS.

Each step checks first and returns quickly when the thing is already there, so a second `bizid up` is
fast and changes nothing. Downloads are verified and cached in ~/.cache/bizid; the cache is only a
shortcut — a missing cache means a fresh download, never a failure.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import tarfile
import urllib.request
from collections.abc import Callable
from pathlib import Path

from policies import opa_server
from scripts import password_blocklist, tls
from scripts.settings import (
    KEYCLOAK_VERSION,
    MAILPIT_MODULE,
    MAILPIT_VERSION,
    MINIO_MODULE,
    MINIO_VERSION,
    OPA_VERSION,
    REPO_ROOT,
    Settings,
)

MAVEN_CENTRAL = "https://repo.maven.apache.org/maven2"
EXTENSION_DIR = REPO_ROOT / "realm" / "extensions"
EXTENSION_JAR = EXTENSION_DIR / "target" / "bizid-keycloak-extensions.jar"


class InstallError(RuntimeError):
    """A component could not be installed; the message says which and why."""


def log(message: str) -> None:
    print(f"[bizid] {message}", flush=True)


def run(cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    """Run a command; on failure raise with its output so the user sees the real error."""
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise InstallError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


# --- PostgreSQL (Debian package) -------------------------------------------------------------------


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL server binaries (Debian layout), if any."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
    )
    return candidates[-1].parent if candidates else None


def ensure_postgres() -> Path:
    found = postgres_bin()
    if found:
        return found
    if os.geteuid() != 0:
        raise InstallError("PostgreSQL server is missing: run `sudo apt-get install -y postgresql` and retry")
    log("installing PostgreSQL from Debian's packages")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-q"], env=env)
    run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "postgresql"], env=env)
    found = postgres_bin()
    if not found:
        raise InstallError("apt-get installed postgresql but no /usr/lib/postgresql/*/bin/initdb exists")
    return found


# --- HAProxy (Debian package): the local stand-in for the ALB and the failover record -------------

HAPROXY = Path("/usr/sbin/haproxy")


def haproxy_bin() -> Path | None:
    """Debian's HAProxy, if installed (the two-site topology's load balancers, scripts/sites)."""
    found = shutil.which("haproxy") or (str(HAPROXY) if HAPROXY.exists() else None)
    return Path(found) if found else None


def ensure_haproxy() -> Path:
    """HAProxy from Debian's packages, installed like PostgreSQL when missing. The package's own service is
    not used: each site's load balancer is a project-local process (scripts/sites/lb.py)."""
    found = haproxy_bin()
    if found:
        return found
    if os.geteuid() != 0:
        raise InstallError("HAProxy is missing: run `sudo apt-get install -y haproxy` and retry")
    log("installing HAProxy from Debian's packages")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-q"], env=env)
    run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "haproxy"], env=env)
    found = haproxy_bin()
    if not found:
        raise InstallError("apt-get installed haproxy but no haproxy binary is on PATH")
    return found


# --- Keycloak (Maven Central) ----------------------------------------------------------------------


def _download(url: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    log(f"downloading {url}")
    with urllib.request.urlopen(url, timeout=120) as response, partial.open("wb") as out:
        shutil.copyfileobj(response, out, length=1 << 20)
    partial.rename(target)


def _sha1(path: Path) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def keycloak_tarball(settings: Settings) -> Path:
    """The pinned distribution, verified against Maven Central's published SHA-1."""
    name = f"keycloak-quarkus-dist-{KEYCLOAK_VERSION}.tar.gz"
    url = f"{MAVEN_CENTRAL}/org/keycloak/keycloak-quarkus-dist/{KEYCLOAK_VERSION}/{name}"
    cached = settings.paths.cache / name
    checksum_file = settings.paths.cache / f"{name}.sha1"
    if not checksum_file.exists():
        _download(f"{url}.sha1", checksum_file)
    expected = checksum_file.read_text().split()[0].strip()
    if not cached.exists() or _sha1(cached) != expected:
        _download(url, cached)
        actual = _sha1(cached)
        if actual != expected:
            cached.unlink()
            raise InstallError(f"{name}: SHA-1 {actual} does not match Maven Central's {expected}")
    return cached


def ensure_keycloak(settings: Settings) -> Path:
    home = settings.paths.keycloak_home
    if (home / "bin" / "kc.sh").exists():
        return home
    tarball = keycloak_tarball(settings)
    log(f"unpacking Keycloak {KEYCLOAK_VERSION}")
    staging = home.with_name(home.name + ".unpacking")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with tarfile.open(tarball) as tar:
        tar.extractall(staging, filter="data")
    (staging / f"keycloak-{KEYCLOAK_VERSION}").rename(home)
    staging.rmdir()
    for script in (home / "bin").glob("*.sh"):
        script.chmod(0o755)
    return home


# --- OPA (Go module proxy) -------------------------------------------------------------------------


def _opa_version(binary: Path) -> str | None:
    try:
        out = subprocess.run([str(binary), "version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    for line in out.splitlines():
        if line.startswith("Version:"):
            return "v" + line.split(":", 1)[1].strip()
    return None


def _go_install(
    settings: Settings,
    label: str,
    module: str,
    version: str,
    target: Path,
    installed_version: Callable[[Path], str | None],
) -> Path:
    """`go install module@version` once into ~/.cache/bizid/bin, then copied to `target` (kept when it
    already reports `version`)."""
    if target.exists() and installed_version(target) == version:
        return target
    binary = module.rsplit("/", 1)[-1]
    cached = settings.paths.cache / "bin" / f"{binary}-{version}"
    if not cached.exists() or installed_version(cached) != version:
        if not shutil.which("go"):
            raise InstallError(f"{label} is built with `go install`, but no Go toolchain is on PATH")
        log(f"building {label} {version} with go install (a few minutes the first time)")
        gobin = settings.paths.cache / "gobin"
        run(
            ["go", "install", f"{module}@{version}"],
            env={**os.environ, "GOBIN": str(gobin), "CGO_ENABLED": "0"},
        )
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(gobin / binary, cached)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(cached, target)
    return target


def ensure_opa(settings: Settings) -> Path:
    return _go_install(
        settings, "OPA", "github.com/open-policy-agent/opa", OPA_VERSION, settings.paths.opa, _opa_version
    )


# --- Mailpit, the local mail server (Go module proxy) ---------------------------------------------


def _module_version(binary: Path, module: str) -> str | None:
    """The module version Go recorded in the binary (`go version -m`): a `go install`ed Mailpit calls
    itself "dev" (its own `version` command would ask GitHub for updates), MinIO prints a release name."""
    if not binary.exists() or not shutil.which("go"):
        return None
    try:
        out = subprocess.run(["go", "version", "-m", str(binary)], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    for line in out.stdout.splitlines():
        fields = line.split()
        if fields[:2] == ["mod", module] and len(fields) > 2:
            return fields[2]
    return None


def _mailpit_version(binary: Path) -> str | None:
    return _module_version(binary, MAILPIT_MODULE)


def ensure_mailpit(settings: Settings) -> Path:
    """Mailpit built with `go install` at the pinned version, cached in ~/.cache/bizid like OPA."""
    return _go_install(
        settings, "Mailpit", MAILPIT_MODULE, MAILPIT_VERSION, settings.paths.mailpit, _mailpit_version
    )


# --- MinIO, the tests' S3 server (Go module proxy) -------------------------------------------------


def ensure_minio(settings: Settings) -> Path:
    """MinIO built with `go install` at the pinned version, cached in ~/.cache/bizid like OPA: the real S3
    server of the S3 ledger's and store's tests (tests/s3_server.py)."""
    return _go_install(
        settings,
        "MinIO",
        MINIO_MODULE,
        MINIO_VERSION,
        settings.paths.minio,
        lambda binary: _module_version(binary, MINIO_MODULE),
    )


# --- The project's Keycloak extension (Maven) ------------------------------------------------------


def _newest_source_mtime() -> float:
    sources = [EXTENSION_DIR / "pom.xml", *(EXTENSION_DIR / "src").rglob("*")]
    return max(p.stat().st_mtime for p in sources if p.is_file())


def ensure_extension() -> Path:
    """Build the extension jar when it is missing or older than its sources."""
    if not (EXTENSION_DIR / "pom.xml").exists():
        raise InstallError(f"{EXTENSION_DIR}/pom.xml is missing")
    if EXTENSION_JAR.exists() and EXTENSION_JAR.stat().st_mtime >= _newest_source_mtime():
        return EXTENSION_JAR
    if not shutil.which("mvn"):
        raise InstallError("the Keycloak extension is built with Maven, but `mvn` is not on PATH")
    log("building the Keycloak extension with Maven")
    run(["mvn", "-B", "-q", "package"], cwd=EXTENSION_DIR)
    if not EXTENSION_JAR.exists():
        raise InstallError(f"Maven succeeded but {EXTENSION_JAR} was not produced")
    return EXTENSION_JAR


# --- Local secrets and TLS -------------------------------------------------------------------------


def ensure_secret(settings: Settings, name: str) -> str:
    """A random local-only secret, created once and kept in .bizid/secrets (mode 600)."""
    path = settings.paths.secrets / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.parent.chmod(0o700)
        path.write_text(secrets.token_urlsafe(24) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def ensure_all(settings: Settings) -> None:
    """Everything `bizid up` needs, installed if missing."""
    settings.paths.state.mkdir(parents=True, exist_ok=True)
    ensure_postgres()
    ensure_haproxy()
    ensure_keycloak(settings)
    ensure_opa(settings)
    ensure_mailpit(settings)
    ensure_extension()
    tls.ensure(settings.paths.tls)
    ensure_secret(settings, "admin-password")
    ensure_secret(settings, "db-password")
    ensure_secret(settings, opa_server.DECIDE_TOKEN_SECRET)
    ensure_secret(settings, opa_server.READ_TOKEN_SECRET)
    ensure_password_blocklist(settings)


def ensure_password_blocklist(settings: Settings) -> Path | None:
    """The common-password list named by realm.yaml, in build/ and in Keycloak's blacklist folder."""
    from realm import loader

    name = loader.load().realm.password.blocklist
    if name is None:
        return None
    try:
        source = password_blocklist.ensure(settings.paths.cache, name)
    except password_blocklist.BlocklistError as exc:
        raise InstallError(str(exc)) from None
    return password_blocklist.install(source, settings.paths.keycloak_home)
