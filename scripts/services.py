"""Start, stop and inspect the local services: PostgreSQL, Keycloak, OPA and Mailpit, all on loopback.

A service that is already running and healthy is left alone, so `bizid up` twice is quick and changes
nothing. Processes are detached into their own session and tracked by pid files under .bizid/run.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from policies import bundle as opa_bundle
from policies import opa_server
from realm import keycloak_options
from realm.platform import DB_NAME, DB_USER, DEFINITIONS_DIR
from scripts import install, rotating_log, tuning
from scripts.install import InstallError, log
from scripts.settings import LOOPBACK, REPO_ROOT, Settings

PG_SUPERUSER = "postgres"
PG_CONF_FILE = "bizid.conf"

# Build-time Keycloak options (`kc.sh build`; realm/keycloak_options.py, shared with the image); a change
# triggers a rebuild before the next start.
KEYCLOAK_BUILD_OPTIONS = tuple(keycloak_options.build_args())


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    running: bool
    healthy: bool
    detail: str


# --- helpers ----------------------------------------------------------------------------------------


def _as_postgres_user(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; as root we run its tools as the `postgres` system user."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _pid_file(settings: Settings, name: str) -> Path:
    return settings.paths.pids / f"{name}.pid"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_pid(settings: Settings, name: str) -> int | None:
    path = _pid_file(settings, name)
    if not path.exists():
        return None
    pid = int(path.read_text().strip())
    return pid if _pid_alive(pid) else None


def private_logs(settings: Settings) -> Path:
    """.bizid/logs, readable by its owner only: the logs hold decision ids, account ids and errors."""
    logs = settings.paths.logs
    logs.mkdir(mode=0o700, parents=True, exist_ok=True)
    logs.chmod(0o700)
    for log_file in logs.iterdir():
        if log_file.is_file():
            log_file.chmod(0o600)
    return logs


def _spawn(settings: Settings, name: str, cmd: list[str], env: dict[str, str], cwd: Path) -> int:
    logs = private_logs(settings)
    settings.paths.pids.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{name}.log"
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "ab") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    _pid_file(settings, name).write_text(f"{proc.pid}\n")
    return proc.pid


def _stop_pid(settings: Settings, name: str, timeout: float = 30.0) -> None:
    pid = read_pid(settings, name)
    if pid is not None:
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _pid_alive(pid):
            os.killpg(pid, signal.SIGKILL)
    _pid_file(settings, name).unlink(missing_ok=True)


def _http_ok(url: str, cafile: Path | None = None) -> bool:
    context = ssl.create_default_context(cafile=str(cafile)) if cafile else None
    try:
        with urllib.request.urlopen(url, timeout=3, context=context) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _wait(
    what: str,
    check: Callable[[], bool],
    timeout: float,
    log_file: Path,
    alive: Callable[[], bool] | None = None,
) -> None:
    """Until `check()`; fails at once when `alive()` says the process has exited (e.g. OPA refusing a
    bundle whose signature does not verify), with the end of its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if alive is not None and not alive():
            tail = log_file.read_text(errors="replace")[-3000:] if log_file.exists() else "(no log)"
            raise InstallError(f"{what} exited while starting; end of {log_file}:\n{tail}")
        time.sleep(0.5)
    tail = log_file.read_text(errors="replace")[-3000:] if log_file.exists() else "(no log)"
    raise InstallError(f"{what} did not become ready within {timeout:.0f} s; end of {log_file}:\n{tail}")


def _running(pid: int) -> bool:
    """Alive and not a zombie (a child that exited but was not reaped still answers `kill -0`)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return _pid_alive(pid)
    return state not in ("Z", "X")


# --- PostgreSQL -------------------------------------------------------------------------------------


def _pg_ready(settings: Settings, pg_bin: Path) -> bool:
    result = subprocess.run(
        [str(pg_bin / "pg_isready"), "-q", "-h", LOOPBACK, "-p", str(settings.ports.postgres)], check=False
    )
    return result.returncode == 0


def _psql(settings: Settings, pg_bin: Path, sql: str) -> str:
    cmd = _as_postgres_user(
        [
            str(pg_bin / "psql"),
            "-h",
            str(settings.paths.pgsocket),
            "-p",
            str(settings.ports.postgres),
            "-U",
            PG_SUPERUSER,
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-tAc",
            sql,
        ]
    )
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise InstallError(f"psql failed: {result.stderr.strip()}")
    return result.stdout.strip()


def superuser_sql(settings: Settings, sql: str) -> str:
    """One statement as the local cluster's superuser (tests that change the database's own state)."""
    return _psql(settings, install.ensure_postgres(), sql)


def start_postgres(settings: Settings) -> None:
    pg_bin = install.ensure_postgres()
    pgroot = settings.paths.pgdata.parent
    pg_ctl = [str(pg_bin / "pg_ctl"), "-D", str(settings.paths.pgdata), "-w", "-t", "60"]
    if not (settings.paths.pgdata / "PG_VERSION").exists():
        log("creating the project-local PostgreSQL cluster")
        settings.paths.pgsocket.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "postgres:postgres", str(pgroot)], check=True)
        install.run(
            _as_postgres_user(
                [
                    str(pg_bin / "initdb"),
                    "-D",
                    str(settings.paths.pgdata),
                    "-U",
                    PG_SUPERUSER,
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ]
            )
        )
        with (settings.paths.pgdata / "postgresql.conf").open("a") as f:
            f.write(f"\ninclude '{PG_CONF_FILE}'\n")
    conf = settings.paths.pgdata / PG_CONF_FILE
    wanted = _postgres_conf(settings)
    changed = not conf.exists() or conf.read_text() != wanted
    if changed:
        conf.write_text(wanted)
    if _pg_ready(settings, pg_bin) and changed:
        log("PostgreSQL settings changed: restarting it")
        # -l as for start: without a log file the server would inherit (and hold open) our output pipe
        install.run(_as_postgres_user([*pg_ctl, "-l", str(pgroot / "postgres.log"), "-m", "fast", "restart"]))
    elif not _pg_ready(settings, pg_bin):
        log(f"starting PostgreSQL on {LOOPBACK}:{settings.ports.postgres}")
        install.run(_as_postgres_user([*pg_ctl, "-l", str(pgroot / "postgres.log"), "start"]))
    _ensure_database(settings, pg_bin)


def _postgres_conf(settings: Settings) -> str:
    """Loopback only, socket inside .bizid; sizing in scripts/tuning.py, explained in docs/tuning.md."""
    return f"""# Written by `bizid up` on every start; edit scripts/tuning.py instead.
listen_addresses = '{LOOPBACK}'
port = {settings.ports.postgres}
unix_socket_directories = '{settings.paths.pgsocket}'
unix_socket_permissions = 0700
{tuning.POSTGRES_CONF}"""


def _ensure_database(settings: Settings, pg_bin: Path) -> None:
    password = install.ensure_secret(settings, "db-password")
    if _psql(settings, pg_bin, f"SELECT 1 FROM pg_roles WHERE rolname = '{DB_USER}'") != "1":
        _psql(settings, pg_bin, f"CREATE ROLE {DB_USER} LOGIN PASSWORD '{password}'")
    if _psql(settings, pg_bin, f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'") != "1":
        _psql(settings, pg_bin, f"CREATE DATABASE {DB_NAME} OWNER {DB_USER}")


def stop_postgres(settings: Settings) -> None:
    pg_bin = install.postgres_bin()
    if pg_bin and (settings.paths.pgdata / "postmaster.pid").exists():
        subprocess.run(
            _as_postgres_user(
                [str(pg_bin / "pg_ctl"), "-D", str(settings.paths.pgdata), "-m", "fast", "-w", "stop"]
            ),
            capture_output=True,
            check=False,
        )


# --- Keycloak ---------------------------------------------------------------------------------------


def keycloak_env(settings: Settings) -> dict[str, str]:
    """Runtime configuration of the local Keycloak: addresses from settings, secrets generated, every other
    option from realm/keycloak_options.py (the source the ECS task definition reads too)."""
    tls_dir = settings.paths.tls
    return {
        **os.environ,
        "KC_DB_URL": f"jdbc:postgresql://{LOOPBACK}:{settings.ports.postgres}/{DB_NAME}",
        "KC_DB_USERNAME": DB_USER,
        "KC_DB_PASSWORD": settings.secret("db-password"),
        "KC_HOSTNAME": settings.keycloak_url,
        "KC_HTTP_HOST": LOOPBACK,
        "KC_HTTPS_PORT": str(settings.ports.keycloak_https),
        "KC_HTTPS_CERTIFICATE_FILE": str(tls_dir / "server.pem"),
        "KC_HTTPS_CERTIFICATE_KEY_FILE": str(tls_dir / "server-key.pem"),
        "KC_HTTP_MANAGEMENT_PORT": str(settings.ports.keycloak_management),
        "KC_BOOTSTRAP_ADMIN_USERNAME": settings.admin_username,
        "KC_BOOTSTRAP_ADMIN_PASSWORD": settings.secret("admin-password"),
        "BIZID_OPA_URL": settings.opa_url,
        # Keycloak's bearer token for OPA (decisions only); read by the extension's OpaClient.
        opa_server.DECIDE_TOKEN_ENV: settings.secret(opa_server.DECIDE_TOKEN_SECRET),
        # Tuning, cache, logging: the options the ECS task gets too (realm/keycloak_options.py).
        **keycloak_options.server_env(keycloak_options.LOCAL),
    }


def _build_fingerprint(jar: Path) -> str:
    digest = hashlib.sha256(" ".join(KEYCLOAK_BUILD_OPTIONS).encode())
    digest.update(jar.read_bytes())
    return digest.hexdigest()


def _keycloak_ready(settings: Settings) -> bool:
    return _http_ok(f"{settings.keycloak_management_url}/health/ready", settings.paths.ca_cert)


def build_keycloak(settings: Settings) -> Path:
    """`kc.sh build` with the extension and the build options, when either changed; the Keycloak home.
    (The two-site topology's nodes run hard-linked copies of this build: scripts/sites.)"""
    home = install.ensure_keycloak(settings)
    jar = install.ensure_extension()
    marker = home / ".bizid-build"
    fingerprint = _build_fingerprint(jar)
    if marker.exists() and marker.read_text() == fingerprint:
        return home
    log("building Keycloak with the bizid extension (kc.sh build)")
    (home / "providers" / jar.name).write_bytes(jar.read_bytes())
    install.run([str(home / "bin" / "kc.sh"), "build", *KEYCLOAK_BUILD_OPTIONS], env=keycloak_env(settings))
    marker.write_text(fingerprint)
    return home


def start_keycloak(settings: Settings) -> None:
    """Start Keycloak; rebuild it first (and restart it if running) when the extension or options changed."""
    home = install.ensure_keycloak(settings)
    jar = install.ensure_extension()
    marker = home / ".bizid-build"
    fingerprint = _build_fingerprint(jar)
    up_to_date = marker.exists() and marker.read_text() == fingerprint
    # A Keycloak started with another OPA token (secrets regenerated) would be refused by OPA: restart it.
    runtime_marker = settings.paths.pids / "keycloak.runtime"
    runtime = hashlib.sha256(settings.secret(opa_server.DECIDE_TOKEN_SECRET).encode()).hexdigest()
    same_runtime = runtime_marker.exists() and runtime_marker.read_text() == runtime
    running = read_pid(settings, "keycloak") is not None and _keycloak_ready(settings)
    if up_to_date and same_runtime and running:
        return
    _stop_pid(settings, "keycloak")
    if not up_to_date:
        build_keycloak(settings)
    log(f"starting Keycloak on {settings.keycloak_url}")
    _spawn(
        settings,
        "keycloak",
        [str(home / "bin" / "kc.sh"), "start", "--optimized"],
        keycloak_env(settings),
        home,
    )
    runtime_marker.write_text(runtime)
    _wait("Keycloak", lambda: _keycloak_ready(settings), 300, settings.paths.logs / "keycloak.log")


def stop_keycloak(settings: Settings) -> None:
    _stop_pid(settings, "keycloak")


# --- OPA --------------------------------------------------------------------------------------------


def _opa_ready(settings: Settings) -> bool:
    return _http_ok(f"{settings.opa_url}/health?bundles")


def write_opa_bundle(settings: Settings, definitions: Path = DEFINITIONS_DIR) -> opa_bundle.Bundle:
    """The local OPA's bundle, built from `definitions` and signed with the local key (generated under
    .bizid/secrets on first use); a bundle already there with the revision these inputs give is kept."""
    opa = install.ensure_opa(settings)
    key = opa_bundle.ensure_signing_key(settings.paths.opa_signing_key)
    opa_bundle.write_verification_key(key, settings.paths.opa_verification_key)
    target = settings.paths.opa_bundle
    registry = opa_bundle.registry_document(definitions)
    revision = opa_bundle.expected_revision(opa, registry)
    if opa_bundle.revision_of(target) == revision:
        return opa_bundle.Bundle(path=target, revision=revision)
    log(f"building the OPA bundle {revision}")
    return opa_bundle.build(opa, target, key, registry=registry)


OPA_LOG_BOUND = rotating_log.Bound(max_bytes=16 * 1024 * 1024, keep=4)
"""OPA's log (the masked decision log) is rotated at 16 MiB with 4 older files kept: at most 80 MiB, about
the last 30 k sign-ins (issue 14 §4; docs/tuning.md "Decision log")."""


def _opa_command(settings: Settings, opa: Path) -> tuple[list[str], dict[str, str]]:
    # No --watch: OPA reloads a watched bundle without verifying its signature; a new bundle = a restart.
    cmd = opa_server.server_command(
        opa,
        f"{LOOPBACK}:{settings.ports.opa}",
        settings.paths.opa_bundle,
        settings.paths.opa_verification_key,
        decision_log=True,
    )
    tokens = opa_server.token_env(
        settings.secret(opa_server.DECIDE_TOKEN_SECRET), settings.secret(opa_server.READ_TOKEN_SECRET)
    )
    return cmd, tokens


def opa_launch_command(settings: Settings, opa: Path) -> tuple[list[str], dict[str, str]]:
    """`_opa_command` (the sidecar's command, tests/infra) under the size-bounded log (OPA_LOG_BOUND)."""
    cmd, tokens = _opa_command(settings, opa)
    return [*OPA_LOG_BOUND.arguments(settings.paths.logs / "opa.log"), *cmd], tokens


def start_opa(settings: Settings, definitions: Path = DEFINITIONS_DIR) -> None:
    """Start OPA on the signed bundle (authenticated, authorised, masked decision log); restart it when its
    command, tokens, verification key or bundle revision changed, so an OPA started by an older checkout
    (or on older policies or definitions) does not stay up."""
    opa = install.ensure_opa(settings)
    built = write_opa_bundle(settings, definitions)
    cmd, tokens = opa_launch_command(settings, opa)
    marker = settings.paths.pids / "opa.fingerprint"
    key = settings.paths.opa_verification_key.read_text(encoding="utf-8")
    fingerprint = hashlib.sha256(
        json.dumps([cmd, tokens, key, built.revision, opa_server.RUNTIME_ENV], sort_keys=True).encode()
    ).hexdigest()
    current = marker.exists() and marker.read_text() == fingerprint
    if current and read_pid(settings, "opa") is not None and _opa_ready(settings):
        return
    _stop_pid(settings, "opa")
    log(f"starting OPA on {settings.opa_url} (bundle {built.revision})")
    pid = _spawn(settings, "opa", cmd, {**os.environ, **opa_server.RUNTIME_ENV, **tokens}, REPO_ROOT)
    marker.write_text(fingerprint)
    _wait("OPA", lambda: _opa_ready(settings), 60, settings.paths.logs / "opa.log", lambda: _running(pid))


def publish_opa_bundle(settings: Settings, definitions: Path = DEFINITIONS_DIR) -> opa_bundle.Bundle:
    """Rebuild the local bundle from `definitions` (`bizid realm apply`); a running OPA is restarted on it
    when its revision changed (an OPA that is not running picks it up at its next start)."""
    built = write_opa_bundle(settings, definitions)
    if read_pid(settings, "opa") is not None:
        start_opa(settings, definitions)
    return built


def opa_revisions(settings: Settings) -> list[str]:
    """The bundle revision(s) the running local OPA reports (`GET /v1/data/system/bundles`); [] when it
    cannot be asked."""
    request = urllib.request.Request(
        f"{settings.opa_url}/v1/data/system/bundles", headers=settings.opa_read_headers()
    )
    try:
        with urllib.request.urlopen(request, timeout=3) as response:
            body = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return []
    return opa_bundle.served_revisions(body.get("result") if isinstance(body, dict) else None)


def stop_opa(settings: Settings) -> None:
    _stop_pid(settings, "opa")


# --- Mailpit (the local mail server) ---------------------------------------------------------------


def mailpit_command(settings: Settings, mailpit: Path) -> list[str]:
    """SMTP and web/API on loopback only; messages kept in .bizid/mail; no call home."""
    return [
        str(mailpit),
        "--smtp",
        f"{LOOPBACK}:{settings.ports.mail_smtp}",
        "--listen",
        f"{LOOPBACK}:{settings.ports.mail_http}",
        "--database",
        str(settings.paths.mail_db),
        "--max",
        "20000",
        "--disable-version-check",
    ]


def _mailpit_ready(settings: Settings) -> bool:
    return _http_ok(f"{settings.mail_api_url}/readyz")


def start_mailpit(settings: Settings) -> None:
    """Start Mailpit; restart it when its command changed (another port, another binary)."""
    mailpit = install.ensure_mailpit(settings)
    settings.paths.mail_db.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    cmd = mailpit_command(settings, mailpit)
    marker = settings.paths.pids / "mailpit.fingerprint"
    fingerprint = hashlib.sha256(json.dumps(cmd).encode()).hexdigest()
    current = marker.exists() and marker.read_text() == fingerprint
    if current and read_pid(settings, "mailpit") is not None and _mailpit_ready(settings):
        return
    _stop_pid(settings, "mailpit")
    log(f"starting Mailpit: SMTP {LOOPBACK}:{settings.ports.mail_smtp}, web {settings.mail_api_url}")
    _spawn(settings, "mailpit", cmd, dict(os.environ), settings.paths.state)
    marker.write_text(fingerprint)
    _wait("Mailpit", lambda: _mailpit_ready(settings), 60, settings.paths.logs / "mailpit.log")


def stop_mailpit(settings: Settings) -> None:
    _stop_pid(settings, "mailpit")


def mailpit_status(settings: Settings) -> ServiceStatus:
    running = read_pid(settings, "mailpit") is not None
    detail = f"smtp {LOOPBACK}:{settings.ports.mail_smtp}, {settings.mail_api_url}"
    return ServiceStatus("mailpit", running, _mailpit_ready(settings), detail)


# --- all of it --------------------------------------------------------------------------------------


def start_all(settings: Settings) -> None:
    install.ensure_all(settings)
    start_postgres(settings)
    start_mailpit(settings)
    start_opa(settings)
    start_keycloak(settings)


def stop_all(settings: Settings) -> None:
    stop_keycloak(settings)
    stop_opa(settings)
    stop_mailpit(settings)
    stop_postgres(settings)


def status(settings: Settings) -> list[ServiceStatus]:
    pg_bin = install.postgres_bin()
    pg_up = pg_bin is not None and _pg_ready(settings, pg_bin)
    kc_pid = read_pid(settings, "keycloak")
    opa_pid = read_pid(settings, "opa")
    return [
        ServiceStatus("postgres", pg_up, pg_up, f"{LOOPBACK}:{settings.ports.postgres}"),
        ServiceStatus("keycloak", kc_pid is not None, _keycloak_ready(settings), settings.keycloak_url),
        ServiceStatus("opa", opa_pid is not None, _opa_ready(settings), _opa_detail(settings)),
        mailpit_status(settings),
    ]


def _opa_detail(settings: Settings) -> str:
    has_token = (settings.paths.secrets / opa_server.READ_TOKEN_SECRET).exists()
    revisions = opa_revisions(settings) if has_token else []
    return f"{settings.opa_url}  bundle {', '.join(revisions) or '(none reported)'}"
