"""An e-mail backend for running the portal locally: one short line per message on the console.

Django's console backend prints whole MIME messages (encoded subjects, both alternatives), hundreds of lines
for the demo data; what a developer needs is who got which e-mail and the links in it. This backend prints
`✉ <recipients> · <subject> · <links>` with the subject decoded. It is the default of EMAIL_BACKEND
(nothing set = local use); production sets an SMTP backend.
"""

import re
import sys
import threading

from django.core.mail.backends.base import BaseEmailBackend

LINK = re.compile(r"https?://[^\s<>\"']+")


def summary_line(message):
    """Return one line describing an e-mail: recipients, subject, and the links of its text body."""
    links = list(dict.fromkeys(match.rstrip(".,;)") for match in LINK.findall(message.body or "")))
    parts = [", ".join(message.recipients()), " ".join(str(message.subject).split())]
    if links:
        parts.append(" ".join(links))
    return "✉ " + " · ".join(parts)


class OneLineEmailBackend(BaseEmailBackend):
    """Write one summary line per e-mail to standard output (or the `stream` given)."""

    def __init__(self, *args, stream=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The real standard output: a Celery worker replaces sys.stdout with a logger that adds a prefix.
        self.stream = stream or sys.__stdout__ or sys.stdout
        self._lock = threading.RLock()

    def send_messages(self, email_messages):
        """Print each message's line; return how many were 'sent'."""
        with self._lock:
            for message in email_messages:
                self.stream.write(summary_line(message) + "\n")
            self.stream.flush()
        return len(email_messages)
