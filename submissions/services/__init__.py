"""Every change to a submission happens in this package: one function per business action.

Views, the admin and tasks call these functions; none of them sets `state`. Each flow has its module:
`review` (from the form to the decision and publication), `locations` (where the data lives),
`corrections` and `published` (after publication: the DOI, a withdrawal), `sign_in` ("my submissions"),
`reminders` (reminders, abandonment and reopening), `triage` (spam, duplicates) and `digest` (the curators'
daily e-mail); `transitions` holds what they share
(the row lock, a state move and its event). This package knows nothing about requests or templates.
The names below are the door callers use: `services.approve(...)`.
"""

from submissions.services.corrections import (
    accept_correction,
    decline_correction,
    mark_correction_failed,
    mark_correction_published,
    request_correction,
    retry_correction,
    submit_card_version,
)
from submissions.services.digest import send_digest, set_digest_preference
from submissions.services.locations import (
    LOCATION_EDITABLE_BY_CURATORS,
    change_location,
    revise_location,
)
from submissions.services.published import (
    mark_doi_failed,
    mark_doi_registered,
    note_publication_problem,
    retry_doi,
    withdraw_published,
)
from submissions.services.reminders import abandon, remind_assignee, remind_contributor, reopen
from submissions.services.review import (
    CHECKLIST_ITEMS,
    NameTaken,
    ReviewChecklist,
    adopt_domain,
    approve,
    assign,
    available_actions,
    claim,
    confirm,
    mark_mirror_failed,
    mark_published,
    reject,
    reply,
    request_changes,
    rerun_checks,
    retry_mirror,
    revise_card,
    send_message,
    start_mirroring,
    submit,
    touch_status_link,
    withdraw,
)
from submissions.services.sign_in import (
    SIGN_IN_LINKS_PER_HOUR,
    request_sign_in,
    status_links_for_identity,
    use_sign_in,
)
from submissions.services.transitions import InvalidTransition
from submissions.services.triage import DUPLICATE_STATES, SPAM_STATES, mark_duplicate, reject_as_spam

__all__ = [
    "CHECKLIST_ITEMS",
    "DUPLICATE_STATES",
    "LOCATION_EDITABLE_BY_CURATORS",
    "SIGN_IN_LINKS_PER_HOUR",
    "SPAM_STATES",
    "InvalidTransition",
    "NameTaken",
    "ReviewChecklist",
    "abandon",
    "accept_correction",
    "adopt_domain",
    "approve",
    "assign",
    "available_actions",
    "change_location",
    "claim",
    "confirm",
    "decline_correction",
    "mark_correction_failed",
    "mark_correction_published",
    "mark_doi_failed",
    "mark_doi_registered",
    "mark_duplicate",
    "mark_mirror_failed",
    "mark_published",
    "note_publication_problem",
    "reject",
    "reject_as_spam",
    "remind_assignee",
    "remind_contributor",
    "reopen",
    "reply",
    "request_changes",
    "request_correction",
    "request_sign_in",
    "rerun_checks",
    "retry_correction",
    "retry_doi",
    "retry_mirror",
    "revise_card",
    "revise_location",
    "send_digest",
    "send_message",
    "set_digest_preference",
    "start_mirroring",
    "status_links_for_identity",
    "submit",
    "submit_card_version",
    "touch_status_link",
    "use_sign_in",
    "withdraw",
    "withdraw_published",
]
