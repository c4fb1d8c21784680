"""Failover drills on the local two-site topology (issue 12 §2-3).

- `steps`: each drill as data, a list of steps; a runbook step carries the local site operation that
  rehearses it and the AWS commands it stands for (docs/runbook-failover.md is generated from them).
- `runbook`: writes / checks the generated step lists in docs/runbook-failover.md.
- `ops`: the site operations a step names, run through the site operations API (`scripts.sites`).
- `recorder`: a bounded sign-in load that records every sign-in (start, end, outcome, site).
- `inventory`: the RPO inventory (what has committed, by natural key) and the account writer.
- `report`: the Markdown + HTML report with the timeline plot.
- `engine`: runs a drill's steps with the recorder and writer around them.
"""
