"""Console logging that reads like what happened: a refused request is one line, not a traceback."""

import logging

from django.core.exceptions import PermissionDenied


class ForbiddenWithoutTraceback(logging.Filter):
    """Django logs every 403 with the PermissionDenied it caught; the refusal is the expected
    answer of the permission policy, so the line stays and the traceback goes."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], PermissionDenied):
            record.exc_info, record.exc_text = None, None
        return True
