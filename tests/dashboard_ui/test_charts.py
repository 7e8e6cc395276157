"""The throughput chart: one stacked bar per bucket, scaled to the busiest one, escaped."""

from __future__ import annotations

import re

from joblane.core.overview import Bucket, Throughput
from joblane.dashboard.charts import HEIGHT, PAD_BOTTOM, bars, throughput_svg


def test_bars_scale_to_the_busiest_bucket() -> None:
    series = Throughput((Bucket(0, 300, 10, 0), Bucket(300, 300, 5, 5), Bucket(600, 300)))
    first, second, empty = bars(series)
    usable = HEIGHT - PAD_BOTTOM
    assert first.completed_h == usable and first.failed_h == 0
    assert second.completed_h == second.failed_h == usable / 2
    assert empty.completed_h == empty.failed_h == 0
    assert "5 completed, 5 failed" in second.title


def test_svg_has_a_rect_per_nonzero_part_and_no_script() -> None:
    series = Throughput((Bucket(0, 300, 3, 1), Bucket(300, 300, 0, 0)))
    svg = str(throughput_svg(series, 'last <hour> "x"'))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert len(re.findall(r'<rect class="ok"', svg)) == 1
    assert len(re.findall(r'<rect class="bad"', svg)) == 1
    assert "<hour>" not in svg and "&lt;hour&gt;" in svg
    assert "<script" not in svg and "style=" not in svg  # CSP: no inline script or style


def test_nothing_finished_draws_no_bars() -> None:
    svg = str(throughput_svg(Throughput((Bucket(0, 300),)), "empty"))
    assert "<rect" not in svg
