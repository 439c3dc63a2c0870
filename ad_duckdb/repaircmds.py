"""The `restore-thresholds` command (thresholdrestore.py), added to the CLI by cli.py."""

from __future__ import annotations

import click


@click.command("restore-thresholds")
@click.argument("db")
def restore_thresholds(db: str) -> None:
    """Store the thresholds again in a file whose block holding them (table ad_thresholds) is damaged.

    The damaged table is kept, renamed ad_thresholds_damaged; every version's training thresholds (default, p90 ...
    p999) are stored again from the training scores ad_models keeps, in one transaction; a threshold chosen on
    labelled rows gets the command that chooses it again; cuts set by value, quantile or contamination are stored
    again as last set, from the changelog (ad_model_log). A file whose thresholds read is left as it is.

    \b
    Example (a damaged ad_thresholds block, as the error of any command says):
      ad-duckdb restore-thresholds warehouse.duckdb
    """
    from . import thresholdrestore
    from .cliopen import _open

    with _open(db) as con:
        cur = con.cursor()
        try:
            lines = thresholdrestore.restore(cur, db)
        finally:
            cur.close()
    click.echo("\n".join(lines))


COMMANDS = (restore_thresholds,)
