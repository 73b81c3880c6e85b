"""The pipeline catalogue: what a pipeline is, as JSON data recorded in the serving store when it runs.

The dashboard lists the pipelines it finds there and draws their panels from it, so it never
imports a pipeline's code (a user's or a built-in app's). `pipeline_spec` is what gets recorded:

    {"name", "description", "source": {"module", "file"}, "topics", "event_time",
     "outputs": [{"name", "sink", "keys", "measures", "time", "topic"}], "panels": [Panel.to_dict()]}

`time` is an output's event-time column (None when it has none): a key named window_start, else
the key named like the pipeline's event-time column.

    >>> store.record_pipeline(pipeline_spec(pipeline))                     # doctest: +SKIP
"""

from __future__ import annotations

import inspect
from typing import Any

from riverbed.pipeline.definition import Output, Pipeline

TIME_KEYS = ("window_start",)


def output_time(output: Output, event_time: str) -> str | None:
    """The output's event-time column: window_start if it is a key, else the pipeline's event-time
    column if it is a key, else None (the output is not over time)."""
    keys = list(output.keys)
    for k in (*TIME_KEYS, event_time):
        if k in keys:
            return k
    return None


def source_of(pipeline: Pipeline) -> dict[str, str | None]:
    """Where the pipeline's transform was defined: its module and file (None when not knowable)."""
    fn = inspect.unwrap(pipeline.transform)
    try:
        file = inspect.getsourcefile(fn) or inspect.getfile(fn)
    except TypeError:  # a builtin or a C callable
        file = None
    return {"module": getattr(fn, "__module__", None), "file": file}


def pipeline_spec(pipeline: Pipeline) -> dict[str, Any]:
    """The catalogue entry of `pipeline`: JSON-serialisable, without any of its code."""
    return {
        "name": pipeline.name,
        "description": pipeline.description,
        "source": source_of(pipeline),
        "topics": list(pipeline.topics),
        "event_time": pipeline.event_time,
        "outputs": [
            {"name": o.name, "sink": o.sink, "keys": list(o.keys), "measures": dict(o.measures),
             "time": output_time(o, pipeline.event_time), "topic": o.topic}
            for o in pipeline.outputs
        ],
        "panels": [p.to_dict() for p in pipeline.panels],
    }
