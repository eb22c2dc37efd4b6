"""Bar charts as inline SVG, drawn on the server: no JavaScript, no chart library to ship.

Each chart is a small function from counts to an SVG string; the page embeds it as is (the
labels are escaped here).
"""

from __future__ import annotations

from html import escape

__all__ = ["PALETTE", "bars", "stacked_bars"]

PALETTE = (
    "#c0392b", "#2980b9", "#27ae60", "#8e44ad", "#d35400", "#16a085", "#7f8c8d",
    "#f39c12", "#2c3e50", "#e84393",
)  # fmt: skip


def stacked_bars(
    days: list[str], series: dict[str, list[int]], *, labels: dict[str, str] | None = None,
    width: int = 720, height: int = 240, empty: str = "",
) -> str:  # fmt: skip
    """An SVG of one stacked bar per day; ``series`` maps a name to its count per day.

    Examples
    --------
    >>> svg = stacked_bars(["12-01", "12-02"], {"a": [1, 2], "b": [0, 3]})
    >>> svg.startswith("<svg") and svg.count("<rect") >= 3
    True
    """
    labels = labels or {}
    totals = [sum(values[i] for values in series.values()) for i in range(len(days))]
    peak = max(totals, default=0)
    left, bottom, top, legend_w = 48, 28, 12, 200
    plot_w, plot_h = width - left - legend_w, height - bottom - top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" class="chart" font-size="11">'
    ]
    if peak == 0:
        parts.append(
            f'<text x="{left + plot_w / 2}" y="{height / 2}" text-anchor="middle" '
            f'fill="#777">{escape(empty)}</text></svg>'
        )
        return "".join(parts)
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#999"/>'
    )
    for tick in (0, peak // 2, peak):
        y = top + plot_h - plot_h * tick / peak
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    slot = plot_w / max(len(days), 1)
    bar = max(slot * 0.7, 2)
    for i, day in enumerate(days):
        x = left + i * slot + (slot - bar) / 2
        y = top + plot_h
        for j, (name, values) in enumerate(series.items()):
            n = values[i]
            if n <= 0:
                continue
            h = plot_h * n / peak
            y -= h
            title = escape(f"{day} {labels.get(name, name)}: {n}")
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[j % len(PALETTE)]}"><title>{title}</title></rect>'
            )
        if len(days) <= 16 or i % max(len(days) // 8, 1) == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - 10}" text-anchor="middle">'
                f"{escape(day)}</text>"
            )
    for j, name in enumerate(series):
        y = top + 14 * j
        parts.append(
            f'<rect x="{width - legend_w + 10}" y="{y}" width="10" height="10" '
            f'fill="{PALETTE[j % len(PALETTE)]}"/>'
            f'<text x="{width - legend_w + 26}" y="{y + 9}">'
            f"{escape(labels.get(name, name))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def bars(
    counts: dict[str, int], *, labels: dict[str, str] | None = None, width: int = 720,
    row_h: int = 22, empty: str = "",
) -> str:  # fmt: skip
    """An SVG of one horizontal bar per name, largest first (e.g. cases by fraud type).

    Examples
    --------
    >>> svg = bars({"sim_bank": 3, "wangiri": 1})
    >>> svg.count("<rect"), "sim_bank" in svg
    (2, True)
    >>> "nothing" in bars({}, empty="nothing")
    True
    """
    labels = labels or {}
    items = sorted(((n, k) for k, n in counts.items() if n > 0), reverse=True)
    left, right = 180, 60
    height = max(row_h * len(items) + 8, 40)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" class="chart" font-size="11">'
    ]
    if not items:
        parts.append(
            f'<text x="{width / 2}" y="24" text-anchor="middle" fill="#777">{escape(empty)}'
            "</text></svg>"
        )
        return "".join(parts)
    peak = items[0][0]
    plot_w = width - left - right
    for i, (n, name) in enumerate(items):
        y = 4 + i * row_h
        w = max(plot_w * n / peak, 1)
        label = escape(labels.get(name, name))
        parts.append(
            f'<text x="{left - 6}" y="{y + row_h * 0.65:.1f}" text-anchor="end">{label}</text>'
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{row_h - 6}" '
            f'fill="{PALETTE[i % len(PALETTE)]}"><title>{label}: {n}</title></rect>'
            f'<text x="{left + w + 4:.1f}" y="{y + row_h * 0.65:.1f}">{n}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
