"""Logging filters: secrets in URLs never reach a log line."""

from __future__ import annotations

import logging
import re

_SECRET_PATHS = re.compile(
    r"(/invitations/|/calendar/feed/|/directory/unsubscribe/|/accounts/confirm-institution/"
    r"|/account/unsubscribe/[^/\s\"']+/)"
    r"[^/\s\"']+"
)


def redact_paths(text: str) -> str:
    """`text` with the tokens in invitation, calendar-feed and unsubscribe paths replaced."""
    return _SECRET_PATHS.sub(r"\1…", text)


class RedactSecretsInPaths(logging.Filter):
    """Replace one-time tokens in logged paths (invitation links) with an ellipsis."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _SECRET_PATHS.search(message):
            record.msg = redact_paths(message)
            record.args = ()
        return True
