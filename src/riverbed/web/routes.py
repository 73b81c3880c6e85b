"""The /api endpoints: one per figure group on the page. Inputs are checked against what exists
(pipelines, topics, outputs, columns) and bounded; values reach SQL only as bound parameters."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, Query
from pydantic import BaseModel, Field

from riverbed.errors import InvalidArgument, RiverbedError
from riverbed.log import mask_url
from riverbed.timeutil import parse_time_ms
from riverbed.web import apps_view, versions
from riverbed.web.collector import Collector

NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,199}$"
Name = Annotated[str, Path(pattern=NAME, max_length=200)]


class App(StrEnum):
    logwatch = "logwatch"
    bitcoin = "bitcoin"
    buzz = "buzz"


class SwitchRequest(BaseModel):
    version: str = Field(pattern=r"^[A-Za-z0-9_.\-]{1,64}$", description="the version to serve, e.g. v2")
    force: bool = Field(False, description="switch even if the version has not caught up")


class RollbackRequest(BaseModel):
    pass


def add_routes(api: APIRouter, c: Collector) -> None:
    """Register every /api endpoint on `api`, reading through collector `c`."""

    def known_pipeline(name: str) -> str:
        if name not in c.pipeline_names():
            raise HTTPException(404, f"no pipeline named {name!r} (known: {', '.join(c.pipeline_names())})")
        return name

    @api.get("/health", tags=["meta"])
    def health() -> dict[str, Any]:
        """Is the dashboard up; which home and log it reads."""
        from riverbed import __version__

        return {"ok": True, "version": __version__, "home": str(c.home), "log": mask_url(c.log.url),
                "versions_available": versions.available()}

    @api.get("/snapshot", tags=["live"])
    def snapshot() -> dict[str, Any]:
        """Everything the page shows at once (the live stream pushes the same every second)."""
        return c.snapshot()

    @api.get("/apps", tags=["apps"])
    def apps() -> list[dict[str, Any]]:
        """Each app and whether it is running (its outputs exist and were updated in the last 30 s)."""
        out = []
        for name in apps_view.APPS:
            p = c.app(name) if name != "bitcoin" else c.app(name, points=1)
            out.append({k: p.get(k) for k in ("app", "pipeline", "status", "outputs", "updated_ms", "hint")})
        return out

    @api.get("/apps/{app}", tags=["apps"])
    def app_panel(
        app: App,
        product: Annotated[str | None, Query(pattern=NAME, description="bitcoin: the product")] = None,
        top: Annotated[int, Query(ge=1, le=100, description="logwatch, buzz: how many top items")] = 10,
        points: Annotated[int, Query(ge=1, le=5000, description="bitcoin: newest points per series")] = 300,
    ) -> dict[str, Any]:
        """One app's panel: logwatch (counts per level over time, top error templates, alerts),
        bitcoin (price, moving averages, trades, equity, summary), buzz (trending terms, hashtags,
        repositories, event types, cluster sizes over time). `status` is "not running" when the
        app's outputs do not exist yet."""
        if app is App.bitcoin:
            return c.app(app.value, product=product, points=points)
        if product is not None:
            raise InvalidArgument("product applies to the bitcoin app only")
        return c.app(app.value, top=top)

    @api.get("/topics", tags=["platform"])
    def topics() -> list[dict[str, Any]]:
        """Every topic: partitions with start/end offsets, records, bytes, and its append rate (records/s)."""
        return c.topics()

    @api.get("/topics/{name}", tags=["platform"])
    def topic(name: Name) -> dict[str, Any]:
        """One topic's partitions, offsets, sizes and append rate."""
        t = c.topic(name)
        if t is None:
            raise HTTPException(404, f"no topic named {name!r}")
        return t

    @api.get("/rates", tags=["platform"])
    def rates() -> dict[str, Any]:
        """Append rate per topic now, and over time (sampled every second while the dashboard runs)."""
        return {"current": c.rates.current(), "series": c.rates.series()}

    @api.get("/pipelines", tags=["platform"])
    def pipelines() -> list[dict[str, Any]]:
        """Every pipeline: status, records, dead letters, last micro-batch, consumer lag."""
        return c.pipelines()

    @api.get("/pipelines/{name}", tags=["platform"])
    def pipeline(name: Name) -> dict[str, Any]:
        """One pipeline's status, totals, last micro-batch and lag."""
        return c.pipeline(known_pipeline(name))

    @api.get("/pipelines/{name}/metrics", tags=["platform"])
    def metrics(name: Name, limit: Annotated[int, Query(ge=1, le=10_000)] = 120) -> list[dict[str, Any]]:
        """Per micro-batch, oldest first: records, bad, late, seconds (duration), watermark, end-to-end
        latency p50/p99 (ms from append to the log to visible in the store), input and processing rates."""
        return c.metrics(known_pipeline(name), limit)

    @api.get("/pipelines/{name}/lag", tags=["platform"])
    def lag(name: Name) -> dict[str, Any]:
        """Records appended to the pipeline's topics that its stream has not committed, per partition."""
        return c.lag(known_pipeline(name))

    @api.get("/pipelines/{name}/versions", tags=["versions"])
    def pipeline_versions(name: Name) -> dict[str, Any]:
        """The pipeline's versions (Kappa): version, status (serving, catching-up, ready, previous), lag."""
        known_pipeline(name)
        return {"pipeline": name, "versions": versions.versions(name, c.home, c.log_url)}

    @api.post("/pipelines/{name}/switch", tags=["versions"],
              responses={409: {"description": "refused (e.g. the version has not caught up)"},
                         503: {"description": "versions not available yet"}})
    def switch(name: Name, body: SwitchRequest) -> dict[str, Any]:
        """Serve `version` of the pipeline (the same code as `riverbed reprocess --switch`)."""
        known_pipeline(name)
        versions.kappa()
        try:
            return versions.switch(name, body.version, body.force, c.home, c.log_url)
        except InvalidArgument:
            raise
        except RiverbedError as e:
            raise _refused(e) from e

    @api.post("/pipelines/{name}/rollback", tags=["versions"],
              responses={409: {"description": "refused (no previous version)"},
                         503: {"description": "versions not available yet"}})
    def rollback(name: Name, body: Annotated[RollbackRequest, Body()]) -> dict[str, Any]:
        """Serve the pipeline's previous version again."""
        known_pipeline(name)
        versions.kappa()
        try:
            return versions.rollback(name, c.home)
        except InvalidArgument:
            raise
        except RiverbedError as e:
            raise _refused(e) from e

    @api.get("/dead-letters", tags=["platform"])
    def dead_letters(sample: Annotated[int, Query(ge=0, le=100)] = 5) -> list[dict[str, Any]]:
        """Each dead-letter topic (<topic>.dlq): its count and the newest `sample` records with reasons."""
        return c.dead_letters(sample)

    @api.get("/outputs", tags=["outputs"])
    def outputs() -> list[dict[str, Any]]:
        """Every output in the serving store, with its columns, keys and time columns."""
        out = []
        for name, store in sorted(c.outputs().items()):
            s = store.spec(name)
            out.append({"name": name, "columns": [{"name": n, "type": t} for n, t in s.columns],
                        "keys": list(s.keys), "time_columns": list(s.time_columns)})
        return out

    @api.get("/outputs/{name}", tags=["outputs"])
    def output_rows(
        name: Name,
        where: Annotated[list[str] | None, Query(max_length=20, description="COLUMN=VALUE (repeat)")] = None,
        since: Annotated[str | None, Query(max_length=40, description="epoch ms or ISO time; filters the "
                                           "first time column (>=)")] = None,
        order: Annotated[str | None, Query(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(:(asc|desc))?$",
                                           description="COLUMN or COLUMN:desc")] = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    ) -> dict[str, Any]:
        """Rows of one output (any number shown on the page can be looked up here)."""
        store = c.outputs().get(name)
        if store is None:
            raise HTTPException(404, f"no output named {name!r} (see /api/outputs)")
        filters = {}
        for w in where or []:
            col, sep, value = w.partition("=")
            if not sep or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", col):
                raise InvalidArgument(f"where must be COLUMN=VALUE, got {w!r}")
            filters[col] = value
        since_ms = None
        if since is not None:
            since_ms = int(since) if since.isdigit() else parse_time_ms(since)
        order_by = None
        if order:
            col, _, direction = order.partition(":")
            order_by = [f"-{col}" if direction == "desc" else col]
        rows = store.rows(name, where=filters or None, since=since_ms, order_by=order_by, limit=limit)
        return {"output": name, "rows": rows}


def _refused(e: RiverbedError) -> HTTPException:
    """409: riverbed.kappa refused the change; its message says why."""
    return HTTPException(409, e.message + (f" ({e.hint})" if e.hint else ""))
