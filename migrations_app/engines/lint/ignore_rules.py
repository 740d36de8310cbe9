"""Findings about ``dataflow:ignore`` comments, raised by the review policy (``review_policy.apply_policy``)."""

from migrations_app.engines.lint.base import Rule

INVALID = Rule(
    id="invalid-ignore",
    severity="error",
    problem="A dataflow:ignore comment that suppresses nothing: it has no reason, names a rule that does not "
            "exist, or names a rule the review policy (or the statement policy) does not let anyone ignore. "
            "The finding it meant to hide is still reported.",
    solution="Write -- dataflow:ignore <rule-id> <why it is safe here>; for a rule that may not be ignored, change "
             "the statement or ask for the policy to change.",
)
UNUSED = Rule(
    id="unused-ignore",
    severity="info",
    problem="A dataflow:ignore comment whose rule did not fire on its statement: it hides nothing today and "
            "would silently hide a real finding if the statement changes.",
    solution="Remove the comment, or move it onto the statement it was meant for.",
)
RULES = [INVALID, UNUSED]  # no checker: the review policy raises them
