-- The transactions walk-through. Run it with the functions registered, e.g.
--   ad-duckdb sql examples/transactions/out/transactions.duckdb --file examples/transactions/walkthrough.sql
-- after `ad-duckdb train examples/transactions/out/transactions.duckdb tx_ae transactions -f count,amount,distinct_cards,refunds`.
-- (make demo does all of it.)

-- 1. The 15 oddest rows, with the columns that made each one odd.
SELECT t.transaction_id, t.day, t.merchant_id, t.count, t.amount, t.distinct_cards, t.refunds,
       round(anomaly_score('tx_ae', count, amount, distinct_cards, refunds), 3) AS score,
       round(anomaly_percentile('tx_ae', count, amount, distinct_cards, refunds), 5) AS percentile,
       -- the two columns with the largest shares (columns odd only together share the credit), leaving out a share
       -- under 5%: a row whose amount alone is odd is "amount 100%", not "amount 100%, count 0%"
       array_to_string(list_transform(list_filter(anomaly_explain('tx_ae', count, amount, distinct_cards, refunds),
                                                  lambda e: e.share >= 0.05)[1:2],
                                      lambda e: e.feature || ' ' || round(100 * e.share)::INTEGER || '%'), ', ') AS reasons
FROM transactions t
WHERE is_anomaly('tx_ae', count, amount, distinct_cards, refunds)
ORDER BY score DESC
LIMIT 15;

-- 2. Daily anomaly rate at the model's default threshold.
SELECT day, count(*) AS rows, avg(is_anomaly('tx_ae', count, amount, distinct_cards, refunds)::INTEGER) AS anomaly_rate
FROM transactions GROUP BY day ORDER BY anomaly_rate DESC LIMIT 5;

-- 3. How many rows each stored threshold flags (a join with ad_thresholds).
SELECT th.threshold_name, th.method, round(th.value, 4) AS value,
       count(*) FILTER (WHERE anomaly_score('tx_ae', t.count, t.amount, t.distinct_cards, t.refunds) > th.value) AS flagged
FROM transactions t
CROSS JOIN (SELECT * FROM ad_thresholds
            WHERE model = 'tx_ae' AND version = split_part(anomaly_model('tx_ae'), '@', 2)::INTEGER) th
GROUP BY ALL ORDER BY value;

-- 4. What kind of oddness the flagged rows show: the largest of each score's three terms (anomaly_terms).
SELECT CASE greatest(t.reconstruction, t.neighbour, t.range)
           WHEN t.reconstruction THEN 'reconstruction: the columns break how they go together'
           WHEN t.neighbour THEN 'neighbour: far from every group of training rows'
           ELSE 'range: a value outside the training range' END AS mostly,
       count(*) AS flagged_rows
FROM (SELECT anomaly_terms('tx_ae', count, amount, distinct_cards, refunds) AS t
      FROM transactions WHERE is_anomaly('tx_ae', count, amount, distinct_cards, refunds))
GROUP BY ALL ORDER BY flagged_rows DESC;
