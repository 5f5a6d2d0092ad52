"""The rule for a dataset location, shared by the contribution form, the status page and the review page.

A location is an https:// address without credentials that does not point into a private network;
`portal.safefetch` decides the last part. Only the rule lives here: fetching is `safefetch`'s job.
"""

from urllib.parse import urlsplit

from django import forms

from portal import safefetch


def clean_location(location):
    """Return a dataset location stripped, or raise ValidationError saying how to make it acceptable."""
    location = location.strip()
    parts = urlsplit(location)
    if parts.scheme.lower() != "https":
        raise forms.ValidationError(
            "Use an https:// address (http, ftp, file and other kinds of address are not accepted)."
        )
    if not parts.hostname:
        raise forms.ValidationError("Enter a complete address such as https://example.org/data.zip.")
    if parts.username or parts.password:
        raise forms.ValidationError(
            "Remove the user name or password from the address; share a public link instead."
        )
    if any(ch.isspace() or ord(ch) < 32 for ch in location):
        raise forms.ValidationError("Remove spaces and control characters from the address.")
    try:
        forms.URLField(assume_scheme="https").clean(location)
    except forms.ValidationError:
        raise forms.ValidationError(
            "Enter a complete address such as https://example.org/data.zip."
        ) from None
    try:
        safefetch.check_url(location)
    except safefetch.FetchBlocked as exc:
        raise forms.ValidationError(
            "Use the public address of the data; this one points to a private or local network (%(why)s).",
            params={"why": exc},
        ) from None
    return location
