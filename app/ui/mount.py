"""Puts the analyst UI on the app: the pages (:mod:`app.ui.routes`), the desk's actions
(:mod:`app.ui.actions`, which use the pages' helpers), straight-through (:mod:`app.ui.stp`) and the
static files."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from app.ui import actions, routes, stp


def mount(app: FastAPI) -> None:
    app.include_router(routes.router)
    app.include_router(actions.router)
    app.include_router(stp.router)
    app.mount("/ui/static", StaticFiles(directory=str(routes.HERE / "static")), name="ui-static")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui", status_code=307)
