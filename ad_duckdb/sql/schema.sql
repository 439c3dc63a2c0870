-- ad_duckdb storage layout (format_version 1). Models are rows, never files.
CREATE TABLE IF NOT EXISTS ad_models (
    name VARCHAR NOT NULL, version INTEGER NOT NULL, created_at TIMESTAMP NOT NULL,
    format_version INTEGER NOT NULL,   -- of this layout and of the metadata; loading refuses newer ones
    kind VARCHAR NOT NULL,             -- 'autoencoder', 'vae', ...
    features JSON NOT NULL,            -- [{"name":..., "sql_type":..., "transform":..., "fill":...}, ...]
    source VARCHAR,                    -- the table or query trained on, with the filter
    train_rows BIGINT, params JSON, metrics JSON, lib_versions JSON,
    onnx BLOB NOT NULL, sha256 VARCHAR NOT NULL,
    PRIMARY KEY (name, version));
CREATE TABLE IF NOT EXISTS ad_thresholds (
    model VARCHAR NOT NULL, version INTEGER NOT NULL, threshold_name VARCHAR NOT NULL,  -- 'default', 'p99', 'max_f1', ...
    value DOUBLE NOT NULL,
    method VARCHAR NOT NULL,           -- quantile, contamination, max_f1, min_precision, min_recall, flag_budget, min_cost, manual
    chosen_on VARCHAR,                 -- the data and label the threshold was chosen on, if any
    precision DOUBLE, recall DOUBLE, f1 DOUBLE, flagged_share DOUBLE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (model, version, threshold_name));
-- The highest version each name ever had, written when versions are dropped, so 'name@N' is never reused.
CREATE TABLE IF NOT EXISTS ad_model_versions (
    name VARCHAR PRIMARY KEY, last_version INTEGER NOT NULL);
-- The version the bare 'name' means, for names with a promoted one (ad-duckdb promote, train --no-promote); a name
-- without a row means its newest version.
CREATE TABLE IF NOT EXISTS ad_model_current (
    name VARCHAR PRIMARY KEY, version INTEGER NOT NULL);
-- What happened to each version (stored, promoted, rolled back, dropped), by whom and when: ad-duckdb history.
CREATE TABLE IF NOT EXISTS ad_model_log (
    name VARCHAR NOT NULL, version INTEGER NOT NULL, logged_at TIMESTAMP NOT NULL, event VARCHAR NOT NULL,
    by_user VARCHAR, detail JSON);
