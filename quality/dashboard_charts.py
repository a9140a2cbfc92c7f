"""Server-side SVG charts for the dashboards, in the style of quality.charts.

Pure Python strings: every label is escaped, nothing needs JavaScript or a CDN, and every
figure drawn here is also served as JSON by quality.dashboard_api.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def _empty(width: int, height: int, text: str) -> SafeString:
    return mark_safe(
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(text)}">'
        f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" class="chart-empty">'
        f"{escape(text)}</text></svg>"
    )


def bars_svg(
    pairs: list[tuple[str, float]],
    *,
    label: str,
    width: int = 560,
    height: int = 150,
    every: int = 1,
    cls: str = "chart-bar",
) -> SafeString:
    """Vertical bars, one per (name, value); every ``every``-th name is written below."""
    if not pairs:
        return _empty(width, height, f"No {label} yet")
    pad_l, pad_r, pad_t, pad_b = 34, 6, 10, 20
    w, h = width - pad_l - pad_r, height - pad_t - pad_b
    top = max(v for _, v in pairs) or 1
    step = w / len(pairs)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}: {len(pairs)} bars, highest {top:g}">'
    ]
    for i, (name, v) in enumerate(pairs):
        bh = h * v / top
        x = pad_l + i * step
        parts.append(
            f'<rect x="{x + step * 0.1:.1f}" y="{pad_t + h - bh:.1f}" width="{step * 0.8:.1f}" '
            f'height="{bh:.1f}" class="{cls}"><title>{escape(name)}: {v:g}</title></rect>'
        )
        if i % every == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 6}" text-anchor="middle" '
                f'class="chart-axis">{escape(name)}</text>'
            )
    parts.append(
        f'<text x="{pad_l - 4}" y="{pad_t + 8}" text-anchor="end" class="chart-axis">{top:g}</text>'
        f'<text x="{pad_l - 4}" y="{pad_t + h}" text-anchor="end" class="chart-axis">0</text>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def hbars_svg(pairs: list[tuple[str, float]], *, label: str, width: int = 560) -> SafeString:
    """Horizontal bars with names on the left: a label distribution."""
    if not pairs:
        return _empty(width, 60, f"No {label} yet")
    row, pad_l = 22, 130
    height = row * len(pairs) + 8
    total = sum(v for _, v in pairs) or 1
    top = max(v for _, v in pairs) or 1
    w = width - pad_l - 70
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">'
    ]
    for i, (name, v) in enumerate(pairs):
        y = 4 + i * row
        parts.append(
            f'<text x="{pad_l - 6}" y="{y + 14}" text-anchor="end" class="chart-label">'
            f"{escape(str(name)[:22])}</text>"
            f'<rect x="{pad_l}" y="{y + 3}" width="{w * v / top:.1f}" height="{row - 7}" '
            f'class="chart-bar"><title>{escape(name)}: {v:g}</title></rect>'
            f'<text x="{pad_l + w * v / top + 4:.1f}" y="{y + 14}" class="chart-axis">'
            f"{v:g} ({v / total:.0%})</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def histogram_svg(
    counts: list[int],
    names: list[str],
    *,
    label: str,
    overlay: list[int] | None = None,
    overlay_label: str = "",
    width: int = 560,
    height: int = 150,
) -> SafeString:
    """A histogram as shares of its total; ``overlay`` (another histogram on the same bins)
    is drawn as an outline so two distributions can be compared."""
    if not counts or not sum(counts):
        return _empty(width, height, f"No {label} yet")
    pad_l, pad_r, pad_t, pad_b = 34, 6, 18, 20
    w, h = width - pad_l - pad_r, height - pad_t - pad_b
    share = [c / sum(counts) for c in counts]
    other = [c / sum(overlay) for c in overlay] if overlay and sum(overlay) else None
    top = max(share + (other or [])) or 1
    step = w / len(counts)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">'
    ]
    for i, s in enumerate(share):
        bh = h * s / top
        parts.append(
            f'<rect x="{pad_l + i * step + 1:.1f}" y="{pad_t + h - bh:.1f}" '
            f'width="{step - 2:.1f}" height="{bh:.1f}" class="chart-bar">'
            f"<title>{escape(names[i])}: {counts[i]} ({s:.0%})</title></rect>"
            f'<text x="{pad_l + i * step + step / 2:.1f}" y="{height - 6}" text-anchor="middle" '
            f'class="chart-axis">{escape(names[i])}</text>'
        )
    if other:
        pts = " ".join(
            f"{pad_l + i * step + step / 2:.1f},{pad_t + h - h * s / top:.1f}"
            for i, s in enumerate(other)
        )
        parts.append(f'<polyline points="{pts}" class="chart-overlay"/>')
        parts.append(
            f'<text x="{width - pad_r}" y="12" text-anchor="end" class="chart-axis">'
            f"bars: {escape(label)} · line: {escape(overlay_label)}</text>"
        )
    parts.append(
        f'<text x="{pad_l - 4}" y="{pad_t + 8}" text-anchor="end" class="chart-axis">'
        f"{top:.0%}</text></svg>"
    )
    return mark_safe("".join(parts))


def line_svg(
    points: list[tuple[str, float | None]],
    *,
    label: str,
    low: float = 0.0,
    high: float = 1.0,
    guides: tuple[tuple[float, str], ...] = ((0.667, "0.667"), (0.8, "0.8")),
    width: int = 560,
    height: int = 150,
) -> SafeString:
    """A line over named points (None leaves a gap), with dashed guide lines."""
    known = [(i, v) for i, (_, v) in enumerate(points) if v is not None]
    if not known:
        return _empty(width, height, f"No {label} yet")
    pad_l, pad_r, pad_t, pad_b = 34, 8, 8, 20
    w, h = width - pad_l - pad_r, height - pad_t - pad_b
    n = len(points)

    def x(i):
        return pad_l + (w * i / max(n - 1, 1)) if n > 1 else pad_l + w / 2

    def y(v):
        v = min(max(v, low), high)
        return pad_t + h * (1 - (v - low) / (high - low))

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}, latest {known[-1][1]:.2f}">'
    ]
    for g, name in guides:
        parts.append(
            f'<line x1="{pad_l}" x2="{pad_l + w}" y1="{y(g):.1f}" y2="{y(g):.1f}" '
            f'class="chart-warn"/><text x="{pad_l + w - 2}" y="{y(g) - 3:.1f}" text-anchor="end" '
            f'class="chart-axis">{escape(name)}</text>'
        )
    line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in known)
    parts.append(f'<polyline points="{line}" class="chart-line"/>')
    for i, v in known:
        parts.append(
            f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" class="chart-dot">'
            f"<title>{escape(points[i][0])}: {v:.3f}</title></circle>"
        )
    every = max(1, n // 8)
    for i, (name, _) in enumerate(points):
        if i % every == 0:
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - 6}" text-anchor="middle" class="chart-axis">'
                f"{escape(name)}</text>"
            )
    parts.append(
        f'<text x="{pad_l - 4}" y="{pad_t + 8}" text-anchor="end" class="chart-axis">{high:g}</text>'
        f'<text x="{pad_l - 4}" y="{pad_t + h}" text-anchor="end" class="chart-axis">{low:g}</text>'
        "</svg>"
    )
    return mark_safe("".join(parts))


def _diverging(v: float) -> str:
    """-1 red, 0 white, 1 blue (kappa)."""
    v = max(-1.0, min(1.0, v))
    if v >= 0:
        r, g, b = (int(255 - v * (255 - c)) for c in (37, 99, 235))
    else:
        r, g, b = (int(255 + v * (255 - c)) for c in (220, 38, 38))
    return f"rgb({r},{g},{b})"


def _sequential(v: float) -> str:
    """0 white, 1 indigo (probabilities)."""
    v = max(0.0, min(1.0, v))
    r, g, b = (int(255 - v * (255 - c)) for c in (67, 56, 202))
    return f"rgb({r},{g},{b})"


def heatmap_svg(
    matrix: list[list[float | None]],
    rows: list[str],
    cols: list[str],
    *,
    label: str,
    diverging: bool = False,
    row_title: str = "",
    col_title: str = "",
    cell: int = 0,
) -> SafeString:
    """A matrix as coloured cells with values written in; None cells are hatched grey."""
    if not matrix or not rows:
        return _empty(560, 80, f"No {label} yet")
    n_r, n_c = len(rows), len(cols)
    cell = cell or max(14, min(48, 520 // max(n_c, 1)))
    pad_l, pad_t = 96, 70
    width, height = pad_l + n_c * cell + 60, pad_t + n_r * cell + 8
    colour = _diverging if diverging else _sequential
    parts = [
        f'<svg class="chart heatmap" viewBox="0 0 {width} {height}" width="{width}" '
        f'role="img" aria-label="{escape(label)}">'
    ]
    for j, name in enumerate(cols):
        cx = pad_l + j * cell + cell / 2
        parts.append(
            f'<text transform="translate({cx:.1f},{pad_t - 4}) rotate(-50)" class="chart-label">'
            f"{escape(str(name)[:14])}</text>"
        )
    for i, name in enumerate(rows):
        y = pad_t + i * cell
        parts.append(
            f'<text x="{pad_l - 4}" y="{y + cell / 2 + 4:.1f}" text-anchor="end" '
            f'class="chart-label">{escape(str(name)[:14])}</text>'
        )
        for j, v in enumerate(matrix[i]):
            x = pad_l + j * cell
            if v is None:
                parts.append(
                    f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" '
                    f'class="heat-none"><title>{escape(name)} × {escape(cols[j])}: too few shared'
                    f" items</title></rect>"
                )
                continue
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" '
                f'fill="{colour(v)}"><title>{escape(name)} × {escape(cols[j])}: {v:.2f}</title>'
                "</rect>"
            )
            if cell >= 26:
                dark = abs(v) > 0.6
                parts.append(
                    f'<text x="{x + cell / 2:.1f}" y="{y + cell / 2 + 4:.1f}" text-anchor="middle" '
                    f'class="heat-value{" heat-dark" if dark else ""}">{v:.2f}</text>'
                )
    if row_title:
        parts.append(f'<text x="4" y="{pad_t - 8}" class="chart-axis">{escape(row_title)}</text>')
    if col_title:
        parts.append(f'<text x="4" y="12" class="chart-axis">{escape(col_title)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def position_svg(left: int, right: int, p_value: float | None, *, width: int = 560) -> SafeString:
    """Share of choices for the left and right screen side, with the 50% line."""
    total = left + right
    if not total:
        return _empty(width, 60, "No pairwise choices yet")
    share = left / total
    pad = 60
    w = width - 2 * pad
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} 64" role="img" '
        f'aria-label="Left {share:.0%}, right {1 - share:.0%}">',
        f'<rect x="{pad}" y="14" width="{w * share:.1f}" height="22" class="chart-bar"/>',
        f'<rect x="{pad + w * share:.1f}" y="14" width="{w * (1 - share):.1f}" height="22" '
        'class="chart-bar-alt"/>',
        f'<line x1="{pad + w / 2}" x2="{pad + w / 2}" y1="8" y2="42" class="chart-warn"/>',
        f'<text x="{pad - 6}" y="30" text-anchor="end" class="chart-label">left {left}</text>',
        f'<text x="{pad + w + 6}" y="30" class="chart-label">{right} right</text>',
        f'<text x="{pad + w / 2}" y="58" text-anchor="middle" class="chart-axis">'
        f"{share:.0%} left"
        + (f" · binomial p = {p_value:.3g}" if p_value is not None else "")
        + "</text></svg>",
    ]
    return mark_safe("".join(parts))
