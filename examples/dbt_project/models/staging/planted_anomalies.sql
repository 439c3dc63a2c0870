-- For checking only: which rows were planted, and how (tests/planted_anomalies_rank_high.sql reads it).
{{ config(materialized='table') }}
select transaction_id, planted_kind as kind
from {{ ref('raw_transactions') }}
where planted_kind is not null
