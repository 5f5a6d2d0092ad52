"""The curators' review queue: the Submission change list and each submission's review page.

Every action button posts to a view here that validates its form and calls one function of
`submissions.services`; nothing here sets a submission's state. A service's `InvalidTransition`
(an illegal step, or a race lost to another curator or the contributor) becomes an admin message.
"""

import datetime
import difflib
import functools
import itertools
import json

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    JSONField,
    OuterRef,
    Q,
    Subquery,
)
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language_info, gettext_lazy, ngettext
from django.utils.translation import gettext as _

from portal import i18n
from portal.markdown import render_markdown
from submissions import admin_forms, approval, cards, selectors, services, team_admin
from submissions.curators import REVIEW_PERMISSION, is_curator
from submissions.fields import checksums_text
from submissions.models import SHORT_STATE_LABELS, CheckResult, CorrectionRequest, Modality, Submission

State = Submission.State


class ModalityFilter(admin.SimpleListFilter):
    title = gettext_lazy("modality")
    parameter_name = "modality"

    def lookups(self, request, model_admin):
        return Modality.choices

    def queryset(self, request, queryset):
        if self.value() in Modality.values:
            # Modality values are distinct words, none a substring of another.
            return queryset.filter(modalities__contains=self.value())
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    title = gettext_lazy("assignee")
    parameter_name = "assignee"

    def lookups(self, request, model_admin):
        return [("mine", _("Mine")), ("unassigned", _("Unassigned")), ("others", _("Others'"))]

    def queryset(self, request, queryset):
        if self.value() == "mine":
            return queryset.filter(assignee=request.user)
        if self.value() == "unassigned":
            return queryset.filter(assignee__isnull=True)
        if self.value() == "others":
            return queryset.filter(assignee__isnull=False).exclude(assignee=request.user)
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    title = gettext_lazy("review deadline")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", gettext_lazy("Waiting past the deadline"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(pk__in=selectors.overdue().values("pk"))
        return queryset


class SuggestedDomainFilter(admin.SimpleListFilter):
    title = gettext_lazy("suggested domain")
    parameter_name = "suggested"

    def lookups(self, request, model_admin):
        names = (
            Submission.objects.exclude(suggested_domain="")
            .order_by("suggested_domain")
            .values_list("suggested_domain", flat=True)
            .distinct()[:50]
        )
        return [(name, name) for name in names]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(suggested_domain=self.value())
        return queryset


class OpenFilter(admin.SimpleListFilter):
    title = gettext_lazy("open or closed")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("open", _("Needs curators")), ("closed", _("Published or closed"))]

    def queryset(self, request, queryset):
        done = [State.PUBLISHED, *Submission.CLOSED_STATES]
        # A published dataset with a correction waiting for a decision needs curators again.
        waiting = Q(open_correction=True)
        if self.value() == "open":
            return queryset.filter(~Q(state__in=done) | waiting)
        if self.value() == "closed":
            return queryset.filter(Q(state__in=done) & ~waiting)
        return queryset


class CorrectionFilter(admin.SimpleListFilter):
    title = gettext_lazy("correction requests")
    parameter_name = "correction"

    def lookups(self, request, model_admin):
        return [("open", _("A correction or card version waits for a decision"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(open_correction=True)
        return queryset


class ConfirmationFilter(admin.SimpleListFilter):
    """Confirmed submissions by default: curators do not see a dataset until its e-mail address is confirmed."""

    title = gettext_lazy("e-mail confirmation")
    parameter_name = "confirmation"

    def lookups(self, request, model_admin):
        return [("unconfirmed", _("Unconfirmed only")), ("any", _("Confirmed and unconfirmed"))]

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("Confirmed"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() == "unconfirmed":
            return queryset.filter(state=State.AWAITING_CONFIRMATION)
        if self.value() == "any" or any(key.split("__")[0] == "state" for key in request.GET):
            return queryset  # a state chosen explicitly wins over the default
        return queryset.exclude(state=State.AWAITING_CONFIRMATION)


CHECK_BADGES = {
    "pass": "success",
    "warn": "warning",
    "fail": "danger",
    "error": "secondary",
    "pending": "light",
}


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = [
        "reference",
        "name_column",
        "domain_column",
        "modalities_column",
        "hosting_column",
        "state_column",
        "assignee_column",
        "waiting_since",
        "checks_column",
        "correction_column",
    ]
    list_display_links = ["reference", "name_column"]
    list_filter = [
        ConfirmationFilter,
        OpenFilter,
        CorrectionFilter,
        "state",
        "domain",
        SuggestedDomainFilter,
        ModalityFilter,
        "hosting_wanted",
        AssigneeFilter,
        OverdueFilter,
        "check_summary",
    ]
    list_select_related = ["domain", "assignee"]
    search_fields = ["=reference", "name", "contact_email"]
    ordering = ["state_changed_at", "id"]
    list_per_page = 50
    actions = ["claim_selected", "reject_as_spam", "adopt_suggested_domains"]
    # The state, and everything the contributor sent, is never edited here.
    readonly_fields = [field.name for field in Submission._meta.fields]

    # Access -------------------------------------------------------------------------------------

    def has_module_permission(self, request):
        return is_curator(request.user)

    def has_view_permission(self, request, obj=None):
        return is_curator(request.user)

    def has_change_permission(self, request, obj=None):
        return is_curator(request.user)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # In the same query as the page's rows: whether a correction request waits, and the data check's
        # one-line summary of the newest revision.
        waiting = CorrectionRequest.objects.filter(
            submission=OuterRef("pk"), state=CorrectionRequest.State.OPEN
        )
        newest_data_check = CheckResult.objects.filter(
            revision__submission=OuterRef("pk"), kind=CheckResult.Kind.DATA
        ).order_by("-revision__number")
        return (
            super()
            .get_queryset(request)
            .annotate(
                open_correction=Exists(waiting),
                data_summary=Subquery(newest_data_check.values("summary")[:1]),
                data_summary_message=Subquery(
                    newest_data_check.values("summary_message")[:1], output_field=JSONField()
                ),
                mine=ExpressionWrapper(Q(assignee_id=request.user.pk), output_field=BooleanField()),
            )
        )

    # Columns ------------------------------------------------------------------------------------

    @admin.display(description=gettext_lazy("name"), ordering="name")
    def name_column(self, obj):
        return format_html('<span class="queue-name" title="{}">{}</span>', obj.name, obj.name)

    @admin.display(description=gettext_lazy("domain"), ordering="domain__name")
    def domain_column(self, obj):
        label = obj.domain_label
        return format_html('<span class="queue-domain" title="{}">{}</span>', label, label)

    @admin.display(description=gettext_lazy("modalities"))
    def modalities_column(self, obj):
        # Short names, at most two shown ("Video (may include audio)" would widen the column for every row).
        names = [
            str(_("Video") if value == Modality.VIDEO else Modality(value).label)
            for value in obj.modality_list
            if value in Modality.values
        ]
        shown = ", ".join(names[:2]) + (f" +{len(names) - 2}" if len(names) > 2 else "")
        return format_html('<span title="{}">{}</span>', obj.get_modalities_display(), shown)

    @admin.display(description=gettext_lazy("hosting"), ordering="hosting_wanted")
    def hosting_column(self, obj):
        return _("Hosted") if obj.hosting_wanted else _("Linked")

    @admin.display(description=gettext_lazy("state"), ordering="state")
    def state_column(self, obj):
        short = SHORT_STATE_LABELS[obj.state]
        if obj.state == State.REJECTED and obj.spam:
            short = _("Spam")
        elif obj.state == State.REJECTED and obj.duplicate_of_id:
            short = _("Duplicate")
        return format_html(
            '<span class="state state-{}" title="{}">{}</span>', obj.state, obj.get_state_display(), short
        )

    @admin.display(description=gettext_lazy("assignee"), ordering="assignee__username")
    def assignee_column(self, obj):
        if obj.assignee_id is None:
            return "–"
        if obj.mine:
            return format_html('<span class="mine" title="{}">{}</span>', _("Your claim"), obj.assignee)
        return str(obj.assignee)

    @admin.display(description=gettext_lazy("waiting"), ordering="state_changed_at")
    def waiting_since(self, obj):
        now = timezone.now()
        deadline = obj.state_changed_at + datetime.timedelta(days=settings.REVIEW_SLA_DAYS)
        overdue = obj.state in Submission.AWAITING_CURATORS_STATES and deadline <= now
        title = obj.state_changed_at.strftime("%Y-%m-%d %H:%M")
        return format_html(
            '<time datetime="{}" title="{}" class="{}">{}</time>',
            obj.state_changed_at.isoformat(),
            f"{title} · {_('past the review deadline')}" if overdue else title,
            "overdue" if overdue else "",
            short_age(now - obj.state_changed_at),
        )

    @admin.display(description=gettext_lazy("checks"), ordering="check_summary")
    def checks_column(self, obj):
        # The data check's one-line summary is the badge's tooltip: the row stays one line high.
        data = i18n.translated(
            getattr(obj, "data_summary_message", None) or getattr(obj, "data_summary", None)
        )
        return format_html(
            '<span class="check check-{}"{}>{}</span>',
            obj.check_summary,
            format_html(' title="{}"', _("Data: %(summary)s") % {"summary": data}) if data else "",
            obj.get_check_summary_display(),
        )

    @admin.display(description=gettext_lazy("correction"), ordering="open_correction", boolean=False)
    def correction_column(self, obj):
        if not obj.open_correction:
            return ""
        return format_html(
            '<span class="correction correction-open" title="{}">{}</span>',
            _("A correction or a new card version waits for a decision"),
            _("Waiting"),
        )

    # Bulk action ----------------------------------------------------------------------------------

    @admin.action(description=gettext_lazy("Claim the selected submissions"), permissions=["review"])
    def claim_selected(self, request, queryset):
        claimed = 0
        for submission in queryset:
            try:
                services.claim(submission, by=request.user)
                claimed += 1
            except services.InvalidTransition as exc:
                self.message_user(request, str(exc), messages.WARNING)
        if claimed:
            self.message_user(
                request,
                ngettext("Claimed %(count)d submission.", "Claimed %(count)d submissions.", claimed)
                % {"count": claimed},
                messages.SUCCESS,
            )

    @admin.action(
        description=gettext_lazy("Reject as spam (no e-mail to the senders)…"), permissions=["review"]
    )
    def reject_as_spam(self, request, queryset):
        """Ask for one reason on a confirmation page, then reject each selected submission as spam."""
        selected = list(queryset.order_by("pk"))
        rejectable = [item for item in selected if item.state in services.SPAM_STATES]
        form = admin_forms.SpamForm(request.POST if request.POST.get("confirm") == "yes" else None)
        if form.is_bound and form.is_valid():
            done = 0
            for submission in rejectable:
                try:
                    services.reject_as_spam(submission, by=request.user, reason=form.cleaned_data["reason"])
                    done += 1
                except services.InvalidTransition as exc:
                    self.message_user(request, str(exc), messages.WARNING)
            if done:
                self.message_user(
                    request,
                    ngettext(
                        "Rejected %(count)d submission as spam.",
                        "Rejected %(count)d submissions as spam.",
                        done,
                    )
                    % {"count": done},
                    messages.SUCCESS,
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reject as spam"),
            "opts": self.model._meta,
            "rejectable": rejectable,
            "refused": [item for item in selected if item not in rejectable],
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/submissions/submission/reject_as_spam.html", context)

    @admin.action(
        description=gettext_lazy("Add their suggested domains to the curated list"), permissions=["review"]
    )
    def adopt_suggested_domains(self, request, queryset):
        names = sorted(set(queryset.exclude(suggested_domain="").values_list("suggested_domain", flat=True)))
        if not names:
            self.message_user(
                request, _("None of the selected submissions suggests a domain."), messages.WARNING
            )
            return
        for name in names:
            try:
                services.adopt_domain(name, by=request.user)
            except services.InvalidTransition as exc:
                self.message_user(request, str(exc), messages.WARNING)
        self.message_user(
            request,
            _("Added to the curated domains: %(names)s.") % {"names": ", ".join(names)},
            messages.SUCCESS,
        )

    def has_review_permission(self, request):
        return is_curator(request.user)

    # The review page ------------------------------------------------------------------------------

    def get_urls(self):
        def action(name, view):
            return path(
                f"<int:object_id>/{name}/",
                self.admin_site.admin_view(view),
                name=f"submissions_submission_{name.replace('-', '_')}",
            )

        def page(name, view):
            return path(
                f"{name}/",
                self.admin_site.admin_view(functools.partial(view, admin_site=self.admin_site)),
                name=f"submissions_submission_{name.replace('-', '_')}",
            )

        return [
            page("dashboard", team_admin.dashboard_view),
            page("digest", team_admin.digest_view),
            action("claim", self.claim_view),
            action("mark-duplicate", self.mark_duplicate_view),
            action("assign", self.assign_view),
            action("message", self.message_view),
            action("request-changes", self.request_changes_view),
            action("approve", self.approve_view),
            action("reject", self.reject_view),
            action("retry-mirror", self.retry_mirror_view),
            action("change-location", self.change_location_view),
            action("rerun-checks", self.rerun_checks_view),
            action("accept-correction", self.accept_correction_view),
            action("decline-correction", self.decline_correction_view),
            action("retry-correction", self.retry_correction_view),
            action("retry-doi", self.retry_doi_view),
            action("withdraw-published", self.withdraw_published_view),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        overdue_since = timezone.now() - datetime.timedelta(days=settings.REVIEW_SLA_DAYS)
        open_states = [state for state in State if state not in (State.PUBLISHED, *Submission.CLOSED_STATES)]
        quick = Submission.objects.aggregate(
            mine=Count("pk", filter=Q(assignee=request.user, state__in=open_states)),
            overdue=Count(
                "pk",
                filter=Q(state__in=Submission.AWAITING_CURATORS_STATES, state_changed_at__lte=overdue_since),
            ),
        )
        quick["mine_selected"] = request.GET.get("assignee") == "mine"
        context = {
            "title": _("Review queue"),
            # The queue needs its width for its columns at a laptop's 1280 px; the breadcrumbs lead home.
            "is_nav_sidebar_enabled": False,
            "quick": quick,
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not is_curator(request.user):
            raise PermissionDenied
        submission = self._get_submission(object_id)
        if submission is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return self._render_review(request, submission)

    def _get_submission(self, object_id):
        """Return the submission `object_id` names, or None when it is not an id or no row has it.

        Ids come from the URL: "abc" or "1.5" (the change page takes any text) and numbers past the
        column's range (the action routes take any digits) name no submission, as an unknown id does.
        """
        try:
            pk = Submission._meta.pk.to_python(object_id)
        except ValidationError:
            return None
        return (
            Submission.objects.select_related("domain", "assignee", "terms_version", "duplicate_of")
            .filter(pk=pk)
            .first()
        )

    def _render_review(self, request, submission, *, forms=None, status=200):
        revisions = list(submission.revisions.prefetch_related("checks").order_by("number"))
        latest = revisions[-1] if revisions else None
        card_body = ""
        if latest is not None:
            try:
                card_body = cards.card_body(latest.read_text())
            except (OSError, UnicodeDecodeError):
                card_body = ""
        forms = forms or {}
        correction = selectors.correction_in_progress(submission)
        gate = approval.gate_for(submission)
        checks = sorted(latest.checks.all(), key=lambda check: check.kind) if latest else []
        files_order = request.GET.get("files_order", "path")
        files_order = files_order if files_order in selectors.MANIFEST_ORDERS else "path"
        card_license = (latest.metadata or {}).get("license") if latest else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"{submission.reference}: {submission.name}",
            "submission": submission,
            "contributor_language": _language_name(submission.language),
            "revisions": revisions,
            "latest": latest,
            "card_html": mark_safe(render_markdown(card_body, heading_offset=2)) if card_body else "",  # noqa: S308 - sanitised
            "metadata_rows": _metadata_rows(latest.metadata if latest else {}),
            "checks": checks,
            "data_check": next((check for check in checks if check.kind == "data"), None),
            "location_check": next((check for check in checks if check.kind == "location"), None),
            "records": selectors.records(submission),
            "manifest_totals": selectors.manifest_totals(submission),
            "manifest_page": selectors.manifest_page(
                submission, page=request.GET.get("files_page", 1), order=files_order
            ),
            "files_order": files_order,
            "card_license": card_license.lower() if isinstance(card_license, str) else "",
            "diffs": _revision_diffs(revisions),
            "timeline": submission.events.select_related("actor").order_by("created_at", "id"),
            "actions": services.available_actions(submission, user=request.user),
            "message_form": forms.get("message") or admin_forms.MessageForm(),
            "request_changes_form": forms.get("request-changes") or admin_forms.RequestChangesForm(),
            "approve_form": forms.get("approve")
            or admin_forms.ApproveForm(gate=gate, record_doi=selectors.reusable_record_doi(submission)),
            "withdraw_form": forms.get("withdraw-published") or admin_forms.WithdrawPublishedForm(),
            "gate": gate,
            "reject_form": forms.get("reject") or admin_forms.RejectForm(),
            "assign_form": forms.get("assign")
            or admin_forms.AssignForm(initial={"curator": submission.assignee_id}),
            "location_form": forms.get("change-location")
            or admin_forms.ChangeLocationForm(
                initial={
                    "location": submission.location,
                    "checksums": checksums_text(submission.announced_checksums),
                }
            ),
            "duplicate_form": forms.get("mark-duplicate") or admin_forms.DuplicateForm(),
            "duplicates": list(submission.duplicates.order_by("pk")),
            "duplicate_hints": _duplicate_hints(checks),
            "publication": selectors.publication(submission),
            "checklist": submission.review_checklist,
            "corrections": list(selectors.corrections(submission)),
            "correction": correction,
            "correction_diff": _correction_diff(correction, revisions),
            "accept_correction_form": forms.get("accept-correction") or admin_forms.AcceptCorrectionForm(),
            "decline_correction_form": forms.get("decline-correction") or admin_forms.DeclineCorrectionForm(),
            "checklist_rows": [
                (services.CHECKLIST_ITEMS.get(item, item), ticked)
                for item, ticked in (submission.review_checklist or {}).get("items", {}).items()
            ],
        }
        return TemplateResponse(request, "admin/submissions/submission/review.html", context, status=status)

    def _action(self, request, object_id, *, name, form_class=None, form_kwargs=None, perform):
        """Run one curator action: POST only, curators only, form validated, service called."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm(REVIEW_PERMISSION) or not is_curator(request.user):
            raise PermissionDenied
        submission = self._get_submission(object_id)
        if submission is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, str(object_id))
        extra = form_kwargs(submission) if form_kwargs else {}
        form = form_class(request.POST, **extra) if form_class else None
        if form is not None and not form.is_valid():
            messages.error(request, _("The action was not done: correct the form below."))
            return self._render_review(request, submission, forms={name: form}, status=400)
        try:
            done = perform(submission, form.cleaned_data if form else {}, form)
        except services.InvalidTransition as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, done)
        return HttpResponseRedirect(reverse("admin:submissions_submission_change", args=[submission.pk]))

    def claim_view(self, request, object_id):
        def perform(submission, data, form):
            services.claim(submission, by=request.user)
            return _("You are now reviewing %(reference)s.") % {"reference": submission.reference}

        return self._action(request, object_id, name="claim", perform=perform)

    def assign_view(self, request, object_id):
        def perform(submission, data, form):
            services.assign(submission, to=data["curator"], by=request.user)
            return _("%(reference)s is assigned to %(curator)s.") % {
                "reference": submission.reference,
                "curator": data["curator"],
            }

        return self._action(
            request, object_id, name="assign", form_class=admin_forms.AssignForm, perform=perform
        )

    def message_view(self, request, object_id):
        def perform(submission, data, form):
            services.send_message(submission, by=request.user, text=data["text"], public=data["public"])
            return _("Message sent to the contributor.") if data["public"] else _("Internal note added.")

        return self._action(
            request, object_id, name="message", form_class=admin_forms.MessageForm, perform=perform
        )

    def request_changes_view(self, request, object_id):
        def perform(submission, data, form):
            services.request_changes(submission, by=request.user, message=data["message"])
            return _("Changes requested; the contributor has been told.")

        return self._action(
            request,
            object_id,
            name="request-changes",
            form_class=admin_forms.RequestChangesForm,
            perform=perform,
        )

    def approve_view(self, request, object_id):
        def perform(submission, data, form):
            services.approve(
                submission,
                by=request.user,
                checklist=services.ReviewChecklist(**form.checklist_kwargs()),
                note=data.get("note", ""),
                unpack_archives=data.get("unpack_archives", False),
                reuse_record_doi=data.get("reuse_record_doi", False),
                **form.gate_kwargs(),
            )
            return _("%(reference)s is approved; publication to the Hub has been queued.") % {
                "reference": submission.reference
            }

        return self._action(
            request,
            object_id,
            name="approve",
            form_class=admin_forms.ApproveForm,
            form_kwargs=lambda submission: {
                "gate": approval.gate_for(submission),
                "record_doi": selectors.reusable_record_doi(submission),
            },
            perform=perform,
        )

    def reject_view(self, request, object_id):
        def perform(submission, data, form):
            services.reject(submission, by=request.user, reason=data["reason"])
            return _("%(reference)s is rejected; the contributor has been told.") % {
                "reference": submission.reference
            }

        return self._action(
            request, object_id, name="reject", form_class=admin_forms.RejectForm, perform=perform
        )

    def mark_duplicate_view(self, request, object_id):
        def perform(submission, data, form):
            services.mark_duplicate(submission, of=data["original"], by=request.user, message=data["message"])
            return _(
                "%(reference)s is closed as a duplicate of %(original)s; the contributor has been told."
            ) % {
                "reference": submission.reference,
                "original": data["original"].reference,
            }

        return self._action(
            request, object_id, name="mark-duplicate", form_class=admin_forms.DuplicateForm, perform=perform
        )

    def retry_mirror_view(self, request, object_id):
        def perform(submission, data, form):
            services.retry_mirror(submission, by=request.user)
            return _("Publication of %(reference)s restarted.") % {"reference": submission.reference}

        return self._action(request, object_id, name="retry-mirror", perform=perform)

    def change_location_view(self, request, object_id):
        def perform(submission, data, form):
            services.change_location(
                submission,
                by=request.user,
                location=data["location"],
                checksums=data["announced_checksums"],
                message=data["message"],
            )
            return _("The location is changed and the checks run again; the contributor has been told.")

        return self._action(
            request,
            object_id,
            name="change-location",
            form_class=admin_forms.ChangeLocationForm,
            perform=perform,
        )

    def rerun_checks_view(self, request, object_id):
        def perform(submission, data, form):
            services.rerun_checks(submission, by=request.user)
            return _("The automatic checks will run again in a moment.")

        return self._action(request, object_id, name="rerun-checks", perform=perform)

    def accept_correction_view(self, request, object_id):
        def perform(submission, data, form):
            correction = _correction_to_decide(submission)
            services.accept_correction(correction, by=request.user, note=data["note"])
            return _(
                "Request %(number)s accepted; the catalog is updated and the card is queued for the Hub."
            ) % {"number": correction.number}

        return self._action(
            request,
            object_id,
            name="accept-correction",
            form_class=admin_forms.AcceptCorrectionForm,
            perform=perform,
        )

    def decline_correction_view(self, request, object_id):
        def perform(submission, data, form):
            correction = _correction_to_decide(submission)
            services.decline_correction(correction, by=request.user, reason=data["reason"])
            return _("Request %(number)s declined; the contributor has been told.") % {
                "number": correction.number
            }

        return self._action(
            request,
            object_id,
            name="decline-correction",
            form_class=admin_forms.DeclineCorrectionForm,
            perform=perform,
        )

    def retry_correction_view(self, request, object_id):
        def perform(submission, data, form):
            correction = _correction_to_decide(submission)
            services.retry_correction(correction, by=request.user)
            return _("Publication of request %(number)s restarted.") % {"number": correction.number}

        return self._action(request, object_id, name="retry-correction", perform=perform)

    def retry_doi_view(self, request, object_id):
        def perform(submission, data, form):
            services.retry_doi(submission, by=request.user)
            return _("The DOI of %(reference)s will be sent to DataCite again.") % {
                "reference": submission.reference
            }

        return self._action(request, object_id, name="retry-doi", perform=perform)

    def withdraw_published_view(self, request, object_id):
        def perform(submission, data, form):
            services.withdraw_published(submission, by=request.user, reason=data["reason"])
            return _("%(reference)s is withdrawn; its page says why and the contributor has been told.") % {
                "reference": submission.reference
            }

        return self._action(
            request,
            object_id,
            name="withdraw-published",
            form_class=admin_forms.WithdrawPublishedForm,
            perform=perform,
        )


def short_age(age):
    """Return an age as the queue shows it: "12 min", "5 h", "3 d"."""
    if age < datetime.timedelta(hours=1):
        return _("{n} min").format(n=max(0, int(age.total_seconds() // 60)))
    if age < datetime.timedelta(days=1):
        return _("{n} h").format(n=int(age.total_seconds() // 3600))
    return _("{n} d").format(n=age.days)


def _language_name(code):
    """Return a language's own name ("Français" for "fr"), or its code when Django does not know it."""
    try:
        return get_language_info(code)["name_local"]
    except KeyError:
        return code


def _correction_to_decide(submission):
    correction = selectors.correction_in_progress(submission)
    if correction is None:
        raise services.InvalidTransition(
            _("This submission has no correction request waiting for a decision.")
        )
    return correction


def _duplicate_hints(checks):
    """Return what the duplicate check found ("DP-… “name”" labels), to help a curator mark a duplicate."""
    found = next((check for check in checks if check.kind == CheckResult.Kind.DUPLICATE), None)
    if found is None:
        return []
    details = found.details or {}
    return [*details.get("same_location", []), *details.get("similar_names", [])][:10]


def _metadata_rows(metadata):
    rows = []
    for key, value in metadata.items():
        if isinstance(value, str | int | float | bool) or value is None:
            shown = str(value)
        elif isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
            shown = ", ".join(str(item) for item in value)
        else:
            shown = json.dumps(value, ensure_ascii=False, indent=1)[:4000]
        rows.append((key, shown))
    return rows


def _revision_diffs(revisions):
    """Return (from revision, to revision, diff lines with their kind) for each pair of neighbours."""
    diffs = []
    texts = {}
    for revision in revisions:
        try:
            texts[revision.number] = revision.read_text().splitlines()
        except (OSError, UnicodeDecodeError):
            texts[revision.number] = []
    for older, newer in itertools.pairwise(revisions):
        lines = _diff_lines(
            texts[older.number],
            texts[newer.number],
            fromfile=_("revision %(number)s") % {"number": older.number},
            tofile=_("revision %(number)s") % {"number": newer.number},
        )
        diffs.append((older, newer, lines))
    return diffs


def _diff_lines(old_lines, new_lines, *, fromfile, tofile):
    """Return the unified diff of two texts (as lists of lines) as (kind, line) pairs for the template."""
    lines = []
    for line in difflib.unified_diff(
        old_lines, new_lines, fromfile=fromfile, tofile=tofile, lineterm="", n=2
    ):
        kind = "add" if line.startswith("+") else "del" if line.startswith("-") else "ctx"
        if line.startswith(("+++", "---", "@@")):
            kind = "hunk"
        lines.append((kind, line))
    return lines


def _correction_diff(correction, revisions):
    """Return the diff from the newest accepted card to a proposed card version, or None for other requests."""
    if correction is None or correction.kind != correction.Kind.CARD or correction.revision_id:
        return None
    published = revisions
    try:
        old = published[-1].read_text().splitlines() if published else []
        new = correction.read_card().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    return _diff_lines(
        old,
        new,
        fromfile=_("revision %(number)s") % {"number": published[-1].number} if published else _("nothing"),
        tofile=_("request %(number)s") % {"number": correction.number},
    )
