"""The dashboard's FastAPI app: the page, a JSON API under /api for every number it shows, and a
live stream (Server-Sent Events) pushing a snapshot every second. OpenAPI at /openapi.json, and
readable at /docs: Swagger UI from the swagger-ui-bundle-v2 package's files, served from here
(nothing from a CDN; its start-up script is our own static file, so the page keeps a strict CSP).

    >>> from riverbed.web import create_app
    >>> app = create_app(home="/tmp/rb")                    # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import json
import math
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from riverbed.errors import RiverbedError
from riverbed.web import versions
from riverbed.web.auth import Guard
from riverbed.web.collector import Collector

STATIC = resources.files("riverbed.web") / "static"
SWAGGER_FILES = ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png")  # what /docs loads
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null (JavaScript's JSON.parse rejects them)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def swagger_ui() -> Path | None:
    """The folder of Swagger UI's files shipped in the swagger-ui-bundle-v2 package, None without it."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return None
    return Path(str(swagger_ui_path))


def dumps(value: Any) -> str:
    """Compact JSON with NaN and infinities as null."""
    return json.dumps(clean(value), separators=(",", ":"), default=str)


class SafeJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps(content).encode()


def error(status: int, message: str, hint: str | None = None, **headers: str) -> JSONResponse:
    body = {"error": message, **({"hint": hint} if hint else {})}
    return SafeJSONResponse(body, status_code=status, headers=headers or None)


def create_app(home: str | None = None, log: str | None = None, token: str | None = None,
               collector: Collector | None = None) -> FastAPI:
    """The dashboard app over the riverbed home `home` and log `log`; every /api call needs `token`
    when one is given."""
    from riverbed import __version__
    from riverbed.web.routes import add_routes

    coll = collector or Collector(home, log)
    guard = Guard(token)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        coll.start()
        try:
            yield
        finally:
            coll.close()

    app = FastAPI(
        title="riverbed dashboard API",
        version=__version__,
        description="Every figure the riverbed dashboard shows, as JSON: the apps' outputs, topics and "
        "offsets, pipelines' lag, rates, micro-batch durations, end-to-end latency, dead letters, and "
        "pipeline versions with switch and rollback. With a token configured, send "
        "`Authorization: Bearer TOKEN` (the live stream also takes `?token=`).",
        default_response_class=SafeJSONResponse,
        lifespan=lifespan,
        docs_url=None, redoc_url=None,  # FastAPI's own /docs loads Swagger UI from a CDN: ours is below
    )
    app.state.collector = coll

    def check(request: Request) -> None:
        guard(request)

    def check_stream(request: Request) -> None:
        guard(request, allow_query=True)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        if request.url.path.startswith("/api"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, e: HTTPException) -> JSONResponse:
        return error(e.status_code, str(e.detail), **(e.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def bad_input(request: Request, e: RequestValidationError) -> JSONResponse:
        parts = [f"{'.'.join(str(x) for x in d['loc'][1:]) or d['loc'][0]}: {d['msg']}" for d in e.errors()]
        return error(400, "bad input: " + "; ".join(parts), "see /openapi.json for what each endpoint takes")

    @app.exception_handler(RiverbedError)
    async def riverbed_error(request: Request, e: RiverbedError) -> JSONResponse:
        return error(400, e.message, e.hint)

    @app.exception_handler(versions.VersionsUnavailable)
    async def no_versions(request: Request, e: versions.VersionsUnavailable) -> JSONResponse:
        return error(503, str(e), "pipeline versions arrive with riverbed.kappa")

    api = APIRouter(prefix="/api", dependencies=[Depends(check)])
    add_routes(api, coll)
    app.include_router(api)

    @app.get("/api/stream", dependencies=[Depends(check_stream)], tags=["live"],
             response_class=StreamingResponse,
             responses={200: {"content": {"text/event-stream": {}},
                              "description": "`event: snapshot` with the /api/snapshot JSON, every ~1 s"}})
    async def stream(request: Request) -> StreamingResponse:
        """Live snapshots as Server-Sent Events (what the page draws), one a second."""

        async def events():
            yield "retry: 2000\n\n"
            while not coll.stopping:
                snap = await run_in_threadpool(coll.snapshot)
                yield f"event: snapshot\ndata: {dumps(snap)}\n\n"
                for _ in range(int(coll.interval * 10)):
                    if coll.stopping or await request.is_disconnected():
                        return
                    await asyncio.sleep(0.1)

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        """Swagger UI over /openapi.json, from the swagger-ui-bundle-v2 package's files."""
        if swagger_ui() is None:
            return error(503, "the API docs need the swagger-ui-bundle-v2 package",
                         "pip install swagger-ui-bundle-v2 (a riverbed dependency); /openapi.json has it all")
        return FileResponse(str(STATIC / "docs.html"), headers={"Cache-Control": "no-store"})

    @app.get("/docs/assets/{name}", include_in_schema=False)
    async def docs_asset(name: str) -> Response:
        """One of the Swagger UI files /docs loads (only those)."""
        folder = swagger_ui()
        if folder is None or name not in SWAGGER_FILES:
            return error(404, f"no file {name!r}")
        return FileResponse(str(folder / name), headers={"Cache-Control": "max-age=86400"})

    @app.get("/", include_in_schema=False)
    async def index() -> Response:
        return FileResponse(str(STATIC / "index.html"), headers={"Cache-Control": "no-store"})

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app
