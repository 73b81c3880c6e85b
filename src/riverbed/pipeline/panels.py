"""Dashboard panels as data: what a pipeline asks the dashboard to draw from its outputs.

A `Panel` names one output and a generic kind the page draws without importing any app code; the
runner records a pipeline's panels in the serving store's catalogue (`riverbed.pipeline.catalogue`)
and the dashboard reads them from there. An output without a declared panel gets a generated one
(a time series when it has an event-time column, else a table).

Kinds (`PANEL_KINDS`):
    timeseries  `y` measures summed per `x` (default window_start) and `key` value, the newest
                `span_ms` of x; the page shows the `top` series by total (selectable)
    top         `key` values ranked by the sum of `y[0]` in the newest window of `x` (or over the
                newest `span_ms` when given)
    table       rows (newest first by `x` when given, else by `order`), sortable on the page
    line        several `y` columns over `x`, the newest `points` rows, optional `markers` from a
                second output (e.g. trades on a price)
    stat        the newest row's `y` columns as figures

`select` names a key column whose value the page lets the viewer choose (e.g. a product): the
panel then reads the rows of one value at a time.

    >>> Panel("timeseries", "level_counts", key="level", title="lines per level")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from riverbed.errors import InvalidArgument

PanelKind = Literal["timeseries", "top", "table", "line", "stat"]
PANEL_KINDS: tuple[str, ...] = ("timeseries", "top", "table", "line", "stat")
SPAN_MS = 5 * 60_000  # the newest 5 minutes of event time, unless a panel says otherwise


@dataclass(frozen=True)
class Markers:
    """Points of a second output drawn on a line panel: at (`x`, `y`), labelled by `label`; a row
    whose `side` column holds one of `down` is drawn pointing down (▼), any other up (▲)."""

    output: str
    x: str
    y: str
    side: str | None = None
    down: Sequence[str] = ("sell",)
    label: Sequence[str] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "down", tuple(self.down))
        object.__setattr__(self, "label", tuple(self.label))


@dataclass(frozen=True)
class Panel:
    """One chart, list or table over one output (see the module docstring for the kinds)."""

    kind: PanelKind
    output: str
    title: str = ""
    x: str | None = None
    y: Sequence[str] = ()
    key: str | None = None
    top: int = 10
    span_ms: int | None = None
    order: str | None = None  # table: "column" or "-column" (descending)
    columns: Sequence[str] = ()  # table: shown columns (default: all)
    limit: int = 50  # table: rows shown
    points: int = 300  # line: newest rows shown
    select: str | None = None
    markers: Markers | None = None
    zero: bool = True  # line/timeseries: the y axis starts at 0
    note: str = ""
    styles: Mapping[str, str] = field(default_factory=dict)  # series name -> CSS colour

    def __post_init__(self) -> None:
        object.__setattr__(self, "y", (self.y,) if isinstance(self.y, str) else tuple(self.y))
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "styles", dict(self.styles))
        where = f"panel {self.title or self.kind!r} over {self.output!r}"
        if self.kind not in PANEL_KINDS:
            raise InvalidArgument(f"{where}: kind {self.kind!r} is not one of {', '.join(PANEL_KINDS)}")
        if not self.output:
            raise InvalidArgument(f"{where}: name the output it draws")
        if self.kind == "top" and not self.key:
            raise InvalidArgument(f"{where}: a top panel needs key=, the column it ranks")
        if self.kind == "line" and (not self.x or not self.y):
            raise InvalidArgument(f"{where}: a line panel needs x= and y= (one or more columns)")
        if self.kind == "stat" and not self.y:
            raise InvalidArgument(f"{where}: a stat panel needs y=, the columns it shows")
        if self.markers is not None and self.kind != "line":
            raise InvalidArgument(f"{where}: markers are drawn on line panels only")
        if self.top < 1 or self.limit < 1 or self.points < 1:
            raise InvalidArgument(f"{where}: top, limit and points must be at least 1")

    def to_dict(self) -> dict[str, Any]:
        """The panel as JSON-ready data (what the catalogue records)."""
        d = asdict(self)
        d["y"], d["columns"] = list(self.y), list(self.columns)
        if self.markers is not None:
            m = self.markers
            d["markers"] = {**d["markers"], "down": list(m.down), "label": list(m.label)}
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Panel:
        """A panel from `to_dict`'s data (unknown keys are ignored: a newer riverbed may add some)."""
        names = set(cls.__dataclass_fields__)
        args = {k: v for k, v in d.items() if k in names}
        if args.get("markers"):
            m = args["markers"]
            args["markers"] = Markers(**{k: v for k, v in m.items() if k in Markers.__dataclass_fields__})
        return cls(**args)
