"""The /api endpoints: one per figure group on the page. Inputs are checked against what exists
(pipelines, topics, outputs, columns) and bounded; values reach SQL only as bound parameters."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, Query
from pydantic import BaseModel, Field

from riverbed.errors import InvalidArgument, RiverbedError
from riverbed.log import mask_url
from riverbed.timeutil import parse_time_ms
from riverbed.web import versions
from riverbed.web.collector import Collector, spark_ui_url

NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,199}$"
Name = Annotated[str, Path(pattern=NAME, max_length=200)]


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
                "versions_available": versions.available(), "spark_ui": spark_ui_url()}

    @api.get("/snapshot", tags=["live"])
    def snapshot() -> dict[str, Any]:
        """Everything the page shows at once (the live stream pushes the same every second)."""
        return c.snapshot()

    @api.get("/views", tags=["panels"])
    def views() -> list[dict[str, Any]]:
        """Every pipeline in the catalogue with its status and its panels (declared or generated),
        without their figures."""
        out = []
        for name in c.pipeline_names():
            v = c.view(name, data=False)
            keep = ("pipeline", "description", "status", "outputs", "updated_ms", "hint", "recorded")
            shown = [{k: p[k] for k in ("kind", "output", "title", "generated")} for p in v["panels"]]
            out.append({**{k: v.get(k) for k in keep}, "panels": shown})
        return out

    @api.get("/pipelines/{name}/panels", tags=["panels"])
    def pipeline_panels(
        name: Name,
        select: Annotated[str | None, Query(max_length=200, description="the value of the pipeline's "
                                            "`select` column its panels show (e.g. a product)")] = None,
        top: Annotated[int | None, Query(ge=1, le=100, description="top panels: how many keys")] = None,
        points: Annotated[int | None, Query(ge=1, le=5000, description="line panels: newest rows")] = None,
    ) -> dict[str, Any]:
        """The pipeline's panels with their figures: those it declared, and a generated one per other
        output (a time series over its event-time column, else a table). `status` is "not running"
        while its outputs do not exist yet."""
        return c.view(known_pipeline(name), select=select, top=top, points=points)

    @api.get("/pipelines/{name}/spec", tags=["panels"])
    def pipeline_spec(name: Name) -> dict[str, Any]:
        """The pipeline's catalogue entry, recorded when it last ran: description, source, topics,
        event-time column, outputs (keys, measures, event-time column) and declared panels."""
        spec = c.spec(known_pipeline(name))
        if spec is None:
            raise HTTPException(404, f"pipeline {name!r} is not in the catalogue (it has not run since "
                                     "riverbed started recording pipelines)")
        return spec

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
        """Every pipeline: status (not running, starting, catching up, live, stalled, idle, failed) with
        a one-line `detail` and its `progress` (lag, rate, append_rate, eta_s), records, dead letters,
        last micro-batch, consumer lag."""
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
        """Records appended to the pipeline's topics that its stream has not committed, per partition,
        and `history`: [[time_ms, total], ...] sampled every second while the dashboard runs."""
        return {**c.lag(known_pipeline(name)), "history": c.lag_history(name)}

    @api.get("/pipelines/{name}/versions", tags=["versions"])
    def pipeline_versions(name: Name) -> dict[str, Any]:
        """The pipeline's versions (Kappa): version, status (serving, catching-up, ready, previous), lag."""
        known_pipeline(name)
        try:
            return {"pipeline": name, "versions": versions.versions(name, c.home, c.log_url)}
        except versions.NoVersions as e:
            return {"pipeline": name, "versions": [], "note": versions.NO_VERSIONS, "reason": str(e)}

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
