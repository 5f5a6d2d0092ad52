"""Generated input for the pages and forms (hypothesis strategies) and what "nothing stored" means.

The strategies send what browsers, scripts and crawlers send: any text, control characters, markup and
SQL, overlong values, numbers that are not numbers or are too large, and a field repeated many times.
`stored()` is everything a refused request must leave as it was: the rows of the portal's own tables,
the submissions' states, the stored files and the e-mails sent.
"""

from django.apps import apps
from django.core import mail
from django.db import connection
from hypothesis import strategies as st

from tests.conftest import stored_files

CONTROL = "".join(map(chr, [*range(32), 0x7F, 0x85, 0x9B, 0x2028, 0x202E]))
ODD_VALUES = [
    "",
    " ",
    "0",
    "-1",
    "1.5",
    "1e9",
    "abc",
    "9223372036854775807",
    "99999999999999999999999",
    "\x00",
    "%00",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "javascript:alert(1)",
    "https://",
    "https://127.0.0.1/data.csv",
    "https://[::1]/x",
    "https://user:pw@example.org/x",
    "ftp://example.org/x",
    "10.5281/zenodo.1234567",
    "https://example.org/" + "a" * 2100,
    "name@example.org",
    "a@b",
    "Marine",
    "cc-by-4.0",
    "text",
    "on",
    "1",
]

# One value: odd ones, any text (also beyond the BMP), text full of control characters, overlong text.
junk = st.one_of(
    st.sampled_from(ODD_VALUES),
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from(CONTROL + "ab <>&'\"%\\/é漢😀"), max_size=30),
    st.integers(min_value=101, max_value=12_000).map(lambda n: "x" * n),
)
# A parameter: one value, or the same name repeated many times.
junk_field = st.one_of(junk, st.lists(junk, min_size=2, max_size=60))
# Ids of a URL: numbers that name nothing, huge ones, negative ones, words.
junk_id = st.one_of(
    st.sampled_from(["0", "-1", "1.5", "abc", "9223372036854775807", "9223372036854775808", "1e3", "٣"]),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)


def junk_params(names, *, extra=True):
    """A query or form: any subset of `names` with junk values, plus (with `extra`) unknown names."""
    known = st.fixed_dictionaries({}, optional={name: junk_field for name in names})
    if not extra:
        return known
    unknown = st.dictionaries(st.text(min_size=1, max_size=12), junk_field, max_size=3)
    return st.tuples(known, unknown).map(lambda pair: {**pair[1], **pair[0]})


def stored(media_root):
    """Everything a refused request must leave as it was."""
    from submissions.models import Submission

    tables = [
        model._meta.db_table
        for label in ("submissions", "catalog")
        for model in apps.get_app_config(label).get_models()
    ]
    # One query for every table: the tests call this twice per example.
    with connection.cursor() as cursor:
        quote = connection.ops.quote_name
        cursor.execute(
            " UNION ALL ".join(
                f"SELECT {index}, COUNT(*) FROM {quote(table)}"  # noqa: S608 - the models' own table names
                for index, table in enumerate(tables)
            )
        )
        counts = tuple(sorted(cursor.fetchall()))
    states = tuple(
        Submission.objects.order_by("pk").values_list("pk", "state", "assignee_id", "location", "name")
    )
    return counts, states, tuple(stored_files(media_root)), len(mail.outbox)
