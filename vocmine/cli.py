"""The ``vocmine`` command line (Typer + Rich). The only module that prints.

Exit codes (SPEC "CLI contract"): 0 ok; 1 input partly or wholly rejected (the rejects file is named on
stderr); 2 usage error (bad flag, bad config, unknown component).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vocmine.config import VocmineConfig, load_config
from vocmine.errors import ConfigError, UnknownComponentError, UnreadableFileError, VocmineError

app = typer.Typer(
    name="vocmine",
    help="Offline voice-of-the-customer mining: ingest exports, analyse every comment, find root causes "
    "per touchpoint and their NPS impact, and write a report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Wide when piped (logs, CI) so tables of figures are not folded into unreadable columns.
console = Console(width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 200)

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2

StoreOption = Annotated[
    Path | None, typer.Option("--store", help="DuckDB store file (default: config's, else ./vocmine.duckdb).")
]
ConfigOption = Annotated[Path | None, typer.Option("--config", help="vocmine.toml config file.")]


def _config(config_path: Path | None, store: Path | None = None) -> VocmineConfig:
    config = load_config(config_path)
    if store is not None:
        config = config.model_copy(update={"store": store})
    return config


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
        disable=not err_console.is_terminal,
    )


class _ProgressAdapter:
    """Turns the pipelines' ``progress(what, done, total)`` callbacks into Rich bars."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, Any] = {}

    def __call__(self, *args: Any) -> None:
        # Stages report (what, done, total); ingest reports (files done, files total).
        what, done, total = args if len(args) == 3 else ("files", *args)
        if what not in self.tasks:
            self.tasks[what] = self.progress.add_task(what, total=total)
        self.progress.update(self.tasks[what], completed=done, total=total)


def _fail(error: Exception, code: int) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {error}")
    return typer.Exit(code)


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what each stage does.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files to read (.csv .tsv .xlsx .json .jsonl .parquet).")],
    store: StoreOption = None,
    config: ConfigOption = None,
    profile: Annotated[str, typer.Option(help="Source profile: built-in name or a TOML file.")] = "review",
    source: Annotated[str | None, typer.Option(help="Source name stored with every response.")] = None,
    id_column: Annotated[str | None, typer.Option(help="Column holding the response id.")] = None,
    text_column: Annotated[
        list[str] | None, typer.Option(help="Open-text column (repeat for several questions).")
    ] = None,
    score_column: Annotated[str | None, typer.Option(help="0-10 recommend score column.")] = None,
    stars_column: Annotated[str | None, typer.Option(help="1-5 stars column.")] = None,
    date_column: Annotated[str | None, typer.Option(help="Date column.")] = None,
    branch_column: Annotated[str | None, typer.Option(help="Branch / store / hotel column.")] = None,
    seller_column: Annotated[str | None, typer.Option(help="Seller / agent column.")] = None,
    language_column: Annotated[str | None, typer.Option(help="Language column (else detected).")] = None,
) -> None:
    """Read exports into the store. Re-ingesting a file adds nothing; changed rows update in place."""
    from vocmine.pipelines.ingest import ingest_paths
    from vocmine.pipelines.profiles import ProfileOverrides, load_profile
    from vocmine.store import Store

    try:
        cfg = _config(config, store)
        chosen = load_profile(profile)
        overrides = ProfileOverrides(
            source=source,
            id_column=id_column,
            text_columns=text_column or [],
            score_column=score_column,
            stars_column=stars_column,
            date_column=date_column,
            branch_column=branch_column,
            seller_column=seller_column,
            language_column=language_column,
        )
    except (ConfigError, UnknownComponentError) as error:
        raise _fail(error, EXIT_USAGE) from None
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise _fail(ConfigError(f"no such file: {', '.join(missing)}"), EXIT_USAGE)
    with Store(cfg.store) as opened, _progress() as bars:
        report = ingest_paths(paths, opened, profile=chosen, overrides=overrides, progress=_ProgressAdapter(bars))
        totals = {"responses": opened.count("responses"), "answers": opened.count("answers")}
    table = Table(title=f"ingest into {cfg.store}")
    for column in ("files", "rows read", "inserted", "updated", "unchanged", "rejected"):
        table.add_column(column, justify="right")
    table.add_row(*(str(v) for v in (report.files, report.rows_read, report.inserted, report.updated,
                                     report.unchanged, report.rejected)))
    console.print(table)
    console.print(f"store now holds {totals['responses']} responses, {totals['answers']} answers")
    if report.has_rejects:
        for detail in report.details:
            if detail.error:
                err_console.print(f"[red]unreadable:[/red] {detail.path}: {detail.error}")
            if detail.rejected:
                err_console.print(
                    f"[yellow]{detail.path.name}: {detail.rejected} rows rejected[/yellow]; "
                    f"rejects file: {detail.rejects_path}"
                )
        raise typer.Exit(EXIT_REJECTED)


@app.command()
def analyze(store: StoreOption = None, config: ConfigOption = None,
            step: Annotated[list[str] | None, typer.Option(help="Run only these steps (repeatable).")] = None) -> None:
    """Analyse what is new in the store: language, sentences, NPS status, sentiment, emotions, component,
    touchpoints, themes, KPIs and drivers."""
    from vocmine.pipelines.analyze import analyze_store
    from vocmine.store import Store

    try:
        cfg = _config(config, store)
    except ConfigError as error:
        raise _fail(error, EXIT_USAGE) from None
    try:
        with Store(cfg.store) as opened, _progress() as bars:
            report = analyze_store(opened, cfg, steps=step or None, progress=_ProgressAdapter(bars))
    except (ConfigError, UnknownComponentError) as error:
        raise _fail(error, EXIT_USAGE) from None
    table = Table(title=f"analyze run {report.run_id}")
    table.add_column("step")
    table.add_column("result")
    table.add_column("seconds", justify="right")
    for name, stats in report.steps.items():
        table.add_row(name, ", ".join(f"{k}={v}" for k, v in stats.items()), str(report.seconds.get(name, "")))
    console.print(table)


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", help="Folder for report.html and exports/.")],
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """Write the self-contained HTML root-cause report and the CSV/Parquet/XLSX exports."""
    from vocmine.pipelines.report import build_report
    from vocmine.store import Store

    try:
        cfg = _config(config, store)
    except ConfigError as error:
        raise _fail(error, EXIT_USAGE) from None
    if not cfg.store.exists():
        raise _fail(ConfigError(f"store {cfg.store} does not exist; run `vocmine ingest` first"), EXIT_USAGE)
    with Store(cfg.store) as opened:
        result = build_report(opened, cfg, out)
    console.print(f"report: {result.html_path}")
    console.print(f"exports: {out / 'exports'}")


@app.command()
def classify(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="A .csv/.xlsx/.jsonl/.json/.parquet file.")],
    text_column: Annotated[str, typer.Option(help="Column holding the text to label.")],
    out: Annotated[Path, typer.Option("--out", help="Output file (.csv/.xlsx/.jsonl/.parquet).")],
    sentences: Annotated[bool, typer.Option("--sentences", help="One row per sentence instead of per row.")] = False,
    taxonomy: Annotated[str | None, typer.Option(help="Touchpoint taxonomy: built-in name or TOML file.")] = None,
    language_column: Annotated[
        str | None, typer.Option(help="Column of language codes: es, es-MX, spa or Spanish (detected where "
                                      "empty or absent).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Label every row of a file: language, sentiment (+ probabilities), emotions, component, touchpoints.

    The text column is written cleaned and with personal data redacted; rows the reader cannot parse go to
    a rejects file beside the output (exit code 1)."""
    from vocmine.pipelines.classify import (
        TextClassifierStack,
        check_columns,
        check_output_path,
        classify_frame,
        read_any,
        write_any,
    )
    from vocmine.pipelines.ingest import write_rejects_file

    try:
        if not input_path.is_file():
            raise ConfigError(f"no such file: {input_path}")
        check_output_path(out)
        cfg = _config(config)
        frame, rejects = read_any(input_path)
        check_columns(frame, text_column, language_column, source=str(input_path))
        stack = TextClassifierStack.load(cfg, taxonomy=taxonomy)  # cheap: the models load on first use
    except ConfigError as error:
        raise _fail(error, EXIT_USAGE) from None
    for task, reason in stack.unavailable.items():
        err_console.print(f"[yellow]{task} unavailable:[/yellow] {reason}")
    rows = classify_frame(frame, text_column, stack, sentences=sentences, language_column=language_column)
    write_any(rows, out)
    console.print(f"{len(frame)} rows labelled -> {out} ({len(rows)} rows written)")
    rejects_path = write_rejects_file(out.parent, input_path, rejects)  # removes a stale one when clean
    if rejects:
        err_console.print(f"[yellow]{input_path.name}: {len(rejects)} rows could not be read and are not in "
                          f"{out.name}[/yellow]; rejects file: {rejects_path}")
        raise typer.Exit(EXIT_REJECTED)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Output folder for the store, report and exports.")] = Path(
        "out/demo"
    ),
    limit: Annotated[int | None, typer.Option(help="Use only the first N rows of each sample file.")] = None,
) -> None:
    """Run the whole pipeline (through the Prefect flow) on the bundled real sample."""
    from vocmine.flows.pipeline import run_demo

    summary = run_demo(out, limit=limit)
    table = Table(title="vocmine demo")
    table.add_column("what")
    table.add_column("where / value")
    for key, value in summary.items():
        table.add_row(key, str(value))
    console.print(table)
    if summary.get("rejected"):
        err_console.print(f"[yellow]{summary['rejected']} sample rows rejected[/yellow]; see {summary.get('rejects')}")


@app.command()
def train(
    task: Annotated[str, typer.Argument(help="What to train: sentiment, emotion, component, touchpoints.")],
    data: Annotated[Path | None, typer.Option(help="Labelled data folder (default ../shared/data).")] = None,
    out: Annotated[Path | None, typer.Option(help="Where to write weights (default: the package's).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    taxonomy: Annotated[str | None, typer.Option(help="Touchpoint taxonomy name or TOML file.")] = None,
    labels: Annotated[Path | None, typer.Option(help="CSV of labelled texts (touchpoints).")] = None,
    finetune: Annotated[bool, typer.Option(
        help="Sentiment, emotion, component, touchpoints: fine-tune e5 with LoRA adapters (the accurate "
             "variants).")] = False,
    device: Annotated[str, typer.Option(help="torch device for --finetune: cpu or cuda (hours vs minutes).")] = "cpu",
    encoder_dir: Annotated[Path | None, typer.Option(
        help="Sentiment, emotion: reuse this fine-tuned encoder (e.g. models/weights/emotion_ft/e5_lora) and "
             "refit only the blend and decision layer (minutes on CPU); touchpoints: reuse the fine-tuned heads "
             "in this folder (e.g. models/weights/touchpoints/restaurant) and refit the linear and lexical heads "
             "and the blend.")] = None,
) -> None:
    """Reproduce a shipped model from the labelled data (deterministic for a seed)."""
    from vocmine import registry

    try:
        runner = registry.create("task", task)
    except UnknownComponentError as error:
        raise _fail(error, EXIT_USAGE) from None
    extra: dict[str, Any] = {}
    if taxonomy is not None:
        extra["taxonomy"] = taxonomy
    if labels is not None:
        extra["labels"] = labels
    if finetune:
        extra["finetune"] = True
        os.environ["VOCMINE_TORCH_DEVICE"] = device
    if encoder_dir is not None:
        if task not in {"sentiment", "emotion", "touchpoints"}:
            raise _fail(ConfigError(f"--encoder-dir is for sentiment, emotion and touchpoints, not {task!r}"),
                        EXIT_USAGE)
        extra["encoder_dir"] = encoder_dir
    try:
        summary = runner.train(data_dir=data, out_dir=out, seed=seed, **extra)
    except VocmineError as error:
        raise _fail(error, EXIT_USAGE) from None
    for key, value in summary.items():
        console.print(f"{key}: {value}")


@app.command()
def evaluate(
    task: Annotated[str | None, typer.Argument(help="Task to evaluate; all when omitted.")] = None,
    data: Annotated[Path | None, typer.Option(help="Labelled data folder (default ../shared/data).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the figures as JSON.")] = None,
) -> None:
    """Print measured figures per data set and language, next to the baselines of the same run."""
    from vocmine import registry
    from vocmine.models.datasets import shared_data_dir

    try:
        shared_data_dir(data)  # every evaluation reads it: say so before any model loads or exports
    except VocmineError as error:
        raise _fail(error, EXIT_USAGE) from None
    tasks = [task] if task else registry.names("task")
    frames = []
    for name in tasks:
        try:
            runner = registry.create("task", name)
        except UnknownComponentError as error:
            raise _fail(error, EXIT_USAGE) from None
        try:
            frames.append(runner.evaluate(data_dir=data, seed=seed))
        except VocmineError as error:
            raise _fail(error, EXIT_USAGE) from None
    figures = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    console.print(_figures_table(figures))
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        figures.to_json(json_out, orient="records", indent=2)


def _figures_table(figures: pd.DataFrame) -> Table:
    """The figures as a Rich table; a row's 95% interval (bootstrap, or Wilson for an accuracy), where it
    has one, as one "95% CI" column."""
    shown = figures.copy()
    if {"ci_low", "ci_high"} <= set(shown.columns):
        shown["95% CI"] = [
            "–" if pd.isna(low) else f"[{low:.3f}, {high:.3f}]"
            for low, high in zip(shown.pop("ci_low"), shown.pop("ci_high"), strict=True)
        ]
    table = Table(title="vocmine evaluate")
    for column in shown.columns:
        table.add_column(str(column))
    for row in shown.itertuples(index=False):
        table.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
    return table


def _register_service_commands() -> None:
    """``vocmine serve`` (scheduled Prefect deployments) and ``vocmine api`` (REST), defined in cli_service."""
    from vocmine import cli_service

    app.command("serve")(cli_service.serve)
    app.command("api")(cli_service.api)


_register_service_commands()


def main() -> None:
    """Entry point: VocmineErrors that escape a command become a one-line message and exit code."""
    try:
        app()
    except UnreadableFileError as error:
        err_console.print(f"[red]error:[/red] {error}")
        sys.exit(EXIT_REJECTED)
    except VocmineError as error:
        err_console.print(f"[red]error:[/red] {error}")
        sys.exit(EXIT_USAGE)


if __name__ == "__main__":
    main()
