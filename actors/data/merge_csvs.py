"""Merge 2-50 CSVs with the same columns into one (columns may come in another order; the first
file's order wins). Files whose columns differ are refused with a 400 that says how."""

from __future__ import annotations

from actors.data import _tabular as t
from protocols.errors import bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class MergeCsvsSettings(ToolSettings):
    pass


def _names(items: list[str], limit: int = 5) -> str:
    shown = ", ".join(f"'{n[:40]}'" for n in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


@tool("merge-csvs", section=Section.FILES, settings=MergeCsvsSettings, accepts={"text"},
      inputs=(2, 50))
def run(call: ToolCall) -> ToolResult:
    """Merge several CSV files that share the same columns."""
    names = call.names or [p.name for p in call.inputs]
    first = None
    rows: list[list[str]] = []
    for path, name in zip(call.inputs, names, strict=True):
        fmt = t.sniff_format(path, name)
        t.check_not_spreadsheet(fmt)
        if fmt in ("json", "xml"):
            raise bad_input(f"'{name}' looks like {fmt.upper()}, not CSV.")
        table = t.read_table(path, name)
        if first is None:
            first, first_name = table, name
            rows.extend(table.rows)
            continue
        if table.header == first.header:
            rows.extend(table.rows)
            continue
        missing = [c for c in first.header if c not in table.header]
        extra = [c for c in table.header if c not in first.header]
        if missing or extra or len(table.header) != len(first.header):
            detail = []
            if missing:
                detail.append(f"missing {_names(missing)}")
            if extra:
                detail.append(f"unexpected {_names(extra)}")
            raise bad_input(f"The columns of '{name}' do not match those of '{first_name}'"
                            f" ({'; '.join(detail) or 'different column count'}). All files must have the "
                            f"same columns.")
        order = [table.header.index(c) for c in first.header]
        rows.extend([row[i] for i in order] for row in table.rows)
    assert first is not None
    out = call.workdir / "merged.csv"
    count = t.write_csv(out, first.header, rows, first.delimiter)
    return ToolResult([out], {"rows": count, "columns": len(first.header), "files": len(call.inputs)})
