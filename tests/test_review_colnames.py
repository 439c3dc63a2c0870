"""PostgreSQL's column names (pgcolnames) as serve's connection threads ask for them at once."""

from __future__ import annotations

import threading

from ad_duckdb.pgcolnames import postgres_names


def test_postgres_names_from_many_threads_once_the_cache_fills() -> None:
    """serve names each connection's queries in its own thread. Once 2048 select lists had been seen, one thread
    emptying the cache while another was parsing made the other's lookup of a list it had found cached fail with
    KeyError, so a dashboard's query failed at random. Each thread now gets every query's names."""
    errors: list[str] = []
    named: list[str] = []

    def work(t: int) -> None:
        try:
            for i in range(1500):
                # one select list every thread shares (cached), one new each time (parsed, filling the cache)
                named.append(postgres_names(f"SELECT count(*) + 1 FROM (SELECT {t * 100000 + i} + 1) t"))
        except Exception as e:  # noqa: BLE001 - the assertion names what a thread raised
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(named) == 4 * 1500
    assert all(s.startswith('SELECT count(*) + 1 AS "?column?" FROM (SELECT ') for s in named)
