#include <CLI/CLI.hpp>

#include "cli/models_command.h"
#include "cli/server_command.h"
#include "cli/version_command.h"

int main(int argc, char** argv) {
  CLI::App app{"lakeml: an MLflow-compatible tracking server and ML workflow in one binary"};
  app.require_subcommand(1);
  lakeml::cli::AddServerCommand(app);
  lakeml::cli::AddModelsCommand(app);
  lakeml::cli::AddVersionCommand(app);
  // CLI11 reports parse errors and the RuntimeError a subcommand throws through exit codes; the
  // subcommands themselves return errors as Status.
  CLI11_PARSE(app, argc, argv);
  return 0;
}
