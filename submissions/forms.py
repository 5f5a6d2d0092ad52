"""Forms of the contributor's side: field rules and their messages, nothing else.

The server is the authority: every rule here runs on each POST whatever the browser checked.
"""

import uuid

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Fieldset, Layout, Submit
from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portal.orcid import orcid_url
from submissions import cards, categorisation, locations, selectors
from submissions.fields import (
    LocationsMixin,
    clean_checksums,
    clean_locations,
    locations_field,
    read_checksum_upload,
    revision_checksums_field,
)
from submissions.models import Domain, Modality
from submissions.services import NameTaken
from submissions.textfields import EmailAddressField, MultiLineField, SingleLineField

CARD_GUIDE_URL = "https://huggingface.co/docs/hub/datasets-cards"


def read_card_upload(upload):
    """Validate an uploaded card file; return (ParsedCard, raw bytes, file name) or raise ValidationError."""
    if not upload:
        raise forms.ValidationError(_("Choose the dataset card file to upload (.md, .markdown or .txt)."))
    max_bytes = settings.PORTAL_CARD_MAX_BYTES
    if upload.size > max_bytes:
        raise forms.ValidationError(
            _(
                "The card is %(size)s KiB; the limit is %(limit)s KiB. Shorten it or move long parts into the data."
            ),
            params={"size": upload.size // 1024, "limit": max_bytes // 1024},
        )
    raw = upload.read(max_bytes + 1)
    return read_card(raw=raw, filename=upload.name), raw, upload.name


def read_card(*, raw, filename):
    """Parse card bytes; return the ParsedCard or raise ValidationError with the parser's message."""
    try:
        parsed = cards.parse_card(raw, filename=filename, max_bytes=settings.PORTAL_CARD_MAX_BYTES)
    except cards.CardRejected as exc:
        raise forms.ValidationError(str(exc), code="card") from None
    if parsed.metadata.get("license") == cards.LICENSE_PLACEHOLDER:
        raise forms.ValidationError(
            _(
                "Replace %(placeholder)s in the card's header with the licence of the data, as a Hub licence id "
                "(for example cc-by-4.0 or cc0-1.0)."
            ),
            code="card",
            params={"placeholder": cards.LICENSE_PLACEHOLDER},
        )
    return parsed


class EitherOrChoiceField(forms.TypedChoiceField):
    """A required choice that may stay empty when an alternative field is filled instead (checked in
    `clean`): shown as required (asterisk, `required` attribute), validated as optional."""

    def validate(self, value):
        if value in self.empty_values:
            return
        super().validate(value)


class ContributionForm(forms.Form):
    """The contribution form (docs/developing/design.md, "The contribution form")."""

    submission_key = forms.UUIDField(widget=forms.HiddenInput)
    name = SingleLineField(
        label=_("Dataset name"),
        min_length=3,
        max_length=100,
        help_text=_(
            "A descriptive name, 3 to 100 characters, e.g. “Baltic Sea buoy temperatures 2010–2024”."
        ),
        error_messages={
            "required": _("Enter the dataset's name."),
            "min_length": _("Use at least 3 characters for the name (it has %(show_value)d)."),
            "max_length": _("Use at most 100 characters for the name (it has %(show_value)d)."),
        },
    )
    location = MultiLineField(
        label=_("Dataset location"),
        max_length=settings.MAX_LOCATIONS * (settings.PORTAL_URL_MAX_LENGTH + 2),
        help_text="",  # set in __init__: it names the limit
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "https://", "spellcheck": "false"}),
        error_messages={
            "required": _("Enter the https:// address of the data, or the DOI of its record."),
            "max_length": _("The locations are too long: give at most %(limit_value)d characters."),
        },
    )
    hosting_wanted = forms.BooleanField(
        label=_("I want you to host this dataset"),
        required=False,
        initial=True,
        help_text=_(
            "Checked: we copy the data to the Hugging Face Hub. Unchecked: the catalog and the Hub card "
            "point at the location above, and the data stays where it is."
        ),
    )
    card = forms.FileField(
        label=_("Dataset card"),
        required=False,
        help_text="",  # set in __init__: it holds a link
        widget=forms.ClearableFileInput(attrs={"accept": ".md,.markdown,.txt,text/markdown,text/plain"}),
    )
    modalities = forms.MultipleChoiceField(
        label=_("Modalities"),
        choices=Modality.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick every kind of data the dataset holds."),
        error_messages={
            "required": _("Tick at least one modality."),
            "invalid_choice": _("Choose among text, images, audio and video."),
        },
    )
    domain = EitherOrChoiceField(
        label=_("Domain"),
        required=True,
        coerce=int,
        empty_value=None,
        help_text=_("The subject the data belongs to. If none fits, leave this empty and suggest one below."),
        error_messages={"invalid_choice": _("Choose a domain from the list.")},
    )
    suggested_domain = SingleLineField(
        label=_("Or suggest another domain"),
        required=False,
        min_length=2,
        max_length=60,
        help_text=_(
            "Only if no domain in the list fits, 2 to 60 characters. Curators may add it to the list."
        ),
        error_messages={
            "min_length": _("Use at least 2 characters for the suggested domain."),
            "max_length": _("Use at most 60 characters for the suggested domain (it has %(show_value)d)."),
        },
    )
    checksums = MultiLineField(
        label=_("Checksums (optional)"),
        required=False,
        max_length=2 * 1024 * 1024,
        help_text=_(
            "Paste the output of md5sum or sha256sum: one line per file, the checksum, two spaces and the "
            "file name. We check every file against it while we copy it."
        ),
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "font-monospace"}),
    )
    checksums_file = forms.FileField(
        label=_("Or upload a checksum file (optional)"),
        required=False,
        help_text=_("A file such as MD5SUMS or SHA256SUMS, in the same format."),
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,.md5,.sha256,text/plain"}),
    )
    paper = SingleLineField(
        label=_("Paper (optional)"),
        required=False,
        max_length=500,
        help_text=_(
            "The paper that describes the data: its arXiv identifier (2101.00001), DOI or https:// address."
        ),
    )
    code_url = SingleLineField(
        label=_("Code (optional)"),
        required=False,
        max_length=settings.PORTAL_URL_MAX_LENGTH,
        help_text=_("The https:// address of the code that goes with the data (e.g. on GitHub)."),
        widget=forms.URLInput(attrs={"placeholder": "https://", "inputmode": "url"}),
    )
    contact_email = EmailAddressField(
        label=_("Your e-mail address"),
        help_text=_("We send your private status link here; it is never published."),
        error_messages={
            "required": _("Enter your e-mail address."),
            "invalid": _("Enter an e-mail address such as name@example.org."),
        },
    )
    accept_terms = forms.BooleanField(
        label=_("I accept the contribution terms"),
        error_messages={
            "required": _("Tick the box to accept the contribution terms, or the dataset can't be taken.")
        },
    )

    def __init__(self, *args, terms, kept_card=None, signed_in=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.terms = terms
        # A `portal.identity.SignedIn` when the contributor is signed in: prefills the form, and with an ORCID
        # iD asks for the names the dataset will credit (the iD itself comes from the sign-in, never the form).
        self.signed_in = signed_in
        self.orcid = signed_in.orcid if signed_in is not None else ""
        if signed_in is not None and signed_in.email:
            self.fields["contact_email"].initial = signed_in.email
        if self.orcid:
            self._add_credit_fields(signed_in)
        # (file name, raw bytes) of a valid card uploaded with an earlier, otherwise invalid, POST.
        self.kept_card = kept_card
        self.parsed_card = None
        self.card_raw = None
        self.card_filename = None
        if not self.is_bound:
            self.initial.setdefault("submission_key", uuid.uuid4())
        self.fields["domain"].choices = [("", _("— choose a domain —")), *self._grouped_domains()]
        self.fields["card"].help_text = format_html(
            _(
                "The dataset card is the README of your dataset: a short YAML header (licence, language, "
                "tasks) and a description of what the data is, how it was made and how to use and cite it. "
                'Upload it as .md, .markdown or .txt, UTF-8, at most {limit} KiB. See the <a href="{guide}" '
                'target="_blank" rel="noopener">Hub\'s guide to dataset cards</a>.'
            ),
            limit=settings.PORTAL_CARD_MAX_BYTES // 1024,
            guide=CARD_GUIDE_URL,
        )
        self.fields["location"].help_text = format_html(
            _(
                "Where the data can be downloaded today, one per line (at most {limit}): the https:// address "
                "of a file or an archive, the page of a record in Zenodo, a Dataverse or figshare, or its DOI "
                "(e.g. 10.5281/zenodo.1234567). We list every file of a record with its checksums."
            ),
            limit=settings.MAX_LOCATIONS,
        )
        if settings.PORTAL_DEMO_DATA_URL:
            self.fields["location"].help_text = format_html(
                '{} <strong class="d-block mt-1 demo-data-hint">{}</strong>',
                self.fields["location"].help_text,
                format_html(
                    _(
                        "Offline demo: put your own data file into <code>{folder}</code>; it is served at "
                        "<code>{url}&lt;file name&gt;</code>."
                    ),
                    folder=settings.PORTAL_DEMO_DATA_DIR.relative_to(settings.BASE_DIR)
                    if settings.PORTAL_DEMO_DATA_DIR.is_relative_to(settings.BASE_DIR)
                    else settings.PORTAL_DEMO_DATA_DIR,
                    url=settings.PORTAL_DEMO_DATA_URL,
                ),
            )
        # Required unless a valid card from an earlier try is kept (then the upload may stay empty).
        self.fields["card"].required = not kept_card
        self.fields["card"].error_messages["required"] = _(
            "Choose the dataset card file to upload (.md, .markdown or .txt)."
        )
        if kept_card:
            self.keep_card(*kept_card)
        self.helper = self._build_helper()

    def _add_credit_fields(self, signed_in):
        self.fields["contributor_given_names"] = SingleLineField(
            label=_("Your given names, as credited"),
            max_length=100,
            initial=signed_in.given_names,
            error_messages={
                "required": _("Enter your given names: the published dataset credits you by name."),
                "max_length": _("Use at most 100 characters for your given names (it has %(show_value)d)."),
            },
        )
        self.fields["contributor_family_names"] = SingleLineField(
            label=_("Your family names, as credited"),
            max_length=100,
            required=False,
            initial=signed_in.family_names,
            error_messages={
                "max_length": _("Use at most 100 characters for your family names (it has %(show_value)d)."),
            },
        )

    def keep_card(self, filename, raw):
        """Remember a valid card from an earlier POST, so that the contributor need not choose it again."""
        self.kept_card = (filename, raw)
        self.fields["card"].required = False
        self.fields["card"].help_text = self.fields["card"].help_text + format_html(
            ' <strong class="d-block mt-1 kept-card">{}</strong>',
            _("We kept “%(name)s” from your last try; choose a file only to replace it.")
            % {"name": filename},
        )
        # Bound fields copy the help text when first built (during validation); build this one again.
        self._bound_fields_cache.pop("card", None)

    @staticmethod
    def _grouped_domains():
        groups = {}
        for domain in Domain.objects.filter(active=True):
            groups.setdefault(domain.get_group_display(), []).append((domain.pk, domain.name))
        return list(groups.items())

    def _build_helper(self):
        helper = FormHelper()
        helper.form_tag = False
        helper.form_show_errors = True
        # The terms are one text per version, written in English: the page says so (`lang`), for screen readers
        # and translators, whatever language the form around them is in.
        terms_html = format_html(
            '<div class="terms-text border rounded p-3 mb-2 bg-light" id="terms-text" tabindex="0" '
            'aria-label="{}"><h2 class="h6">{}</h2><div class="small terms-body" lang="en">{}</div></div>',
            _("Contribution terms %(version)s") % {"version": self.terms.version},
            _("Contribution terms, version %(version)s") % {"version": self.terms.version},
            self.terms.text,
        )
        helper.layout = Layout(
            "submission_key",
            Fieldset(_("The dataset"), "name", "location", "hosting_wanted", "card"),
            Fieldset(_("What it holds"), Field("modalities"), "domain", "suggested_domain"),
            Fieldset(_("Checksums and related work"), "checksums", "checksums_file", "paper", "code_url"),
            Fieldset(_("You"), *self._you_fields()),
            Fieldset(_("Terms"), Div(HTML(terms_html), Field("accept_terms"), css_class="terms")),
            Submit("submit", _("Send the dataset for review"), css_class="btn-primary btn-lg"),
        )
        return helper

    def _you_fields(self):
        if not self.orcid:
            return ["contact_email"]
        notice = format_html(
            '<p class="orcid-credit small">{}</p>',
            format_html(
                _(
                    "Signed in with ORCID iD {orcid}: the published dataset credits you as its creator with this "
                    'iD. <a href="{sign_out}">Sign out</a> to contribute without it.'
                ),
                orcid=format_html('<a href="{}" class="orcid-id">{}</a>', orcid_url(self.orcid), self.orcid),
                sign_out=reverse("account_logout"),
            ),
        )
        return [HTML(notice), "contributor_given_names", "contributor_family_names", "contact_email"]

    def clean_contributor_given_names(self):
        names = " ".join(self.cleaned_data["contributor_given_names"].split())
        if not names:
            raise forms.ValidationError(
                _("Enter your given names: the published dataset credits you by name.")
            )
        return names

    def clean_contributor_family_names(self):
        return " ".join(self.cleaned_data["contributor_family_names"].split())

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if len(name) < 3:
            raise forms.ValidationError(_("Use at least 3 characters for the name."))
        existing = selectors.find_name_clash(name)
        if existing is not None:
            # Said early, beside the other errors; services.submit holds the rule under concurrency too.
            raise forms.ValidationError(str(NameTaken(existing)), code="duplicate")
        return name

    def clean_location(self):
        return "\n".join(clean_locations(self.cleaned_data["location"]))

    def clean_checksums_file(self):
        return read_checksum_upload(self.cleaned_data.get("checksums_file"))

    def clean_paper(self):
        return locations.clean_paper(self.cleaned_data.get("paper"))

    def clean_code_url(self):
        return locations.clean_code_url(self.cleaned_data.get("code_url"))

    def clean_card(self):
        upload = self.cleaned_data.get("card")
        if not upload and self.kept_card:
            filename, raw = self.kept_card
            self.parsed_card, self.card_raw, self.card_filename = (
                read_card(raw=raw, filename=filename),
                raw,
                filename,
            )
            return upload
        self.parsed_card, self.card_raw, self.card_filename = read_card_upload(upload)
        return upload

    def clean_domain(self):
        pk = self.cleaned_data.get("domain")
        if pk is None:
            return None
        try:
            return Domain.objects.get(pk=pk, active=True)
        except Domain.DoesNotExist:
            raise forms.ValidationError(_("Choose a domain from the list.")) from None

    def clean_suggested_domain(self):
        return " ".join(self.cleaned_data.get("suggested_domain", "").split())

    def clean(self):
        cleaned = super().clean()
        domain = cleaned.get("domain")
        suggestion = cleaned.get("suggested_domain")
        if "domain" in cleaned and "suggested_domain" in cleaned:
            if domain and suggestion:
                self.add_error(
                    "suggested_domain",
                    _("Choose a domain from the list or suggest one, not both: clear one of the two."),
                )
            elif not domain and not suggestion:
                self.add_error("domain", _("Choose a domain from the list, or suggest another one below."))
        clean_checksums(self, cleaned)
        return cleaned

    def error_summary(self):
        """Return (field id, label, message) for every error, in the form's order, for the summary box."""
        summary = []
        for name, errors in self.errors.items():
            if name == "__all__":
                summary.extend(("", "", message) for message in errors)
                continue
            field = self.fields.get(name)
            anchor = f"id_{name}" if name not in {"modalities"} else "id_modalities_0"
            summary.extend((anchor, field.label if field else name, message) for message in errors)
        return summary


class OwnIdsForm(forms.Form):
    """A form of a page that holds several (the status page): its fields' ids start with `id_prefix`
    ("reply_text", "revision_comment"), so that ids stay unique and each label names its own field."""

    id_prefix = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class ReplyForm(OwnIdsForm):
    """The contributor's message to the curators."""

    id_prefix = "reply"

    text = MultiLineField(
        label=_("Your message to the curators"),
        max_length=settings.PORTAL_REPLY_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": _("Write your message; it can't be empty."),
            "max_length": _("Shorten your message to at most 10,000 characters (it has %(show_value)d)."),
        },
    )

    def clean_text(self):
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError(_("Write your message; it can't be empty."))
        return text


class RevisionForm(OwnIdsForm):
    """A revised dataset card, sent while the curators ask for changes."""

    id_prefix = "revision"

    card = forms.FileField(
        label=_("Revised dataset card"),
        required=False,
        help_text=_("The whole card again (.md, .markdown or .txt, UTF-8); earlier revisions are kept."),
        widget=forms.ClearableFileInput(attrs={"accept": ".md,.markdown,.txt,text/markdown,text/plain"}),
    )
    comment = MultiLineField(
        label=_("What you changed (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_card(self):
        self.parsed_card, self.card_raw, self.card_filename = read_card_upload(self.cleaned_data.get("card"))
        return self.cleaned_data.get("card")


class LocationForm(LocationsMixin, OwnIdsForm):
    """New data locations, given by the contributor while changes are asked, a location check fails, or
    publishing failed."""

    id_prefix = "location"

    location = locations_field(_("Dataset locations"))
    checksums = revision_checksums_field()
    comment = MultiLineField(
        label=_("What changed (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class WithdrawForm(forms.Form):
    """The contributor's confirmation that they withdraw the submission."""

    confirm = forms.BooleanField(
        label=_("Yes, withdraw this submission. I understand that it can't be undone."),
        error_messages={"required": _("Tick the box to confirm that you want to withdraw the submission.")},
    )
    reason = MultiLineField(
        label=_("Why (optional, helps us improve)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SignInForm(forms.Form):
    """The e-mail address whose submissions the contributor wants to see."""

    email = EmailAddressField(
        label=_("Your e-mail address"),
        error_messages={
            "required": _("Enter the e-mail address you used on the form."),
            "invalid": _("Enter an e-mail address such as name@example.org."),
        },
    )


class CorrectionForm(OwnIdsForm):
    """The categorisation a contributor wants for a published dataset; prefilled with the published one."""

    id_prefix = "correction"

    name = SingleLineField(label=_("Dataset name"), max_length=100)
    domain = SingleLineField(
        label=_("Domain"),
        widget=forms.Select,
        help_text=_("To suggest a domain that is not in the list, write to the curators instead."),
    )
    modalities = forms.MultipleChoiceField(
        label=_("Modalities"), choices=Modality.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    license = SingleLineField(
        label=_("Licence"),
        max_length=60,
        help_text=_("The Hub's licence identifier, e.g. cc-by-4.0, mit or cdla-permissive-2.0."),
    )
    languages = SingleLineField(
        label=_("Languages"),
        required=False,
        max_length=400,
        help_text=_("ISO 639 codes, comma-separated: en, fr."),
    )
    tags = SingleLineField(label=_("Tags"), required=False, max_length=1200, help_text=_("Comma-separated."))
    message = MultiLineField(
        label=_("Why (optional, for the curators)"),
        required=False,
        max_length=settings.PORTAL_REPLY_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, published, **kwargs):
        kwargs["initial"] = {
            "name": published.name,
            "domain": published.domain,
            "modalities": published.modality_list,
            "license": published.license,
            "languages": ", ".join(published.languages),
            "tags": ", ".join(published.tags),
        }
        super().__init__(*args, **kwargs)
        names = list(Domain.objects.filter(active=True).values_list("name", flat=True))
        current = self.current_domain = published.domain
        choices = [(name, name) for name in names]
        if current and current not in names:
            # A suggested domain, published as is: shown so that the form says what the catalog says.
            choices.insert(0, (current, _("%(domain)s (suggested, not in the list)") % {"domain": current}))
        self.fields["domain"].widget.choices = choices

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.proposal = categorisation.clean_proposal(
                {
                    "name": cleaned.get("name"),
                    "domain": cleaned.get("domain"),
                    "modalities": cleaned.get("modalities"),
                    "license": cleaned.get("license"),
                    "languages": categorisation.split_list(cleaned.get("languages")),
                    "tags": categorisation.split_list(cleaned.get("tags")),
                },
                current_domain=self.current_domain,
            )
        except categorisation.InvalidProposal as exc:
            for field, message in exc.errors.items():
                self.add_error(field if field in self.fields else None, message)
        return cleaned


class CardVersionForm(RevisionForm):
    """A new version of a published dataset's card."""

    id_prefix = "card_version"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["card"].label = _("New version of the dataset card")
        self.fields["card"].help_text = _(
            "The whole card (.md, .markdown or .txt, UTF-8). Curators review the changes before it replaces "
            "the published card."
        )
