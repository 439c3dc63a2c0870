"""review16a: the dbt package's run hooks on a target that is not DuckDB.

Before: a project installing the package (dbt-duckdb in dev, another warehouse in prod) ran the on-run-start's
`select count(*) from duckdb_functions()` on the other warehouse whenever a node's code held 'train' or 'anomaly'
('constraint', 'training_days'), and every prod run failed there. The hooks now do nothing off DuckDB.

The macro is rendered with jinja2 as dbt renders it (dbt's `return` raises to hand back a value), since no adapter but
dbt-duckdb is installed here to run it on.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import jinja2

from ad_duckdb import dbtpackage


class _Returned(Exception):
    pass


def _return(value: Any) -> None:
    raise _Returned(value)


def _macro(file: str, macro: str, target_type: str, **vars_: Any) -> Any:
    """What the package's ``macro`` (in macros/``file``) returns when called with no arguments."""
    text = (dbtpackage.package_dir() / "macros" / file).read_text()
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    module = env.from_string(text, globals={
        "return": _return, "execute": True, "flags": SimpleNamespace(EMPTY=False), "this": "db.s.v",
        "target": SimpleNamespace(type=target_type), "var": lambda name, default=None: vars_.get(name, default),
    }).module
    try:
        getattr(module, macro)()
    except _Returned as r:
        return r.args[0]
    raise AssertionError(f"{macro}() returned nothing")


def _checks_on(target_type: str, **vars_: Any) -> Any:
    return _macro("run_checks.sql", "checks_on", target_type, **vars_)


def test_the_package_checks_run_on_duckdb_only() -> None:
    assert _checks_on("duckdb") is True
    assert _checks_on("duckdb", ad_duckdb_checks=False) is False
    assert _checks_on("postgres") is False
    assert _checks_on("snowflake") is False


def test_the_post_hook_check_calls_does_nothing_off_duckdb() -> None:
    # it raised "needs the ad_duckdb dbt plugin" (or failed on duckdb_functions()) for every model built in prod
    assert _macro("check_calls.sql", "check_calls", "snowflake") == ""
