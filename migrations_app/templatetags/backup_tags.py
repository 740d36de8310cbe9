"""``report|executor_backups``: the backups Execute… takes itself, from the analysis's stored preview
(``report["data_backup"]``), when they cover every data-destroying operation. Then the Mitigation
tab's "back up the data" step has nothing to add to the plan: copied in, its CREATE SCHEMA and
CREATE TABLE AS have no rollback and the rehearsal's rollback check fails."""

from django import template

register = template.Library()


@register.filter
def executor_backups(report) -> list[dict]:
    data = getattr(report, "data", report) or {}
    preview = data.get("data_backup") or {}
    if preview.get("error") or preview.get("irreversible"):
        return []
    return preview.get("backed_up") or []
