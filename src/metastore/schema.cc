#include "metastore/schema.h"

namespace lakeml::metastore {
namespace {

// Tracking tables. Design notes:
// - metric values: SQLite stores NaN as NULL, so NaN is kept as value 0 with is_nan = 1.
// - latest_metrics holds the newest point per (run, key) by (step, timestamp, value), maintained
//   by an atomic upsert, so runs/get and search never scan the history.
// - ids are allocated inside the write transaction (experiments: max + 1), so no dialect-specific
//   autoincrement is needed.
// - latest_metrics repeats its run's experiment_id (runs never move between experiments), so
//   runs/search ordered by a metric can walk latest_metrics_order for one experiment in value
//   order and stop after a page instead of reading and sorting every run of the experiment. The
//   index carries is_nan, so NaN points (stored as 0) stay out of the value range, and run_id, so
//   the walk needs no table lookup.
// - The tables keyed by (run_id, key, ...) are WITHOUT ROWID on SQLite: the primary key is the
//   table, so a point lookup or insert touches one B-tree instead of an index plus the table.
//   The migration runner drops the clause on PostgreSQL, which has no such option. tags stays a
//   rowid table because some of its values (notes, model history) are large, and WITHOUT ROWID
//   suits small rows.
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
) WITHOUT ROWID;
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
) WITHOUT ROWID;
CREATE TABLE latest_metrics (
  run_id VARCHAR(32) NOT NULL REFERENCES runs (run_id),
  experiment_id BIGINT NOT NULL,
  key VARCHAR(250) NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  is_nan SMALLINT NOT NULL,
  timestamp BIGINT NOT NULL,
  step BIGINT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX latest_metrics_order ON latest_metrics (experiment_id, key, is_nan, value, run_id);
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


// Model registry tables (MLflow's registry schema). Design notes:
// - Registered models are keyed by name, and every child table references that name with
//   ON UPDATE CASCADE, so a rename is one UPDATE that moves versions, tags and aliases with it;
//   ON DELETE CASCADE makes deleting a model remove everything below it.
// - model_versions.version is allocated inside the write transaction as max + 1 per name, after
//   the registered_models row is locked by an UPDATE (see src/registry); the primary key is the
//   backstop against duplicates.
// - Deleted versions stay as rows in stage 'Deleted_Internal' (with source and run id redacted),
//   so a version number is never reused.
// - storage_location is the resolved location of `source` (runs:/ and models:/ sources point to
//   where the files really are), which get-download-uri and model URI resolution return.
constexpr std::string_view kRegistryV2 = R"sql(
CREATE TABLE registered_models (
  name VARCHAR(256) PRIMARY KEY,
  creation_time BIGINT NOT NULL,
  last_updated_time BIGINT NOT NULL,
  description VARCHAR(5000)
);
CREATE INDEX registered_models_creation ON registered_models (creation_time);
CREATE INDEX registered_models_last_updated ON registered_models (last_updated_time);
CREATE TABLE registered_model_tags (
  name VARCHAR(256) NOT NULL REFERENCES registered_models (name)
    ON UPDATE CASCADE ON DELETE CASCADE,
  key VARCHAR(250) NOT NULL,
  value VARCHAR(5000),
  PRIMARY KEY (name, key)
);
CREATE TABLE model_versions (
  name VARCHAR(256) NOT NULL REFERENCES registered_models (name)
    ON UPDATE CASCADE ON DELETE CASCADE,
  version BIGINT NOT NULL,
  creation_time BIGINT NOT NULL,
  last_updated_time BIGINT NOT NULL,
  description VARCHAR(5000),
  user_id VARCHAR(256),
  current_stage VARCHAR(20) NOT NULL,
  source TEXT NOT NULL,
  storage_location TEXT NOT NULL,
  run_id VARCHAR(256),
  run_link TEXT,
  status VARCHAR(20) NOT NULL,
  status_message VARCHAR(500),
  model_id VARCHAR(40),
  PRIMARY KEY (name, version)
);
CREATE INDEX model_versions_stage ON model_versions (name, current_stage, version);
CREATE INDEX model_versions_run ON model_versions (run_id);
CREATE TABLE model_version_tags (
  name VARCHAR(256) NOT NULL,
  version BIGINT NOT NULL,
  key VARCHAR(250) NOT NULL,
  value VARCHAR(5000),
  PRIMARY KEY (name, version, key),
  FOREIGN KEY (name, version) REFERENCES model_versions (name, version)
    ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE TABLE registered_model_aliases (
  name VARCHAR(256) NOT NULL REFERENCES registered_models (name)
    ON UPDATE CASCADE ON DELETE CASCADE,
  alias VARCHAR(255) NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (name, alias)
);
CREATE INDEX registered_model_aliases_version ON registered_model_aliases (name, version);
)sql";

}  // namespace

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "tracking: experiments, runs, params, tags, metrics, datasets, logged models",
       kTrackingV1},
      {2, "registry: registered models, versions, tags, aliases", kRegistryV2},
  };
  return kMigrations;
}

}  // namespace lakeml::metastore
