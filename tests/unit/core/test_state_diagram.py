"""docs/state-machine.md draws exactly the transitions of core/states.py."""

from __future__ import annotations

import re
from pathlib import Path

from joblane.core.states import TRANSITIONS, JobState

DOC = Path(__file__).resolve().parents[3] / "docs" / "state-machine.md"


def test_diagram_matches_the_transition_table() -> None:
    diagram = re.search(r"```mermaid\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert diagram is not None
    drawn = {
        (JobState(a), JobState(b))
        for a, b in re.findall(r"^\s*(\w+) --> (\w+)", diagram[1], re.MULTILINE)
        if a != "[*]" and b != "[*]"
    }
    table = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert drawn == table
