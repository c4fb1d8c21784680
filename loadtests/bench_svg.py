"""SVG line charts for the load report (no plotting library needed)."""

from __future__ import annotations

import html
import math


def svg_chart(
    title: str,
    series: dict[str, list[tuple[float, float]]],
    y_label: str,
    marks: list[tuple[float, str]] | None = None,
    log_y: bool = False,
    width: int = 860,
    height: int = 260,
) -> str:
    """A small line chart as inline SVG (x: seconds since start)."""
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"]
    pts = [p for s in series.values() for p in s if p[1] == p[1]]
    if not pts:
        return f"<p>{html.escape(title)}: no data</p>"

    x_max = max(p[0] for p in pts) or 1.0
    y_max = max(p[1] for p in pts) or 1.0
    left, right, top, bottom = 60, 150, 24, 30
    pw, ph = width - left - right, height - top - bottom

    def fy(v: float) -> float:
        if log_y:
            lo, hi = 1.0, math.log10(max(10.0, y_max))
            return top + ph - (math.log10(max(v, 10.0)) - lo) / (hi - lo) * ph if hi > lo else top + ph
        return top + ph - v / y_max * ph

    def fx(v: float) -> float:
        return left + v / x_max * pw

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif"'
        ' font-size="11">',
        f'<text x="{left}" y="14" font-size="13" font-weight="bold">{html.escape(title)}</text>',
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>',
        f'<text x="4" y="{top + ph / 2}" transform="rotate(-90 12 {top + ph / 2})">'
        f"{html.escape(y_label)}</text>",
    ]
    ticks = [10, 100, 1000, 10000] if log_y else [y_max * k / 4 for k in range(5)]
    for tv in ticks:
        if log_y and tv > max(10.0, y_max) * 1.01:
            continue
        y = fy(tv)
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{tv:.4g}</text>')
    for k in range(6):
        xv = x_max * k / 5
        out.append(f'<text x="{fx(xv):.1f}" y="{top + ph + 14}" text-anchor="middle">{xv:.0f} s</text>')
    for t, label in marks or []:
        out.append(f'<line x1="{fx(t):.1f}" x2="{fx(t):.1f}" y1="{top}" y2="{top + ph}" stroke="#bbb" '
                   'stroke-dasharray="3,3"/>')  # fmt: skip
        out.append(f'<text x="{fx(t) + 2:.1f}" y="{top + 10}" fill="#777">{html.escape(label)}</text>')
    for n, (name, points) in enumerate(series.items()):
        color = colors[n % len(colors)]
        good = [(x, y) for x, y in points if y == y]
        if good:
            path = " ".join(f"{fx(x):.1f},{fy(y):.1f}" for x, y in good)
            out.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{path}"/>')
        out.append(f'<rect x="{left + pw + 10}" y="{top + 14 * n}" width="10" height="3" fill="{color}"/>')
        out.append(f'<text x="{left + pw + 24}" y="{top + 14 * n + 5}">{html.escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out)
