"""Findings about a statement's rollback SQL, raised by ``rollback.review`` (which parses and
scores the rollback); listed here so their problem and solution are documented like every rule."""

from migrations_app.engines.lint.base import Rule

TOUCHES_OTHER = Rule(
    id="rollback-touches-other-objects",
    severity="error",
    problem="The rollback SQL changes objects that its forward statement neither creates nor changes: running "
            "the rollback would damage something the plan never touched.",
    solution="Make the rollback undo exactly what the statement did, on the same objects.",
)
UNPARSABLE = Rule(
    id="rollback-does-not-parse",
    severity="error",
    problem="The rollback SQL does not parse, so it would fail exactly when it is needed.",
    solution="Fix the rollback SQL; run it on a staging copy (Rehearse on staging) to be sure.",
)
RULES = [TOUCHES_OTHER, UNPARSABLE]  # no checker: the rollback review applies them
