"""`bizid sites …`: the two-site topology's commands (`bizid up --sites 2` is `bizid sites up`)."""

from __future__ import annotations

import argparse

from scripts import settings
from scripts.sites import ops
from scripts.sites.topology import SITES


def print_up(cfg: settings.Settings) -> None:
    topo = ops.topology(cfg)
    print(f"""
bizid two-site topology is up (all on loopback; TLS CA: {cfg.paths.ca_cert})
  record        {topo.record_url}   (the one address clients use; issuer {topo.issuer})""")
    for line in ops.describe(ops.status(cfg)):
        print(f"  {line}")


def _up(args: argparse.Namespace) -> int:
    cfg = settings.load()
    ops.check_site_count(args.sites)
    ops.up(cfg)
    print_up(cfg)
    return 0


def _down(args: argparse.Namespace) -> int:
    cfg = settings.load()
    if args.wipe:
        ops.wipe(cfg)
    else:
        ops.down(cfg)
    print("[bizid] two-site topology stopped" + (" and its data removed" if args.wipe else ""))
    return 0


def _status(args: argparse.Namespace) -> int:
    state = ops.status(settings.load())
    for line in ops.describe(state):
        print(line)
    return 0 if state.record_points_to is not None else 1


def _promote(args: argparse.Namespace) -> int:
    ops.promote(settings.load(), args.site)
    print(f"[bizid] {args.site} promoted; the record's primary is now {args.site}")
    return 0


def _keycloak(args: argparse.Namespace) -> int:
    cfg = settings.load()
    if args.nodes == 0:
        ops.stop_keycloak(cfg, args.site)
    else:
        ops.start_keycloak(cfg, args.site, args.nodes)
    print(f"[bizid] {args.site}: {args.nodes} Keycloak node(s)")
    return 0


def _fence(args: argparse.Namespace) -> int:
    ops.fence(settings.load(), args.site)
    print(f"[bizid] {args.site} fenced (Keycloak and database stopped, out of the record)")
    return 0


def _rebuild(args: argparse.Namespace) -> int:
    ops.rebuild_as_standby(settings.load(), args.site, args.primary)
    print(f"[bizid] {args.site} rebuilt as a standby of {args.primary}")
    return 0


def site_count(value: str) -> int:
    """`--sites N` parsed as a number; a wrong number is refused by `ops.check_site_count` with the reason."""
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sites takes a number of sites (2), not {value!r}") from None


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("sites", help="the two-site topology (Tokyo primary, Osaka standby, the record)")
    cmds = parser.add_subparsers(dest="sites_command", required=True)
    up = cmds.add_parser("up", help="start Tokyo, Osaka and the failover record; apply the realm")
    up.add_argument("--sites", type=site_count, default=ops.SITE_COUNT, help="number of sites (only 2)")
    up.set_defaults(func=_up)
    down = cmds.add_parser("down", help="stop every process of the topology")
    down.add_argument("--wipe", action="store_true", help="also remove its databases and state")
    down.set_defaults(func=_down)
    cmds.add_parser("status", help="roles, replication lag, Keycloak nodes, the record").set_defaults(
        func=_status
    )
    promote = cmds.add_parser("promote", help="promote a site's standby and make it the record's primary")
    promote.add_argument("site", choices=SITES)
    promote.set_defaults(func=_promote)
    kc = cmds.add_parser("keycloak", help="run N Keycloak nodes at a site (0 stops them)")
    kc.add_argument("site", choices=SITES)
    kc.add_argument("nodes", type=int, choices=(0, 1, 2))
    kc.set_defaults(func=_keycloak)
    fence = cmds.add_parser("fence", help="stop an old primary and drop it from the record")
    fence.add_argument("site", choices=SITES)
    fence.set_defaults(func=_fence)
    rebuild = cmds.add_parser("rebuild", help="rebuild a site as a standby of the primary (pg_basebackup)")
    rebuild.add_argument("site", choices=SITES)
    rebuild.add_argument("--from", dest="primary", choices=SITES, required=True)
    rebuild.set_defaults(func=_rebuild)
