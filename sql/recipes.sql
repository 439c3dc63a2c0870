-- Recipes analysts copy. Replace tx_ae and the feature columns with your model's (ad-duckdb show lists them).
-- All at once: ad-duckdb sql DB --file sql/recipes.sql --write (the last recipe writes a table).

-- Top 20 anomalies with their main reason.
SELECT t.*, anomaly_score('tx_ae', count, amount) AS score,
       anomaly_explain('tx_ae', count, amount)[1].feature AS main_reason
FROM transactions t
WHERE is_anomaly('tx_ae', count, amount)
ORDER BY score DESC
LIMIT 20;

-- Daily anomaly rate at the default threshold.
SELECT day, count(*) AS rows, avg(is_anomaly('tx_ae', count, amount)::INTEGER) AS anomaly_rate
FROM transactions
GROUP BY day
ORDER BY day;

-- Rows flagged by each stored threshold of the version 'tx_ae' means (anomaly_model: its promoted version,
-- else the newest), a join with ad_thresholds.
SELECT th.threshold_name, th.method, th.value,
       count(*) FILTER (WHERE anomaly_score('tx_ae', t.count, t.amount) > th.value) AS flagged
FROM transactions t
CROSS JOIN (SELECT * FROM ad_thresholds
            WHERE model = 'tx_ae' AND version = split_part(anomaly_model('tx_ae'), '@', 2)::INTEGER) th
GROUP BY ALL
ORDER BY th.value;

-- Any stored threshold by name: p999 from training scores here, or one chosen on labels
-- (ad-duckdb threshold ... --method min_precision), e.g. 'prec90'.
SELECT count(*) FROM transactions WHERE is_anomaly_at('tx_ae', 'p999', count, amount);

-- A query that must not see a retrain mid-way pins the version (ad-duckdb list shows the versions).
SELECT avg(anomaly_percentile('tx_ae@1', count, amount)) FROM transactions;

-- Materialize scores for BI tools that open the file directly (or: ad-duckdb score DB tx_ae transactions --into tx_scores).
CREATE OR REPLACE TABLE tx_scores AS
SELECT transaction_id, anomaly_score('tx_ae', count, amount) AS anomaly_score,
       anomaly_percentile('tx_ae', count, amount) AS anomaly_percentile,
       is_anomaly('tx_ae', count, amount) AS is_anomaly
FROM transactions;
