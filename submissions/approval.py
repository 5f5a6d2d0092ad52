"""The approval gate: what a curator must acknowledge before approving a submission.

A failing location, data or duplicates check, one that could not run (an error, or not run yet), or personal
data found in the data, does not forbid approval (checks advise; curators decide), but approving then needs
an explicit override with a reason, and personal data needs its own ticked item. `services.approve` enforces
the rule; the review page's form shows it. The concerns are worded in the active language when the gate is
computed (the curator's, on the review page).
"""

import dataclasses

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.i18n import translated
from submissions.models import CheckResult

# Checks whose failure means the publication would fail or publish the wrong thing (a dataset twice).
GATING_CHECKS = (CheckResult.Kind.LOCATION, CheckResult.Kind.DATA, CheckResult.Kind.DUPLICATE)
PERSONAL_DATA_ITEM = gettext_lazy(
    "I looked at the personal data found: it may be published (consent, or public by nature), "
    "or the contributor will remove it first"
)


@dataclasses.dataclass(frozen=True)
class ApprovalGate:
    """The concerns about a submission's newest revision that approving must override."""

    concerns: tuple[str, ...] = ()
    personal_data: tuple[str, ...] = ()

    @property
    def needs_override(self):
        """Whether approving needs an override with a reason."""
        return bool(self.concerns)

    @property
    def needs_personal_data_tick(self):
        """Whether approving needs the personal-data item ticked."""
        return bool(self.personal_data)


def gate_for(submission):
    """Return the approval gate of a submission, from the checks of its newest card revision."""
    revision = submission.latest_revision
    if revision is None:
        return ApprovalGate()
    concerns, personal = [], []
    checks = {
        check.kind: check for check in CheckResult.objects.filter(revision=revision, kind__in=GATING_CHECKS)
    }
    for kind in sorted(GATING_CHECKS):
        check = checks.get(kind)
        label = str(CheckResult.Kind(kind).label).lower()
        if check is None:
            concerns.append(
                _("The %(check)s check has not run yet: nobody has looked at it.") % {"check": label}
            )
            continue
        summary = check.get_summary_display()
        if check.outcome == CheckResult.Outcome.FAIL:
            concerns.append(
                _("The %(check)s check fails: %(summary)s") % {"check": label, "summary": summary}
            )
        elif check.outcome == CheckResult.Outcome.ERROR:
            concerns.append(
                _("The %(check)s check could not run (%(summary)s); run the checks again, or override.")
                % {"check": label, "summary": summary}
            )
        if check.kind == CheckResult.Kind.DATA:
            for finding in (check.details or {}).get("personal_data", []):
                personal.append(
                    _("%(count)s %(what)s in %(place)s")
                    % {
                        "count": finding["count"],
                        "what": translated(finding["label"]),
                        "place": translated(finding["place"]),
                    }
                )
    if personal:
        concerns.append(_("Personal data was found: %(findings)s.") % {"findings": "; ".join(personal)})
    return ApprovalGate(concerns=tuple(concerns), personal_data=tuple(personal))
