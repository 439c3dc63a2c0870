"""The `compare` command (compare.py), added to the CLI by cli.py."""

from __future__ import annotations

import click

from . import jsonvalues
from .cliargs import _ATTACH, _WEIGHT
from .clicommand import _QueryWordsCommand
from .clinotes import _note, _notes, _notes_are_errors
from .cliopen import _open


@click.command(cls=_QueryWordsCommand)
@click.argument("db")
@click.argument("model_a")
@click.argument("model_b")
@click.argument("source")
@click.option("--where", help="SQL filter on SOURCE, e.g. \"day >= '2026-01-01'\".")
@click.option("--top", type=click.IntRange(min=1), default=100, show_default=True,
              help="Compare the N highest-scoring rows of each version.")
@click.option("--label", help="Column of SOURCE holding 1 (anomaly) or 0 (normal): adds each version's AUC-ROC, "
              "AUC-PR, precision and recall, and whether the AUC-ROC difference is more than chance (DeLong's test).")
@click.option("--format", "out_format", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="json: one object (rows, top overlap, rank correlation, thresholds with their origin; with "
                   "--label, 'labelled': AUCs and DeLong's test) for scripts.")
@_WEIGHT
@click.option("--sampled", type=click.Choice(["rows", "normal"]), help="With --weight, which rows the sample drew. rows "
              "(the default): either class, as an audit (alerts reviewed, 1 in k of the rest), read from the weights; "
              "normal: every anomaly kept and the normal rows sampled at their own strata's rates, whatever the "
              "score: DeLong's paired test, evaluate --sampled normal's intervals of precision and recall, and the "
              "anomalies one version alone catches tested at McNemar's even odds.")
@_ATTACH
def compare(db: str, model_a: str, model_b: str, source: str, where: str | None, top: int, label: str | None,
            out_format: str, weight: str | None, sampled: str | None, attach: tuple[str, ...]) -> None:
    """Compare two versions on the same rows: flags at each threshold, rows both flag, top-N overlap.

    Each version flags at its own value of each threshold name (score > value, as is_anomaly_at); 'both' counts
    the rows both flag. The origin column says where MODEL_B's threshold came from (e.g. carried from an older
    version, or chosen again on labels). When rows past the N-th place share a version's N-th highest score,
    the top-N line says how many tie at the cut: which of them count depends on read order.

    With --label, each version is judged on the labelled rows: AUC-ROC, AUC-PR, and precision and recall at each
    threshold with their 95% intervals; the AUC-ROC difference comes with its 95% interval and p-value from DeLong's
    paired test, so a retrain's gain can be told from chance (p < 0.05: unlikely to be chance on rows like these),
    and each threshold both have with the exact McNemar test of the anomalies and of the normal rows only one of
    them flags.

    \b
    Examples:
      ad-duckdb compare warehouse.duckdb tx_ae@2 tx_ae@3 transactions
      ad-duckdb compare warehouse.duckdb tx_ae@1 tx_ae transactions --top 50 --format json
      ad-duckdb compare cards.duckdb card_ae@1 card_ae@2 cards --label class --where "split = 'test'"
      ad-duckdb compare cards.duckdb card_ae@1 card_ae@2 "SELECT *, if(class = 1, 1, 50) AS w FROM cards" --label class --weight w

    --weight: labelled rows that are a sample (every fraud but 1 in 50 normal rows: weight 50 on those) count each
    row as the rows it stands for, as scikit-learn's sample_weight: in the figures, the flagged counts and a second
    top-N line (the N highest-scoring rows of what the rows stand for). On an audit sample (alerts all reviewed,
    the rest audited 1 in k) the test joins each version's AUC-ROC interval instead of DeLong's, which called equal
    versions different in up to 41% of simulated audits. --sampled normal says every anomaly was kept and only the
    normal rows sampled (by merchant, by day): DeLong's paired test holds then, whatever the normal rows' weights, and
    is used (the verdict line and JSON's labelled.test name it; labelled.weights.sampled says normal), and the
    anomalies one version alone catches at a threshold are tested at McNemar's even odds, both kept alike.
    """
    from dataclasses import asdict

    from .compare import compare_versions

    # _notes: the library's notes (labels that look inverted) as note lines, not Python's warning format
    with _open(db, read_only=True, check_order=False, attach=attach) as con, _notes():
        r = compare_versions(con, model_a, model_b, source, where=where, top=top, label=label, weight=weight,
                             sampled=sampled)
    if out_format == "json":
        click.echo(jsonvalues.dumps(asdict(r), indent=1))
        return
    # Why a note: a NULL row reads as a failure of the new version, when its retrain simply did not carry them
    lost = [t.name for t in r.thresholds if t.value_a is not None and t.value_b is None]
    note = None
    if lost:
        from .sqltext import shell_word

        names = ", ".join(repr(x) for x in lost)
        note = (f"{r.b} has no threshold{'s' if len(lost) > 1 else ''} {names} (thresholds belong to one "
                f"version): set {'them' if len(lost) > 1 else 'it'} again with `ad-duckdb threshold "
                f"{shell_word(db)} {r.b} {lost[0] if len(lost) == 1 else 'NAME'} ...`, or give the next retrain "
                "--carry-thresholds")
    _notes_are_errors(note)  # a report fails before it prints, as show, evaluate and list do
    click.echo(str(r))
    if note:
        _note(note)
