"""Leader-only upkeep: rescue jobs of dead workers, purge expired idempotency keys."""
