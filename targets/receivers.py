"""What the targets layer itself does when a target is repointed: its pooled analysis
sessions (``targets.engines.pool``) in this process are closed, those opened with the old
connection settings and any with the new ones, so the next analysis opens a fresh session.
Other processes never reuse an old session (the pool key is every connection setting) and
close theirs once idle."""

from django.dispatch import receiver

from targets.engines.pool import close_pools_for
from targets.signals import target_repointed


@receiver(target_repointed, dispatch_uid="targets-close-pooled-sessions-on-repoint")
def close_pooled_sessions(sender, target, actor, changes: dict, **kwargs) -> None:
    now = {field: getattr(target, field) for field in ("host", "port", "dbname", "user")}
    before = {field: (changes[field]["from"] if field in changes else value) for field, value in now.items()}
    close_pools_for([before, now])
