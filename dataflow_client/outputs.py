"""The report in the formats CI systems read."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

LEVELS = ["LOW", "MEDIUM", "HIGH", "CRITICAL"]
SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
ANNOTATION = {"error": "error", "warning": "warning", "info": "notice"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def at_or_above(level: str | None, fail_on: str) -> bool:
    return level in LEVELS and LEVELS.index(level) >= LEVELS.index(fail_on)


def _risk(result: dict) -> tuple[str | None, int | None]:
    analysis = result.get("analysis") or {}
    return analysis.get("risk_level"), analysis.get("risk_score")


def markdown(result: dict, fail_on: str) -> str:
    plan = result.get("plan") or {}
    level, score = _risk(result)
    verdict = "fails" if at_or_above(level, fail_on) else "passes"
    lines = [f"### DataFlow migration review: {plan.get('title', '')}", "",
             f"**Risk: {level or 'not analysed'}**{f' ({score}/100)' if score is not None else ''} on target "
             f"`{plan.get('target', '')}` — {verdict} `--fail-on {fail_on}`.", ""]
    if plan.get("web_url"):
        lines += [f"Plan #{plan.get('id')}: {plan['web_url']} (status {plan.get('status')})", ""]
    if result.get("skipped_versions"):
        lines += [f"Already applied on the target (skipped): {', '.join(result['skipped_versions'])}", ""]
    findings = result.get("findings") or []
    if findings:
        lines += ["| severity | rule | where | finding |", "|---|---|---|---|"]
        for f in findings:
            where = f"`{f.get('path')}:{f.get('line')}`" if f.get("path") else f"operation {f.get('operation')}"
            message = str(f.get("message") or "").replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {f.get('severity')} | `{f.get('rule')}` | {where} | {message} |")
    else:
        lines.append("No lint findings.")
    factors = ((result.get("analysis") or {}).get("report") or {}).get("risk", {}).get("factors") or []
    if factors:
        lines += ["", "<details><summary>Risk factors</summary>", ""]
        lines += [f"- {f.get('name') or f.get('factor')}: {f.get('points')} point(s) {f.get('reason') or ''}".rstrip()
                  for f in sorted(factors, key=lambda f: -(f.get("points") or 0))]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def _location(f: dict) -> dict:
    return {"physicalLocation": {"artifactLocation": {"uri": f["path"]},
                                 "region": {"startLine": max(1, int(f.get("line") or 1))}}}


def sarif(result: dict, fail_on: str) -> dict:
    findings = result.get("findings") or []
    rules, results = {}, []
    for f in findings:
        rule_id = f.get("rule") or "finding"
        rules.setdefault(rule_id, {
            "id": rule_id, "name": rule_id,
            "shortDescription": {"text": f.get("problem") or rule_id},
            "fullDescription": {"text": f.get("problem") or f.get("message") or rule_id},
            "help": {"text": f.get("solution") or f.get("safe_sql") or "see the plan's review page"}})
        entry = {"ruleId": rule_id, "level": SARIF_LEVEL.get(f.get("severity"), "warning"),
                 "message": {"text": f.get("message") or rule_id}}
        if f.get("path"):
            entry["locations"] = [_location(f)]
        results.append(entry)
    level, score = _risk(result)
    first = next((f for f in findings if f.get("path")), None) or _first_operation(result)
    if level:
        rules.setdefault("plan-risk", {"id": "plan-risk", "name": "plan-risk",
                                       "shortDescription": {"text": "The plan's risk level from the live analysis"},
                                       "fullDescription": {"text": "Risk of the whole plan against the target's catalog"},
                                       "help": {"text": "See the plan's risk tab for its factors and mitigation"}})
        risk = {"ruleId": "plan-risk", "level": "error" if at_or_above(level, fail_on) else "note",
                "message": {"text": f"plan risk {level} ({score}/100); --fail-on {fail_on}"}}
        if first:
            risk["locations"] = [_location(first)]
        results.append(risk)
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "DataFlow Migration Review", "version": "1", "rules": list(rules.values())}},
        "results": results}]}


def _first_operation(result: dict) -> dict | None:
    for op in result.get("operations") or []:
        if op.get("source"):
            return {"path": op["source"]["path"], "line": op["source"]["line"]}
    return None


def junit(result: dict, fail_on: str) -> str:
    findings = result.get("findings") or []
    suite = ET.Element("testsuite", name="dataflow-migration-review")
    cases = 0
    failures = 0
    for op in result.get("operations") or []:
        source = op.get("source") or {}
        case = ET.SubElement(suite, "testcase", classname=source.get("path") or "plan",
                             name=f"operation {op.get('position')}: {op.get('type')} (line {source.get('line') or op.get('line')})")
        cases += 1
        errors = [f for f in findings if f.get("operation") == op.get("position") and f.get("severity") == "error"]
        if errors:
            failures += 1
            failure = ET.SubElement(case, "failure", message="; ".join(f"{f['rule']}: {f['message']}" for f in errors),
                                    type="lint")
            failure.text = "\n".join(f"{f['rule']}: {f['message']}\n  safer: {f.get('safe_sql') or '-'}" for f in errors)
    level, score = _risk(result)
    case = ET.SubElement(suite, "testcase", classname="plan", name=f"risk below {fail_on}")
    cases += 1
    if at_or_above(level, fail_on) or not level:
        failures += 1
        ET.SubElement(case, "failure", message=f"plan risk {level or 'unknown'} ({score}/100)", type="risk")
    suite.set("tests", str(cases))
    suite.set("failures", str(failures))
    root = ET.Element("testsuites", tests=str(cases), failures=str(failures))
    root.append(suite)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(result: dict, fail_on: str) -> str:
    lines = []
    for f in result.get("findings") or []:
        props = [f"title={_escape_property(str(f.get('rule')))}"]
        if f.get("path"):
            props = [f"file={_escape_property(f['path'])}", f"line={f.get('line') or 1}"] + props
        lines.append(f"::{ANNOTATION.get(f.get('severity'), 'warning')} {','.join(props)}::"
                     f"{_escape_data(str(f.get('message') or ''))}")
    level, score = _risk(result)
    if level:
        kind = "error" if at_or_above(level, fail_on) else "notice"
        lines.append(f"::{kind} title=plan risk::{_escape_data(f'plan risk {level} ({score}/100), --fail-on {fail_on}')}")
    return "\n".join(lines) + ("\n" if lines else "")


def as_json(result: dict, fail_on: str) -> str:
    return json.dumps(result, indent=2, sort_keys=True) + "\n"
