"""The store: canonical records, what sources delivered, the engine's outbox (idempotency
keys, delivery bookkeeping), migrations and the sync lock. Imports `core` only."""
