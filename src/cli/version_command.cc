#include "cli/version_command.h"

#include <cstdio>

#include "server/server.h"

namespace lakeml::cli {

void AddVersionCommand(CLI::App& app) {
  CLI::App* command = app.add_subcommand("version", "Print the lakeml version");
  command->callback([] { std::printf("lakeml %s\n", std::string(server::Version()).c_str()); });
}

}  // namespace lakeml::cli
