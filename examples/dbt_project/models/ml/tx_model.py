"""Training inside dbt: fit the autoencoder on the staged transactions and store it in ad_models.

Why a dbt Python model (and not an on-run-start hook): the model must train *after* the data exists and
*before* anything scores. As a node of the DAG, `ref('stg_transactions')` orders it after the data, and
every scoring model does `ref('tx_model')`, so dbt runs them after it, also with threads > 1. A hook runs
before all models (too early for data built by the project), and a macro cannot call Python.

The trained model is stored in the same DuckDB file (ad_models / ad_thresholds), versioned; this
model's table is a one-row description of the version it trained (model_ref = 'tx_ae@N').
"""

from __future__ import annotations

from typing import Any


def model(dbt: Any, session: Any) -> Any:
    from ad_duckdb.dbt import train_model

    dbt.config(materialized="table")
    # Why plain assignments: dbt finds config keys by parsing `dbt.config.get(...)` calls, and misses
    # calls nested in other expressions. Values arrive rendered from models/ml/ml.yml (vars).
    name = dbt.config.get("ad_model")
    retrain = dbt.config.get("retrain")
    n_models = dbt.config.get("n_models")
    max_steps = dbt.config.get("max_steps")
    return train_model(
        session,
        name,
        dbt.ref("stg_transactions"),
        features=["count", "amount", "distinct_cards", "refunds"],
        # as given ('True'/'False', as dbt renders the var): train_model refuses any other text, such as a typo
        retrain=retrain,
        n_models=int(n_models),
        max_steps=int(max_steps),
        seed=0,
    )
