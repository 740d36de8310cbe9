"""Review policy: per environment, each rule's state (off, info, warning, error), whether an error
finding blocks the sign-off gate, and whether a ``dataflow:ignore`` comment may suppress it.

A policy document has one format wherever it comes from (the policy page, ``--policy FILE`` in
TOML or JSON, the API), documented in docs/rules.md::

    allow_ignores = true                       # false: no inline ignore is honoured
    excluded_rules = ["prefer-robust-stmts"]   # Squawk's key: these rules are off
    [rules.ban-drop-column]
    state = "error"      # off | info | warning | error
    blocks = true        # an error finding blocks the gate (error only)
    ignorable = false    # a dataflow:ignore of this rule is refused
    [environments.production.rules.ban-drop-table]
    state = "error"

Rule ids may be Squawk's or Atlas's names (``ALIASES``). The statement policy's verdicts
(refusals, dynamic SQL, ...) are not lint rules: no policy switches them off, lowers or ignores them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from migrations_app.engines.lint import RULES_BY_ID
from migrations_app.engines.lint.ignore_rules import INVALID, UNUSED
from migrations_app.engines.lint.ignores import IgnoreDirective, assign_directives, find_directives
from migrations_app.engines.lint.statement_policy import RULES as STATEMENT_POLICY_RULES

STATES = ("off", "info", "warning", "error")
ENVIRONMENTS = ("development", "staging", "production")
PROTECTED = frozenset(r.id for r in STATEMENT_POLICY_RULES)
RULE_KEYS = {"state", "blocks", "ignorable", "pattern"}
TOP_KEYS = {"allow_ignores", "excluded_rules", "rules"}

# Squawk's and Atlas's names for our rules, so a team's configuration carries over
SQUAWK_ALIASES = {
    "prefer-timestamp-tz": "prefer-timestamptz",
    "adding-serial-primary-key-field": "prefer-identity",
    "require-lock-timeout": "require-timeout-settings",
    "require-statement-timeout": "require-timeout-settings",
}
ATLAS_ALIASES = {
    "BC101": "renaming-table", "BC102": "renaming-column", "CD101": "dropping-foreign-key",
    "DS102": "ban-drop-table", "DS103": "ban-drop-column", "MF101": "adding-unique-index",
    "MF102": "index-made-unique", "MF103": "adding-required-field", "MF104": "adding-not-nullable-field",
    "PG101": "require-concurrent-index-creation", "PG102": "require-concurrent-index-deletion",
    "PG110": "column-alignment-padding", "PG301": "changing-column-type", "PG302": "adding-field-with-default",
    "PG303": "adding-not-nullable-field", "PG304": "primary-key-implicit-not-null",
    "NM101": "naming-schema", "NM102": "naming-table", "NM103": "naming-column", "NM104": "naming-index",
    "NM105": "naming-foreign-key", "NM106": "naming-check",
}
ALIASES = {**SQUAWK_ALIASES, **ATLAS_ALIASES}


class PolicyError(ValueError):
    """The policy document is not valid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def resolve(rule_id: str) -> str:
    """Our id for ``rule_id`` (itself, or the rule a Squawk/Atlas alias names)."""
    return ALIASES.get(rule_id, ALIASES.get(rule_id.upper(), rule_id))


@dataclass(frozen=True)
class RuleSetting:
    state: str
    blocks: bool = False
    ignorable: bool = True
    options: tuple = ()

    def to_dict(self) -> dict:
        return {"state": self.state, "blocks": self.blocks, "ignorable": self.ignorable, **dict(self.options)}


def default_setting(rule_id: str) -> RuleSetting:
    rule = RULES_BY_ID[rule_id]
    return RuleSetting(rule.severity if rule.enabled_by_default else "off",
                       ignorable=rule_id not in PROTECTED)


@dataclass
class ReviewPolicy:
    environment: str = "development"
    overrides: dict[str, RuleSetting] = field(default_factory=dict)
    allow_ignores: bool = True
    source: str = "built-in default policy"

    def setting(self, rule_id: str) -> RuleSetting:
        if rule_id in PROTECTED or rule_id not in RULES_BY_ID:
            return default_setting(rule_id) if rule_id in RULES_BY_ID else RuleSetting("error", ignorable=False)
        return self.overrides.get(rule_id) or default_setting(rule_id)

    def disabled(self) -> frozenset[str]:
        """Rules not worth running: off by default and not switched on. A rule this policy switches
        off still runs, so the report can say how many findings the policy hid."""
        return frozenset(r for r in RULES_BY_ID if self.setting(r).state == "off" and r not in self.overrides)

    def rule_options(self) -> dict[str, dict]:
        return {r: dict(s.options) for r, s in self.overrides.items() if s.options}

    def may_ignore(self, rule_id: str) -> tuple[bool, str]:
        if rule_id in PROTECTED:
            return False, f"{rule_id} is a verdict of the statement policy, which no comment or policy can waive"
        if not self.allow_ignores:
            return False, f"the {self.environment} review policy honours no inline ignores"
        if not self.setting(rule_id).ignorable:
            return False, f"the {self.environment} review policy does not let {rule_id} be ignored"
        return True, ""

    def digest(self) -> str:
        """Identifies what the policy decides (not where it came from): analyses made under another
        digest no longer describe what the gate would decide."""
        body = {"environment": self.environment, "allow_ignores": self.allow_ignores,
                "rules": {r: s.to_dict() for r, s in sorted(self.overrides.items()) if s != default_setting(r)}}
        import hashlib  # OpenSSL's loader: only when a digest is asked for

        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    def effective(self) -> list[dict]:
        """Every rule with its state here and whether it differs from the default (for the policy page)."""
        return [{"rule": r, **self.setting(r).to_dict(), "default": default_setting(r).state,
                 "protected": r in PROTECTED, "changed": self.setting(r) != default_setting(r)}
                for r in sorted(RULES_BY_ID)]

    def summary(self) -> dict:
        return {"environment": self.environment, "source": self.source, "digest": self.digest(),
                "allow_ignores": self.allow_ignores,
                "overrides": {r: s.to_dict() for r, s in sorted(self.overrides.items()) if s != default_setting(r)}}


# -- the document -------------------------------------------------------------------------

def load_policy_text(text: str, *, name: str = "policy") -> dict:
    """A policy document from TOML (or JSON when it starts with ``{``). Raises ``PolicyError``."""
    import tomllib  # only when a policy file or the policy page is read

    try:
        document = json.loads(text) if text.lstrip().startswith("{") else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError([f"{name} does not parse: {exc}"]) from None
    validate_document(document)
    return document


def _section_problems(section: dict, where: str) -> list[str]:
    problems = [f"{where}: unknown key {key!r}" for key in section if key not in TOP_KEYS | {"environments"}]
    if "allow_ignores" in section and not isinstance(section["allow_ignores"], bool):
        problems.append(f"{where}: allow_ignores must be true or false")
    for rule_id in section.get("excluded_rules", []) or []:
        problems += _rule_problems(rule_id, {"state": "off"}, where)
    rules = section.get("rules", {}) or {}
    if not isinstance(rules, dict):
        return problems + [f"{where}: rules must be a table of rule ids"]
    for rule_id, spec in rules.items():
        problems += _rule_problems(rule_id, spec, where)
    return problems


def _rule_problems(rule_id, spec, where: str) -> list[str]:
    if not isinstance(rule_id, str) or resolve(rule_id) not in RULES_BY_ID:
        return [f"{where}: unknown rule {rule_id!r}"]
    ours = resolve(rule_id)
    if not isinstance(spec, dict):
        return [f"{where}: {rule_id} must be a table (state, blocks, ignorable)"]
    problems = [f"{where}: {rule_id}: unknown key {k!r}" for k in spec if k not in RULE_KEYS]
    if ours in PROTECTED:
        problems.append(f"{where}: {rule_id} is a verdict of the statement policy and cannot be configured")
    state = spec.get("state", default_setting(ours).state)
    if state not in STATES:
        problems.append(f"{where}: {rule_id}: state must be one of {', '.join(STATES)}")
    for key in ("blocks", "ignorable"):
        if key in spec and not isinstance(spec[key], bool):
            problems.append(f"{where}: {rule_id}: {key} must be true or false")
    if spec.get("blocks") and state != "error":
        problems.append(f"{where}: {rule_id}: only an error can block the gate (state is {state})")
    if "pattern" in spec:
        import re

        try:
            re.compile(spec["pattern"])
        except (re.error, TypeError) as exc:
            problems.append(f"{where}: {rule_id}: pattern is not a regular expression ({exc})")
    return problems


def validate_document(document: dict) -> None:
    if not isinstance(document, dict):
        raise PolicyError(["a policy is a table of keys"])
    problems = _section_problems(document, "policy")
    environments = document.get("environments", {}) or {}
    for env, section in environments.items():
        if env not in ENVIRONMENTS:
            problems.append(f"environments: unknown environment {env!r} (one of {', '.join(ENVIRONMENTS)})")
        elif not isinstance(section, dict) or "environments" in section:
            problems.append(f"environments.{env}: must be a table without nested environments")
        else:
            problems += _section_problems(section, f"environments.{env}")
    if problems:
        raise PolicyError(problems)


def _apply_section(overrides: dict, section: dict) -> None:
    for rule_id in section.get("excluded_rules", []) or []:
        overrides[resolve(rule_id)] = RuleSetting("off", ignorable=True)
    for rule_id, spec in (section.get("rules") or {}).items():
        ours = resolve(rule_id)
        base = overrides.get(ours) or default_setting(ours)
        options = dict(base.options)
        if "pattern" in spec:
            options["pattern"] = spec["pattern"]
        state = spec.get("state", base.state)
        overrides[ours] = RuleSetting(state, bool(spec.get("blocks", base.blocks and state == "error")),
                                      bool(spec.get("ignorable", base.ignorable)), tuple(sorted(options.items())))


def policy_for(document: dict | None, environment: str, source: str = "built-in default policy") -> ReviewPolicy:
    """The policy one environment gets from a document: the top level, then its ``environments`` section."""
    if environment not in ENVIRONMENTS:
        raise PolicyError([f"unknown environment {environment!r}"])
    document = document or {}
    validate_document(document)
    overrides: dict[str, RuleSetting] = {}
    _apply_section(overrides, document)
    section = (document.get("environments") or {}).get(environment) or {}
    _apply_section(overrides, section)
    allow = section.get("allow_ignores", document.get("allow_ignores", True))
    return ReviewPolicy(environment, overrides, bool(allow), source)


# -- applying it to findings --------------------------------------------------------------

@dataclass
class PolicyOutcome:
    findings: list
    ignored: list[dict]
    switched_off: dict[str, int]
    policy: ReviewPolicy

    @property
    def blocking(self) -> list:
        return [f for f in self.findings if f.evidence.get("blocks_gate")]

    def to_dict(self) -> dict:
        return {**self.policy.summary(), "ignored": self.ignored, "ignored_count": len(self.ignored),
                "switched_off": dict(sorted(self.switched_off.items())),
                "blocking": [{"rule": f.rule, "statement": f.statement_index + 1, "line": f.line,
                              "message": f.message} for f in self.blocking]}


def directives_of(operations) -> dict[int, list[IgnoreDirective]]:
    """Ignore comments by statement index, for a script or a list of operations (each its own text)."""
    from migrations_app.engines.statements import split_script

    if isinstance(operations, str):
        return assign_directives(find_directives(operations), split_script(operations)) \
            if "dataflow:ignore" in operations else {}
    texts = [op["sql"] if isinstance(op, dict) else op.sql for op in operations]
    if not any("dataflow:ignore" in text for text in texts):
        return {}   # the common case costs no second parse
    assigned: dict[int, list[IgnoreDirective]] = {}
    first = 0
    for text in texts:
        raws = split_script(text)
        for index, found in assign_directives(find_directives(text), raws).items():
            assigned.setdefault(first + index, []).extend(found)
        first += len(raws)
    return assigned


def apply_policy(findings: list, policy: ReviewPolicy, directives: dict[int, list[IgnoreDirective]],
                 statements) -> PolicyOutcome:
    """Findings as the policy has them: switched-off ones dropped (counted), ignored ones moved aside
    with their reason, states applied, blocking errors marked; plus a finding for every ignore
    comment that suppresses nothing."""
    wanted: dict[tuple[int, str], IgnoreDirective] = {}
    extra = []
    for index, found in directives.items():
        stmt = statements[index]
        for directive in found:
            for rule_id in directive.rules or ("",):
                ours = resolve(rule_id)
                problem = _ignore_problem(directive, rule_id, ours, policy)
                if problem:
                    extra.append(INVALID.finding(stmt, problem, directive_line=directive.line))
                else:
                    wanted[(index, ours)] = directive
    kept, ignored, off, used = [], [], {}, set()
    for finding in findings:
        setting = policy.setting(finding.rule)
        if setting.state == "off":
            off[finding.rule] = off.get(finding.rule, 0) + 1
            continue
        directive = wanted.get((finding.statement_index, finding.rule))
        if directive is not None:
            used.add((finding.statement_index, finding.rule))
            ignored.append({"rule": finding.rule, "statement": finding.statement_index + 1, "line": finding.line,
                            "message": finding.message, "reason": directive.reason,
                            "directive_line": directive.line, "severity": finding.severity})
            continue
        _set_state(finding, setting)
        kept.append(finding)
    for (index, rule_id), directive in wanted.items():
        if (index, rule_id) not in used and policy.setting(rule_id).state != "off":
            extra.append(UNUSED.finding(statements[index], f"dataflow:ignore {rule_id} matched no finding on this "
                                                           "statement", directive_line=directive.line))
    for finding in extra:
        _set_state(finding, policy.setting(finding.rule))
    kept += [f for f in extra if policy.setting(f.rule).state != "off"]
    return PolicyOutcome(kept, ignored, off, policy)


def _ignore_problem(directive: IgnoreDirective, rule_id: str, ours: str, policy: ReviewPolicy) -> str:
    if not rule_id:
        return "dataflow:ignore names no rule"
    if ours not in RULES_BY_ID:
        return f"dataflow:ignore names an unknown rule {rule_id!r}"
    if not directive.reason:
        return f"dataflow:ignore {rule_id} has no reason: a reason is required, the finding stays"
    allowed, why = policy.may_ignore(ours)
    return "" if allowed else f"dataflow:ignore {rule_id} refused: {why}"


def _set_state(finding, setting: RuleSetting) -> None:
    default = default_setting(finding.rule).state if finding.rule in RULES_BY_ID else finding.severity
    if finding.rule in PROTECTED:
        return
    if setting.state != default:
        finding.evidence["policy"] = {"state": setting.state, "default": default}
        finding.severity = setting.state
    if setting.blocks and setting.state == "error":
        finding.evidence["blocks_gate"] = True
