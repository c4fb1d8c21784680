"""Single-point mutation operators on Rego source text.

Token-level, line-oriented mutation: the source is scanned once (strings, raw strings and comments are
told apart from code, brackets are tracked) and each operator proposes one small edit at one place.
Mutants that do not compile are discarded later by `opa check --strict`, so an operator may propose an
edit that turns out to be invalid Rego; it must never propose an edit that silently keeps the original.

Operators (names are part of the mutant id, keep them stable):
- ``cmp_flip``     a comparison flipped or negated: == <-> !=, < -> <= / >=, <= -> < / >, ...
- ``delete_expr``  a condition of a rule body (or of a one-line rule) replaced by ``true``
- ``negate``       ``not`` added to a condition, or removed from one
- ``const_num``    an integer literal changed by +1 and -1
- ``const_str``    a short literal string (a code or value, no whitespace) changed to another value
- ``const_bool``   true <-> false
- ``regex``        a pattern of ``regex.match``: an anchor removed, a fixed repetition widened
- ``drop_else``    one ``else`` branch of a rule removed
- ``drop_default`` a ``default`` rule removed
- ``drop_rule``    one top-level rule (one definition of it, with its METADATA block) removed
- ``every_some``   ``every x in xs { body }`` turned into ``some x in xs`` followed by the body
- ``arith``        a binary arithmetic operator swapped: + <-> -, * <-> /, % -> /
- ``builtin_swap`` a built-in swapped for its opposite: max <-> min, startswith <-> endswith,
                   upper <-> lower

Human-readable messages (strings containing whitespace) are not mutated: they document a reason, its
code is what callers branch on, and pinning every message word would make tests brittle, not stronger.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

OPERATORS = (
    "cmp_flip",
    "delete_expr",
    "negate",
    "const_num",
    "const_str",
    "const_bool",
    "regex",
    "drop_else",
    "drop_default",
    "drop_rule",
    "every_some",
    "arith",
    "builtin_swap",
)

_CMP_REPLACEMENTS: dict[str, tuple[str, ...]] = {
    "==": ("!=",),
    "!=": ("==",),
    "<": ("<=", ">="),
    "<=": ("<", ">"),
    ">": (">=", "<="),
    ">=": (">", "<"),
}
_CMP = re.compile(r"==|!=|<=|>=|<|>")
_NUM = re.compile(r"(?<![\w.])\d+(?![\w.])")
_BOOL = re.compile(r"\b(true|false)\b")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGN = re.compile(r":=")
_REPEAT = re.compile(r"\{(\d+)\}")
# A binary arithmetic operator as `opa fmt` writes it (spaces around it); `|` and `&` are left alone
# (`|` also separates a comprehension's head from its body).
_ARITH = re.compile(r"(?<= )[-+*/%](?= )")
_ARITH_REPLACEMENTS = {"+": "-", "-": "+", "*": "/", "/": "*", "%": "/"}
_BUILTIN = re.compile(r"(?<![\w.])(max|min|startswith|endswith|upper|lower)(?=\()")
_BUILTIN_SWAPS = {
    "max": "min",
    "min": "max",
    "startswith": "endswith",
    "endswith": "startswith",
    "upper": "lower",
    "lower": "upper",
}
_EVERY = re.compile(r"^(\s*)every\s+(.+?)\s*\{\s*$")


@dataclass(frozen=True)
class Mutant:
    """One mutated version of one file; `mutant_id` is stable across edits elsewhere in the file."""

    path: str  # relative to the policy root, e.g. "access/access.rego"
    line: int  # 1-based line of the edit, for the report only (never part of the id)
    rule: str
    operator: str
    original: str  # the original line, stripped
    mutated: str  # the mutated line(s), stripped ("" when the line was removed)
    source: str = field(repr=False)  # the whole mutated file
    mutant_id: str = ""

    @property
    def package(self) -> str:
        """The policy folder the file belongs to (access, release, ...)."""
        return self.path.split("/")[0] if "/" in self.path else self.path


@dataclass(frozen=True)
class Segment:
    """A piece of one line: code, a string literal (with its quotes) or a comment."""

    kind: str  # "code" | "string" | "comment"
    start: int
    text: str


@dataclass
class LineInfo:
    """What the scanner knows about one source line."""

    number: int  # 1-based
    text: str
    segments: list[Segment]
    depth_before: int
    depth_after: int
    min_depth: int  # lowest depth reached within the line
    body_before: bool  # the innermost open bracket at line start is a rule/every body `{`
    rule: str  # head name of the enclosing top-level statement


def _split_line(text: str, in_raw: bool) -> tuple[list[Segment], bool]:
    """Split a line into code / string / comment segments; `in_raw` carries a raw string across lines."""
    segments: list[Segment] = []
    i = 0
    start = 0
    kind = "string" if in_raw else "code"
    quote = "`" if in_raw else ""
    while i < len(text):
        ch = text[i]
        if kind == "code":
            if ch == "#":
                if i > start:
                    segments.append(Segment("code", start, text[start:i]))
                segments.append(Segment("comment", i, text[i:]))
                return segments, False
            if ch in '"`':
                if i > start:
                    segments.append(Segment("code", start, text[start:i]))
                kind, quote, start = "string", ch, i
            i += 1
            continue
        if quote == '"' and ch == "\\":
            i += 2
            continue
        if ch == quote:
            segments.append(Segment("string", start, text[start : i + 1]))
            kind, quote, start = "code", "", i + 1
        i += 1
    if start < len(text):
        segments.append(Segment(kind, start, text[start:]))
    return segments, kind == "string" and quote == "`"


def _code(info: LineInfo) -> str:
    """The line without its comment and with every string literal's content blanked (same columns)."""
    parts: list[str] = []
    for seg in info.segments:
        if seg.kind == "comment":
            break
        parts.append(
            seg.text if seg.kind == "code" else seg.text[0] + "s" * (len(seg.text) - 2) + seg.text[-1]
        )
    return "".join(parts).rstrip()


def _rule_label(text: str, segments: list[Segment]) -> str:
    """The head of a top-level statement, e.g. `denials contains _reason("revoked", msg)` or `_weight(i)`."""
    code = _code(LineInfo(0, text, segments, 0, 0, 0, False, ""))
    cut = len(code)
    for marker in (" if ", " if{", " := ", " = "):
        at = code.find(marker)
        if 0 <= at < cut:
            cut = at
    if code.endswith(" if"):
        cut = min(cut, len(code) - 3)
    label = _normalise(text[:cut])
    return label if len(label) <= 90 else label[:87] + "..."


def scan(source: str) -> list[LineInfo]:
    """Scan a Rego file into lines with bracket depth, body context and the enclosing rule's name."""
    lines = source.split("\n")
    infos: list[LineInfo] = []
    stack: list[bool] = []  # True for a body brace
    in_raw = False
    rule = ""
    for n, text in enumerate(lines, start=1):
        segments, next_raw = _split_line(text, in_raw)
        depth_before = len(stack)
        body_before = bool(stack) and stack[-1]
        stripped = text.strip()
        starts_statement = depth_before == 0 and not in_raw and _IDENT.match(stripped) is not None
        if starts_statement and not stripped.startswith(("package ", "import ")):
            rule = _rule_label(text, segments)
        min_depth = depth_before
        for seg in segments:
            if seg.kind != "code":
                continue
            for pos, ch in enumerate(seg.text):
                if ch in "([{":
                    before = (text[: seg.start + pos]).rstrip()
                    is_body = ch == "{" and (
                        before.endswith(" if")
                        or before.endswith("else")
                        or stripped.startswith("every ")
                        or before.endswith(" contains")
                    )
                    stack.append(is_body)
                elif ch in ")]}" and stack:
                    stack.pop()
                    min_depth = min(min_depth, len(stack))
        infos.append(LineInfo(n, text, segments, depth_before, len(stack), min_depth, body_before, rule))
        in_raw = next_raw
    return infos


def _is_body_expression(info: LineInfo) -> bool:
    """A whole condition on one line, directly inside a rule body (not a `some`, an assignment, ...)."""
    stripped = info.text.strip()
    if not info.body_before or info.depth_after != info.depth_before or info.min_depth < info.depth_before:
        return False
    if not stripped or stripped.startswith(("#", "}", "some ", "every ")) or stripped.endswith(","):
        return False
    code = _code(info)
    return _ASSIGN.search(code) is None and not code.strip().startswith("true")


def _one_line_condition(info: LineInfo) -> int | None:
    """Column where the condition of a top-level one-line rule `head if cond` starts, if it is one."""
    if info.depth_before != 0 or info.depth_after != 0 or info.text.startswith(("default", "#", "import")):
        return None
    code = _code(info)
    if code.rstrip().endswith("{"):
        return None
    idx = code.rfind(" if ")
    return None if idx < 0 else idx + len(" if ")


def _replace(lines: list[str], index: int, new_line: str) -> str:
    copy = list(lines)
    copy[index] = new_line
    return "\n".join(copy)


def _blank(lines: list[str], indexes: range) -> str:
    """The source with these lines emptied (kept as blank lines, so later line numbers do not move)."""
    copy = list(lines)
    for k in indexes:
        copy[k] = ""
    return "\n".join(copy)


def _normalise(text: str) -> str:
    return " ".join(text.split())


def generate(path: str, source: str) -> list[Mutant]:
    """Every single-point mutant of one Rego file, with stable ids (see `mutant_id`)."""
    infos = scan(source)
    lines = source.split("\n")
    raw: list[tuple[LineInfo, str, str, str]] = []  # (line, operator, mutated line text, whole source)

    def add(info: LineInfo, operator: str, new_line: str) -> None:
        if new_line != info.text:
            raw.append((info, operator, new_line, _replace(lines, info.number - 1, new_line)))

    for idx, info in enumerate(infos):
        if info.text.lstrip().startswith("#") or info.text.startswith(("package ", "import ")):
            continue
        text = info.text
        _token_mutants(info, add)
        if _is_body_expression(info):
            indent = text[: len(text) - len(text.lstrip())]
            body = text.strip()
            add(info, "delete_expr", indent + "true")
            add(info, "negate", indent + body[4:] if body.startswith("not ") else indent + "not " + body)
        cond = _one_line_condition(info)
        if cond is not None:
            condition = text[cond:]
            add(info, "delete_expr", text[:cond] + "true")
            if condition.startswith("not "):
                add(info, "negate", text[:cond] + condition[4:])
            else:
                add(info, "negate", text[:cond] + "not " + condition)
        stripped = text.strip()
        if info.depth_before == 0 and stripped.startswith("default "):
            end = idx
            while infos[end].depth_after != 0 and end + 1 < len(infos):
                end += 1
            raw.append((info, "drop_default", "", _blank(lines, range(idx, end + 1))))
        if stripped.startswith("}") and re.match(r"\}\s*else\b", stripped) and info.depth_before == 1:
            if info.depth_after == 0:  # `} else := value` closes the rule
                raw.append((info, "drop_else", "}", _replace(lines, idx, "}")))
            else:
                end = idx + 1
                while end < len(infos) and not (infos[end].depth_before == 1 and infos[end].min_depth == 0):
                    end += 1
                raw.append((info, "drop_else", "", _blank(lines, range(idx, end))))
        if _starts_rule(info):
            first = idx
            while first > 0 and infos[first - 1].text.lstrip().startswith("#"):
                first -= 1  # its METADATA / comment block goes with it
            end = idx
            while infos[end].depth_after != 0 and end + 1 < len(infos):
                end += 1
            raw.append((info, "drop_rule", "", _blank(lines, range(first, end + 1))))
        every = _EVERY.match(text) if info.body_before and _code(info).endswith("{") else None
        if every is not None:
            close = idx + 1
            while close < len(infos) and infos[close].depth_after != info.depth_before:
                close += 1
            if close < len(infos) and infos[close].text.strip() == "}":
                new_line = f"{every.group(1)}some {every.group(2)}"
                copy = list(lines)
                copy[idx], copy[close] = new_line, ""
                raw.append((info, "every_some", new_line, "\n".join(copy)))
    return _with_ids(path, raw)


def _starts_rule(info: LineInfo) -> bool:
    """The first line of a top-level rule definition (not package, import, default or a comment)."""
    text = info.text
    if info.depth_before != 0 or _IDENT.match(text) is None:
        return False
    return not text.startswith(("package ", "import ", "default "))


AddMutant = Callable[[LineInfo, str, str], None]


def _token_mutants(info: LineInfo, add: AddMutant) -> None:
    """Operators that change one token of the line: comparisons, constants, regex patterns."""
    text = info.text
    for k, seg in enumerate(info.segments):
        if seg.kind == "code":
            for m in _CMP.finditer(seg.text):
                op = m.group(0)
                at = seg.start + m.start()
                for new in _CMP_REPLACEMENTS[op]:
                    add(info, "cmp_flip", text[:at] + new + text[at + len(op) :])
            for m in _NUM.finditer(seg.text):
                at = seg.start + m.start()
                value = int(m.group(0))
                for new_value in (value + 1, value - 1):
                    add(info, "const_num", text[:at] + str(new_value) + text[at + len(m.group(0)) :])
            for m in _BOOL.finditer(seg.text):
                at = seg.start + m.start()
                new = "false" if m.group(0) == "true" else "true"
                add(info, "const_bool", text[:at] + new + text[at + len(m.group(0)) :])
            for m in _ARITH.finditer(seg.text):
                at = seg.start + m.start()
                add(info, "arith", text[:at] + _ARITH_REPLACEMENTS[m.group(0)] + text[at + 1 :])
            for m in _BUILTIN.finditer(seg.text):
                at = seg.start + m.start()
                new = _BUILTIN_SWAPS[m.group(0)]
                add(info, "builtin_swap", text[:at] + new + text[at + len(m.group(0)) :])
        elif seg.kind == "string":
            before = "".join(s.text for s in info.segments[:k] if s.kind == "code").rstrip()
            end = seg.start + len(seg.text)
            if before.endswith("regex.match("):
                for new in regex_mutants(seg.text):
                    add(info, "regex", text[: seg.start] + new + text[end:])
            elif seg.text.startswith('"') and not any(c.isspace() for c in seg.text):
                inner = seg.text[1:-1]
                add(info, "const_str", text[: seg.start] + f'"{inner}_mutant"' + text[end:])


def regex_mutants(literal: str) -> list[str]:
    """Weaker patterns for a regex literal (with its quotes): anchors dropped, `{n}` widened to `{n,}`."""
    quote, body = literal[0], literal[1:-1]
    out: list[str] = []
    if body.startswith("^"):
        out.append(quote + body[1:] + quote)
    if body.endswith("$"):
        out.append(quote + body[:-1] + quote)
    for m in _REPEAT.finditer(body):
        out.append(quote + body[: m.start()] + "{" + m.group(1) + ",}" + body[m.end() :] + quote)
    return out


def _with_ids(path: str, raw: list[tuple[LineInfo, str, str, str]]) -> list[Mutant]:
    seen: dict[str, int] = {}
    mutants: list[Mutant] = []
    for info, operator, new_line, source in raw:
        original = _normalise(info.text)
        mutated = _normalise(new_line)
        base = f"{path}::{info.rule}::{operator}::{original} => {mutated}"
        seen[base] = seen.get(base, 0) + 1
        mutant_id = base if seen[base] == 1 else f"{base} #{seen[base]}"
        mutants.append(Mutant(path, info.number, info.rule, operator, original, mutated, source, mutant_id))
    return mutants
