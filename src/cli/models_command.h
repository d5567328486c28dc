#pragma once

#include <CLI/CLI.hpp>

namespace lakeml::cli {

// Registers `lakeml models` with the subcommands
//   register <source-uri> <name> [--run-id ID]   creates the model if needed, adds a version and
//                                                prints its `models:/<name>/<version>` URI;
//   transition <name> <version> <stage> [--archive-existing]
//   alias <name> <alias> <version>
//   list                                         every registered model, as a table;
//   show <name>                                  one model and its versions, as tables.
// They work embedded on the same stores the server uses: `--data DIR` (default ./lakeml-data),
// `--backend-store-uri URI`, `--artifacts-destination DIR`, given before or after the
// subcommand. `runs:/<run_id>/<path>` sources resolve through the tracking store; every source
// passes the registry's validation. On failure a subcommand prints the error and exits with 1.
// `app` must outlive parsing; the registered callbacks own their option values.
void AddModelsCommand(CLI::App& app);

}  // namespace lakeml::cli
