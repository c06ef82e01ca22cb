"""The ``assessor`` command line: a thin typer layer over the library.

Heavy modules (pandas, scikit-learn, the engine) are imported inside the commands, so
``assessor --help`` stays instant. Exit codes follow the contract: 0 done, 2 wrong usage,
3 some input was rejected (the rest was processed), 1 anything unexpected.
"""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from assessor.process import quieter_gc

EXIT_OK, EXIT_UNEXPECTED, EXIT_USAGE, EXIT_REJECTED = 0, 1, 2, 3

app = typer.Typer(
    name="assessor",
    help=(
        "Explainable likelihood that a disputed game recharge was paid by a minor "
        "(未成年人游戏充值退款证据评估).\n\nExample: assessor score sample_data/cases/02_grandparent_summer.json"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class OutputFormat(StrEnum):
    json = "json"
    table = "table"
    markdown = "markdown"


class Lang(StrEnum):
    zh = "zh"
    en = "en"


class SchemaKind(StrEnum):
    case = "case"
    assessment = "assessment"


PriorOption = Annotated[
    float,
    typer.Option("--prior", min=0.001, max=0.999, help="Prior probability that the payer was a minor."),
]
ModelOption = Annotated[
    Path | None,
    typer.Option("--model", help="A model file from `assessor train` (default: the shipped model)."),
]
TrustOption = Annotated[
    bool,
    typer.Option(
        "--trust-model",
        help="Load a model file that is not the shipped one. Model files run code when loaded: "
        "only trust files you made yourself.",
    ),
]
NoRedactOption = Annotated[
    bool,
    typer.Option(
        "--no-redact",
        help="Show ID numbers, phone numbers and payer accounts in full (masked by default). "
        "The output then holds personal information: keep it accordingly.",
    ),
]


def _fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _load_engine(model: Path | None, trust_model: bool):
    from assessor.engine import Engine
    from assessor.model import ModelTrustError

    try:
        return Engine.load(model_path=model, trust_model=trust_model)
    except ModelTrustError as exc:
        raise _fail(str(exc)) from None
    except FileNotFoundError as exc:
        raise _fail(f"model file not found: {exc.filename or model}") from None


def _print_errors(errors: list, stream=None) -> None:
    for error in errors:
        typer.echo(f"rejected: {error}", err=True)


@app.command()
def score(
    case: Annotated[str, typer.Argument(help="A case file (JSON, JSON Lines, table set) or - for standard input.")],
    format: Annotated[
        OutputFormat | None,
        typer.Option("--format", "-f", help="json, table or markdown (default: table on a terminal, else json)."),
    ] = None,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of summaries: zh or en.")] = Lang.zh,
    prior: PriorOption = 0.5,
    model: ModelOption = None,
    trust_model: TrustOption = False,
    no_redact: NoRedactOption = False,
) -> None:
    """Score one case and show the verdict, the reasons on each side and their records.

    Example: assessor score sample_data/cases/01_own_id_over_caps.json --format json
    """
    from assessor.io import read_cases
    from assessor.render import render_assessment, reveal

    engine = _load_engine(model, trust_model)
    quieter_gc()
    if format is None:
        format = OutputFormat.table if sys.stdout.isatty() else OutputFormat.json
    errors = []
    scored = 0
    for item in read_cases(case if case == "-" else Path(case)):
        if not hasattr(item, "case_id") or item.__class__.__name__ == "CaseError":
            errors.append(item)
            continue
        assessment = engine.assess(item, prior=prior)
        if no_redact:
            assessment = reveal(assessment, item)
        render_assessment(assessment, format=format.value, lang=lang.value, out=sys.stdout, redact=not no_redact)
        scored += 1
    _print_errors(errors)
    if errors:
        raise typer.Exit(EXIT_REJECTED)
    if scored == 0:
        raise _fail(f"no case found in {case}", EXIT_REJECTED)


@app.command()
def batch(
    input: Annotated[str, typer.Argument(
        help="Many cases, any input form: JSON Lines, a folder of JSON files, a CSV table set, .xlsx, or -.")],
    output: Annotated[Path, typer.Option(
        "-o", "--output", help="Where to write: .jsonl (one assessment per line), .csv or .xlsx (one row per case).")],
    errors: Annotated[Path | None, typer.Option(
        "--errors", help="Write rejected cases here as JSON Lines (default: report them on standard error).")] = None,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of CSV/XLSX headers and reasons: zh or en.")] = Lang.zh,
    prior: PriorOption = 0.5,
    model: ModelOption = None,
    trust_model: TrustOption = False,
    jobs: Annotated[int, typer.Option(
        "--jobs", "-j", help="Processes scoring in parallel (-1: one per core). The output is the same.")] = 1,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary.")] = False,
    no_redact: NoRedactOption = False,
) -> None:
    """Score many cases into one file a reviewer can sort: .jsonl, .csv (for Excel) or .xlsx.

    Example: assessor batch sample_data/cases.jsonl -o assessments.xlsx --errors rejected.jsonl
    """
    from assessor.batch import effective_jobs, run_batch
    from assessor.batch_output import check_targets
    from assessor.batch_view import BatchView, estimate_total, print_summary
    from assessor.io import CaseInputError

    try:
        check_targets(output, errors, input)
        effective_jobs(jobs)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    _load_engine(model, trust_model)  # a refused model stops here, before anything is read
    quieter_gc()
    terminal = sys.stderr.isatty()
    show_progress = terminal and not quiet
    view = BatchView(progress=show_progress, report_rejections=errors is None,
                     total=estimate_total(input) if show_progress else None)
    try:
        with view:
            summary = run_batch(input, output, errors=errors, lang=lang.value, prior=prior, model=model,
                                trust_model=trust_model, jobs=jobs, on_rejected=view.rejected, on_progress=view.update,
                                redact=not no_redact)
    except CaseInputError as exc:  # unreadable before the first case: nothing was written
        typer.echo(f"rejected: {exc}", err=True)
        raise typer.Exit(EXIT_REJECTED) from None
    if not quiet:
        print_summary(summary, rich_table=terminal)
    if summary.failed:
        raise typer.Exit(EXIT_UNEXPECTED)
    if summary.rejected or summary.stopped:
        raise typer.Exit(EXIT_REJECTED)
    if summary.read == 0:
        raise _fail(f"no case found in {input}", EXIT_REJECTED)


@app.command()
def report(
    case: Annotated[str, typer.Argument(help="The case: a JSON file, JSON Lines, a folder, a table set, .xlsx, or -.")],
    output: Annotated[Path, typer.Option(
        "-o", "--output", help="Report file: .html (standalone, with charts) or .md (Markdown, no charts).")],
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the report: zh or en.")] = Lang.zh,
    case_id: Annotated[str | None, typer.Option(
        "--case-id", help="Which case to report when the input holds several.")] = None,
    prior: PriorOption = 0.5,
    model: ModelOption = None,
    trust_model: TrustOption = False,
    no_redact: NoRedactOption = False,
) -> None:
    """Write the mediation report: case summary (IDs masked), verdict, reasons with their records,
    findings with their legal basis, every payment with its attribution, missing evidence, charts.

    Example: assessor report sample_data/cases/02_grandparent_summer.json -o report.html --lang zh
    """
    from assessor.io import CaseError, CaseInputError, read_cases
    from assessor.render import reveal, shown_case_id
    from assessor.report import format_for_path, write_report
    from assessor.report.facts import unredacted

    try:
        format_for_path(output)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if not output.parent.is_dir():
        raise _fail(f"folder {output.parent} does not exist: cannot write {output.name}")
    engine = _load_engine(model, trust_model)
    errors: list = []
    chosen = None
    try:
        for item in read_cases(case if case == "-" else Path(case)):
            if isinstance(item, CaseError):
                errors.append(item)
            elif case_id is not None:
                if item.case_id == case_id:
                    chosen = item
                    break
            elif chosen is None:
                chosen = item
            else:  # a second case: the report is about one, so the user must say which
                _print_errors(errors)
                raise _fail(f"{case} holds more than one case ({chosen.case_id}, {item.case_id}, …): "
                            "choose one with --case-id")
    except CaseInputError as exc:
        typer.echo(f"rejected: {exc}", err=True)
        raise typer.Exit(EXIT_REJECTED) from None
    _print_errors(errors)
    if chosen is None:
        if case_id is not None and not errors:
            raise _fail(f"no case {case_id!r} in {case}")
        raise _fail(f"no case {case_id!r} found in {case}" if case_id else f"no case found in {case}", EXIT_REJECTED)
    assessment = engine.assess(chosen, prior=prior)
    try:
        if no_redact:
            with unredacted():
                result = write_report(chosen, reveal(assessment, chosen), output, lang=lang.value)
        else:
            result = write_report(chosen, assessment, output, lang=lang.value)
    except OSError as exc:
        raise _fail(f"cannot write {output}: {exc.strerror or exc}") from None
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    typer.echo(f"wrote {output} (case {shown_case_id(assessment, not no_redact)}: {assessment.band.value}, "
               f"{assessment.probability:.1%})", err=True)
    if errors:
        raise typer.Exit(EXIT_REJECTED)


@app.command()
def validate(
    input: Annotated[str, typer.Argument(help="Any input form: JSON, JSON Lines, a folder, a table set, .xlsx, or -.")],
) -> None:
    """Check input without scoring; list every problem with its file, line or row, and field.

    Example: assessor validate sample_data/tables_gbk
    """
    from assessor.io import CaseError, read_cases

    good = bad = 0
    for item in read_cases(input if input == "-" else Path(input)):
        if isinstance(item, CaseError):
            bad += 1
            typer.echo(str(item))
        else:
            good += 1
    typer.echo(f"{good} valid, {bad} rejected", err=True)
    if bad:
        raise typer.Exit(EXIT_REJECTED)


@app.command()
def schema(kind: Annotated[SchemaKind, typer.Argument(help="case or assessment")]) -> None:
    """Print the JSON Schema of the case or assessment format.

    Example: assessor schema case > case.schema.json
    """
    from assessor.schema import json_schema

    typer.echo(json.dumps(json_schema(kind.value), ensure_ascii=False, indent=2))


@app.command()
def simulate(
    n: Annotated[int, typer.Argument(min=1, help="How many disputes to simulate.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write JSON Lines.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same file.")] = 0,
) -> None:
    """Write N labelled simulated disputes (JSON Lines) for training and testing.

    The simulated world follows published facts and stated assumptions; it is not real data.
    Example: assessor simulate 2000 -o sim.jsonl --seed 7
    """
    from assessor.simulate import write_simulated

    written = write_simulated(n, output, seed=seed)
    typer.echo(f"wrote {written} simulated cases to {output}", err=True)


@app.command()
def train(
    labelled: Annotated[str, typer.Argument(help="Labelled cases (label.minor_payer), any input form.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Model file to write (.joblib).")],
    seed: Annotated[int, typer.Option("--seed", help="Seed of the held-out split.")] = 0,
) -> None:
    """Fit the scorecard on labelled cases; writes the model and MODEL.manifest.json beside it.

    Example: assessor simulate 3000 -o sim.jsonl && assessor train sim.jsonl -o office.joblib
    """
    from assessor.io import load_cases
    from assessor.training import TrainingDataError
    from assessor.training import train as fit

    errors: list = []
    try:
        manifest = fit(load_cases(labelled if labelled == "-" else Path(labelled), on_error=errors.append), output,
                       seed=seed)
    except TrainingDataError as exc:
        raise _fail(str(exc), EXIT_REJECTED) from None
    _print_errors(errors)
    m = manifest["held_out_metrics"]
    typer.echo(f"wrote {output} (sha256 {manifest['sha256'][:12]}…) from {manifest['n_cases']} cases; "
               f"held-out AUC {m['auc']}, Brier {m['brier']}", err=True)
    if errors:
        raise typer.Exit(EXIT_REJECTED)


@app.command()
def evaluate(
    labelled: Annotated[str, typer.Argument(help="Labelled cases, any input form.")],
    model: ModelOption = None,
    trust_model: TrustOption = False,
    format: Annotated[OutputFormat | None, typer.Option("--format", "-f", help="json or table")] = None,
    prior: PriorOption = 0.5,
) -> None:
    """Discrimination and calibration on labelled cases: n, auc, brier, log_loss, calibration, families.

    Numbers measured on simulated cases describe the simulator, not real disputes.
    Example: assessor evaluate sim_test.jsonl --format json
    """
    from assessor.io import load_cases
    from assessor.training import TrainingDataError
    from assessor.training import evaluate as measure

    engine = _load_engine(model, trust_model)
    errors: list = []
    try:
        report = measure(load_cases(labelled if labelled == "-" else Path(labelled), on_error=errors.append),
                         engine, prior=prior)
    except TrainingDataError as exc:
        raise _fail(str(exc), EXIT_REJECTED) from None
    if format == OutputFormat.json or (format is None and not sys.stdout.isatty()):
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        typer.echo(f"n={report['n']}  AUC={report['auc']}  Brier={report['brier']}  log loss={report['log_loss']}")
        for row in report["calibration"]:
            typer.echo(f"  {row['bin']}: n={row['n']:5d} predicted {row['predicted']:.2f} observed {row['observed']:.2f}")
        typer.echo("Per evidence family (AUC of its log-odds alone; cases it moved):")
        for row in report["families"]:
            auc = "  n/a" if row["auc"] is None else f"{row['auc']:.3f}"
            typer.echo(f"  {row['family']:<12} AUC {auc}  moved {row['cases_moved']:5d}  "
                       f"mean |log-odds| {row['mean_abs_log_odds']:.2f}")
    _print_errors(errors)
    if errors:
        raise typer.Exit(EXIT_REJECTED)


def main() -> None:
    """Console entry point: run the app, turning unexpected errors into exit code 1 without a traceback."""
    from assessor.io import CaseInputError

    try:
        app()
    except CaseInputError as exc:  # the whole input is unreadable (missing file, not a workbook)
        typer.echo(f"rejected: {exc}", err=True)
        sys.exit(EXIT_REJECTED)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback for users
        if os.environ.get("ASSESSOR_DEBUG"):
            raise
        typer.echo(f"error: unexpected {type(exc).__name__}: {exc} (set ASSESSOR_DEBUG=1 for details)", err=True)
        sys.exit(EXIT_UNEXPECTED)
