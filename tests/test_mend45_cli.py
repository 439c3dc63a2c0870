"""`ad-duckdb`'s own options (--wait, --who) written after the command: the message says where they go."""

from __future__ import annotations

from click.testing import CliRunner

from ad_duckdb.cli import cli


def test_a_global_option_after_the_command_is_told_to_go_before_it(tmp_path) -> None:
    db = str(tmp_path / "w.duckdb")
    result = CliRunner().invoke(cli, ["score", db, "tx_ae", "transactions", "--wait", "30"], prog_name="ad-duckdb")
    assert result.exit_code == 2
    out = result.output
    assert "No such option" in out and "--wait" in out
    assert "option of ad-duckdb itself" in out, out
    assert "ad-duckdb --wait VALUE score" in out, out


def test_a_mistyped_command_option_keeps_clicks_suggestions(tmp_path) -> None:
    db = str(tmp_path / "w.duckdb")
    result = CliRunner().invoke(cli, ["score", db, "tx_ae", "transactions", "--intoo", "t"], prog_name="ad-duckdb")
    assert result.exit_code == 2
    assert "--into" in result.output and "ad-duckdb itself" not in result.output
