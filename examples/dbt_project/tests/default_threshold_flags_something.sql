-- Fails when the default threshold flags nothing at all: a model that never alerts is broken too.
select count(*) as flagged
from {{ ref('tx_scores') }}
having count(*) filter (where is_anomaly) = 0
