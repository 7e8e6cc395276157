"""Pure domain: states, jobs, retry policy, errors, ids and clocks. No I/O, no frameworks."""
