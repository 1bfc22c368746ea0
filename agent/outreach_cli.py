"""``santun outreach``: plan proactive reminders, send what is due, report experiments."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from agent.config import get_settings

outreach_app = typer.Typer(
    help="Proactive reminders within the contact rules.", no_args_is_help=True
)
console = Console()
err = Console(stderr=True)


@outreach_app.command("plan")
def plan(
    days: Annotated[int, typer.Option(min=1, max=60, help="How many days ahead")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
) -> None:
    """Show what would be sent in the next N days, without sending anything."""
    from agent.outreach.service import open_outreach

    with open_outreach(get_settings()) as service:
        result = service.plan(days)
    if as_json:
        for message in result.messages:
            sys.stdout.write(json.dumps(message.to_json(), ensure_ascii=False) + "\n")
        return
    table = Table(title=f"Reminders planned for the next {days} days", show_lines=False)
    for column in ("send at (local)", "account", "channel", "template", "segment", "risk"):
        table.add_column(column)
    for m in result.messages:
        table.add_row(
            m.send_at.strftime("%a %d %b %H:%M %Z"),
            m.account_id,
            m.channel,
            m.template,
            m.segment,
            f"{m.band} {m.risk:.2f}",
        )
    console.print(table)
    for account_id, reason in sorted(result.skipped.items()):
        console.print(f"{account_id}: no reminders ({reason})", highlight=False)
    console.print(
        f"{len(result.messages)} messages for {len({m.account_id for m in result.messages})}"
        f" debtor(s); {len(result.skipped)} debtor(s) get none. Reasons: --json.",
        highlight=False,
    )


@outreach_app.command("run")
def run(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Send what is due now (each message once, inside the contact window and caps)."""
    from agent.outreach.lock import SenderBusy
    from agent.outreach.service import open_outreach

    with open_outreach(get_settings()) as service, _progress() as bar:
        task = bar.add_task("Sending", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            result = service.run(advance)
        except SenderBusy as exc:
            err.print(f"error: {exc}; nothing was sent by this pass", highlight=False)
            raise typer.Exit(1) from exc
    report = result.report.to_dict()
    if as_json:
        report.pop("details")
        settled = {"promises_kept": result.settled.kept, "promises_broken": result.settled.broken}
        sys.stdout.write(json.dumps({"enqueued": result.enqueued, **report, **settled}) + "\n")
        return
    console.print(
        f"Enqueued {result.enqueued}; sent {report['sent']}, already delivered"
        f" {report['duplicates']}, moved to the next allowed slot {report['refused']},"
        f" blocked by the guardrail {report['blocked']}, retrying {report['retrying']},"
        f" failed {report['failed']}, cancelled {report['cancelled']}. Promises settled:"
        f" {result.settled.kept} kept, {result.settled.broken} broken.",
        highlight=False,
    )


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
    )
