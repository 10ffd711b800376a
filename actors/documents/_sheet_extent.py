"""How big a spreadsheet really is, read before LibreOffice sees it.

LibreOffice lays out (PDF) or writes out (CSV, xlsx, and for merges even ODS) a sheet's whole used area: a
5 kB xlsx holding one cell at XFD1048576, a merge over the whole sheet, or an ODS row of 16384 filled cells
repeated a million times (`table:number-rows-repeated`) keeps the single warm listener busy for minutes,
and every other office conversion waits behind it. The used area is measured here by streaming the sheet
XML (a regular-expression pass at C speed for the usual xlsx, expat otherwise; a DTD is refused), counting
only cells that hold something (a value, a formula, text) and merged ranges; a workbook past
MAX_SHEET_CELLS is refused up front.

The declared <dimension> of an xlsx is ignored: LibreOffice recomputes it (a false one costs nothing).
A CSV is measured too on its way to PDF (lines x the widest line).
Bytes the scan cannot read are left to LibreOffice (and its timeout): the scan is a guard, not a validator.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path
from xml.parsers import expat

from protocols.errors import bad_input

MAX_SHEET_CELLS = 25_000_000  # rows x columns of the used areas, all sheets together (1 M rows x 24 columns)
MAX_SCAN_BYTES = 512 << 20  # uncompressed sheet XML read by the scan; past it the rest is left to LibreOffice
MAX_ROW = 1 << 30
CHUNK = 1 << 20
FAST_CHUNK = 8 << 20

# the fast xlsx scan: every cell start tag; the ones with a plain reference, and whether a value, formula or
# inline string follows (the third group, empty for an empty or merely formatted cell); merged ranges; any
# DTD or entity declaration
_ANY_CELL = re.compile(rb"<(?:[\w.-]+:)?c[\s/>]")
_CELL = re.compile(rb"<(?:[\w.-]+:)?c\s(?:[^>]*?\s)?r\s*=\s*[\"']([A-Z]{1,3})([0-9]{1,7})[\"'][^>]*?>"
                   rb"(?=(\s*<(?:[\w.-]+:)?(?:v|f|is)[\s/>])?)")
_MERGE = re.compile(rb"<(?:[\w.-]+:)?mergeCell\s[^>]*?ref\s*=\s*[\"']([^\"']{1,40})[\"']")
_DECL = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)

_REF = re.compile(r"\$?([A-Za-z]{1,7})\$?([0-9]{1,10})$")


class _Refused(Exception):
    pass


class _Enough(Exception):
    """Stop scanning: the answer is known (too big) or the byte budget is spent."""


def _column(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


def parse_ref(ref: str) -> tuple[int, int] | None:
    """'XFD1048576' -> (row, column), 1-based; None when it is not a cell reference."""
    m = _REF.match(ref.strip())
    if not m:
        return None
    return min(int(m.group(2)), MAX_ROW), _column(m.group(1))


def _int(value: str | None, default: int = 1) -> int:
    if not value:
        return default
    value = value.strip()
    if not value.isdigit():
        return default
    return max(1, min(int(value[:10]), MAX_ROW))


class _Sheet:
    """The used area of one sheet: the largest row and column that hold something."""

    def __init__(self) -> None:
        self.rows = 0
        self.cols = 0
        self.filled = 0  # cells that hold something, repeats counted (ODS); 0 = not counted (xlsx: the bytes bound it)

    def mark(self, row: int, col: int) -> None:
        self.rows = max(self.rows, row)
        self.cols = max(self.cols, col)

    @property
    def cells(self) -> int:
        return self.rows * self.cols


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


def _parser(start, end) -> expat.XMLParserType:
    parser = expat.ParserCreate()

    def refuse(*_args) -> None:
        raise _Refused

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    parser.buffer_text = True
    return parser


class _Scan:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.sheets: list[_Sheet] = []
        self.budget = MAX_SCAN_BYTES

    @property
    def total(self) -> int:
        return sum(s.cells for s in self.sheets)

    @property
    def filled(self) -> int:
        return sum(s.filled for s in self.sheets)

    def check(self) -> None:
        if self.total > self.limit:
            raise _Enough  # refused whatever else the rest holds

    def feed(self, zf: zipfile.ZipFile, name: str, parser: expat.XMLParserType) -> None:
        with zf.open(name) as fh:
            while True:
                chunk = fh.read(CHUNK)
                if not chunk:
                    break
                self.budget -= len(chunk)
                parser.Parse(chunk, False)
                self.check()
                if self.budget <= 0:
                    raise _Enough
            parser.Parse(b"", True)

    # ---- xlsx: <row r>, <c r> with a <v>/<f>/<is> child, <mergeCell ref> ------------------------------
    def xlsx_sheet_fast(self, zf: zipfile.ZipFile, name: str) -> bool:
        """The common case at C speed: UTF-8/ASCII sheet XML whose every cell has a plain r="A1" reference.
        Returns False (nothing recorded) when the sheet is anything else: the expat scan then reads it."""
        sheet = _Sheet()
        columns: set[bytes] = set()
        rows: set[bytes] = set()
        carry = b""
        first = True
        with zf.open(name) as fh:
            while True:
                chunk = fh.read(FAST_CHUNK)
                self.budget -= len(chunk)
                data = carry + chunk
                if first:
                    head = data[:4096].lstrip(b"\xef\xbb\xbf")
                    if not head.startswith(b"<") or b"\x00" in head:
                        return False  # UTF-16 or not XML at all
                    first = False
                if chunk:  # carry the last two tags over: a cell's start tag and what follows it stay together
                    cut = data.rfind(b"<")
                    cut = data.rfind(b"<", 0, cut) if cut > 0 else cut
                    data, carry = (data[:cut], data[cut:]) if cut > 0 else (b"", data)
                    if len(carry) > 65536:
                        return False  # one tag longer than 64 kB: let the real parser judge it
                else:
                    carry = b""
                if b"<!" in data and _DECL.search(data):
                    raise _Refused
                found = _CELL.findall(data)
                if len(found) != len(_ANY_CELL.findall(data)):
                    return False  # a cell without a plain reference (sequential, or a character reference)
                columns.update(c for c, r, content in found if content)
                rows.update(r for c, r, content in found if content)
                for ref in _MERGE.findall(data):
                    for part in ref.split(b":"):
                        got = parse_ref(part.decode("ascii", "replace"))
                        if got:
                            sheet.mark(*got)
                if columns:
                    sheet.mark(max(int(r) for r in rows), max(_column(c.decode()) for c in columns))
                    columns.clear()
                    rows.clear()
                if self.total + sheet.cells > self.limit or self.budget <= 0 or not chunk:
                    break
        self.sheets.append(sheet)
        return True

    def xlsx_sheet(self, zf: zipfile.ZipFile, name: str) -> None:
        sheet = _Sheet()
        self.sheets.append(sheet)
        # the current row, the last cell's column, the last cell (a <v>/<f>/<is> only ever sits in a <c>,
        # so no end handler is needed: that halves the Python calls per cell)
        state: list = [0, 0, None]

        def start(tag: str, attrs: dict[str, str]) -> None:
            tag = tag.rpartition(":")[2]
            if tag == "c":
                r = attrs.get("r")
                ref = parse_ref(r) if r else None
                if ref:
                    state[1] = ref[1]
                    state[2] = ref
                else:
                    state[1] += 1
                    state[2] = (max(state[0], 1), state[1])
            elif tag in ("v", "f", "is"):
                if state[2] is not None:
                    sheet.mark(*state[2])
            elif tag == "row":
                state[0] = _int(attrs.get("r"), state[0] + 1)
                state[1] = 0
                state[2] = None
            elif tag == "mergeCell":
                for part in attrs.get("ref", "").split(":"):
                    ref = parse_ref(part)
                    if ref:
                        sheet.mark(*ref)

        self.feed(zf, name, _parser(start, None))

    def ods_content(self, zf: zipfile.ZipFile, name: str) -> None:
        # first: the row number where the current row starts; rep: its repeat count; next: where the next
        # row starts; cell: (last column, rows spanned) of the open cell; depth: elements open inside it
        state: dict = {"sheet": None, "first": 1, "rep": 1, "next": 1, "col": 0, "cell": None, "depth": 0,
                       "crep": 1, "counted": False}

        def mark() -> None:
            sheet: _Sheet | None = state["sheet"]
            if sheet is not None and state["cell"] is not None and not state["counted"]:
                state["counted"] = True
                last_col, span_rows = state["cell"]
                sheet.mark(state["first"] + state["rep"] - 1 + span_rows - 1, last_col)
                sheet.filled += state["rep"] * state["crep"]

        def start(tag: str, attrs: dict[str, str]) -> None:
            if state["cell"] is not None:  # anything inside a cell (text:p, an annotation...) is content
                state["depth"] += 1
                mark()
                return
            local = _local(tag)
            if local == "table":
                state["sheet"] = _Sheet()
                self.sheets.append(state["sheet"])
                state["first"], state["rep"], state["next"], state["col"] = 1, 1, 1, 0
            elif local == "table-row" and state["sheet"] is not None:
                state["first"] = state["next"]
                state["rep"] = _int(_attr(attrs, "number-rows-repeated"))
                state["next"] = min(state["first"] + state["rep"], MAX_ROW)
                state["col"] = 0
            elif local in ("table-cell", "covered-table-cell") and state["sheet"] is not None:
                state["crep"] = _int(_attr(attrs, "number-columns-repeated"))
                state["counted"] = False
                state["col"] = min(state["col"] + state["crep"], MAX_ROW)
                span_cols = _int(_attr(attrs, "number-columns-spanned"))
                span_rows = _int(_attr(attrs, "number-rows-spanned"))
                state["cell"] = (state["col"] + span_cols - 1, span_rows)
                state["depth"] = 0
                if _attr(attrs, "value-type") or _attr(attrs, "formula") or span_cols > 1 or span_rows > 1:
                    mark()

        def end(tag: str) -> None:
            if state["cell"] is not None:
                if state["depth"]:
                    state["depth"] -= 1
                else:
                    state["cell"] = None

        self.feed(zf, name, _parser(start, end))


def _attr(attrs: dict[str, str], local: str) -> str | None:
    for key, value in attrs.items():
        if _local(key) == local:
            return value
    return None


def _csv_area(path: Path) -> tuple[int, int]:
    """(lines, the most fields on one line) of a CSV, counting every separator LibreOffice might pick (an
    over-estimate: quoted separators count too). Read in slices, so a line of gigabytes costs no memory."""
    rows = cols = current = 0
    partial = False
    with open(path, "rb") as fh:
        while True:
            piece = fh.readline(CHUNK)
            if not piece:
                break
            ended = piece.endswith(b"\n")
            if not ended or len(piece) + current >= cols:  # a whole line this short cannot be the widest
                current += max(piece.count(sep) for sep in (b",", b";", b"\t", b"|"))
            partial = not ended
            if ended:
                rows += 1
                cols = max(cols, current + 1)
                current = 0
    if partial:
        rows += 1
        cols = max(cols, current + 1)
    return rows, cols


def measure(path: Path, ext: str, limit: int = MAX_SHEET_CELLS) -> tuple[int, int, list[tuple[int, int]]]:
    """(rows x columns of the used areas added up, filled cells counting repeats, [(rows, columns) per
    sheet]) for an xlsx, ods or csv; the scan stops early once past `limit`, or at XML it cannot parse.
    Raises _Refused for a DTD, ValueError for a container it cannot open."""
    if ext == "csv":
        rows, cols = _csv_area(path)
        return rows * cols, 0, [(rows, cols)]
    scan = _Scan(limit)
    try:
        with zipfile.ZipFile(path) as zf:
            if ext == "xlsx":
                names = sorted(n for n in zf.namelist()
                               if n.startswith("xl/worksheets/") and n.endswith(".xml") and "/_rels/" not in n)
                for name in names:
                    if not scan.xlsx_sheet_fast(zf, name):
                        scan.xlsx_sheet(zf, name)
                    scan.check()
            elif ext == "ods" and "content.xml" in zf.namelist():
                scan.ods_content(zf, "content.xml")
    except (_Enough, expat.ExpatError):
        pass  # the answer is known, the budget is spent, or the XML breaks off: judge what was seen
    except (zipfile.BadZipFile, zlib.error, KeyError, OSError, EOFError, RuntimeError, NotImplementedError) as err:
        raise ValueError("unreadable") from err
    return scan.total, scan.filled, [(s.rows, s.cols) for s in scan.sheets]


def check(path: Path, ext: str, target: str, limit: int = MAX_SHEET_CELLS) -> None:
    """Refuse a spreadsheet that would keep LibreOffice busy for minutes: a used area past `limit` cells, or
    more than `limit` filled cells once ODS repeats are expanded; also sheet XML that declares a DTD.
    A CSV is measured only on its way to PDF (its other conversions cost what its bytes cost); xls (binary)
    is left to LibreOffice and its timeout."""
    if ext not in ("xlsx", "ods", "csv") or (ext == "csv" and target != "pdf"):
        return
    try:
        area, filled, sheets = measure(path, ext, limit)
    except _Refused:
        raise bad_input("The spreadsheet declares XML entities (a DTD), which is not allowed.") from None
    except ValueError:
        return  # left to LibreOffice: it refuses it, or its timeout ends it
    if filled > limit:
        raise bad_input(f"The spreadsheet holds too many cells to convert: {filled:,} once repeats are expanded "
                        f"(this server converts up to {limit:,}).")
    if area > limit:
        rows, cols = max(sheets, key=lambda s: s[0] * s[1])
        raise bad_input(f"The spreadsheet's used area is too large to convert: {rows:,} rows x {cols:,} columns "
                        f"in its largest sheet (this server converts up to {limit:,} cells).")
