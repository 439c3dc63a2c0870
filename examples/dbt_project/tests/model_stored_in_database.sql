-- Fails unless the version tx_model trained is stored in ad_models with its ONNX bytes and a default
-- threshold in ad_thresholds (what BI-side processes and later dbt runs score with).
select m.model_ref
from {{ ref('tx_model') }} as m
left join {{ source('ad_duckdb', 'ad_models') }} as am
    on am.name = m.model and am.version = m.version
left join {{ source('ad_duckdb', 'ad_thresholds') }} as th
    on th.model = m.model and th.version = m.version and th.threshold_name = 'default'
where am.onnx is null or octet_length(am.onnx) = 0 or th.value is null
