"""Forms of the curators' actions on a submission's review page; rules and messages only."""

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from submissions.approval import PERSONAL_DATA_ITEM, ApprovalGate
from submissions.curators import CURATORS_GROUP
from submissions.fields import LocationsMixin, locations_field, revision_checksums_field
from submissions.models import Submission
from submissions.services import CHECKLIST_ITEMS
from submissions.textfields import MultiLineField

MESSAGE_LIMIT = settings.PORTAL_REPLY_MAX_CHARS


class MessageForm(forms.Form):
    text = MultiLineField(
        label=_("Message"),
        max_length=MESSAGE_LIMIT,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write the message; it can't be empty.")},
    )
    public = forms.TypedChoiceField(
        label=_("Who sees it"),
        choices=[("1", _("The contributor (sent by e-mail)")), ("0", _("Curators only (internal note)"))],
        coerce=lambda value: value == "1",
        initial="1",
        widget=forms.RadioSelect,
    )


class RequestChangesForm(forms.Form):
    message = MultiLineField(
        label=_("What should change"),
        max_length=MESSAGE_LIMIT,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Say what the contributor should change; the message is required.")},
    )


class ChangeLocationForm(LocationsMixin, forms.Form):
    location = locations_field(_("New locations"))
    checksums = revision_checksums_field()
    message = MultiLineField(
        label=_("Message to the contributor"),
        max_length=MESSAGE_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": _("Tell the contributor why the location changes; the message is required.")
        },
    )


class RejectForm(forms.Form):
    reason = MultiLineField(
        label=_("Reason (sent to the contributor)"),
        max_length=MESSAGE_LIMIT,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": _("Give the reason for the decision; it is required and sent to the contributor.")
        },
    )


class ApproveForm(forms.Form):
    override_reason = MultiLineField(
        label=_("Override: why approve with unticked items"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    note = MultiLineField(
        label=_("Internal note (optional)"),
        required=False,
        max_length=MESSAGE_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    unpack_archives = forms.BooleanField(
        label=_("Unpack zip and tar archives on the Hub (hosted datasets only)"), required=False
    )

    def __init__(self, *args, gate=None, record_doi=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.gate = gate or ApprovalGate()
        self.record_doi = record_doi
        if record_doi:
            # Offered only for a dataset that is one repository record with a DOI (selectors.reusable_record_doi).
            self.fields["reuse_record_doi"] = forms.BooleanField(
                label=_("Reuse the record's DOI instead of minting a new one"),
                help_text=_(
                    "The dataset is then cited as %(doi)s, the DOI of the repository record it copies; no DOI "
                    "is registered for it with DataCite."
                )
                % {"doi": record_doi},
                required=False,
            )
        for item, label in CHECKLIST_ITEMS.items():
            self.fields[item] = forms.BooleanField(label=label, required=False)
        order = [*CHECKLIST_ITEMS]
        if self.gate.needs_personal_data_tick:
            self.fields["personal_data_reviewed"] = forms.BooleanField(
                label=PERSONAL_DATA_ITEM,
                required=True,
                error_messages={"required": _("Personal data was found: tick this item to approve.")},
            )
            order.append("personal_data_reviewed")
        order.append("override_reason")
        if self.gate.needs_override:
            self.fields["concerns_override"] = MultiLineField(
                label=_("Override: why approve despite the concerns above"),
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
                error_messages={
                    "required": _("A check fails or personal data was found: write why you approve anyway.")
                },
            )
            order.append("concerns_override")
        self.order_fields([*order, "note", "unpack_archives", "reuse_record_doi"])

    def clean(self):
        cleaned = super().clean()
        unticked = [str(label) for item, label in CHECKLIST_ITEMS.items() if not cleaned.get(item)]
        if unticked and not cleaned.get("override_reason", "").strip():
            raise forms.ValidationError(
                _("Tick every item of the checklist, or write why you approve anyway. Unticked: %(items)s."),
                params={"items": "; ".join(unticked)},
            )
        return cleaned

    def checklist_kwargs(self):
        """Return the ticks and override reason as keyword arguments of ReviewChecklist."""
        return {item: self.cleaned_data.get(item, False) for item in CHECKLIST_ITEMS} | {
            "override_reason": self.cleaned_data.get("override_reason", "")
        }

    def gate_kwargs(self):
        """Return the approval gate's override and tick as keyword arguments of services.approve."""
        return {
            "concerns_override": self.cleaned_data.get("concerns_override", ""),
            "personal_data_reviewed": self.cleaned_data.get("personal_data_reviewed", False),
        }


class AssignForm(forms.Form):
    curator = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=get_user_model().objects.none(),
        empty_label=_("— choose a curator —"),
        error_messages={
            "required": _("Choose a curator."),
            "invalid_choice": _("Choose a curator from the list."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["curator"].queryset = (
            get_user_model()
            .objects.filter(is_active=True, is_staff=True, groups__name=CURATORS_GROUP)
            .order_by("username")
            .distinct()
        )


class AcceptCorrectionForm(forms.Form):
    note = MultiLineField(
        label=_("Note to the contributor (optional)"),
        required=False,
        max_length=MESSAGE_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DeclineCorrectionForm(forms.Form):
    reason = MultiLineField(
        label=_("Reason (sent to the contributor)"),
        max_length=MESSAGE_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Give the reason for declining; it is sent to the contributor.")},
    )


class WithdrawPublishedForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the dataset is withdrawn (shown on its catalog page and sent to the contributor)"),
        max_length=MESSAGE_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _(
                "Give the reason; the dataset's page keeps saying it, as its DOI still leads there."
            )
        },
    )
    confirm = forms.BooleanField(
        label=_(
            "Yes, withdraw this published dataset: it leaves the catalog and its Hub copy becomes private."
        ),
        error_messages={"required": _("Tick the box to confirm the withdrawal.")},
    )


class SpamForm(forms.Form):
    """The one reason recorded on every submission of a selection rejected as spam."""

    reason = forms.CharField(
        label=_("Reason (recorded on each submission's timeline; nothing is e-mailed)"),
        max_length=MESSAGE_LIMIT,
        initial=_("Spam: not a dataset offered for the catalog."),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the reason for the record; it can't be empty.")},
    )


class DuplicateForm(forms.Form):
    """Which submission this one duplicates, by its reference, and an optional note to the contributor."""

    original = forms.CharField(
        label=_("Reference of the submission it duplicates"),
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "DP-2026-000123"}),
        error_messages={
            "required": _("Enter the reference of the other submission, such as DP-2026-000123.")
        },
    )
    message = forms.CharField(
        label=_("Note to the contributor (optional)"),
        required=False,
        max_length=MESSAGE_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_original(self):
        reference = self.cleaned_data["original"].strip().upper()
        original = Submission.objects.filter(reference=reference).first()
        if original is None:
            raise forms.ValidationError(
                _(
                    "No submission has the reference %(reference)s; copy it from the queue or the other review page."
                )
                % {"reference": reference}
            )
        return original


class DigestPreferenceForm(forms.Form):
    """A curator's choice of the daily digest."""

    digest = forms.BooleanField(
        label=_("Send me the daily digest"),
        required=False,
        help_text=_(
            "One e-mail a day, only when there is something to say: new submissions, those waiting past the "
            "review deadline, open correction requests and failed publications, each with its link."
        ),
    )
