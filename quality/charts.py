"""Small server-side SVG charts: no JavaScript, no CDN, readable offline and in tests."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from quality.selectors import trust_from_counts


def accuracy_trend_svg(
    scores: list[float], *, warn: float, suspend: float, width: int = 560, height: int = 160
) -> SafeString:
    """Running gold accuracy (posterior mean) with its 90% band and the two thresholds."""
    pad_l, pad_r, pad_t, pad_b = 34, 8, 8, 20
    w, h = width - pad_l - pad_r, height - pad_t - pad_b
    if not scores:
        return mark_safe(
            f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="No check '
            f'questions answered yet"><text x="{width / 2}" y="{height / 2}" text-anchor="middle" '
            f'class="chart-empty">No check questions answered yet</text></svg>'
        )
    points, total = [], 0.0
    for n, score in enumerate(scores, start=1):
        total += score
        points.append(trust_from_counts(total, n))
    n = len(points)

    def x(i: int) -> float:
        return pad_l + (w * i / max(n - 1, 1))

    def y(v: float) -> float:
        return pad_t + h * (1 - v)

    band = " ".join(f"{x(i):.1f},{y(p.upper):.1f}" for i, p in enumerate(points))
    band += " " + " ".join(
        f"{x(i):.1f},{y(p.lower):.1f}" for i, p in reversed(list(enumerate(points)))
    )
    line = " ".join(f"{x(i):.1f},{y(p.mean):.1f}" for i, p in enumerate(points))
    last = points[-1]
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Gold accuracy {last.mean:.0%} after {n} check questions">',
        f'<polygon points="{band}" class="chart-band"/>',
        _hline(y(warn), pad_l, pad_l + w, "chart-warn", f"warn {warn:.0%}"),
        _hline(y(suspend), pad_l, pad_l + w, "chart-suspend", f"suspend {suspend:.0%}"),
        f'<polyline points="{line}" class="chart-line"/>',
        f'<text x="{pad_l - 4}" y="{y(1) + 4:.1f}" text-anchor="end" class="chart-axis">100%</text>',
        f'<text x="{pad_l - 4}" y="{y(0):.1f}" text-anchor="end" class="chart-axis">0%</text>',
        f'<text x="{pad_l + w}" y="{height - 4}" text-anchor="end" class="chart-axis">{n} answers</text>',
        "</svg>",
    ]
    return mark_safe("".join(parts))


def _hline(y: float, x0: float, x1: float, cls: str, label: str) -> str:
    return (
        f'<line x1="{x0}" x2="{x1}" y1="{y:.1f}" y2="{y:.1f}" class="{cls}"/>'
        f'<text x="{x1 - 2}" y="{y - 3:.1f}" text-anchor="end" class="chart-axis">{escape(label)}</text>'
    )
