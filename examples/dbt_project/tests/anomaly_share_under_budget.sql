-- Fails when the model flags more than var('anomaly_budget') of all transactions (an alert budget).
select count(*) as transactions, avg(is_anomaly::integer) as flagged_share
from {{ ref('tx_scores') }}
having avg(is_anomaly::integer) > {{ var('anomaly_budget') }}
