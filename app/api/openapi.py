"""OpenAPI extras: the bearer security scheme, and Swagger UI / ReDoc served from local assets.

The routes read ``Authorization: Bearer <token>`` themselves (app.api.deps, a cached look-up on the
hot path), so FastAPI does not see a security dependency; ``install(app)`` declares the scheme in
the document and marks every route as needing it except the public operations routes (health,
readiness, metrics). ``/docs`` and ``/redoc`` load their JavaScript and CSS from the
``fastapi-offline`` package's files, mounted under ``/static-offline-docs``: no CDN, so they work
on a machine without internet access.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SCHEME = "bearerAuth"
PUBLIC_TAGS = {"operations"}
STATIC_URL = "/static-offline-docs"


def _static_dir() -> Path:
    import fastapi_offline

    return Path(fastapi_offline.__file__).resolve().parent / "static"


def _secure(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})[SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token from `repairdesk token create --user NAME --role ROLE`.",
    }
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and not PUBLIC_TAGS & set(operation.get("tags", [])):
                operation["security"] = [{SCHEME: []}]
    return schema


def install(app: FastAPI) -> None:
    """Call with an app built with ``docs_url=None, redoc_url=None``."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _secure(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                    tags=app.openapi_tags,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.mount(STATIC_URL, StaticFiles(directory=str(_static_dir())), name="static-offline-docs")

    @app.get("/docs", include_in_schema=False)
    async def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{STATIC_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_URL}/favicon.png",
        )

    # Intended same shape as /docs above: FastAPI's offline-docs recipe, one route per viewer.
    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{STATIC_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            with_google_fonts=False,
        )
