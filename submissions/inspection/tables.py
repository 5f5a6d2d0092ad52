"""Profile a sampled table: columns and types, row count, empty and distinct values, first rows.

Delimited text and JSON are read by DuckDB (in-process, type sniffing); Parquet and Arrow files by
pyarrow, whose first rows are then handed to DuckDB for the same statistics. DuckDB runs with a memory
limit, one thread and its spill folder inside the sample's scratch folder. Every cell shown goes through
`personal_data.mask_text` and is cut; the personal-data tally scans the same rows.
"""

import codecs
import csv
import dataclasses
import json
import os
from pathlib import Path

import duckdb
import pyarrow
import pyarrow.ipc
import pyarrow.parquet
from django.utils.translation import gettext_noop

from portal import i18n
from portal.i18n import english, file_size, joined, message
from submissions.inspection import formats, personal_data
from submissions.inspection.sampling import BoundedReader

FIRST_ROWS = 20
# Columns shown in the first rows and profiled with statistics; the schema lists up to SCHEMA_COLUMNS.
ROW_COLUMNS = 50
STAT_COLUMNS = 200
# Rows over which empty and distinct values are counted.
STAT_ROWS = 100_000
SCHEMA_COLUMNS = 1000
CELL_CHARS = 200
# Rows of the sample scanned for personal data, and the most cells scanned in all.
SCAN_ROWS = 5000
SCAN_CELLS = 200_000
# A record is a line of delimited text; longer ones are not a table a person can review.
MAX_LINE_BYTES = 1024 * 1024
RAGGED_CHECK_ROWS = 2000
ARROW_ROWS = 10_000
DUCKDB_MEMORY = "256MB"
CHUNK_BYTES = 1024 * 1024


class TableUnreadable(Exception):
    """The bytes claim to be a table but cannot be read as one; `message` says why (a stored message)."""

    def __init__(self, stored):
        super().__init__(english(stored))
        self.message = stored


@dataclasses.dataclass(frozen=True)
class LongLine:
    """A line of a text longer than a limit: its number (from 1), where it starts, and its length in bytes.

    `whole` is False when the line runs past the bytes held, so that its length is a lower bound.
    """

    number: int
    start: int
    length: int
    whole: bool


def first_long_line(path, held, *, complete, limit=MAX_LINE_BYTES, lines=None):
    """Return the first line longer than `limit` bytes in the first `held` bytes of a text, or None.

    Reads the held bytes once, block by block; `lines` stops the search after that many lines. A last line
    without a line end is whole only when the sample holds the whole file (`complete`).
    """
    number, start, position = 1, 0, 0
    with path.open("rb") as handle:
        while position < held:
            block = handle.read(min(CHUNK_BYTES, held - position))
            if not block:
                break
            index = 0
            while (found := block.find(b"\n", index)) >= 0:
                end = position + found + 1
                if end - start > limit:
                    return LongLine(number, start, end - start, whole=True)
                number, start, index = number + 1, end, found + 1
                if lines is not None and number > lines:
                    return None
            position += len(block)
    if position - start > limit:
        return LongLine(number, start, position - start, whole=complete)
    return None


def long_line_problem(line, *, table):
    """Return the finding for a line too long to be read: where it is, how long, what was read of the data."""
    size = file_size(line.length)
    if table and line.whole:
        msgid = gettext_noop(
            "Line %(line)s is %(size)s long (a huge cell?); the rows from there on were not read."
        )
    elif table:
        msgid = gettext_noop(
            "Line %(line)s is longer than %(size)s: it runs past the end of the sample (a huge cell?); the rows "
            "from there on were not read."
        )
    elif line.number == 1 and line.whole:
        msgid = gettext_noop(
            "Line 1 is %(size)s long (a huge cell?), so the portal could not tell whether the data is a table: "
            "it was read as plain text."
        )
    elif line.number == 1:
        msgid = gettext_noop(
            "Line 1 is longer than %(size)s: it runs past the end of the sample (a huge cell?), so the portal "
            "could not tell whether the data is a table: it was read as plain text."
        )
    elif line.whole:
        msgid = gettext_noop("Line %(line)s is %(size)s long (a huge cell?).")
    else:
        msgid = gettext_noop("Line %(line)s is longer than %(size)s: it runs past the end of the sample.")
    return message(msgid, line=i18n.number(line.number), size=size)


@dataclasses.dataclass
class Profile:
    """What a table inspection found."""

    columns: list
    column_count: int
    row_count: int
    row_count_exact: bool
    first_rows: list
    problems: list
    personal_data: list

    def as_dict(self):
        """Return the profile as stored in a check result's details."""
        return dataclasses.asdict(self)


def profile(
    path: Path, sniffed: formats.Sniffed, *, complete: bool, total_size, held_prefix, scratch, member=""
):
    """Return the Profile of the table in `path` (an archive's `member`); raise TableUnreadable when it is not one."""
    problems, unprofiled = [], []
    with _duckdb(scratch) as con:
        if sniffed.format == formats.PARQUET:
            relation, row_count, exact = _parquet(con, path, problems, held_prefix=held_prefix)
        elif sniffed.format == formats.ARROW:
            relation, row_count, exact = _arrow(con, path, problems)
        else:
            # A record longer than MAX_LINE_BYTES ends the records before it: DuckDB and the csv module refuse
            # such a line (DuckDB with a misleading "Error on Line: 1"). It is reported with its number and
            # length, and the rows before it are counted, not scaled to the file's size. (A JSON document is
            # not made of lines: its reader has its own bounds.)
            long = (
                None
                if sniffed.format == formats.JSON
                else first_long_line(path, held_prefix, complete=complete)
            )
            if long is not None:
                problems.append(long_line_problem(long, table=True))
                held_prefix, complete, total_size = long.start, True, None
            text_path = _utf8_records(
                path, sniffed, held=held_prefix, complete=complete, scratch=scratch, problems=problems
            )
            if sniffed.format in (formats.CSV, formats.TSV):
                unprofiled = _narrow(text_path, sniffed.delimiter)
            relation = _read_text(con, text_path, sniffed, problems, complete=complete)
            sampled_rows = con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]  # noqa: S608 - our own view name
            row_count, exact = _estimate(
                sampled_rows, complete=complete and long is None, total=total_size, held=held_prefix
            )
        return _profile_relation(
            con,
            relation,
            row_count=row_count,
            exact=exact,
            problems=problems,
            member=member,
            unprofiled=unprofiled,
        )


class _duckdb:
    """A DuckDB connection bounded in memory and threads, spilling into the scratch folder."""

    def __init__(self, scratch):
        self._config = {
            "memory_limit": DUCKDB_MEMORY,
            "threads": 1,
            "temp_directory": str(Path(scratch) / "duckdb"),
            # The readers needed (CSV, JSON, Parquet) are built in; a worker never downloads extensions.
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }

    def __enter__(self):
        self.con = duckdb.connect(":memory:", config=self._config)
        return self.con

    def __exit__(self, *exc_info):
        self.con.close()


def _estimate(sampled_rows, *, complete, total, held):
    """Return (row count, exact): exact for a whole file, else scaled from the prefix to the size."""
    if complete:
        return sampled_rows, True
    if total and held:
        return round(sampled_rows * total / held), False
    return sampled_rows, False


def _utf8_records(path, sniffed, *, held, complete, scratch, problems):
    """Return the held prefix as UTF-8, cut after its last whole line (a prefix may end mid-record).

    Only the first `held` bytes are read: past them, a sparse sample holds zeros (and then its end). A
    UTF-8 sample is cut in place; another encoding is transcoded and the raw sample removed, so the disk
    holds about one sample, not two.
    """
    if (sniffed.encoding or "utf_8") == "utf_8":
        records = _cut_in_place(path, held=held, complete=complete, problems=problems)
    else:
        records = _transcoded(path, sniffed, held=held, complete=complete, scratch=scratch, problems=problems)
        path.unlink()
    if sniffed.format in (formats.CSV, formats.TSV):
        _check_records(records, sniffed.delimiter, problems)
    return records


def _cut_in_place(path, *, held, complete, problems):
    """Truncate a UTF-8 sample after the last whole line of its held prefix."""
    os.truncate(path, held if complete else _last_line_end(path, held))
    return path


def _last_line_end(path, held):
    """Return the offset just past the last newline in the first `held` bytes (0 when there is none)."""
    with path.open("rb") as handle:
        position = held
        while position > 0:
            start = max(0, position - CHUNK_BYTES)
            handle.seek(start)
            index = handle.read(position - start).rfind(b"\n")
            if index >= 0:
                return start + index + 1
            position = start
    return 0


def _transcoded(path, sniffed, *, held, complete, scratch, problems):
    """Return a UTF-8 copy of the held prefix of a text in another encoding, cut after its last whole line."""
    target = Path(scratch) / "records.txt"
    decoder = codecs.getincrementaldecoder(sniffed.encoding)(errors="replace")
    with path.open("rb") as raw, target.open("w", encoding="utf-8", newline="") as out:
        source = BoundedReader(raw, held)
        pending = ""
        while block := source.read(CHUNK_BYTES):
            text = pending + decoder.decode(block)
            cut = text.rfind("\n") + 1
            out.write(text[:cut].lstrip("\ufeff") if out.tell() == 0 else text[:cut])
            pending = text[cut:]
        pending += decoder.decode(b"", final=True)
        if complete:
            out.write(pending)
    return target


def _narrow(path, delimiter):
    """Keep the first STAT_COLUMNS fields of a very wide table; return the names of the others.

    DuckDB's CSV reader holds buffers per column, and thousands of columns exhaust its memory limit.
    """
    with path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle, delimiter=delimiter), [])
    if len(header) <= STAT_COLUMNS:
        return []
    narrowed = path.with_name("narrowed.txt")
    with (
        path.open(encoding="utf-8", newline="") as source,
        narrowed.open("w", encoding="utf-8", newline="") as out,
    ):
        writer = csv.writer(out, delimiter=delimiter)
        try:
            for row in csv.reader(source, delimiter=delimiter):
                writer.writerow(row[:STAT_COLUMNS])
        except csv.Error:
            pass  # already reported by _check_records; the rows before it are kept
    narrowed.replace(path)
    return header[STAT_COLUMNS:]


def _check_records(path, delimiter, problems):
    """Report rows whose number of fields differs from the header's, and cells too long to be data."""
    csv.field_size_limit(MAX_LINE_BYTES)
    widths = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            header = next(reader, [])
            for number, row in enumerate(reader, start=2):
                if len(row) != len(header):
                    widths.setdefault(len(row), number)
                if number > RAGGED_CHECK_ROWS:
                    break
        except csv.Error as exc:
            problems.append(
                message(
                    gettext_noop(
                        "Row %(row)s cannot be read as CSV (%(error)s); long or broken rows are skipped."
                    ),
                    row=i18n.number(reader.line_num),
                    error=str(exc),
                )
            )
            return
    if widths:
        problems.append(
            message(
                gettext_noop(
                    "Ragged rows: the header has %(fields)s fields but some rows have %(widths)s (first at line "
                    "%(line)s); missing cells are read as empty."
                ),
                fields=i18n.number(len(header)),
                widths=joined(i18n.number(width) for width in sorted(widths)),
                line=i18n.number(min(widths.values())),
            )
        )


def _read_text(con, path, sniffed, problems, *, complete):
    """Read delimited text or JSON with DuckDB; return the name of a view of it."""
    try:
        if sniffed.format in (formats.CSV, formats.TSV):
            relation = con.read_csv(
                str(path),
                header=True,
                delimiter=sniffed.delimiter,
                ignore_errors=True,
                null_padding=True,
                max_line_size=MAX_LINE_BYTES,
            )
        elif sniffed.format == formats.JSONL:
            _check_json_lines(path, problems)
            relation = con.read_json(str(path), format="newline_delimited", ignore_errors=True)
        else:
            if not complete:
                raise TableUnreadable(
                    message(
                        gettext_noop("The JSON document is larger than the sample, so it could not be read.")
                    )
                )
            relation = con.read_json(str(path), format="auto")
    except duckdb.Error as exc:
        raise TableUnreadable(
            message(
                gettext_noop("It could not be read as %(format)s: %(error)s"),
                format=message(formats.LABELS[sniffed.format]),
                error=_first_line(exc),
            )
        ) from exc
    relation.create_view("sampled")
    return "sampled"


def _check_json_lines(path, problems):
    """Report the first line of a JSON Lines file that is not JSON."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if number > RAGGED_CHECK_ROWS:
                break
            if not line.strip():
                continue
            try:
                json.loads(line)
            except ValueError as exc:
                problems.append(
                    message(
                        gettext_noop(
                            "Line %(line)s is not valid JSON (%(error)s); broken lines are read as empty rows."
                        ),
                        line=i18n.number(number),
                        error=exc.msg,
                    )
                )
                return


def _parquet(con, path, problems, *, held_prefix):
    """Read a Parquet file's footer, and its first rows when the sample holds its first row group."""
    try:
        parquet = pyarrow.parquet.ParquetFile(str(path))
    except (pyarrow.ArrowException, OSError) as exc:
        raise TableUnreadable(
            message(
                gettext_noop("The Parquet file's footer is damaged or not Parquet: %(error)s"),
                error=_first_line(exc),
            )
        ) from exc
    metadata = parquet.metadata
    table = parquet.schema_arrow.empty_table()
    if metadata.num_row_groups:
        end = _row_group_end(metadata.row_group(0))
        if end > held_prefix:
            problems.append(
                message(
                    gettext_noop(
                        "The first row group (%(size)s) is larger than the sample: schema and row count only."
                    ),
                    size=file_size(end),
                )
            )
        else:
            table = _first_batch(
                parquet.iter_batches, parquet.schema_arrow, problems, batch_size=ARROW_ROWS, row_groups=[0]
            )
    con.register("sampled", table)
    return "sampled", metadata.num_rows, True


def _row_group_end(row_group):
    """Return the offset just past the last byte of a Parquet row group's column chunks."""
    end = 0
    for index in range(row_group.num_columns):
        column = row_group.column(index)
        start = min(
            offset
            for offset in (column.dictionary_page_offset, column.data_page_offset)
            if offset is not None and offset > 0
        )
        end = max(end, start + column.total_compressed_size)
    return end


def _arrow(con, path, problems):
    """Read an Arrow IPC file's schema, row count and first record batch."""
    try:
        reader = pyarrow.ipc.open_file(str(path))
    except (pyarrow.ArrowException, OSError):
        reader = None
    if reader is not None:
        table = _first_batch(
            lambda: (reader.get_batch(index) for index in range(reader.num_record_batches)),
            reader.schema,
            problems,
        )
        try:
            rows = sum(reader.get_batch(index).num_rows for index in range(reader.num_record_batches))
        except (pyarrow.ArrowException, OSError):
            rows = None
    else:
        # Without its footer (no ranges), the file is read as the stream that follows its 8-byte magic.
        with path.open("rb") as handle:
            handle.seek(8)
            try:
                stream = pyarrow.ipc.open_stream(handle)
            except (pyarrow.ArrowException, OSError) as exc:
                raise TableUnreadable(
                    message(gettext_noop("The Arrow file is damaged: %(error)s"), error=_first_line(exc))
                ) from exc
            table = _first_batch(lambda: iter(stream), stream.schema, problems)
        rows = None
    con.register("sampled", table)
    return "sampled", table.num_rows if rows is None else rows, rows is not None


def _first_batch(batches, schema, problems, **options):
    """Return the first record batch as a table, or an empty table with a problem when it is not held."""
    try:
        for batch in batches(**options):
            return pyarrow.Table.from_batches([batch.slice(0, ARROW_ROWS)])
    except (pyarrow.ArrowException, OSError) as exc:
        problems.append(
            message(
                gettext_noop("The first rows are not in the sample or are damaged (%(error)s); schema only."),
                error=_first_line(exc),
            )
        )
    return schema.empty_table()


def _profile_relation(con, name, *, row_count, exact, problems, member, unprofiled):
    """Compute the schema, statistics, first rows and personal-data findings of a DuckDB view."""
    described = con.execute(f"DESCRIBE {name}").fetchall()
    names = [row[0] for row in described]
    types = [str(row[1]) for row in described]
    stats = _statistics(con, name, names[:STAT_COLUMNS])
    columns = []
    for index, (column, kind) in enumerate(zip(names[:SCHEMA_COLUMNS], types, strict=False)):
        entry = {"name": column, "type": kind}
        if index < STAT_COLUMNS:
            entry.update(stats[index])
        columns.append(entry)
    columns += [
        {"name": column, "type": ""} for column in unprofiled[: max(0, SCHEMA_COLUMNS - len(columns))]
    ]
    if len(names) + len(unprofiled) > STAT_COLUMNS:
        problems.append(
            message(
                gettext_noop("%(columns)s columns: statistics cover the first %(shown)s."),
                columns=i18n.number(len(names) + len(unprofiled)),
                shown=STAT_COLUMNS,
            )
        )
    tally = personal_data.Tally()
    # Cast in SQL: every type (time zones, decimals, nested values) becomes text without Python converters.
    shown = [f"CAST({_quoted(column)} AS VARCHAR)" for column in names[:ROW_COLUMNS]]
    first_rows = []
    if shown:
        rows = con.execute(f"SELECT {', '.join(shown)} FROM {name} LIMIT {FIRST_ROWS}").fetchall()  # noqa: S608 - identifiers quoted
        first_rows = [[_cell(value) for value in row] for row in rows]
    _scan(con, name, names, types, tally, member=member)
    return Profile(
        columns=columns,
        column_count=len(names) + len(unprofiled),
        row_count=row_count,
        row_count_exact=exact,
        first_rows=[[*(names[:ROW_COLUMNS])], *first_rows] if names else [],
        problems=problems,
        personal_data=tally.results(),
    )


def _statistics(con, name, names):
    """Return, per column, the share of empty values and the number of distinct values in the first rows.

    Counted over the first STAT_ROWS rows of the sample, so the time does not grow with the sample.
    """
    if not names:
        return []
    parts = ["count(*)"]
    for column in names:
        quoted = _quoted(column)
        parts.append(f"count(*) FILTER (WHERE {quoted} IS NULL OR trim(CAST({quoted} AS VARCHAR)) = '')")
        parts.append(f"approx_count_distinct({quoted})")
    query = f"SELECT {', '.join(parts)} FROM (SELECT * FROM {name} LIMIT {STAT_ROWS})"  # noqa: S608 - quoted
    row = con.execute(query).fetchone()
    total = row[0] or 0
    stats = []
    for index in range(len(names)):
        empty, distinct = row[1 + 2 * index], row[2 + 2 * index]
        stats.append(
            {"empty_share": round(empty / total, 4) if total else 0.0, "distinct": int(distinct or 0)}
        )
    return stats


def _scan(con, name, names, types, tally, *, member):
    """Scan the text columns of the first rows of the sample for personal data."""
    text_columns = [column for column, kind in zip(names, types, strict=False) if kind == "VARCHAR"]
    if not text_columns:
        return
    rows = max(1, min(SCAN_ROWS, SCAN_CELLS // len(text_columns)))
    selected = ", ".join(_quoted(column) for column in text_columns[:STAT_COLUMNS])
    cursor = con.execute(f"SELECT {selected} FROM {name} LIMIT {rows}")  # noqa: S608 - identifiers quoted
    while batch := cursor.fetchmany(1000):
        for row in batch:
            for column, value in zip(text_columns, row, strict=False):
                if value:
                    tally.scan(personal_data.column_place(column, member=member), value)


def _cell(value):
    """Return a cell as text for the first rows: masked, then cut."""
    if value is None:
        return ""
    text = personal_data.mask_text(str(value))
    return text if len(text) <= CELL_CHARS else text[:CELL_CHARS] + "…"


def _quoted(identifier):
    """Return a DuckDB identifier in double quotes, its own quotes doubled."""
    return '"' + str(identifier).replace('"', '""') + '"'


def _first_line(exc):
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
