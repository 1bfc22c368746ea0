"""The chat widget's files and the demo help page, served from ``agent/web/static``.

The security headers (a CSP of ``script-src 'self'; style-src 'self'``, ``nosniff``) come
from the app-wide middleware; the widget is written to work under them.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response

STATIC_DIR = Path(__file__).parent / "static"
ASSET_CACHE = "public, max-age=300"
PAGE_CACHE = "public, max-age=60"

# URL path -> (file name, media type, Cache-Control)
FILES: dict[str, tuple[str, str, str]] = {
    "/": ("demo.html", "text/html; charset=utf-8", PAGE_CACHE),
    "/widget.js": ("widget.js", "text/javascript; charset=utf-8", ASSET_CACHE),
    "/widget.css": ("widget.css", "text/css; charset=utf-8", ASSET_CACHE),
    "/demo.css": ("demo.css", "text/css; charset=utf-8", ASSET_CACHE),
}


def static_routes(app: FastAPI) -> None:
    """Add ``GET /`` (the demo help page), ``/widget.js``, ``/widget.css`` and ``/demo.css``."""
    for path, (name, media_type, cache) in FILES.items():
        app.add_api_route(
            path,
            _file_endpoint(STATIC_DIR / name, media_type, cache),
            methods=["GET"],
            include_in_schema=False,
            name=f"static:{name}",
        )


def _file_endpoint(
    file: Path, media_type: str, cache: str
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        response = FileResponse(
            file, media_type=media_type, headers={"Cache-Control": cache}, stat_result=os.stat(file)
        )
        etag = response.headers["etag"]
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers={"ETag": etag, "Cache-Control": cache})
        return response

    return endpoint
