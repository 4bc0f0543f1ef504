"""Matching and planning: propose who learns where, with whom and when.

Glossary (the words of this package; the method's words are in connector/core/model.py)

POOL          The open learning questions to match: those of the cohort sheet that have no
              exchange yet (or only cancelled ones), plus candidates from other origins (the
              training plans of issue #13 join through `pool.extra_questions`).
CANDIDATE     One (learning question, learning place, coach) triple that every HARD
              CONSTRAINT allows. Candidates are the only arcs the solver sees.
HARD          A rule a proposal never breaks (own employer, competitor, excluded department,
CONSTRAINT    shared language, travel distance, hosting weekdays, capacity). Each one says
              which candidates it removed, so an unmatched question can be explained.
CRITERION     A soft score in [0, 1] per candidate (content, preference, reciprocity,
              sectors, distance, size, staff); the candidate's SCORE is the weighted sum with
              the weights of `[matching.weights]`.
FIXED         Exchanges the partner already confirmed (in the cohort sheet, or marked
              confirmed in the last proposals workbook): they stay as they are and use up
              capacity; only open questions are matched again, so a re-run is stable.
PROPOSAL      A candidate the optimal assignment chose, with suggested dates (an intro call
              and the exchange days). Proposals are not sessions: `match --apply` carries the
              ones the partner confirmed into the cohort's exchanges and sessions sheets.

Layer: beside engine and reports; imports store (people), plumbing (tables, workbooks, the
Graph client) and core, never an adapter: the cohort sheet is read through the cohort source's
mapping and plumbing.tabular. cli.py calls `service`.

Flow: inputs.read_cohort (sheet + store) -> constraints.candidates -> scoring.score ->
solver.assign (min-cost flow: the optimum, never greedy) -> dates.suggest ->
proposals.write_workbook / as_json; apply.apply_confirmed for `match --apply`.
"""
