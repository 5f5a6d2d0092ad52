"""Contributor-facing pages: the contribution form, the receipt and the private status page.

Views parse the request, call a service or selector and render; rules live in forms and services.
"""

import base64
import functools

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.generic import FormView

from portal import identity, queues, ratelimits, requestlog
from portal.usage_chart import usage_chart
from submissions import selectors, services
from submissions.card_template import card_template
from submissions.carddata import license_info
from submissions.categorisation import InvalidProposal
from submissions.fields import checksums_text
from submissions.forms import (
    CardVersionForm,
    ContributionForm,
    CorrectionForm,
    LocationForm,
    ReplyForm,
    RevisionForm,
    SignInForm,
    WithdrawForm,
)
from submissions.models import Submission, TermsVersion

RECEIPTS_SESSION_KEY = "receipts"
KEPT_CARD_SESSION_KEY = "kept_cards"


GET_OR_POST = ["GET", "HEAD", "POST"]
# Replies, revised cards and withdrawals of one status link share one count.
limit_status_posts = ratelimits.limit_posts("status-page", link="PORTAL_RATE_STATUS_POSTS_PER_LINK")


@method_decorator(
    ratelimits.limit_posts(
        "contribute",
        ip="PORTAL_RATE_CONTRIBUTE_PER_IP",
        email="PORTAL_RATE_CONTRIBUTE_PER_EMAIL",
        # Posts the form refuses count toward a looser limit only, so that correcting them locks nobody out;
        # a stored submission ends in a redirect to its receipt.
        attempts={"ip": "PORTAL_RATE_CONTRIBUTE_ATTEMPTS_PER_IP"},
        counted=lambda response: response.status_code == 302,
    ),
    name="post",
)
class ContributeView(FormView):
    """The contribution form; a valid POST creates the submission and shows its receipt."""

    template_name = "submissions/contribute.html"
    form_class = ContributionForm
    # FormView would also accept PUT as a POST.
    http_method_names = ["get", "head", "post"]

    def dispatch(self, request, *args, **kwargs):
        self.terms = TermsVersion.current()
        if self.terms is None:
            return render(request, "submissions/closed.html", status=503)
        self.signed_in = identity.signed_in(request.user)
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        # A resent form (double click, browser resend) goes to the receipt of the submission it created.
        existing = selectors.submission_for_key(request.POST.get("submission_key", ""))
        if existing is not None:
            return self._to_receipt(existing)
        return super().post(request, *args, **kwargs)

    def _to_receipt(self, submission):
        requestlog.bind(submission=submission.reference)
        session = self.request.session
        session[RECEIPTS_SESSION_KEY] = [*session.get(RECEIPTS_SESSION_KEY, [])[-19:], submission.reference]
        return redirect("submissions:receipt", reference=submission.reference)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["terms"] = self.terms
        kwargs["kept_card"] = self._kept_card()
        kwargs["signed_in"] = self.signed_in
        return kwargs

    def _kept_card(self):
        if self.request.method != "POST":
            return None
        kept = self.request.session.get(KEPT_CARD_SESSION_KEY, {}).get(
            self.request.POST.get("submission_key", "")
        )
        if not kept:
            return None
        return kept["name"], base64.b64decode(kept["content"])

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            submission, _created = self._submit(form)
        except services.NameTaken as exc:
            form.add_error("name", forms.ValidationError(str(exc), code="duplicate"))
            return self.form_invalid(form)
        session = self.request.session
        kept = session.get(KEPT_CARD_SESSION_KEY, {})
        if kept.pop(str(data["submission_key"]), None) is not None:
            session[KEPT_CARD_SESSION_KEY] = kept
        return self._to_receipt(submission)

    def _submit(self, form):
        data = form.cleaned_data
        return services.submit(
            submission_key=data["submission_key"],
            name=data["name"],
            location=data["location"],
            hosting_wanted=data["hosting_wanted"],
            card=form.parsed_card,
            card_raw=form.card_raw,
            card_filename=form.card_filename,
            modalities=data["modalities"],
            domain=data["domain"],
            suggested_domain=data["suggested_domain"],
            contact_email=data["contact_email"],
            terms=self.terms,
            announced_checksums=data["announced_checksums"],
            paper=data["paper"],
            code_url=data["code_url"],
            # The iD of this session's ORCID sign-in, never a posted value.
            contributor_orcid=form.orcid,
            contributor_given_names=data.get("contributor_given_names", ""),
            contributor_family_names=data.get("contributor_family_names", ""),
        )

    def form_invalid(self, form):
        # Keep a valid card across an unrelated error, so that the contributor need not choose it again.
        if form.card_raw is not None and form.is_bound:
            key = self.request.POST.get("submission_key", "")
            kept = self.request.session.get(KEPT_CARD_SESSION_KEY, {})
            kept = dict(list(kept.items())[-4:])
            kept[key] = {"name": form.card_filename, "content": base64.b64encode(form.card_raw).decode()}
            self.request.session[KEPT_CARD_SESSION_KEY] = kept
            if form.kept_card is None:
                form.keep_card(form.card_filename, form.card_raw)
        return super().form_invalid(form)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["terms"] = self.terms
        return context


# Open licences the "What we accept" page names as examples (any licence the Hub knows is accepted).
EXAMPLE_LICENSES = (
    "cc-by-4.0",
    "cc-by-sa-4.0",
    "cc0-1.0",
    "cdla-permissive-2.0",
    "odc-by",
    "odbl",
    "mit",
    "apache-2.0",
)


@require_safe
def what_we_accept(request):
    """The requirements of a contribution, in the portal's words, with the configured limits."""
    context = {
        "card_max_bytes": settings.PORTAL_CARD_MAX_BYTES,
        "data_max_bytes": settings.MIRROR_MAX_BYTES,
        "data_max_files": settings.MIRROR_MAX_FILES,
        "licenses": [license_info(license_id) for license_id in EXAMPLE_LICENSES],
        "terms": TermsVersion.current(),
    }
    return render(request, "submissions/what_we_accept.html", context)


@require_http_methods(GET_OR_POST)
def download_card_template(request):
    """A README.md card template prefilled from what the contribution form holds so far (GET or POST)."""
    data = request.POST if request.method == "POST" else request.GET
    text = card_template(name=data.get("name", ""), modalities=data.getlist("modalities"))
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="README.md"'
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def receipt(request, reference):
    """Show the receipt of a submission made in this browser session."""
    submission = None
    if reference in request.session.get(RECEIPTS_SESSION_KEY, []):
        submission = Submission.objects.select_related("domain").filter(reference=reference).first()
    if submission is None:
        return link_not_found(request)
    return render(request, "submissions/receipt.html", {"submission": submission})


# The status page lists this many files (the curators' review page lists them all, page by page).
FILES_SHOWN = 100


def _status_context(submission, *, token, **extra):
    revision = submission.latest_revision
    context = {
        "submission": submission,
        "timeline": selectors.public_timeline(submission),
        "revision": revision,
        "data_check": selectors.data_check(revision),
        "location_check": selectors.location_check(revision),
        "token": token,
        "reply_form": ReplyForm(),
        "revision_form": RevisionForm(),
        "location_form": LocationForm(
            initial={
                "location": submission.location,
                "checksums": checksums_text(submission.announced_checksums),
            }
        ),
        "records": selectors.records(submission),
        "manifest_totals": selectors.manifest_totals(submission),
        "files_shown": selectors.manifest_page(submission, per_page=FILES_SHOWN).object_list,
        "publication": selectors.publication(submission),
    }
    published = selectors.categorisation(submission)
    if published is not None:
        context.update(
            published=published,
            usage_chart=usage_chart(selectors.usage_history(submission)),
            corrections=selectors.corrections(submission),
            correction_in_progress=selectors.correction_in_progress(submission),
            correction_form=CorrectionForm(published=published),
            card_version_form=CardVersionForm(),
        )
    context.update(extra)
    return context


class UnknownLink(Exception):
    """A private link that matches nothing or no longer works."""


def link_not_found(request):
    """Render the friendly 404 page of a wrong, used or expired private link, also with DEBUG on.

    Raising Http404 would show Django's debug page, with the URL patterns, whenever DEBUG is on. The page
    is the same for every case: which links exist, or existed, is never hinted (docs/developing/design.md, "Status tracking").
    """
    # The language switcher goes on to the page that sends a new link, never back to the wrong one: its
    # address (a token) is not repeated in the page.
    switcher_next = reverse("submissions:my_submissions_form")
    return private_response(
        render(request, "submissions/link_not_found.html", {"switcher_next": switcher_next}, status=404)
    )


def private_link_page(view):
    """Turn an `UnknownLink` raised by a view of a private link into the friendly not-found page."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except UnknownLink:
            return link_not_found(request)

    return wrapper


def _find_or_404(token):
    found = selectors.submission_for_token(token)
    if found is None:
        raise UnknownLink
    requestlog.bind(submission=found[1].reference)
    return found


@require_safe
@private_link_page
def status(request, token):
    """Show a submission's private status page; while unconfirmed it offers the button that confirms.

    Opening the link changes nothing: the link scanners of institutional mail open every link of a
    message, so a GET that confirmed would put datasets in the queue that nobody confirmed.
    """
    link, submission = _find_or_404(token)
    services.touch_status_link(link)
    response = render(request, "submissions/status.html", _status_context(submission, token=token))
    return private_response(response)


def capability_post(view):
    """Accept only POSTs, without Django's CSRF check, on pages addressed by a private status token.

    The status pages send `Referrer-Policy: no-referrer` so that the token never leaks; under that policy
    browsers send `Origin: null` with the page's own form posts, which Django's CSRF check refuses. The
    check is not needed here: a cross-site forger would have to know the 256-bit token in the URL, which
    is exactly what CSRF tokens provide (OWASP CSRF cheat sheet, "capability URLs").
    """
    return csrf_exempt(require_POST(limit_status_posts(private_link_page(view))))


@capability_post
def confirm_address(request, token):
    """The status page's "Confirm my e-mail address" button: the dataset goes to the curators' queue."""
    _link, submission = _find_or_404(token)
    if submission.state == Submission.State.AWAITING_CONFIRMATION:
        services.confirm(submission)
        messages.success(
            request,
            _("Thank you, your e-mail address is confirmed. Your dataset is now in the curators' queue."),
        )
    return private_response(redirect("submissions:status", token=token))


def _status_form(request, token, *, form_class, context_name, perform, success):
    """Handle a form of the status page: validate it, call the service, and redirect or show the errors."""
    _link, submission = _find_or_404(token)
    form = form_class(request.POST, request.FILES)
    if form.is_valid():
        try:
            perform(submission, form)
        except InvalidProposal as exc:
            for field, message in exc.errors.items():
                form.add_error(field if field in form.fields else None, message)
        except services.InvalidTransition as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, success)
            return private_response(redirect("submissions:status", token=token))
    context = _status_context(submission, token=token, **{context_name: form})
    return private_response(render(request, "submissions/status.html", context, status=400))


@capability_post
def reply(request, token):
    """The contributor's message to the curators."""
    return _status_form(
        request,
        token,
        form_class=ReplyForm,
        context_name="reply_form",
        perform=lambda submission, form: services.reply(submission, text=form.cleaned_data["text"]),
        success=_("Your message was sent to the curators."),
    )


@capability_post
def revise(request, token):
    """A revised dataset card while the curators ask for changes."""
    return _status_form(
        request,
        token,
        form_class=RevisionForm,
        context_name="revision_form",
        perform=lambda submission, form: services.revise_card(
            submission,
            card=form.parsed_card,
            card_raw=form.card_raw,
            card_filename=form.card_filename,
            comment=form.cleaned_data["comment"],
        ),
        success=_("Thank you: the revised card is with the curators."),
    )


@capability_post
def request_correction(request, token):
    """The contributor proposes a new categorisation for a published dataset."""
    _link, submission = _find_or_404(token)
    published = selectors.categorisation(submission)
    if published is None:
        messages.error(request, _("Only a published dataset can be corrected."))
        return private_response(redirect("submissions:status", token=token))
    return _status_form(
        request,
        token,
        form_class=functools.partial(CorrectionForm, published=published),
        context_name="correction_form",
        perform=lambda submission, form: services.request_correction(
            submission, proposal=form.proposal, message=form.cleaned_data["message"]
        ),
        success=_("Thank you: your correction is with the curators."),
    )


@capability_post
def send_card_version(request, token):
    """The contributor sends a new version of a published dataset's card."""
    return _status_form(
        request,
        token,
        form_class=CardVersionForm,
        context_name="card_version_form",
        perform=lambda submission, form: services.submit_card_version(
            submission,
            card=form.parsed_card,
            card_raw=form.card_raw,
            card_filename=form.card_filename,
            message=form.cleaned_data["comment"],
        ),
        success=_("Thank you: the new card is with the curators."),
    )


@capability_post
def revise_location(request, token):
    """A new data location while the curators ask for changes or after publishing failed."""
    return _status_form(
        request,
        token,
        form_class=LocationForm,
        context_name="location_form",
        perform=lambda submission, form: services.revise_location(
            submission,
            location=form.cleaned_data["location"],
            checksums=form.cleaned_data["announced_checksums"],
            comment=form.cleaned_data["comment"],
        ),
        success=_("Thank you: your changes are with the curators, and the checks run again."),
    )


@csrf_exempt  # see capability_post: the page is addressed by its private token
@require_http_methods(GET_OR_POST)
@limit_status_posts
@private_link_page
def withdraw(request, token):
    """Ask for confirmation, then withdraw the submission."""
    _link, submission = _find_or_404(token)
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.withdraw(submission, reason=form.cleaned_data["reason"])
        except services.InvalidTransition as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Your submission is withdrawn."))
            return private_response(redirect("submissions:status", token=token))
    status_code = 400 if request.method == "POST" else 200
    context = {"submission": submission, "form": form, "token": token}
    return private_response(render(request, "submissions/withdraw.html", context, status=status_code))


@capability_post
def reopen(request, token):
    """The contributor reopens a submission closed for lack of an answer: the change request stands again."""
    _link, submission = _find_or_404(token)
    try:
        services.reopen(submission)
    except services.InvalidTransition as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("The submission is open again: send the requested changes, or write to the curators.")
        )
    return private_response(redirect("submissions:status", token=token))


@require_safe
@private_link_page
def draft_card(request, token):
    """A dataset card drafted from the submission's repository records, for the contributor to complete."""
    _link, submission = _find_or_404(token)
    records = selectors.records(submission)
    if not records:
        raise UnknownLink
    text = card_template(
        name=submission.name,
        modalities=submission.modality_list,
        records=records,
        files=selectors.manifest_page(submission, per_page=200).object_list,
        splits=selectors.manifest_totals(submission)["splits"],
    )
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="README.md"'
    return private_response(response)


@require_safe
def progress(request, token):
    """Return the publication progress of a submission as JSON, for the status page's progress bar."""
    found = selectors.submission_for_token(token)
    if found is None:
        return private_response(JsonResponse({"error": "No such page."}, status=404))
    _link, submission = found
    publication = selectors.publication(submission)
    data = {"state": submission.state, "state_label": submission.get_state_display()}
    if publication is not None:
        data.update(publication.public())
    return private_response(JsonResponse(data))


@require_http_methods(GET_OR_POST)
@ratelimits.limit_posts("sign-in", ip="PORTAL_RATE_SIGN_IN_PER_IP", email="PORTAL_RATE_SIGN_IN_PER_EMAIL")
def my_submissions(request):
    """Ask for a sign-in link that lists every submission of an e-mail address; signed in, list them at once."""
    signed_in = identity.signed_in(request.user)
    if request.method != "POST" and signed_in is not None:
        return _my_submissions_signed_in(request, signed_in)
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # The lookup and the e-mail happen in a worker, so the answer takes the same time whether the
        # address is known or not; the page says the same either way.
        # The e-mail goes out in the language of this page (there is no submission to take it from).
        queues.enqueue(
            "submissions.tasks.send_sign_in_link", form.cleaned_data["email"], translation.get_language()
        )
        return render(request, "submissions/sign_in_sent.html", {"email": form.cleaned_data["email"]})
    return render(request, "submissions/my_submissions_form.html", {"form": form})


MY_STATUS_TOKENS_SESSION_KEY = "my_status_tokens"


def _my_submissions_signed_in(request, signed_in):
    """Every submission of the signed-in ORCID iD or verified address, with status links kept in the session."""
    known = request.session.get(MY_STATUS_TOKENS_SESSION_KEY, {})
    entries, tokens = services.status_links_for_identity(
        orcid=signed_in.orcid, emails=signed_in.verified_emails, known_tokens=known
    )
    if tokens != known:
        request.session[MY_STATUS_TOKENS_SESSION_KEY] = tokens
    rows = [
        (submission, reverse("submissions:status", args=[token]) if token else None)
        for submission, token in entries
    ]
    context = {"rows": rows, "signed_in": signed_in}
    return private_response(render(request, "submissions/my_submissions.html", context))


@csrf_exempt  # see capability_post: the page is addressed by its private token
@require_http_methods(GET_OR_POST)
def my_submissions_list(request, token):
    """A sign-in link: GET asks to confirm (mail scanners follow links), POST spends it and lists the submissions."""
    if request.method != "POST":
        if not selectors.sign_in_link_is_valid(token):
            return link_not_found(request)
        return private_response(render(request, "submissions/my_submissions_confirm.html"))
    entries = services.use_sign_in(token)
    if entries is None:
        return link_not_found(request)
    rows = [
        (submission, reverse("submissions:status", args=[status_token]))
        for submission, status_token in entries
    ]
    return private_response(render(request, "submissions/my_submissions.html", {"rows": rows}))


def private_response(response):
    """Mark a response holding a private link's page: never cached, never leaked by the Referer header."""
    add_never_cache_headers(response)
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
