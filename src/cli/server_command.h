#pragma once

#include <CLI/CLI.hpp>

namespace lakeml::cli {

// Registers `lakeml server [--host] [--port] [--data] [--backend-store-uri]
// [--artifacts-destination] [--allowed-hosts] [--threads]`: runs the MLflow-compatible tracking
// server until SIGINT/SIGTERM. On failure the subcommand prints the error and exits with 1.
// `app` must outlive parsing; the registered callback owns its option values.
void AddServerCommand(CLI::App& app);

}  // namespace lakeml::cli
