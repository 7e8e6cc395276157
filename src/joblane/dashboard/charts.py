"""Throughput charts as inline SVG (no chart library, no script): one stacked bar per bucket,
completed below, failed on top, a title per bar for the exact numbers."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from joblane.core.overview import Throughput
from joblane.dashboard.render import when

WIDTH = 480
HEIGHT = 120
PAD_BOTTOM = 16
GAP = 2


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    width: float
    completed_h: float
    failed_h: float
    title: str


def bars(series: Throughput) -> list[Bar]:
    count = max(1, len(series.buckets))
    peak = max((b.finished for b in series.buckets), default=0) or 1
    width = WIDTH / count
    usable = HEIGHT - PAD_BOTTOM
    out = []
    for i, bucket in enumerate(series.buckets):
        title = f"{when(bucket.start)}: {bucket.completed} completed, {bucket.failed} failed"
        out.append(
            Bar(
                x=i * width + GAP / 2,
                width=max(1.0, width - GAP),
                completed_h=usable * bucket.completed / peak,
                failed_h=usable * bucket.failed / peak,
                title=title,
            )
        )
    return out


def throughput_svg(series: Throughput, label: str) -> Markup:
    base = HEIGHT - PAD_BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        f'<line class="axis" x1="0" y1="{base}" x2="{WIDTH}" y2="{base}"/>',
    ]
    for bar in bars(series):
        top = base - bar.completed_h
        parts.append(f"<g><title>{escape(bar.title)}</title>")
        if bar.completed_h:
            parts.append(
                f'<rect class="ok" x="{bar.x:.1f}" y="{top:.1f}" '
                f'width="{bar.width:.1f}" height="{bar.completed_h:.1f}"/>'
            )
        if bar.failed_h:
            parts.append(
                f'<rect class="bad" x="{bar.x:.1f}" y="{top - bar.failed_h:.1f}" '
                f'width="{bar.width:.1f}" height="{bar.failed_h:.1f}"/>'
            )
        parts.append("</g>")
    first = series.buckets[0].start if series.buckets else None
    parts.append(f'<text x="0" y="{HEIGHT - 2}">{escape(when(first))}</text>')
    parts.append(f'<text x="{WIDTH}" y="{HEIGHT - 2}" text-anchor="end">now</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
