"""Every e-mail goes through the outbox (society.outbox records it, crossschema.outbox sends
it): nothing else in the project's code sends mail. A direct send from a request makes it wait
on the mail server and sends mail for a change that may yet roll back; a direct send from a
task sends again whenever the task is retried."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("society", "groups", "directory", "evaluation", "crossschema", "config")

# The one place that talks to the mail server.
ALLOWED = {"crossschema/outbox.py"}
# (allauth's sign-in codes and e-mail confirmations are sent by allauth's own
# DefaultAccountAdapter.send_mail, synchronously, as allauth requires: that code is not ours
# and is not scanned; society.adapters.AccountAdapter does not override send_mail. Should it
# ever have to, allow exactly that method here by name, with the reason.)

SENDING_FUNCTIONS = {"send_mail", "send_mass_mail", "mail_admins", "mail_managers"}
SENDING_METHODS = {*SENDING_FUNCTIONS, "send_messages"}
MAIL_MODULES = {"django.core.mail", "smtplib"}


def email_sends(source: str) -> list[str]:
    """Where `source` sends e-mail itself: "line: what" for each call or import that does."""
    found = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in SENDING_FUNCTIONS:
                found.append(f"{line}: {func.id}()")
            elif isinstance(func, ast.Attribute) and func.attr in SENDING_METHODS:
                found.append(f"{line}: .{func.attr}()")
            elif isinstance(func, ast.Attribute) and func.attr == "send" and _mail_send(node):
                found.append(f"{line}: .send()")
        elif isinstance(node, ast.ImportFrom) and node.module in MAIL_MODULES:
            for alias in node.names:
                if alias.name in {*SENDING_FUNCTIONS, "get_connection"} or node.module == "smtplib":
                    found.append(f"{line}: import {alias.name} from {node.module}")
        elif isinstance(node, ast.Import):
            found += [f"{line}: import smtplib" for a in node.names if a.name == "smtplib"]
    return sorted(found, key=lambda hit: int(hit.split(":", 1)[0]))


def _mail_send(call: ast.Call) -> bool:
    """`x.send()` as an EmailMessage is sent: no argument but `fail_silently`. (A Django
    signal's `send` always names its sender, so signals are not taken for mail.)"""
    return not call.args and all(k.arg == "fail_silently" for k in call.keywords)


def test_no_code_sends_email_outside_the_outbox():
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            where = path.relative_to(ROOT).as_posix()
            if where in ALLOWED:
                continue
            found += [f"{where}:{hit}" for hit in email_sends(path.read_text())]
    assert found == [], "send e-mail through society.outbox.email_enqueue instead"


def test_the_outbox_itself_is_found_sending():
    """The scan sees the one send there is (so it would see another anywhere else)."""
    (hit,) = email_sends((ROOT / "crossschema/outbox.py").read_text())
    assert hit.endswith(": .send()")


def test_the_scan_finds_each_way_of_sending():
    source = """
from django.core import mail
from django.core.mail import EmailMessage, get_connection
from django.core.mail import send_mail as quietly
import smtplib

def tell(user):
    EmailMessage("Hi", "Body", to=[user.email]).send()
    message = EmailMessage("Hi", "Body", to=[user.email])
    message.send(fail_silently=True)
    mail.send_mail("Hi", "Body", None, [user.email])
    send_mass_mail([])
    mail_admins("Hi", "Body")
    mail.mail_managers("Hi", "Body")
    get_connection().send_messages([message])
"""
    assert email_sends(source) == [
        "3: import get_connection from django.core.mail",
        "4: import send_mail from django.core.mail",
        "5: import smtplib",
        "8: .send()",
        "10: .send()",
        "11: .send_mail()",
        "12: send_mass_mail()",
        "13: mail_admins()",
        "14: .mail_managers()",
        "15: .send_messages()",
    ]


def test_the_scan_leaves_alone_what_does_not_send_mail():
    source = """
from django.core.mail import EmailMessage
from django.dispatch import Signal

done = Signal()

def render(email):
    done.send(sender=None)
    done.send(render, email=email)
    return EmailMessage("Hi", "Body", to=[email.to])
"""
    assert email_sends(source) == []
