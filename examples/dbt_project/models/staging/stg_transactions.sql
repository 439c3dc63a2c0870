-- What an analyst has: the transactions, without the planted-anomaly column (no labels).
select transaction_id, day, merchant_id, count, amount, distinct_cards, refunds
from {{ ref('raw_transactions') }}
