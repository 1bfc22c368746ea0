"""The outreach dashboard in the console: ``GET /console/outreach`` and its JSON twin.

Compliance officers and admins see it; collection agents do not (403): the page lists every
debtor's segment, risk score and its reasons, which agents working the handoff queue do not
need. Each view is written to the access log (``view_outreach`` / ``api_view_outreach``).
Charts are inline SVG rendered here, so the console's CSP (no inline script or style) holds.
Without ``app.state.outreach`` both routes answer 503.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from agent.config import Settings
from agent.formatting import rupiah, tanggal
from agent.outreach.charts import bar_chart, stacked_chart
from agent.outreach.dashboard import MAX_DAYS, Dashboard, Matrix, build_dashboard
from agent.outreach.service import OutreachService
from agent.service import ChatService
from agent.web.console import CSP, REVIEWERS, Console, Login

VIEWERS = REVIEWERS
DEFAULT_DAYS = 30
PERIODS = (7, 30, 90)
NOT_RUNNING = "Outreach is not running on this server."
BAD_DAYS = f"The period must be a whole number of days from 1 to {MAX_DAYS}."
STATIC = Path(__file__).parent / "static"
_JSON_HEADERS = {"Content-Security-Policy": CSP, "Cache-Control": "no-store"}


def outreach_console_routes(app: FastAPI, settings: Settings) -> None:
    """Add ``GET /console/outreach``, ``/console/outreach.json`` and its stylesheet."""
    console = Console(settings)
    console.env.filters["rupiah"] = rupiah
    console.env.filters["pct"] = _pct

    @app.get("/console/outreach", include_in_schema=False)
    async def outreach_dashboard(request: Request) -> Response:
        login = console.require(request, VIEWERS)
        if not isinstance(login, Login):
            return login
        board = await _board(request, login, "view_outreach")
        if isinstance(board, str):
            status = 503 if board == NOT_RUNNING else 400
            return console.page(request, "error.html", login, status, message=board)
        return console.page(
            request, "outreach.html", login, board=board, charts=charts(board), periods=PERIODS
        )

    @app.get("/console/outreach.json")
    async def outreach_dashboard_json(request: Request) -> Response:
        login = console.require(request, VIEWERS, api=True)
        if not isinstance(login, Login):
            return login
        board = await _board(request, login, "api_view_outreach")
        if isinstance(board, str):
            status = 503 if board == NOT_RUNNING else 400
            return JSONResponse({"detail": board}, status_code=status, headers=_JSON_HEADERS)
        return JSONResponse(board.to_dict(), headers=_JSON_HEADERS)

    @app.get("/console/static/outreach.css", include_in_schema=False)
    async def outreach_css() -> FileResponse:
        headers = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
        return FileResponse(STATIC / "outreach.css", media_type="text/css", headers=headers)


async def _board(request: Request, login: Login, action: str) -> Dashboard | str:
    """The dashboard for the ``days`` query parameter, or why there is none."""
    raw = request.query_params.get("days", str(DEFAULT_DAYS))
    days = int(raw) if raw.isdigit() else 0
    if not 1 <= days <= MAX_DAYS:
        return BAD_DAYS
    outreach: OutreachService | None = getattr(request.app.state, "outreach", None)
    if outreach is None:
        return NOT_RUNNING
    service: ChatService = request.app.state.service
    board = await run_in_threadpool(build_dashboard, outreach, service.store.factory, days)
    service.console.log_access(login.operator.username, "-", action, service.clock.now())
    return board


def charts(board: Dashboard) -> dict[str, Markup]:
    """Every chart of the page, by name."""
    promises = board.promises
    return {
        "segments": bar_chart(list(board.segments.items()), "Debtors by segment", "debtors"),
        "bands": bar_chart(list(board.risk_bands.items()), "Debtors by risk band", "debtors"),
        "channels": _by_channel_status(board.messages_by_channel_status),
        "hours": _by_hour(board.sent_by_local_hour),
        "queued": bar_chart(
            [(tanggal(date.fromisoformat(d)), n) for d, n in board.queued_by_day.items()],
            "Queued messages by day",
            "messages",
        ),
        "refusals": bar_chart(
            list(board.refusals.items()), "Contact-window and cap refusals", "refusals"
        ),
        "promises": bar_chart(
            [("made", promises.made), ("kept", promises.kept), ("broken", promises.broken)],
            "Promises to pay",
            "promises",
        ),
        **{
            f"experiment:{result.experiment_id}": bar_chart(
                [
                    (arm.arm_id, round(100 * arm.rate, 1) if arm.rate is not None else 0.0)
                    for arm in result.outcome(result.primary_outcome).arms
                ],
                f"Experiment {result.experiment_id}: {result.primary_outcome} rate by arm",
                "%",
            )
            for result in board.experiments
        },
    }


def _by_channel_status(matrix: Matrix) -> Markup:
    """Channels as columns, one stacked colour per status (only those that occur)."""
    used = [i for i, values in enumerate(matrix.values) if any(values)]
    series = [
        (status, [matrix.values[i][j] for i in used])
        for j, status in enumerate(matrix.columns)
        if any(matrix.values[i][j] for i in used)
    ]
    channels = [matrix.rows[i] for i in used] or list(matrix.rows)
    return stacked_chart(channels, series, "Messages by channel and status", "messages")


def _by_hour(matrix: Matrix) -> Markup:
    """The 24 local hours as columns, one stacked colour per channel that sent anything."""
    series = [
        (channel, list(values))
        for channel, values in zip(matrix.rows, matrix.values, strict=True)
        if any(values)
    ]
    title = "Sent messages by local hour of day"
    return stacked_chart(list(matrix.columns), series, title, "messages")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"
