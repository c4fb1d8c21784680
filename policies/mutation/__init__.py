"""Mutation check of the Rego policies: single-point mutants must be killed by `opa test`.

`python -m policies.mutation` generates mutants of every non-test policy file (operators.py), runs the
real `opa` on each (runner.py) and compares the survivors with the reviewed list of equivalent mutants
(equivalent.yaml). See docs/policies.md, "Mutation check".
"""
