"""Execution samples of a JFR recording, split by what the request threads were doing.

    .venv/bin/python -m scripts.bench.jfr_split RECORDING.jfr [--threads executor-thread] [--ms-per-signin X]

Reads `jfr print --json --events jdk.ExecutionSample` and counts each sample of the named threads once,
under the first category in `CATEGORIES` whose frame prefix appears anywhere in its stack (so a sample in
Hibernate called from an OPA lookup counts as the bizid extension). With `--ms-per-signin` (the threads'
CPU per sign-in, e.g. the `executor` column of scripts.bench.realm_ab) it turns the shares into ms per
sign-in. Also the top leaf frames outside the password hash. Prints figures; no thresholds.
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
from pathlib import Path

CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Argon2 password hash", ("org.bouncycastle.crypto.generators.Argon2",)),
    ("bizid OPA client (input JSON, call, parse)", ("org.bizid.keycloak.opa.",)),
    (
        "bizid access authenticator (lookups)",
        ("org.bizid.keycloak.access.", "org.bizid.keycloak.delegation."),
    ),
    ("bizid release mapper", ("org.bizid.keycloak.release.",)),
    ("bizid acr / level of assurance", ("org.bizid.keycloak.loa.",)),
    ("bizid refresh re-check", ("org.bizid.keycloak.session.",)),
    ("bizid brute-force protector", ("org.bizid.keycloak.bruteforce.",)),
    ("bizid archive / notify listeners", ("org.bizid.keycloak.archive.", "org.bizid.keycloak.notify.")),
    ("bizid other", ("org.bizid.",)),
    (
        "brute force (Keycloak)",
        (
            "org.keycloak.services.managers.DefaultBruteForceProtector",
            "org.keycloak.models.sessions.infinispan.InfinispanUserLoginFailure",
        ),
    ),
    ("login events stored (JPA event store)", ("org.keycloak.events.jpa.",)),
    ("event builder / other listeners", ("org.keycloak.events.",)),
    ("user profile", ("org.keycloak.userprofile.",)),
    ("FreeMarker pages", ("freemarker.", "org.keycloak.theme.")),
    (
        "token and cookie signing / verifying",
        (
            "org.keycloak.crypto.",
            "org.keycloak.jose.",
            "sun.security.rsa.",
            "javax.crypto.Mac",
            "org.keycloak.TokenVerifier",
        ),
    ),
    ("protocol mappers (Keycloak)", ("org.keycloak.protocol.oidc.mappers.",)),
    ("Hibernate / JDBC", ("org.hibernate.", "org.postgresql.", "io.agroal.")),
    ("Infinispan sessions", ("org.infinispan.", "org.keycloak.models.sessions.infinispan.")),
    ("Jackson elsewhere", ("com.fasterxml.jackson.",)),
    ("logging", ("org.jboss.logging.", "org.jboss.logmanager.")),
)
OTHER = "request glue (RESTEasy, Vert.x, Quarkus, flows, rest)"


def category(frames: list[str]) -> str:
    for name, prefixes in CATEGORIES:
        if any(f.startswith(prefixes) for f in frames):
            return name
    return OTHER


def samples(recording: Path, thread_prefix: str) -> list[list[str]]:
    out = subprocess.run(
        ["jfr", "print", "--json", "--events", "jdk.ExecutionSample", "--stack-depth", "200", str(recording)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    events = json.loads(out)["recording"]["events"]
    stacks = []
    for event in events:
        thread = (event["values"].get("sampledThread") or {}).get("javaName") or ""
        if not thread.startswith(thread_prefix):
            continue
        frames = [
            f"{f['method']['type']['name'].replace('/', '.')}.{f['method']['name']}"
            for f in (event["values"].get("stackTrace") or {}).get("frames", [])
        ]
        stacks.append(frames)
    return stacks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("recording", type=Path)
    parser.add_argument("--threads", default="executor-thread", help="thread name prefix")
    parser.add_argument("--ms-per-signin", type=float, default=0.0)
    parser.add_argument("--top", type=int, default=12, help="leaf frames outside the hash")
    args = parser.parse_args(argv)
    if not args.recording.is_file():
        parser.error(f"{args.recording}: no such recording")
    try:
        stacks = samples(args.recording, args.threads)
    except FileNotFoundError:
        parser.error("`jfr` is not on PATH (it comes with the JDK: bin/jfr)")
    except subprocess.CalledProcessError as exc:
        parser.error(f"{args.recording}: not a readable JFR recording ({(exc.stderr or '').strip()[:200]})")
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        parser.error(f"{args.recording}: unexpected `jfr print --json` output ({exc})")
    if not stacks:
        print(f"{args.recording}: no execution samples of threads {args.threads}*")
        return 1
    counts = collections.Counter(category(s) for s in stacks)
    print(f"{args.recording.name}: {len(stacks)} samples of {args.threads}*")
    print("| category | samples | share | ms / sign-in |")
    print("| --- | --- | --- | --- |")
    for name, n in counts.most_common():
        ms = f"{n / len(stacks) * args.ms_per_signin:.2f}" if args.ms_per_signin else ""
        print(f"| {name} | {n} | {n / len(stacks):.1%} | {ms} |")
    leaves = collections.Counter(s[0] for s in stacks if s and category(s) != CATEGORIES[0][0])
    print(
        "top leaf frames outside the hash: "
        + ", ".join(f"{f} ({n})" for f, n in leaves.most_common(args.top))
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
