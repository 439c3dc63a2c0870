"""sqltext's tokens and words are read once per statement text (the server's rewrites each read the same text): a
caller that changes the list it got changes nothing another caller gets, and the character positions past a
multi-byte character stay those of the text, as before the cache."""

from __future__ import annotations

from ad_duckdb.sqltext import sql_tokens, sql_words


def test_a_callers_change_to_the_tokens_or_words_it_got_reaches_no_other_caller() -> None:
    sql = "SELECT \"Montant (€)\" FROM t; -- note\nSELECT 2"
    tokens, words = sql_tokens(sql), sql_words(sql)
    assert [sql[p] for p, _ in tokens] == ["S", '"', "F", "t", ";", "-", "S", "2"]
    assert [(w, k) for _, w, k in words][-2:] == [("SELECT", "keyword"), ("2", "numeric_const")]
    tokens.clear()
    words[0] = (0, "changed", "identifier")
    assert sql_tokens(sql) != [] and sql_tokens(sql) is not sql_tokens(sql)
    assert sql_words(sql)[0] == (0, "SELECT", "keyword")
