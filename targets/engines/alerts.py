"""Alerts (runbook: Alert Configuration): severity routing and channel senders.

INFO -> Slack; WARNING and ERROR -> Slack and email; CRITICAL -> Slack, email and pager.
Slack through an incoming-webhook URL, pager through a PagerDuty Events API v2 compatible URL,
email through a callable the caller passes (the app passes ``django.core.mail.send_mail``).
A channel that is not configured is "skipped" with the reason, never an error. Webhook URLs
and routing keys are secrets: they never appear in results.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import socket
import urllib.error
import urllib.request
from typing import Callable
from urllib.parse import urlsplit


class AlertSeverity(enum.Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


ALERT_ROUTING: dict[AlertSeverity, dict[str, bool]] = {
    AlertSeverity.INFO: {"slack": True, "email": False, "pager": False},
    AlertSeverity.WARNING: {"slack": True, "email": True, "pager": False},
    AlertSeverity.ERROR: {"slack": True, "email": True, "pager": False},
    AlertSeverity.CRITICAL: {"slack": True, "email": True, "pager": True},
}
CHANNELS = ("slack", "email", "pager")
# PagerDuty Events v2 knows critical/error/warning/info: the runbook's levels map one to one.
_PAGER_SEVERITY = {s: s.value for s in AlertSeverity}


@dataclasses.dataclass(frozen=True)
class AlertChannelsConfig:
    slack_webhook_url: str = dataclasses.field(default="", repr=False)
    pager_events_url: str = dataclasses.field(default="", repr=False)
    pager_routing_key: str = dataclasses.field(default="", repr=False)
    email_recipients: tuple[str, ...] = ()
    email_from: str = "dataflow@localhost"
    source: str = "dataflow-migration-review"
    timeout_seconds: float = 5.0


@dataclasses.dataclass
class ChannelResult:
    channel: str
    status: str          # "sent" | "failed" | "skipped"
    detail: str = ""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def mask_url(url: str) -> str:
    """``https://hooks.example.com/***``: enough to tell endpoints apart, no token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}{':' + str(parts.port) if parts.port else ''}/***"


def deliver_alert(message: str, severity: AlertSeverity, config: AlertChannelsConfig,
                  send_email: Callable | None = None, *, subject: str | None = None) -> list[ChannelResult]:
    """One result per channel, in CHANNELS order. Never raises for a channel failure."""
    severity = AlertSeverity(severity)
    route = ALERT_ROUTING[severity]
    subject = subject or f"[DataFlow {severity.value.upper()}] {message.splitlines()[0][:120] if message else ''}"
    senders = {
        "slack": lambda: _send_slack(message, severity, config),
        "email": lambda: _send_email(subject, message, config, send_email),
        "pager": lambda: _send_pager(message, severity, config),
    }
    results = []
    for channel in CHANNELS:
        if not route[channel]:
            results.append(ChannelResult(channel, "skipped", f"not routed for {severity.value} alerts"))
            continue
        results.append(senders[channel]())
    return results


def _send_slack(message: str, severity: AlertSeverity, config: AlertChannelsConfig) -> ChannelResult:
    if not config.slack_webhook_url:
        return ChannelResult("slack", "skipped", "Slack webhook URL not configured")
    payload = {"text": f"*{severity.value.upper()}* {message}"}
    return _post("slack", config.slack_webhook_url, payload, config.timeout_seconds)


def _send_pager(message: str, severity: AlertSeverity, config: AlertChannelsConfig) -> ChannelResult:
    if not (config.pager_events_url and config.pager_routing_key):
        return ChannelResult("pager", "skipped", "pager events URL or routing key not configured")
    payload = {
        "routing_key": config.pager_routing_key,
        "event_action": "trigger",
        "payload": {"summary": message[:1024], "severity": _PAGER_SEVERITY[severity], "source": config.source},
    }
    result = _post("pager", config.pager_events_url, payload, config.timeout_seconds)
    result.detail = result.detail.replace(config.pager_routing_key, "***")
    return result


def _send_email(subject: str, message: str, config: AlertChannelsConfig, send_email: Callable | None) -> ChannelResult:
    if send_email is None:
        return ChannelResult("email", "skipped", "no email sender configured")
    if not config.email_recipients:
        return ChannelResult("email", "skipped", "no email recipients configured")
    try:
        send_email(subject, message, config.email_from, list(config.email_recipients), fail_silently=False)
    except Exception as exc:  # SMTP refused, DNS, auth: reported, never raised
        return ChannelResult("email", "failed", f"{type(exc).__name__}: {str(exc)[:200]}")
    return ChannelResult("email", "sent", f"to {len(config.email_recipients)} recipient(s)")


def _post(channel: str, url: str, payload: dict, timeout: float) -> ChannelResult:
    masked = mask_url(url)
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return ChannelResult(channel, "sent", f"HTTP {response.status} from {masked}")
    except urllib.error.HTTPError as exc:
        return ChannelResult(channel, "failed", f"HTTP {exc.code} from {masked}")
    except (urllib.error.URLError, socket.timeout, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return ChannelResult(channel, "failed", f"{type(exc).__name__} posting to {masked}: "
                                                f"{str(reason).replace(url, masked)[:200]}")
    except ValueError:
        return ChannelResult(channel, "failed", f"invalid URL for {channel} (masked: {masked})")
