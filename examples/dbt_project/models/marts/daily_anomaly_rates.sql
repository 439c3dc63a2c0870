-- Share of transactions flagged per day at the model's default threshold.
select
    day,
    count(*) as transactions,
    count(*) filter (where is_anomaly) as anomalies,
    avg(is_anomaly::integer) as anomaly_rate,
    max(anomaly_score) as max_score
from {{ ref('tx_scores') }}
group by day
order by day
