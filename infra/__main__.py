"""Pulumi entry point (`main` in Pulumi.yaml): read stack config, validate it, then declare the stack.

Validation happens before the first resource is declared, so a wrong value stops `pulumi up` with a message
naming the key and nothing is created, changed or deleted."""

from __future__ import annotations

import pulumi

from infra.config import PROJECT, parse_config, read_pulumi_config, read_pulumi_secrets
from infra.stack import build_stack

cfg = pulumi.Config(PROJECT)
config = parse_config(read_pulumi_config(cfg))
for name, value in build_stack(config, read_pulumi_secrets(cfg)).items():
    pulumi.export(name, value)
