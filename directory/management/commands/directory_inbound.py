"""Take one inbound e-mail (a reply to a directory post) from the mail server.

The mail server pipes each message sent to a reply address to this command, e.g. postfix::

    # master.cf
    directory unix - n n - - pipe
      flags=Rq user=horizontal argv=/srv/horizontal/bin/manage
      directory_inbound --recipient ${recipient}

(`bin/manage` is the README's wrapper that exports the services' environment: a pipe has none,
and manage.py refuses to start without the production secrets.)

The exit status follows sysexits.h, which mail servers read:

* 0: handled (posted; or not posted and the member told by e-mail; or an automatic message
  dropped on purpose);
* 65 (EX_DATAERR): not an e-mail message;
* 67 (EX_NOUSER): not a reply address we issued, or not from the member it was issued to;
  the one line on stderr goes into the mail server's bounce;
* 75 (EX_TEMPFAIL): something failed on our side (database down, ...); the mail server keeps
  the message and tries again later. Nothing was posted.
"""

from __future__ import annotations

import logging
import sys

from django.core.management.base import BaseCommand, CommandParser

from directory import inbound

logger = logging.getLogger(__name__)

EX_OK = 0
EX_DATAERR = 65
EX_NOUSER = 67
EX_TEMPFAIL = 75

REFUSALS = {
    inbound.UNKNOWN_SENDER: (
        EX_NOUSER,
        "This address only takes replies from members, sent from the address the post was "
        "e-mailed to.",
    ),
    inbound.BAD_ADDRESS: (
        EX_NOUSER,
        "This address only takes replies to posts of the society directory, sent from the "
        "address the post was e-mailed to.",
    ),
    inbound.UNPARSEABLE: (EX_DATAERR, "This message could not be read as an e-mail."),
}


class Command(BaseCommand):
    help = "Post a reply received by e-mail (the raw message on stdin, as a mail server pipes it)."
    # call_command(..., stdin=BytesIO(raw)) in tests.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--recipient",
            help="The envelope recipient (postfix: ${recipient}); otherwise read from headers.",
        )
        parser.add_argument("--file", help="Read the message from this file instead of stdin.")

    def handle(self, *args, **options) -> None:
        try:
            if options.get("file"):
                with open(options["file"], "rb") as f:
                    raw = f.read()
            else:
                raw = (options.get("stdin") or sys.stdin.buffer).read()
            result = inbound.handle_inbound(raw, recipient=options.get("recipient"))
        except Exception:
            logger.exception("directory inbound: failed; the mail server will retry")
            self.stderr.write("Temporary failure on our side; the message will be retried.")
            raise SystemExit(EX_TEMPFAIL) from None
        if result.status in REFUSALS:
            code, line = REFUSALS[result.status]
            self.stderr.write(line)
            raise SystemExit(code)
