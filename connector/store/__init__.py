"""The store: canonical records, what sources delivered, and the engine's outbox."""
