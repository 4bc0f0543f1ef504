"""Documents made on request from the store: the legal training entitlement and account, the
per-organisation exports, the social balance table and the partners' fill-in template.
Imports `store`, `plumbing` and `core`; never the engine or an adapter."""
