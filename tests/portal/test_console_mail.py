"""The local e-mail backend prints one short line per message: recipients, decoded subject, links."""

import io

from django.core.mail import EmailMultiAlternatives

from portal.console_mail import OneLineEmailBackend


def test_one_line_per_message_with_decoded_subject_recipient_and_links():
    stream = io.StringIO()
    message = EmailMultiAlternatives(
        subject="[DP-2026-000001] Confirm your dataset submission “Baltic Sea buoys”",
        body="Hello,\n\nopen your status page:\nhttps://portal.example/status/abc/\n\nThanks.\n",
        to=["data@baltic.example"],
    )
    message.attach_alternative("<p><a href='https://portal.example/status/abc/'>x</a></p>", "text/html")
    other = EmailMultiAlternatives(subject="No links", body="Nothing here.", to=["a@x.example"])
    sent = OneLineEmailBackend(stream=stream).send_messages([message, other])
    assert sent == 2
    lines = stream.getvalue().splitlines()
    assert lines == [
        "✉ data@baltic.example · [DP-2026-000001] Confirm your dataset submission “Baltic Sea buoys” · "
        "https://portal.example/status/abc/",
        "✉ a@x.example · No links",
    ]
