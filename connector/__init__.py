"""Switching Talent Connector: HR and learning systems in, invitations, training hours and
leerbewijzen out.

The packages are layers; each imports only from the layers below it (checked by the
import-linter contracts in pyproject.toml, run as a test):

    cli                      commands: parse, call the library, print
    web                      `serve`: the coordinator overview and the personal links' pages
    engine | reports         the sync (pull -> reconcile -> plan -> deliver) | documents made on request
    | matching               proposals: who learns where, with whom and when (`st-connector match`)
    sinks                    out: one file per target kind
    sources                  in: one file per system kind
    leerbewijs               the proof of learning: PDF, credential, issuer keys, signing, verifying
    store                    tables, migrations, the outbox and the sync lock
    plumbing                 HTTP, Microsoft Graph sign-in, files, workbooks, adapter loading, the run's context
    core                     the canonical model and glossary, configuration, mappings, iTIP events, texts
"""
