"""A horizontal bar chart as inline SVG, for the monthly report (no plotting library needed)."""

from __future__ import annotations

import html


def bar_chart(title: str, bars: dict[str, int], width: int = 640) -> str:
    """One bar per label, the count written at its end; an empty `bars` says "no data"."""
    if not bars:
        return f"<p>{html.escape(title)}: no data</p>"
    row, left, top = 22, 200, 28
    height = top + row * len(bars) + 10
    peak = max(bars.values()) or 1
    plot = width - left - 60
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif"'
        f' font-size="12" role="img" aria-label="{html.escape(title)}">',
        f'<text x="4" y="16" font-weight="bold">{html.escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(bars.items()):
        y = top + i * row
        w = round(value / peak * plot)
        out.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">{html.escape(label)}</text>')
        out.append(f'<rect x="{left}" y="{y + 2}" width="{w}" height="{row - 6}" fill="#1f77b4"/>')
        out.append(f'<text x="{left + w + 4}" y="{y + 14}">{value}</text>')
    out.append("</svg>")
    return "\n".join(out)
