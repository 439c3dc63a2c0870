-- Fails when the default threshold flags nothing at all: a model that never alerts is broken too.
-- (Only when rows were scored: `dbt build --empty` scores none, and that is not a silent model.)
select count(*) as flagged
from {{ ref('tx_scores') }}
having count(*) > 0 and count(*) filter (where is_anomaly) = 0
