"""What each personal link asks, and the checks its answers pass before they are stored.

The evaluation questions follow the method's guide (Switching Talent, "5.8 Evaluatie en
vervolgacties"): per role a few questions as a scale from 1 (not at all) to 5 (fully) and a
few as free text. Texts are in the catalogs under "web.q.<key>".
"""

from __future__ import annotations

from dataclasses import dataclass

SCALE = (1, 2, 3, 4, 5)
MAX_TEXT = 2000  # characters of one free-text answer


@dataclass(frozen=True)
class Question:
    key: str
    kind: str  # scale | text
    required: bool = True


_PREPARATION = Question("preparation", "scale")
EVALUATION: dict[str, tuple[Question, ...]] = {
    "switcher": (Question("answered", "scale"), Question("useful", "scale"), Question("learned", "text"),
                 Question("apply", "text", False), Question("follow_up", "text", False)),
    "employer": (_PREPARATION, Question("outcome", "scale"), Question("team", "text", False), Question("follow_up", "text", False)),
    "coach": (_PREPARATION, Question("went", "scale"), Question("differently", "text", False),
              Question("coach_learned", "text", False)),
    "host": (_PREPARATION, Question("went", "scale"), Question("effect", "text", False), Question("follow_up", "text", False)),
}
REFLECTION = (Question("learned", "text"), Question("next", "text", False))
# The learning action plan after the intro call (the method's intro call guide: the learning
# goals taken up again, what the learning place will show or have the switcher do, and the
# practical agreements the call ends with). The goals come first and are required.
ACTION_PLAN = (Question("goals", "text"), Question("host_shows", "text", False), Question("agreements", "text", False))
ATTENDANCE_VALUES = ("attended", "absent")


def validate(questions: tuple[Question, ...], form: dict[str, str]) -> tuple[dict[str, int | str], dict[str, str]]:
    """The answers to `questions` from a submitted form, and the problems by question key
    ("required", "scale", "too_long": message keys "web.error.<problem>"). Text is stripped;
    an empty optional text is left out. Nothing else of the form is kept."""
    values: dict[str, int | str] = {}
    problems: dict[str, str] = {}
    for question in questions:
        raw = (form.get(question.key) or "").strip()
        if not raw:
            if question.required:
                problems[question.key] = "required"
            continue
        if question.kind == "scale":
            if raw not in {str(n) for n in SCALE}:
                problems[question.key] = "scale"
            else:
                values[question.key] = int(raw)
        elif len(raw) > MAX_TEXT:
            problems[question.key] = "too_long"
        else:
            values[question.key] = raw
    return values, problems
