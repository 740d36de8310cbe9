"""The API over urllib: JSON in and out, errors sorted into what the exit codes say."""

from __future__ import annotations

import json
import urllib.error
import urllib.request


class ClientError(Exception):
    """Exit 2 (usage, connection, input) or 3 (the statement policy refused)."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


class Api:
    def __init__(self, url: str, token: str, timeout: float = 60.0):
        self.base = url.rstrip("/") + "/api/v1"
        self.token = token
        self.timeout = timeout

    def call(self, method: str, path: str, payload=None) -> dict:
        data = json.dumps(payload).encode("utf-8") if payload is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Accept": "application/json",
            "Content-Type": "application/json", "User-Agent": "dataflow-client/1"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            try:
                body = json.loads(exc.read().decode("utf-8"))
            except ValueError:
                body = {}
            detail = body.get("detail") or exc.reason
            raise ClientError(f"{method} {path}: HTTP {exc.code}: {detail}",
                              3 if body.get("kind") == "policy" else 2) from None
        except (urllib.error.URLError, OSError) as exc:
            raise ClientError(f"cannot reach {self.base}: {getattr(exc, 'reason', exc)}") from None

    def get(self, path: str) -> dict:
        return self.call("GET", path)

    def post(self, path: str, payload) -> dict:
        return self.call("POST", path, payload)
