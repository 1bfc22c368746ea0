"""The ``santun`` command line: serve, chat, token, bench."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

from agent.config import get_settings
from agent.outreach_cli import outreach_app
from agent.risk_cli import risk_app

if TYPE_CHECKING:
    from agent.storage.console import ConsoleStore

app = typer.Typer(
    help="Santun: a compliant Indonesian debt-collection chat agent.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
err = Console(stderr=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
) -> None:
    """Serve the HTTP API (loads the demo data on first run)."""
    import uvicorn

    from agent.web.app import create_app

    settings = get_settings().model_copy(update={"host": host, "port": port})
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


@app.command()
def chat(
    account: Annotated[str | None, typer.Option(help="Start verified for this account")] = None,
) -> None:
    """Chat with Santun in the terminal (one message per line; empty line or EOF ends)."""
    try:
        asyncio.run(_chat(account))
    except ValueError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(2) from exc


async def _chat(account: str | None) -> None:
    from agent.runtime import open_service

    async with open_service(get_settings()) as service:
        token = service.mint_session_token(account) if account else None
        session = await service.start_session(token)
        console.print(f"[bold green]Santun:[/] {session['reply']}", highlight=False)
        interactive = sys.stdin.isatty()
        while True:
            try:
                text = console.input("[bold]Anda:[/] ") if interactive else sys.stdin.readline()
            except (EOFError, KeyboardInterrupt):
                break
            if not text or not text.strip():
                break
            if not interactive:
                console.print(f"[bold]Anda:[/] {text.strip()}", highlight=False)
            answer = await service.handle_message(session["session_id"], text.strip())
            tools = ", ".join(c["name"] for c in answer["tool_calls"])
            console.print(f"[bold green]Santun:[/] {answer['reply']}", highlight=False)
            if tools:
                console.print(f"[dim]  alat: {tools}[/]", highlight=False)


@app.command()
def token(account_id: str) -> None:
    """Print a signed session token for an account (for demos and tests)."""

    async def mint() -> str:
        from agent.runtime import open_service

        async with open_service(get_settings(), persist_checkpoints=False) as service:
            return service.mint_session_token(account_id)

    try:
        console.print(asyncio.run(mint()), highlight=False, soft_wrap=True)
    except ValueError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(2) from exc


@app.command()
def purge(
    days: Annotated[
        int | None, typer.Option(help="Keep this many days (default SANTUN_RETENTION_DAYS)", min=1)
    ] = None,
) -> None:
    """Delete conversations older than the retention period (audit, messages, checkpoints)."""
    from datetime import timedelta

    from agent.clock import clock_for
    from agent.portfolio import load_portfolio
    from agent.storage import Store, init_database, make_engine
    from agent.storage.checkpoints import delete_threads
    from agent.storage.console import ConsoleStore

    settings = get_settings()
    keep = days or settings.retention_days
    cutoff = clock_for(settings.now).now() - timedelta(days=keep)
    store = Store(init_database(make_engine(settings.resolved_database_url()), load_portfolio()))
    ids, counts = store.purge_before(cutoff)
    ConsoleStore.for_store(store).purge_sessions(ids)
    delete_threads(settings.database_url, settings.checkpoint_path, ids)
    summary = ", ".join(f"{n} {name}" for name, n in counts.items())
    console.print(
        f"Purged conversations inactive since {cutoff:%Y-%m-%d}: {summary}", highlight=False
    )


@app.command()
def ingest() -> None:
    """(Re)build the knowledge index; unchanged passages are not re-embedded."""
    import time

    from rich.progress import Progress

    from knowledge.index import (
        chroma_client,
        ingest,
        load_default_corpus,
        make_embedder,
        open_collection,
    )

    settings = get_settings()
    started = time.perf_counter()
    passages = load_default_corpus()
    embedder = make_embedder(settings.embedder)
    collection = open_collection(
        chroma_client(settings.resolved_index_dir, settings.chroma_url), embedder
    )
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("Embedding passages", total=len(passages))
        embedded, deleted = ingest(
            collection, embedder, passages, lambda n: progress.advance(task, n)
        )
    console.print(
        f"Index ready: {len(passages)} passages, {embedded} embedded, {deleted} removed, "
        f"embedder {embedder.name}, {time.perf_counter() - started:.1f} s",
        highlight=False,
    )


@app.command()
def search(
    query: str,
    k: Annotated[int, typer.Option(help="How many passages", min=1, max=20)] = 3,
) -> None:
    """Print the top passages for a query as JSON."""
    from agent.clock import clock_for, local_today
    from knowledge.index import open_retriever

    settings = get_settings()
    clock = clock_for(settings.now)
    retriever = open_retriever(
        settings.resolved_index_dir,
        settings.chroma_url,
        lambda: local_today(clock, None),
        settings.embedder,
    )
    hits = retriever.search(query, k=k)
    rows = [{"id": h.id, "title": h.title, "source": h.source, "score": h.score} for h in hits]
    sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")


@app.command()
def guard(
    text: Annotated[
        str | None, typer.Argument(help="Text to check (else JSON lines on stdin)")
    ] = None,
    evaluate: Annotated[
        list[Path] | None,
        typer.Option("--evaluate", help="Report recall and false positives on labelled sets"),
    ] = None,
) -> None:
    """Check drafts against the guardrail; prints one JSON object per input."""
    from agent.guard_cli import judge, judge_lines
    from guardrails import ComplianceGuard

    checker = ComplianceGuard()
    if evaluate:
        _guard_report(checker, evaluate)
        return
    if text is not None:
        sys.stdout.write(json.dumps(judge(checker, None, text, None), ensure_ascii=False) + "\n")
        return
    failed = False
    for result in judge_lines(checker, sys.stdin):
        failed |= "error" in result
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    if failed:
        err.print('error: some input lines could not be read (see their "error" fields)')
        raise typer.Exit(1)


def _guard_report(checker: object, paths: list[Path]) -> None:
    from rich.table import Table

    from evals.guard import evaluate_guard, load_guard_set
    from guardrails import ComplianceGuard

    assert isinstance(checker, ComplianceGuard)
    for path in paths:
        report = evaluate_guard(load_guard_set(path), checker)
        table = Table(
            title=f"{path.name}: {report.violating} violating, {report.compliant} compliant"
        )
        table.add_column("category")
        table.add_column("recall", justify="right")
        for category, recall in report.recall_by_category.items():
            table.add_row(category, f"{recall:.3f}")
        table.add_row("[bold]all violating[/]", f"[bold]{report.recall:.3f}[/]")
        table.add_row("false-positive rate", f"{report.false_positive_rate:.3f}")
        table.add_row("hard-negative FPR", f"{report.hard_negative_fpr:.3f}")
        console.print(table)


@app.command()
def bench(
    out: Annotated[Path | None, typer.Option(help="Also write the JSON here")] = None,
) -> None:
    """Run the benchmarks and print JSON."""
    from evals.benchmarks import run_benchmarks

    result = asyncio.run(run_benchmarks())
    text = json.dumps(result, indent=2)
    if out is not None:
        out.write_text(text + "\n")
    console.print_json(text)


@app.command("eval")
def eval_command(
    suite: Annotated[
        list[str] | None,
        typer.Option(help="offline, scripted (mock model over HTTP) or llm; repeatable"),
    ] = None,
    variant: Annotated[
        list[str] | None, typer.Option(help="Prompt variant; give two to compare")
    ] = None,
    out: Annotated[Path, typer.Option(help="Directory for the four report files")] = Path(
        ".santun/eval-report"
    ),
    repeat: Annotated[int, typer.Option(min=1, max=20, help="Runs per LLM scenario")] = 1,
    concurrency: Annotated[int, typer.Option(min=1, max=32)] = 4,
    update_baseline: Annotated[
        bool, typer.Option(help="Write evals/baseline.json from this run")
    ] = False,
) -> None:
    """Run the scenario suites; write report.html, report.json, summary.md, junit.xml."""
    from agent.eval_cli import run_eval
    from agent.prompts import PromptError, load_prompts
    from evals.scenarios import ScenarioError

    suites = suite or ["offline", "scripted"]
    unknown = [s for s in suites if s not in ("offline", "scripted", "llm")]
    if unknown:
        _usage_error(f"unknown suite(s) {', '.join(unknown)}; known: offline, scripted, llm")
    variants = variant or [get_settings().prompt_variant]
    try:
        for name in variants:
            load_prompts(name)
        code = run_eval(
            get_settings(),
            suites,
            variants,
            out,
            repeat=repeat,
            concurrency=concurrency,
            update_baseline=update_baseline,
        )
    except (PromptError, ScenarioError, ValueError) as exc:
        _usage_error(str(exc))
    raise typer.Exit(code)


operator_app = typer.Typer(help="Console operator accounts.", no_args_is_help=True)
app.add_typer(operator_app, name="operator")
app.add_typer(outreach_app, name="outreach")
app.add_typer(risk_app, name="risk")


@operator_app.command("add")
def operator_add(
    username: Annotated[str, typer.Argument(help="Login name (lowercase)")],
    role: Annotated[str, typer.Option(help="compliance, agent or admin")],
    name: Annotated[str | None, typer.Option(help="Display name (default: username)")] = None,
) -> None:
    """Create an operator; the password is prompted for, or read from stdin's first line."""
    from agent.clock import clock_for
    from agent.storage.console import MIN_PASSWORD_CHARS, ROLES, OperatorError

    if role not in ROLES:
        _usage_error(f"unknown role {role!r} (choose one of {', '.join(ROLES)})")
    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < MIN_PASSWORD_CHARS:
        _usage_error(f"password must have at least {MIN_PASSWORD_CHARS} characters")
    now = clock_for(get_settings().now).now()
    try:
        _console_store().add_operator(username, role, password, name, now)
    except OperatorError as exc:
        _usage_error(str(exc))
    console.print(f"Operator {username} added with role {role}.", highlight=False)


@operator_app.command("list")
def operator_list() -> None:
    """List the console's operators (username, role, display name, status)."""
    for operator, active, created in _console_store().operators():
        status = "active" if active else "disabled"
        sys.stdout.write(
            f"{operator.username}\t{operator.role}\t{operator.display_name}\t{status}\t"
            f"{created:%Y-%m-%d}\n"
        )


def _console_store() -> ConsoleStore:
    from agent.portfolio import load_portfolio
    from agent.storage import init_database, make_engine
    from agent.storage.console import ConsoleStore

    engine = make_engine(get_settings().resolved_database_url())
    return ConsoleStore(init_database(engine, load_portfolio()))


def _usage_error(message: str) -> NoReturn:
    err.print(f"error: {message}", highlight=False)
    raise typer.Exit(2)


if __name__ == "__main__":
    app()
