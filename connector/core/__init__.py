"""The vocabulary every other part speaks: the canonical model with its glossary, the
configuration, the mapping engine, iTIP events, working days, texts (gettext catalogs in
locale/, dates and numbers by Babel) and errors.
Imports nothing of the connector outside `core`."""
