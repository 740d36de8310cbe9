"""``python -m dataflow_client submit ...``: exit 0 pass, 1 risk at or above --fail-on,
2 usage/connection/input error, 3 the statement policy refused a statement."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from dataflow_client import outputs
from dataflow_client.http import Api, ClientError

WRITERS = {"markdown": outputs.markdown, "sarif": None, "junit": outputs.junit, "json": outputs.as_json}


class Usage(argparse.ArgumentParser):
    def error(self, message):  # argparse exits 2 too; say it the same way as our own usage errors
        self.print_usage(sys.stderr)
        print(f"dataflow_client: {message}", file=sys.stderr)
        raise SystemExit(2)


def parser() -> argparse.ArgumentParser:
    p = Usage(prog="python -m dataflow_client")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("submit", help="create or update the branch's plan from migration files")
    s.add_argument("files", nargs="+", help="migration files or directories (searched for .sql and sqitch.plan)")
    s.add_argument("--target", required=True, help="target database name (as on the Targets page)")
    s.add_argument("--url", default=os.environ.get("DATAFLOW_URL"), help="server URL (env DATAFLOW_URL)")
    s.add_argument("--token-env", default="DATAFLOW_TOKEN", help="environment variable holding the API token")
    s.add_argument("--ref", default=None, help="branch (default: CI's branch variables, else git)")
    s.add_argument("--title", default="")
    s.add_argument("--schema", default="public")
    s.add_argument("--format", default=None, help="force a format (default: detected)")
    s.add_argument("--base-dir", default=".", help="file paths are sent relative to this directory")
    s.add_argument("--wait", action="store_true", help="wait for the analysis and judge it")
    s.add_argument("--timeout", type=float, default=900, help="seconds to wait for the analysis")
    s.add_argument("--fail-on", default="HIGH", type=str.upper, choices=outputs.LEVELS)
    for name in ("markdown", "sarif", "junit", "json"):
        s.add_argument(f"--{name}", metavar="PATH", help=f"write the {name} report here ('-': stdout)")
    s.add_argument("--github-annotations", action="store_true", help="print ::error file=...,line=...:: lines")
    return p


def branch(explicit: str | None) -> str:
    if explicit:
        return explicit
    for name in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "CI_COMMIT_REF_NAME"):
        if os.environ.get(name):
            return os.environ[name]
    try:
        found = subprocess.run(["git", "rev-parse", "--abbrev-ref", "HEAD"], capture_output=True, text=True, timeout=10)
    except OSError:
        found = None
    if found is not None and found.returncode == 0 and found.stdout.strip() not in ("", "HEAD"):
        return found.stdout.strip()
    raise ClientError("no --ref given and no branch found (CI variables or git)")


def collect(paths: list[str], base: Path) -> list[dict]:
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and (p.suffix == ".sql" or p.name == "sqitch.plan"))
        elif path.is_file():
            found.append(path)
        else:
            raise ClientError(f"{raw}: no such file or directory")
    files = []
    for path in found:
        try:
            content = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ClientError(f"{path}: not UTF-8 (byte {exc.start})") from None
        try:
            name = path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            name = path.as_posix()
        files.append({"path": name, "content": content})
    if not files:
        raise ClientError("no migration files found")
    return files


def wait_for(api: Api, analysis_id: int, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = api.get(f"/analyses/{analysis_id}")
        if run["status"] not in ("QUEUED", "RUNNING"):
            return run
        if time.monotonic() > deadline:
            raise ClientError(f"the analysis did not finish within {timeout:.0f}s (status {run['status']})")
        time.sleep(1.0)


def write(path: str, text: str) -> None:
    if path == "-":
        sys.stdout.write(text)
    else:
        Path(path).write_text(text, encoding="utf-8")


def submit(args) -> int:
    token = os.environ.get(args.token_env, "")
    if not args.url:
        raise ClientError("no server: give --url or set DATAFLOW_URL")
    if not token:
        raise ClientError(f"no token: set {args.token_env}")
    api = Api(args.url, token)
    files = collect(args.files, Path(args.base_dir))
    answer = api.post("/ci/submit", {"target": args.target, "ref": branch(args.ref), "title": args.title,
                                      "schema_name": args.schema, "files": files, "format": args.format})
    if answer.get("plan") is None:
        print(answer.get("detail", "nothing to apply"), file=sys.stderr)
        return 0
    plan_id = answer["plan"]["id"]
    print(f"plan #{plan_id} ({answer['format']}, {'created' if answer['created'] else 'updated' if answer['changed'] else 'unchanged'})",
          file=sys.stderr)
    if not args.wait:
        return 0
    if answer.get("analysis"):
        run = wait_for(api, answer["analysis"]["id"], args.timeout)
        if run["status"] != "SUCCEEDED":
            raise ClientError(f"the analysis {run['status'].lower()}: {run.get('error') or 'no detail'}")
    result = api.get(f"/plans/{plan_id}/report")
    result["skipped_versions"] = answer.get("skipped_versions") or []
    result["plan"]["web_url"] = args.url.rstrip("/") + result["plan"].get("url", f"/plans/{plan_id}/")
    for name in ("markdown", "junit", "json"):
        if getattr(args, name):
            write(getattr(args, name), WRITERS[name](result, args.fail_on))
    if args.sarif:
        write(args.sarif, json.dumps(outputs.sarif(result, args.fail_on), indent=2) + "\n")
    if args.github_annotations:
        sys.stdout.write(outputs.github_annotations(result, args.fail_on))
    level = (result.get("analysis") or {}).get("risk_level")
    print(f"risk {level}; --fail-on {args.fail_on}", file=sys.stderr)
    return 1 if outputs.at_or_above(level, args.fail_on) else 0


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return submit(args)
    except ClientError as exc:
        print(f"dataflow_client: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
