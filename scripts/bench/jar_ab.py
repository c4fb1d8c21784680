"""Before/after of a Keycloak extension change: two builds of the bizid jar, alternated on fresh JVMs.

    .venv/bin/python -m scripts.bench.jar_ab --before OLD.jar --after NEW.jar [--rounds 3] \\
        [--warmup 300] [--signins 200] [--chunks 2]

Prepares two copies of the platform's Keycloak home (.bizid/bench-homes/{before,after}), each `kc.sh build`
with one jar and the platform's build options, then runs `--rounds` rounds in alternating order (before
after, after before, ...): each run stops Keycloak, starts it from one home with the platform's runtime
environment, makes `--warmup` sign-ins (the same JIT warm-up for both sides) and then measures `--chunks`
chunks of `--signins` with scripts.bench.signin_cpu (CPU per sign-in, per-thread split). Prints every
chunk row and, per side, the median and range of Keycloak's CPU per sign-in with and without the JIT
threads. At the end the platform's own Keycloak is started again (services.start_keycloak), so nothing
runs from a bench home afterwards. Needs a running platform with a seeded population (`bizid seed`).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import re
import shutil
import statistics
from pathlib import Path

from scripts import install, services, settings
from scripts.bench import signin_cpu

SIDES = ("before", "after")
ROW = re.compile(r"^\| (before|after) \| \d+ \| \d+ \| (\d+) \| ([\d.]+) \| ([\d.-]+) \|")


def prepare_home(cfg: settings.Settings, side: str, jar: Path) -> Path:
    """A copy of the installed Keycloak home with `jar` as its only bizid provider, built (kept from an
    earlier run when it was built with the same jar and options)."""
    source = install.ensure_keycloak(cfg)
    home = cfg.paths.state / "bench-homes" / side
    marker = home / ".bizid-bench-build"
    options = " ".join(services.KEYCLOAK_BUILD_OPTIONS).encode()
    fingerprint = hashlib.sha256(jar.read_bytes() + options).hexdigest()
    if marker.exists() and marker.read_text() == fingerprint:
        return home
    shutil.rmtree(home, ignore_errors=True)
    home.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, home, symlinks=True)
    for old in (home / "providers").glob("bizid-*.jar"):
        old.unlink()
    shutil.copyfile(jar, home / "providers" / install.EXTENSION_JAR.name)
    (home / ".bizid-build").unlink(missing_ok=True)
    install.run(
        [str(home / "bin" / "kc.sh"), "build", *services.KEYCLOAK_BUILD_OPTIONS],
        env=services.keycloak_env(cfg),
    )
    marker.write_text(fingerprint)
    return home


def start_from(cfg: settings.Settings, home: Path) -> None:
    services.stop_keycloak(cfg)
    # The platform's own spawn: same log, pid file and process group as `bizid up`'s Keycloak.
    command = [str(home / "bin" / "kc.sh"), "start", "--optimized"]
    services._spawn(cfg, "keycloak", command, services.keycloak_env(cfg), home)
    services._wait(
        "Keycloak",
        lambda: services._keycloak_ready(cfg),
        300,
        cfg.paths.logs / "keycloak.log",
    )


def measure(label: str, warmup: int, signins: int, chunks: int) -> list[str]:
    if warmup:
        with contextlib.redirect_stdout(io.StringIO()):
            signin_cpu.main(["--signins", str(warmup), "--chunks", "1", "--label", "warmup"])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        signin_cpu.main(["--signins", str(signins), "--chunks", str(chunks), "--label", label])
    print(out.getvalue(), end="", flush=True)
    return out.getvalue().splitlines()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", type=Path, required=True, help="the baseline jar")
    parser.add_argument("--after", type=Path, required=True, help="the changed jar")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=300, help="sign-ins before measuring, each run")
    parser.add_argument("--signins", type=int, default=200, help="sign-ins per measured chunk")
    parser.add_argument("--chunks", type=int, default=2, help="measured chunks per run")
    args = parser.parse_args(argv)
    for jar in (args.before, args.after):
        if not jar.is_file():
            parser.error(f"{jar}: no such jar")
    if not 1 <= args.rounds <= 10 or not 0 <= args.warmup <= 5000:
        parser.error("--rounds 1-10, --warmup 0-5000")
    cfg = settings.load()
    homes = {side: prepare_home(cfg, side, getattr(args, side)) for side in SIDES}
    figures: dict[str, list[tuple[float, float]]] = {side: [] for side in SIDES}
    try:
        for number in range(args.rounds):
            order = SIDES if number % 2 == 0 else SIDES[::-1]
            for side in order:
                print(f"# round {number + 1}: {side} (fresh JVM, {args.warmup} warm-up sign-ins)", flush=True)
                start_from(cfg, homes[side])
                for line in measure(side, args.warmup, args.signins, args.chunks):
                    match = ROW.match(line)
                    if match:
                        figures[side].append((float(match.group(3)), float(match.group(4))))
    finally:
        services.stop_keycloak(cfg)
        services.start_keycloak(cfg)
    for side in SIDES:
        total = [t for t, _ in figures[side]]
        no_jit = [n for _, n in figures[side]]
        if total:
            print(
                f"{side}: Keycloak ms CPU per sign-in median {statistics.median(total):.1f} "
                f"(range {min(total):.1f}-{max(total):.1f}), without JIT threads "
                f"{statistics.median(no_jit):.1f} ({min(no_jit):.1f}-{max(no_jit):.1f}), {len(total)} chunks"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
