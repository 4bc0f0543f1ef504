"""The sync: pull (map, validate, detect changes), reconcile people, plan the desired state
into the outbox, deliver through the sinks; and the nightly scheduler. Imports the layers below
and the `sources`/`sinks` interfaces, never a concrete adapter (those are loaded by kind)."""
