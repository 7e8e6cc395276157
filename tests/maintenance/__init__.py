"""Tests of leader-only maintenance: the lease rescuer and leader election."""
