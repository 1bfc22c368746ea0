"""``santun risk``: generate a synthetic history, train the default-risk model on your own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from agent.clock import clock_for
from agent.config import get_settings
from agent.outreach.risk.features import RiskDataError, read_history_csv, write_history_csv
from agent.outreach.risk.model import DEMO_MODEL_PATH, MODEL_FILE, RiskModel
from agent.outreach.risk.synthetic import DEMO_ROWS, DEMO_SEED, generate_history

risk_app = typer.Typer(
    help=(
        "Default-risk score: train it on your own repayment history. The shipped demo "
        "model is trained on synthetic data and says nothing about real debtors."
    ),
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
err = Console(stderr=True)


def _summary(model: RiskModel, out: Path) -> dict[str, object]:
    spec = model.spec
    return {
        "model": str(out),
        "data_source": spec.data_source,
        "synthetic": spec.synthetic,
        "training_rows": spec.training_rows,
        "calibration_rows": spec.calibration_rows,
        **spec.metrics.model_dump(mode="json"),
    }


def _source(model: RiskModel) -> str:
    return "synthetic data (not real debtors)" if model.spec.synthetic else model.source


def _show(model: RiskModel, out: Path) -> None:
    metrics = model.spec.metrics
    table = Table(title=f"Held-out test split ({metrics.test_rows} rows)")
    table.add_column("Metric")
    table.add_column("Value", justify="right")
    table.add_row("AUC", f"{metrics.auc:.3f}")
    table.add_row("Brier score", f"{metrics.brier:.4f}")
    table.add_row("Expected calibration error", f"{metrics.ece:.4f}")
    table.add_row("Default rate", f"{metrics.test_positive_rate:.1%}")
    bins = Table(title="Reliability (10 bins)")
    for column in ("Predicted", "Rows", "Mean predicted", "Observed"):
        bins.add_column(column, justify="right")
    for b in metrics.reliability:
        predicted = "-" if b.mean_predicted is None else f"{b.mean_predicted:.3f}"
        observed = "-" if b.observed_rate is None else f"{b.observed_rate:.3f}"
        bins.add_row(f"{b.lower:.1f}-{b.upper:.1f}", str(b.count), predicted, observed)
    console.print(table, bins)
    console.print(
        f"Trained on {model.spec.training_rows} rows of {_source(model)}; wrote {out}",
        highlight=False,
    )


@risk_app.command()
def generate(
    rows: Annotated[int, typer.Option(help="Rows to generate", min=1)] = DEMO_ROWS,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same file)")] = DEMO_SEED,
    out: Annotated[
        Path | None, typer.Option(help="CSV to write (default: DATA_DIR/synthetic_history.csv)")
    ] = None,
) -> None:
    """Write a synthetic repayment history (made-up data, for demos and tests)."""
    target = out or get_settings().data_dir / "synthetic_history.csv"
    try:
        write_history_csv(generate_history(rows, seed), target)
    except OSError as exc:
        err.print(f"error: cannot write {target}: {exc}", highlight=False)
        raise typer.Exit(2) from exc
    console.print(f"Wrote {rows} synthetic rows (not real debtors) to {target}", highlight=False)


@risk_app.command()
def train(
    file: Annotated[Path, typer.Argument(help="CSV history: feature columns + defaulted_90d")],
    out: Annotated[
        Path | None, typer.Option(help=f"Model to write (default: DATA_DIR/{MODEL_FILE})")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON")] = False,
) -> None:
    """Train, calibrate and test the model on a lender's history; write it for scoring."""
    from agent.outreach.risk.training import train as train_model

    settings = get_settings()
    target = out or settings.data_dir / MODEL_FILE
    try:
        model = train_model(read_history_csv(file), created=clock_for(settings.now).now())
        model.save(target)
    except RiskDataError as exc:
        err.print(f"error: {exc}", highlight=False)
        raise typer.Exit(2) from exc
    except OSError as exc:
        err.print(f"error: cannot write {target}: {exc}", highlight=False)
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(json.dumps(_summary(model, target), indent=1))
    else:
        _show(model, target)


@risk_app.command("train-demo")
def train_demo(
    out: Annotated[Path, typer.Option(help="Model to write")] = DEMO_MODEL_PATH,
) -> None:
    """Regenerate the shipped demo model (20 000 synthetic rows, seed 2026)."""
    from agent.outreach.risk.training import train_demo_model

    _show(train_demo_model(out), out)


if __name__ == "__main__":
    risk_app()
