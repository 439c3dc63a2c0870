-- Every transaction with its anomaly score, percentile, flag and main reason, as plain values.
-- Materialized as a table (see dbt_project.yml): BI tools and anyone opening the .duckdb file can read it
-- without ad_duckdb installed. Scoring is pinned to the version tx_model trained ('tx_ae@N').
with model as (
    select model_ref from {{ ref('tx_model') }}
),
scored as (
    select
        t.*,
        anomaly_score(m.model_ref, t.count, t.amount, t.distinct_cards, t.refunds) as anomaly_score,
        anomaly_percentile(m.model_ref, t.count, t.amount, t.distinct_cards, t.refunds) as anomaly_percentile,
        is_anomaly(m.model_ref, t.count, t.amount, t.distinct_cards, t.refunds) as is_anomaly,
        anomaly_explain(m.model_ref, t.count, t.amount, t.distinct_cards, t.refunds) as explanation,
        m.model_ref
    from {{ ref('stg_transactions') }} as t
    cross join model as m
)
select
    * exclude (explanation),
    -- the column that contributed most to the score, and its share of it (a LIST column would
    -- trouble some BI tools, so the top reason is flattened)
    explanation[1].feature as main_reason,
    explanation[1].share as main_reason_share
from scored
