"""What adapters and the engine share to talk to the world: the one HTTP client with its
retries and paginators, Microsoft Graph sign-in, atomic files, workbooks, adapter loading and
the run's context (Runtime). Imports only `core`."""
