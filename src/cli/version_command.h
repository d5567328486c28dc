#pragma once

#include <CLI/CLI.hpp>

namespace lakeml::cli {

// Registers `lakeml version`: prints the version string and exits 0.
void AddVersionCommand(CLI::App& app);

}  // namespace lakeml::cli
