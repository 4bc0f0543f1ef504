"""The leerbewijs (proof of learning): the PDF, its Open Badges 3.0 credential, the issuer's keys,
signing and verifying, revocation through a W3C Bitstring Status List, and the European Digital
Credential (`edc`: ELM 3.2, sealed as JAdES) for the Europass wallet. Imports `plumbing` and
`core`; only `revocation` also imports `store` (it records a revocation there), so sinks and
commands can use the rest."""
