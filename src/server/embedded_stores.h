#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "metastore/database.h"
#include "registry/model_registry.h"
#include "tracking/artifact_store.h"
#include "tracking/tracking_store.h"

namespace lakeml::server {

// Where lakeml keeps its data. Empty fields take the defaults under `data_dir`, so the server and
// the embedded CLI commands (`lakeml models ...`) open the same database and artifact store.
struct StoreLocations {
  std::string data_dir = "./lakeml-data";
  std::string backend_store_uri;      // default: <data_dir>/lakeml.db (SQLite)
  std::string artifacts_destination;  // default: <data_dir>/artifacts
};

// The metadata database with the tracking store, the artifact store and the model registry over
// it, opened together. Members reference each other, so the bundle is neither copied nor moved;
// it lives behind a unique_ptr. Thread-safe as its parts are.
struct EmbeddedStores {
  std::string database_uri;              // as opened (a file path for the SQLite default)
  std::filesystem::path artifacts_root;  // absolute
  core::SystemClock clock;
  std::unique_ptr<metastore::Database> database;
  std::unique_ptr<tracking::TrackingStore> tracking;
  std::unique_ptr<tracking::ArtifactStore> artifacts;
  std::unique_ptr<registry::ModelRegistry> registry;

  EmbeddedStores() = default;
  EmbeddedStores(const EmbeddedStores&) = delete;
  EmbeddedStores& operator=(const EmbeddedStores&) = delete;
  ~EmbeddedStores();
};

// Creates the data and artifact directories if needed, opens the database, applies the schema
// migrations (TrackingStore::Initialize) and builds the stores. New experiments get
// `mlflow-artifacts:/<id>` artifact locations, served from `artifacts_root`.
// Errors: the database's (kInvalidArgument bad URI, kUnavailable, kFailedPrecondition), the
// store's Initialize(), kInternal if a directory cannot be created.
core::Result<std::unique_ptr<EmbeddedStores>> OpenEmbeddedStores(const StoreLocations& locations);

}  // namespace lakeml::server
