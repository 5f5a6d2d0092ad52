"""Form fields and rules shared by the contributor's forms and the review page's: locations and checksums."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from submissions import locations, manifest, resolvers
from submissions.textfields import MultiLineField

CHECKSUM_FILE_MAX_BYTES = 2 * 1024 * 1024


def read_checksum_upload(upload):
    """Return the text of an uploaded checksum file ("" when none), or raise ValidationError."""
    if not upload:
        return ""
    if upload.size > CHECKSUM_FILE_MAX_BYTES:
        raise forms.ValidationError(
            _("The checksum file is larger than 2 MiB; give the checksums of the data only.")
        )
    try:
        return upload.read(CHECKSUM_FILE_MAX_BYTES + 1).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise forms.ValidationError(
            _("The checksum file is not UTF-8 text; upload md5sum or sha256sum output.")
        ) from None


def clean_checksums(form, cleaned):
    """Parse the pasted and uploaded checksums into `cleaned["announced_checksums"]`, matching them to files.

    A checksum that names none of the plain files is an error here when every location is a plain file;
    when a location is a repository record, its files are known only once the location check resolved it,
    which then reports an unmatched name.
    """
    text = "\n".join(part for part in (cleaned.get("checksums"), cleaned.get("checksums_file")) if part)
    cleaned["announced_checksums"] = []
    if not text.strip():
        return
    field = "checksums" if cleaned.get("checksums") else "checksums_file"
    try:
        entries = manifest.parse_checksums(text)
    except manifest.ManifestProblem as exc:
        form.add_error(field, str(exc))
        return
    cleaned["announced_checksums"] = entries
    lines = (cleaned.get("location") or "").splitlines()
    if not lines or any(resolvers.classify(line) != "file" for line in lines):
        return
    _matched, unmatched = manifest.match_checksums(entries, manifest.plain_file_paths(lines))
    if unmatched:
        names = ", ".join(f"“{name}”" for name in unmatched[:5]) + (" …" if len(unmatched) > 5 else "")
        form.add_error(
            field,
            _(
                "These checksums name no file of the locations: %(names)s. Correct the file names or remove "
                "those lines."
            )
            % {"names": names},
        )


def clean_locations(text):
    """Return the location lines of `text` (files, records or DOIs), or raise ValidationError naming the line.

    Blank lines are dropped; a line given twice is an error; at most MAX_LOCATIONS lines. An https address
    meets the same rules as a single location (`locations.clean_location`); every line must be of a form the
    resolvers read (`resolvers.classify`), so what the form takes the location check can resolve.
    """
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines:
        raise forms.ValidationError(_("Enter the https:// address of the data, or the DOI of its record."))
    limit = settings.MAX_LOCATIONS
    if len(lines) > limit:
        raise forms.ValidationError(
            _(
                "Give at most %(limit)s locations (there are %(count)s); for more files, give the record that "
                "holds them or an archive."
            )
            % {"limit": limit, "count": len(lines)}
        )
    cleaned, seen, errors = [], {}, []

    def located(number, line, problem):
        if len(lines) == 1:
            return problem
        return _("Line %(number)s (%(line)s): %(problem)s") % {
            "number": number,
            "line": _shorten(line),
            "problem": problem,
        }

    for number, line in enumerate(lines, start=1):
        doi = locations.doi_of(line)
        try:
            value = (
                line if doi is not None or line.lower().startswith("doi:") else locations.clean_location(line)
            )
            resolvers.classify(value)
        except forms.ValidationError as exc:
            errors.append(located(number, line, " ".join(exc.messages)))
            continue
        except resolvers.InvalidLocation as exc:
            errors.append(located(number, line, str(exc)))
            continue
        key = f"doi:{doi}" if doi is not None else value
        if key in seen:
            errors.append(
                _("Line %(number)s repeats line %(first)s; give each location once.")
                % {"number": number, "first": seen[key]}
            )
            continue
        seen[key] = number
        cleaned.append(value)
    if errors:
        # Every line that needs a correction at once, not one per try.
        raise forms.ValidationError(errors)
    return cleaned


def _shorten(text, limit=60):
    return text if len(text) <= limit else text[: limit - 1] + "…"


def checksums_text(entries):
    """Return announced checksums as md5sum/sha256sum lines (to prefill a form)."""
    return "\n".join(f"{entry['digest']}  {entry['name']}" for entry in entries or [])


class LocationsMixin:
    """The locations and checksums fields of a location revision (status page and review page)."""

    def clean_location(self):
        return "\n".join(clean_locations(self.cleaned_data["location"]))

    def clean(self):
        cleaned = super().clean()
        cleaned.setdefault("checksums_file", "")
        clean_checksums(self, cleaned)
        return cleaned


def locations_field(label):
    """Return the multi-line locations field of a location revision."""
    return MultiLineField(
        label=label,
        max_length=settings.MAX_LOCATIONS * (settings.PORTAL_URL_MAX_LENGTH + 2),
        help_text=gettext_lazy(
            "One per line: the https:// address of a file, the page of a repository record (Zenodo, "
            "Dataverse, figshare) or its DOI. The checks run again on the new locations."
        ),
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "https://", "spellcheck": "false"}),
        error_messages={
            "required": gettext_lazy("Enter the https:// address of the data, or the DOI of its record."),
            "max_length": gettext_lazy(
                "The locations are too long: give at most %(limit_value)d characters."
            ),
        },
    )


def revision_checksums_field():
    """Return the checksums field of a location revision (prefilled with the ones given before)."""
    return MultiLineField(
        label=gettext_lazy("Checksums (optional)"),
        required=False,
        max_length=2 * 1024 * 1024,
        help_text=gettext_lazy("md5sum or sha256sum output, one line per file; leave empty to give none."),
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false", "class": "font-monospace"}),
    )
