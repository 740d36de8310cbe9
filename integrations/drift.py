"""Drift: a target's live schema against the snapshot of its last ledger entry.

Every ledger entry written right after an execution carries a snapshot of the whole database
(migrations_app.engines.execution.schema_snapshot). A django-q2 schedule (``check_all_targets``) reads each target's
live schema; a digest that differs from the reference opens a finding with the readable diff and
a WARNING alert. The same drift seen again only updates the finding; a different one replaces it
(new alert); a schema back to the reference resolves it. A DBA may accept the finding's live
schema as the new baseline: a ledger entry of its own, audited.

A target with no snapshot in its ledger gets its first one from the first check (a baseline entry
the page names as such), so drift is watched before the first plan runs there.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from migrations_app.engines.execution.schema_snapshot import SchemaSnapshot, SnapshotError, diff_snapshots, take_snapshot
from integrations.models import DriftCheck, DriftFinding, LedgerEntry
from migrations_app import permissions
from migrations_app.models import Execution, Severity
from targets.models import AuditEvent, TargetDatabase
from targets.signals import raise_alert

log = logging.getLogger(__name__)

BASELINE = "BASELINE"
DIFF_LINES_IN_ALERT = 40


def snapshot_entry(entry: LedgerEntry, taken=None) -> LedgerEntry:
    """Store the whole-database snapshot on a ledger entry just written: ``taken`` (read by the
    executor right after the run, same rows and digest as ``take_snapshot``) or read now; a
    target that cannot be read leaves the entry without one and says why (the next check then
    compares with an older one)."""
    if taken is not None:
        snapshot = SchemaSnapshot(digest=taken.digest, schemas=list(taken.schemas), objects=taken.objects)
    else:
        try:
            snapshot = take_snapshot(entry.target.connection())
        except SnapshotError as exc:
            LedgerEntry.objects.filter(pk=entry.pk).update(snapshot_note=f"no snapshot: {exc}"[:500])
            return entry
    fields = {"schema_snapshot": {"digest": snapshot.digest, "schemas": snapshot.schemas, "objects": snapshot.objects},
              "snapshot_digest": snapshot.digest, "snapshot_note": ""}
    if LedgerEntry.objects.filter(pk=entry.pk, snapshot_digest="").update(**fields):
        for name, value in fields.items():
            setattr(entry, name, value)
    else:  # another writer stored one first: that one stands
        entry.refresh_from_db(fields=list(fields))
    return entry


def reference_entry(target) -> LedgerEntry | None:
    """The newest ledger entry that carries a snapshot: what the live schema should look like."""
    return (LedgerEntry.objects.filter(target=target).exclude(snapshot_digest="")
            .order_by("-recorded_at", "-id").first())


def unsnapshotted_since(target, reference: LedgerEntry | None) -> list[LedgerEntry]:
    """Entries newer than the reference without a snapshot: their changes show up as drift too."""
    entries = LedgerEntry.objects.filter(target=target, snapshot_digest="")
    if reference is not None:
        entries = entries.filter(recorded_at__gte=reference.recorded_at).exclude(pk=reference.pk)
    return list(entries.select_related("plan").order_by("recorded_at", "id"))


def _busy(target) -> bool:
    return Execution.objects.filter(plan__target=target, status__in=Execution.ACTIVE).exists()


def _record_check(target, outcome: str, detail: str = "", live_digest: str = "") -> DriftCheck:
    check, _ = DriftCheck.objects.update_or_create(target=target, defaults={
        "checked_at": timezone.now(), "outcome": outcome, "detail": detail[:500], "live_digest": live_digest})
    return check


def check_target(target: TargetDatabase) -> DriftCheck:
    """One check of one target. Safe to run twice at once: the open finding is unique per target."""
    if _busy(target):
        return _record_check(target, DriftCheck.Outcome.BUSY)
    reference = reference_entry(target)
    try:
        live = take_snapshot(target.connection())
    except SnapshotError as exc:
        return _record_check(target, DriftCheck.Outcome.ERROR, str(exc))
    # an execution that started or finished while we read would make its own changes look like drift
    if _busy(target) or reference_entry(target) != reference:
        return _record_check(target, DriftCheck.Outcome.BUSY, "the ledger moved while the schema was read")
    if reference is None:
        _first_baseline(target, live)
        return _record_check(target, DriftCheck.Outcome.BASELINE, live_digest=live.digest)
    with transaction.atomic():
        open_finding = DriftFinding.objects.select_for_update().filter(target=target, status=DriftFinding.Status.OPEN).first()
        if open_finding is not None and open_finding.reference_id != reference.pk:
            _close(open_finding, DriftFinding.Status.SUPERSEDED)  # a later entry's snapshot took it in
            open_finding = None
        if live.digest == reference.snapshot_digest:
            if open_finding is not None:
                _close(open_finding, DriftFinding.Status.RESOLVED)
                AuditEvent.record(None, "drift.resolved", open_finding, data={"target": target.pk})
            return _record_check(target, DriftCheck.Outcome.CLEAN, live_digest=live.digest)
        if open_finding is not None and open_finding.live_digest == live.digest:
            DriftFinding.objects.filter(pk=open_finding.pk).update(last_seen_at=timezone.now())
            return _record_check(target, DriftCheck.Outcome.DRIFTED, _summary(open_finding.changes), live.digest)
        if open_finding is not None:
            _close(open_finding, DriftFinding.Status.SUPERSEDED)
        finding = _open_finding(target, reference, live)
    return _record_check(target, DriftCheck.Outcome.DRIFTED, _summary(finding.changes), live.digest)


def _first_baseline(target, live: SchemaSnapshot) -> LedgerEntry | None:
    with transaction.atomic():
        if LedgerEntry.objects.filter(target=target).exclude(snapshot_digest="").exists():
            return None  # an execution (or another check) recorded one first
        entry = LedgerEntry.objects.create(
            target=target, outcome=BASELINE, is_baseline=True, sql_hash="", schema_snapshot=live.to_dict(),
            snapshot_digest=live.digest, note="first snapshot, taken by the drift check (nothing recorded before)")
        AuditEvent.record(None, "drift.first_snapshot", entry, data={"target": target.pk, "digest": live.digest})
    return entry


def _open_finding(target, reference: LedgerEntry, live: SchemaSnapshot) -> DriftFinding:
    diff = diff_snapshots(SchemaSnapshot.from_dict(reference.schema_snapshot), live)
    finding = DriftFinding.objects.create(
        target=target, reference=reference, reference_digest=reference.snapshot_digest, live_digest=live.digest,
        live_snapshot=live.to_dict(), diff=diff.to_dict())
    text = diff.as_text().splitlines()
    more = f"\n… {len(text) - DIFF_LINES_IN_ALERT} more lines on the ledger page" if len(text) > DIFF_LINES_IN_ALERT else ""
    message = (f"The schema of {target.name} changed outside DataFlow since {_describe(reference)}: "
               f"{_summary(finding.changes)}.\n" + "\n".join(text[:DIFF_LINES_IN_ALERT]) + more)
    alerts = raise_alert(Severity.WARNING, f"Schema drift on {target.name}", message)
    finding.alert = alerts[0] if alerts else None
    finding.save(update_fields=["alert"])
    AuditEvent.record(None, "drift.detected", finding, data={
        "target": target.pk, "reference": reference.pk, "reference_digest": reference.snapshot_digest,
        "live_digest": live.digest, "added": len(diff.added), "removed": len(diff.removed),
        "changed": len(diff.changed)})
    log.warning("schema drift on target %s: %s", target.pk, _summary(finding.changes))
    return finding


def _close(finding: DriftFinding, status: str) -> None:
    DriftFinding.objects.filter(pk=finding.pk).update(status=status, closed_at=timezone.now())
    finding.status = status


def _describe(entry: LedgerEntry) -> str:
    what = f"plan “{entry.plan.title}”" if entry.plan_id else "the accepted baseline" if entry.is_baseline else "entry"
    return f"{what} (ledger entry #{entry.pk}, {entry.recorded_at:%Y-%m-%d %H:%M})"


def _summary(changes: list[dict]) -> str:
    counts = {kind: sum(1 for c in changes if c["change"] == kind) for kind in ("added", "removed", "changed")}
    return ", ".join(f"{n} {kind}" for kind, n in counts.items() if n) or "no object-level change"


def check_all_targets() -> dict[str, int]:
    """The scheduled task: every target, one at a time; a failure on one never stops the others."""
    outcomes: dict[str, int] = {}
    for target in TargetDatabase.objects.order_by("pk"):
        try:
            outcome = check_target(target).outcome
        except IntegrityError:  # another check opened the finding at the same moment
            outcome = "concurrent"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def accept(finding: DriftFinding, user, reason: str) -> LedgerEntry:
    """Record the finding's live schema as the target's new baseline (a ledger entry), audited.
    Only the open finding can be accepted: one replaced by a later check shows an older schema."""
    permissions.require(permissions.can_accept_drift(user, finding))
    reason = (reason or "").strip()
    if not reason:
        raise permissions.WorkflowError("say why this drift is accepted (it goes into the audit trail)")
    with transaction.atomic():
        locked = DriftFinding.objects.select_for_update().get(pk=finding.pk)
        permissions.require(permissions.can_accept_drift(user, locked))
        if reference_entry(locked.target) != locked.reference:
            raise permissions.WorkflowError("the ledger has a newer entry than this drift was measured against: "
                                            "wait for the next check, which compares with it")
        entry = LedgerEntry.objects.create(
            target=locked.target, outcome=BASELINE, is_baseline=True, sql_hash="", applied_by=user,
            schema_snapshot=locked.live_snapshot, snapshot_digest=locked.live_digest,
            note=f"drift accepted as baseline: {reason}"[:500])
        locked.status, locked.closed_at = DriftFinding.Status.ACCEPTED, timezone.now()
        locked.accepted_by, locked.accepted_reason, locked.baseline = user, reason[:500], entry
        locked.save(update_fields=["status", "closed_at", "accepted_by", "accepted_reason", "baseline"])
        AuditEvent.record(user, "drift.accepted", locked, data={
            "target": locked.target_id, "baseline_entry": entry.pk, "digest": locked.live_digest,
            "reference": locked.reference_id, "reason": reason[:500]})
    return entry
