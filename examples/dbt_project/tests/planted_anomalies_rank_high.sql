-- A quality floor: most planted anomalies must be in the top 5% of scores (anomaly_percentile >= 0.95).
-- The model never saw planted_kind; this only checks that it finds them without labels.
select count(*) as planted, avg((s.anomaly_percentile >= 0.95)::integer) as share_in_top_5pct
from {{ ref('planted_anomalies') }} as p
join {{ ref('tx_scores') }} as s using (transaction_id)
having avg((s.anomaly_percentile >= 0.95)::integer) < 0.8
