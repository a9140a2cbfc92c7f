"""The data map (Swayamdipta et al. 2020) as server-side SVG, like quality/charts.py."""

from __future__ import annotations

import numpy as np
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Enough dots to see the shape; more only slows the page. A fixed sample keeps it stable.
MAX_POINTS = 3_000


def data_map_svg(
    confidence, variability, correctness, *, names=None, width=480, height=320
) -> SafeString:
    """Confidence (y) against variability (x), one dot per item, coloured by the share of
    epochs the model got the given label right: the hard-to-learn corner is bottom left.
    ``names`` (one per item, escaped here) become each dot's tooltip."""
    conf = np.asarray(confidence, dtype=np.float64)
    var = np.asarray(variability, dtype=np.float64)
    corr = np.asarray(correctness, dtype=np.float64)
    n = conf.size
    pad_l, pad_r, pad_t, pad_b = 40, 10, 10, 34
    w, h = width - pad_l - pad_r, height - pad_t - pad_b
    # Variability is a standard deviation of values in [0, 1]: at most 0.5.
    x_max = max(0.05, float(var.max()) * 1.05) if n else 0.5
    keep = np.arange(n)
    if n > MAX_POINTS:
        keep = np.sort(np.random.default_rng(0).choice(n, MAX_POINTS, replace=False))
    dots = []
    for i in keep:
        cls = "dm-right" if corr[i] >= 2 / 3 else "dm-mid" if corr[i] >= 1 / 3 else "dm-wrong"
        x = pad_l + w * var[i] / x_max
        y = pad_t + h * (1 - conf[i])
        title = f"<title>{escape(names[i])}</title>" if names is not None else ""
        dots.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" class="{cls}">{title}</circle>')
    parts = [
        f'<svg class="chart data-map" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Data map of {n} items: confidence against variability">',
        f'<rect x="{pad_l}" y="{pad_t}" width="{w}" height="{h}" class="dm-frame"/>',
        *dots,
        f'<text x="{pad_l - 4}" y="{pad_t + 8}" text-anchor="end" class="chart-axis">1</text>',
        f'<text x="{pad_l - 4}" y="{pad_t + h}" text-anchor="end" class="chart-axis">0</text>',
        f'<text x="{pad_l}" y="{height - 18}" class="chart-axis">0</text>',
        f'<text x="{pad_l + w}" y="{height - 18}" text-anchor="end" class="chart-axis">'
        f"{x_max:.2f}</text>",
        f'<text x="{pad_l + w / 2}" y="{height - 4}" text-anchor="middle" class="chart-axis">'
        "variability (std of p(label) over epochs)</text>",
        f'<text x="12" y="{pad_t + h / 2}" transform="rotate(-90 12 {pad_t + h / 2})" '
        'text-anchor="middle" class="chart-axis">confidence</text>',
        "</svg>",
    ]
    return mark_safe("".join(parts))
