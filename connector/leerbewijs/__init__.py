"""The leerbewijs (proof of learning): the PDF, its Open Badges 3.0 credential, the issuer's keys,
signing and verifying. Imports `plumbing` and `core` only, so sinks and commands can use it."""
