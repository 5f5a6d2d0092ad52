"""The curation team's pages in the admin: the dashboard and each curator's digest setting.

The review queue (`review_admin`) routes to these views and links them; they read figures from
`submissions.dashboard` and change a setting through `submissions.services`, nothing else.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext

from submissions import admin_forms, charts, dashboard, services
from submissions.curators import is_curator
from submissions.models import SHORT_STATE_LABELS, CuratorPreferences

AGE_SERIES = (_("under 2 days"), _("2 to 7 days"), _("over 7 days"))
AGE_COLORS = ("#198754", "#e0a800", "#dc3545")
CLAIM_SERIES = (_("to review"), _("waiting for the contributor"), _("being published"))
CLAIM_COLORS = ("#0d6efd", "#6c757d", "#20c997")
ANSWER_COLOR = "#0d6efd"
DECISION_COLOR = "#6f42c1"


def format_duration(duration):
    """Return a duration in words a curator reads at a glance: minutes, hours under two days, else days.

    In the reader's language, with its decimal mark: "1.5 h" in English, "1,5 h" in French.
    """
    if duration is None:
        return "—"
    seconds = duration.total_seconds()
    if seconds < 3600:
        return _("{n} min").format(n=round(seconds / 60))
    if seconds < 48 * 3600:
        return _("{n} h").format(n=_one_decimal(seconds / 3600))
    return _("{n} days").format(n=_one_decimal(seconds / 86400))


def _one_decimal(value):
    """Return a number rounded to one decimal, written with the active language's decimal mark."""
    return number_format(Decimal(f"{value:.1f}"), decimal_pos=1)


def _hours_text(hours):
    return format_duration(datetime.timedelta(hours=hours))


def _backlog_chart(rows):
    total = sum(row.total for row in rows)
    buckets = [sum(row.buckets[index] for row in rows) for index in range(3)]
    largest = max(rows, key=lambda row: row.total)
    summary = ngettext(
        "{total} submission in the backlog: {young} waiting under 2 days, {middle} for 2 to 7 days, "
        "{old} over 7 days. The largest state is “{state}” with {count}.",
        "{total} submissions in the backlog: {young} waiting under 2 days, {middle} for 2 to 7 days, "
        "{old} over 7 days. The largest state is “{state}” with {count}.",
        total,
    ).format(
        total=total,
        young=buckets[0],
        middle=buckets[1],
        old=buckets[2],
        state=largest.label,
        count=largest.total,
    )
    if not total:
        summary = _("The backlog is empty: nothing waits.")
    return charts.stacked_bars(
        [(SHORT_STATE_LABELS[row.state], row.buckets) for row in rows],
        series=AGE_SERIES,
        colors=AGE_COLORS,
        key="backlog",
        title=_("The backlog by state and by how long it has waited"),
        summary=summary,
    )


def _claims_chart(rows):
    claimed = [row for row in rows if row.total]
    if claimed:
        total = sum(row.total for row in rows)
        overdue = sum(row.overdue for row in rows)
        summary = " ".join(
            [
                ngettext("{total} open claim.", "{total} open claims.", total).format(total=total),
                ngettext(
                    "{people} curator holds them; the most are {name}'s ({count}).",
                    "{people} curators hold them; the most are {name}'s ({count}).",
                    len(claimed),
                ).format(people=len(claimed), name=claimed[0].curator.get_username(), count=claimed[0].total),
                ngettext(
                    "{overdue} of them waits past the review deadline.",
                    "{overdue} of them wait past the review deadline.",
                    overdue,
                ).format(overdue=overdue),
            ]
        )
    else:
        summary = _("No curator holds an open claim.")
    return charts.stacked_bars(
        [(row.curator.get_username(), row.buckets) for row in rows],
        series=CLAIM_SERIES,
        colors=CLAIM_COLORS,
        key="claims",
        title=_("Open claims per curator"),
        summary=summary,
    )


def _pace_chart(weeks, *, field, count_field, color, key, title, what, nothing):
    points = [
        (
            date_format(row.week, pgettext("a week's Monday, short (a date format)", "j M")),
            getattr(row, field).total_seconds() / 3600 if getattr(row, field) is not None else None,
        )
        for row in weeks
    ]
    measured = [row for row in weeks if getattr(row, field) is not None]
    if measured:
        latest = measured[-1]
        medians = [getattr(row, field) for row in measured]
        summary = ngettext(
            "Median time to {what} per week, over the last {weeks} weeks: from {low} to {high}. In the week "
            "of {week}: {median} for {count} submission.",
            "Median time to {what} per week, over the last {weeks} weeks: from {low} to {high}. In the week "
            "of {week}: {median} over {count} submissions.",
            getattr(latest, count_field),
        ).format(
            what=what,
            weeks=len(weeks),
            low=format_duration(min(medians)),
            high=format_duration(max(medians)),
            week=date_format(latest.week, "j F Y"),
            median=format_duration(getattr(latest, field)),
            count=getattr(latest, count_field),
        )
    else:
        summary = nothing.format(weeks=len(weeks))
    return charts.column_bars(
        points,
        color=color,
        key=key,
        title=title,
        summary=summary,
        value_text=_hours_text,
        axis_text=_hours_text,
    )


def dashboard_view(request, *, admin_site):
    """The curation team's dashboard: backlog, open claims and weekly pace, as charts and tables."""
    if not is_curator(request.user):
        raise PermissionDenied
    now = timezone.now()
    backlog = dashboard.backlog(now=now)
    claims = dashboard.claims(now=now, sla_days=settings.REVIEW_SLA_DAYS)
    weeks = dashboard.pace(now=now)
    context = {
        **admin_site.each_context(request),
        "title": _("Curation dashboard"),
        "backlog": backlog,
        "backlog_total": [sum(row.buckets[index] for row in backlog) for index in range(3)],
        "claims": claims,
        "pace_rows": [
            (row, format_duration(row.answer_median), format_duration(row.decision_median)) for row in weeks
        ],
        "age_series": AGE_SERIES,
        "sla_days": settings.REVIEW_SLA_DAYS,
        "time_zone": settings.TIME_ZONE,
        "backlog_chart": _backlog_chart(backlog),
        "claims_chart": _claims_chart(claims),
        "answer_chart": _pace_chart(
            weeks,
            field="answer_median",
            count_field="answers",
            color=ANSWER_COLOR,
            key="first-answer",
            title=_("Median time to the first answer, by week"),
            what=_("the first answer"),
            nothing=_("No first answer in the last {weeks} weeks."),
        ),
        "decision_chart": _pace_chart(
            weeks,
            field="decision_median",
            count_field="decisions",
            color=DECISION_COLOR,
            key="decision",
            title=_("Median time to the decision, by week"),
            what=_("the decision"),
            nothing=_("No decision in the last {weeks} weeks."),
        ),
        "now": now,
    }
    return TemplateResponse(request, "admin/submissions/submission/dashboard.html", context)


def digest_view(request, *, admin_site):
    """A curator turns their own daily digest on or off."""
    if not is_curator(request.user):
        raise PermissionDenied
    preferences = CuratorPreferences.objects.filter(user=request.user).first()
    wanted = preferences.digest if preferences else True
    if request.method == "POST":
        form = admin_forms.DigestPreferenceForm(request.POST)
        if form.is_valid():
            services.set_digest_preference(request.user, wanted=form.cleaned_data["digest"])
            messages.success(
                request,
                _("The daily digest is on.")
                if form.cleaned_data["digest"]
                else _("The daily digest is off."),
            )
            return HttpResponseRedirect(reverse("admin:submissions_submission_digest"))
    else:
        form = admin_forms.DigestPreferenceForm(initial={"digest": wanted})
    context = {
        **admin_site.each_context(request),
        "title": _("Your daily digest"),
        "form": form,
        "wanted": wanted,
        "has_email": bool(request.user.email),
        "digest_hour": settings.REVIEW_DIGEST_HOUR,
        "time_zone": settings.TIME_ZONE,
        "sla_days": settings.REVIEW_SLA_DAYS,
    }
    return TemplateResponse(request, "admin/submissions/submission/digest.html", context)
