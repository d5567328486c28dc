#include "metastore/schema.h"

namespace lakeml::metastore {
namespace {

// Tracking tables. Design notes:
// - metric values: SQLite stores NaN as NULL, so NaN is kept as value 0 with is_nan = 1.
// - latest_metrics holds the newest point per (run, key) by (step, timestamp, value), maintained
//   by an atomic upsert, so runs/get and search never scan the history.
// - ids are allocated inside the write transaction (experiments: max + 1), so no dialect-specific
//   autoincrement is needed.
constexpr std::string_view kTrackingV1 = R"sql(
CREATE TABLE experiments (
  experiment_id BIGINT PRIMARY KEY,
  name VARCHAR(500) NOT NULL UNIQUE,
  artifact_location TEXT NOT NULL,
  lifecycle_stage VARCHAR(32) NOT NULL,
  creation_time BIGINT NOT NULL,
  last_update_time BIGINT NOT NULL
);
CREATE INDEX experiments_creation ON experiments (creation_time);
CREATE TABLE experiment_tags (
  experiment_id BIGINT NOT NULL REFERENCES experiments (experiment_id),
  key VARCHAR(250) NOT NULL,
  value TEXT,
  PRIMARY KEY (experiment_id, key)
);
CREATE TABLE runs (
  run_id VARCHAR(32) PRIMARY KEY,
  experiment_id BIGINT NOT NULL REFERENCES experiments (experiment_id),
  name VARCHAR(250) NOT NULL,
  user_id VARCHAR(256) NOT NULL,
  status VARCHAR(16) NOT NULL,
  start_time BIGINT NOT NULL,
  end_time BIGINT,
  artifact_uri TEXT NOT NULL,
  lifecycle_stage VARCHAR(32) NOT NULL,
  deleted_time BIGINT
);
CREATE INDEX runs_experiment_start ON runs (experiment_id, lifecycle_stage, start_time, run_id);
CREATE TABLE params (
  run_id VARCHAR(32) NOT NULL REFERENCES runs (run_id),
  key VARCHAR(250) NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
);
CREATE TABLE tags (
  run_id VARCHAR(32) NOT NULL REFERENCES runs (run_id),
  key VARCHAR(250) NOT NULL,
  value TEXT,
  PRIMARY KEY (run_id, key)
);
CREATE TABLE metrics (
  run_id VARCHAR(32) NOT NULL REFERENCES runs (run_id),
  key VARCHAR(250) NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  is_nan SMALLINT NOT NULL,
  timestamp BIGINT NOT NULL,
  step BIGINT NOT NULL,
  PRIMARY KEY (run_id, key, step, timestamp, value, is_nan)
);
CREATE TABLE latest_metrics (
  run_id VARCHAR(32) NOT NULL REFERENCES runs (run_id),
  key VARCHAR(250) NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  is_nan SMALLINT NOT NULL,
  timestamp BIGINT NOT NULL,
  step BIGINT NOT NULL,
  PRIMARY KEY (run_id, key)
);
CREATE INDEX latest_metrics_key_value ON latest_metrics (key, value);
CREATE TABLE datasets (
  dataset_uuid VARCHAR(36) PRIMARY KEY,
  experiment_id BIGINT NOT NULL REFERENCES experiments (experiment_id),
  name VARCHAR(500) NOT NULL,
  digest VARCHAR(36) NOT NULL,
  source_type VARCHAR(36) NOT NULL,
  source TEXT NOT NULL,
  schema TEXT,
  profile TEXT,
  UNIQUE (experiment_id, name, digest)
);
CREATE TABLE inputs (
  input_uuid VARCHAR(36) PRIMARY KEY,
  source_type VARCHAR(36) NOT NULL,
  source_id VARCHAR(36) NOT NULL,
  destination_type VARCHAR(36) NOT NULL,
  destination_id VARCHAR(36) NOT NULL,
  UNIQUE (source_type, source_id, destination_type, destination_id)
);
CREATE INDEX inputs_destination ON inputs (destination_type, destination_id);
CREATE TABLE input_tags (
  input_uuid VARCHAR(36) NOT NULL REFERENCES inputs (input_uuid),
  name VARCHAR(255) NOT NULL,
  value VARCHAR(500) NOT NULL,
  PRIMARY KEY (input_uuid, name)
);
CREATE TABLE logged_models (
  model_id VARCHAR(40) PRIMARY KEY,
  experiment_id BIGINT NOT NULL REFERENCES experiments (experiment_id),
  name VARCHAR(500) NOT NULL,
  artifact_location TEXT NOT NULL,
  creation_timestamp_ms BIGINT NOT NULL,
  last_updated_timestamp_ms BIGINT NOT NULL,
  status INTEGER NOT NULL,
  lifecycle_stage VARCHAR(32) NOT NULL,
  model_type VARCHAR(500),
  source_run_id VARCHAR(32),
  status_message TEXT
);
CREATE INDEX logged_models_experiment ON logged_models (experiment_id, creation_timestamp_ms);
CREATE TABLE logged_model_tags (
  model_id VARCHAR(40) NOT NULL REFERENCES logged_models (model_id),
  key VARCHAR(250) NOT NULL,
  value TEXT,
  PRIMARY KEY (model_id, key)
);
CREATE TABLE logged_model_params (
  model_id VARCHAR(40) NOT NULL REFERENCES logged_models (model_id),
  key VARCHAR(250) NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
);
CREATE TABLE run_model_outputs (
  run_id VARCHAR(32) NOT NULL REFERENCES runs (run_id),
  model_id VARCHAR(40) NOT NULL,
  step BIGINT NOT NULL,
  PRIMARY KEY (run_id, model_id)
);
)sql";

}  // namespace

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "tracking: experiments, runs, params, tags, metrics, datasets, logged models",
       kTrackingV1},
  };
  return kMigrations;
}

}  // namespace lakeml::metastore
