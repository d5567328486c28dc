#include "server/embedded_stores.h"

#include <system_error>

namespace lakeml::server {
namespace {

namespace fs = std::filesystem;

// New experiments get "mlflow-artifacts:/<id>", which clients resolve against this server's
// artifact proxy (reference §7.3).
constexpr std::string_view kDefaultArtifactRoot = "mlflow-artifacts:/";

core::Status CreateDirectory(const fs::path& path) {
  std::error_code error;
  fs::create_directories(path, error);
  if (error)
    return core::Internal("cannot create directory '{}': {}", path.string(), error.message());
  return core::Status::Ok();
}

}  // namespace

// The registry and the stores reference the database and clock: tear down in reverse order of
// construction, whatever the member order says.
EmbeddedStores::~EmbeddedStores() {
  registry.reset();
  artifacts.reset();
  tracking.reset();
  database.reset();
}

core::Result<std::unique_ptr<EmbeddedStores>> OpenEmbeddedStores(const StoreLocations& locations) {
  auto stores = std::make_unique<EmbeddedStores>();
  const fs::path data_dir = fs::absolute(locations.data_dir);
  LAKEML_RETURN_IF_ERROR(CreateDirectory(data_dir));
  // A plain file path is unambiguous, unlike the slash-counting of sqlite:// URIs.
  stores->database_uri = locations.backend_store_uri.empty() ? (data_dir / "lakeml.db").string()
                                                             : locations.backend_store_uri;
  stores->artifacts_root = locations.artifacts_destination.empty()
                               ? data_dir / "artifacts"
                               : fs::absolute(locations.artifacts_destination);
  LAKEML_RETURN_IF_ERROR(CreateDirectory(stores->artifacts_root));

  LAKEML_ASSIGN_OR_RETURN(stores->database, metastore::OpenDatabase(stores->database_uri));
  stores->tracking = std::make_unique<tracking::TrackingStore>(*stores->database, stores->clock,
                                                               std::string(kDefaultArtifactRoot));
  LAKEML_RETURN_IF_ERROR(stores->tracking->Initialize());
  stores->artifacts = std::make_unique<tracking::ArtifactStore>(stores->artifacts_root);
  stores->registry = std::make_unique<registry::ModelRegistry>(
      *stores->database, stores->clock, *stores->tracking, *stores->artifacts);
  return stores;
}

}  // namespace lakeml::server
