-- How many rows each stored threshold of the trained model version flags: a join of ad_thresholds
-- (every named threshold, incl. ones you add with `ad-duckdb threshold`) with the scores.
-- planted_* columns say how many planted anomalies each threshold catches (only this example has them).
with model as (
    select model, version from {{ ref('tx_model') }}
),
thresholds as (
    select th.model, th.version, th.threshold_name, th.method, th.value
    from {{ source('ad_duckdb', 'ad_thresholds') }} as th
    join model as m on th.model = m.model and th.version = m.version
)
select
    th.model,
    th.version,
    th.threshold_name,
    th.method,
    th.value as threshold,
    count(*) filter (where s.anomaly_score > th.value) as flagged,
    avg((s.anomaly_score > th.value)::integer) as flagged_share,
    count(p.transaction_id) filter (where s.anomaly_score > th.value) as planted_caught,
    count(p.transaction_id) as planted_total
from thresholds as th
cross join {{ ref('tx_scores') }} as s
left join {{ ref('planted_anomalies') }} as p on p.transaction_id = s.transaction_id
group by all
order by threshold
