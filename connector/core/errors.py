"""The errors a user can cause, each naming where to look. None of them is a crash."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    """One bad record or failed write, as shown in the summary and in --json output."""

    source: str
    entity: str
    record: str
    field: str
    message: str
    warning: bool = False  # worth knowing, but the record went through: the run stays ok

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if k != "warning"}

    def __str__(self) -> str:
        where = f"{self.source} / {self.entity} / {self.record}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class RecordError(Exception):
    """A record that cannot be taken in; it is reported and skipped, the rest goes on."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


class ConfigError(Exception):
    """The configuration or a mapping file is wrong; nothing is run. Lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class AuthenticationFailed(Exception):
    """A system refused our credentials; the message holds its answer, never the secret."""


class SourceUnavailable(Exception):
    """A whole source could not be read (file missing, server down); its records are kept as they were."""
