"""Outgoing webhooks: sign a JSON body and POST it.

The signature is HMAC-SHA256 over ``"<timestamp>.<body>"`` with the shared secret, sent as
``X-DataFlow-Signature: sha256=<hex>`` beside ``X-DataFlow-Timestamp: <unix seconds>``. Signing
the timestamp with the body lets a receiver refuse replays of an old delivery (``verify`` below
is what a receiver runs; the tests use it). A URL may carry a token, so results name its masked
form only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import socket
import time
import urllib.error
import urllib.request

from targets.engines.alerts import mask_url

SIGNATURE_HEADER = "X-DataFlow-Signature"
TIMESTAMP_HEADER = "X-DataFlow-Timestamp"
EVENT_HEADER = "X-DataFlow-Event"
DELIVERY_HEADER = "X-DataFlow-Delivery"
# a receiver that answers these may accept the same delivery later; any other 4xx will not
RETRYABLE_STATUS = {408, 425, 429}


@dataclasses.dataclass
class AttemptResult:
    status: str            # "sent" | "failed"
    detail: str
    retry: bool = False    # worth another attempt
    http_status: int | None = None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(secret: str, headers, body: bytes, *, tolerance_seconds: int = 300, now: float | None = None) -> bool:
    """What a receiver checks: a fresh timestamp and a signature made with the shared secret."""
    try:
        timestamp = int(headers[TIMESTAMP_HEADER])
    except (KeyError, TypeError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), headers.get(SIGNATURE_HEADER) or "")


def post(url: str, body: bytes, *, secret: str, event: str, delivery_id: str, timeout: float,
         now: float | None = None) -> AttemptResult:
    """One POST; never raises for the receiver's failure, and never names the URL's path."""
    masked = mask_url(url)
    timestamp = int(now if now is not None else time.time())
    headers = {"Content-Type": "application/json", "User-Agent": "dataflow-migration-review",
               EVENT_HEADER: event, DELIVERY_HEADER: delivery_id, TIMESTAMP_HEADER: str(timestamp),
               SIGNATURE_HEADER: signature(secret, timestamp, body)}
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return AttemptResult("sent", f"HTTP {response.status} from {masked}", http_status=response.status)
    except urllib.error.HTTPError as exc:
        retry = exc.code >= 500 or exc.code in RETRYABLE_STATUS
        return AttemptResult("failed", f"HTTP {exc.code} from {masked}", retry=retry, http_status=exc.code)
    except (urllib.error.URLError, socket.timeout, OSError) as exc:
        reason = str(getattr(exc, "reason", exc)).replace(url, masked)
        return AttemptResult("failed", f"{type(exc).__name__} posting to {masked}: {reason[:200]}", retry=True)
    except ValueError:
        return AttemptResult("failed", f"invalid webhook URL (masked: {masked})")
