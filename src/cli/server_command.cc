#include "cli/server_command.h"

#include <cstdio>
#include <memory>
#include <sstream>
#include <string>

#include "server/server.h"

namespace lakeml::cli {
namespace {

// "a,b , c" → {"a", "b", "c"}.
std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    size_t begin = item.find_first_not_of(" \t");
    size_t end = item.find_last_not_of(" \t");
    if (begin != std::string::npos) items.push_back(item.substr(begin, end - begin + 1));
  }
  return items;
}

}  // namespace

void AddServerCommand(CLI::App& app) {
  struct Flags {
    server::ServerOptions options;
    std::string allowed_hosts;
  };
  // Shared with the callback, which runs after parsing, when this function has returned.
  auto flags = std::make_shared<Flags>();
  CLI::App* command = app.add_subcommand("server", "Run the MLflow-compatible tracking server");
  command->add_option("--host", flags->options.host, "Address to bind")->capture_default_str();
  command->add_option("--port", flags->options.port, "Port to listen on (0: any free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  command->add_option("--data", flags->options.data_dir, "Data directory")->capture_default_str();
  command->add_option("--backend-store-uri", flags->options.backend_store_uri,
                      "Metadata database: sqlite:///path.db, a file path, or postgresql://... "
                      "(default: <data>/lakeml.db)");
  command->add_option("--artifacts-destination", flags->options.artifacts_destination,
                      "Directory holding artifacts (default: <data>/artifacts)");
  command->add_option("--allowed-hosts", flags->allowed_hosts,
                      "Comma-separated Host header allowlist (default: localhost, 127.0.0.1, "
                      "[::1] and --host; '*' allows any)");
  command->add_option("--threads", flags->options.threads,
                      "HTTP worker threads (default: max(64, 8 x cores))")
      ->check(CLI::Range(0, 4096));
  command->callback([flags] {
    flags->options.allowed_hosts = SplitList(flags->allowed_hosts);
    core::Status status = server::RunServer(flags->options);
    if (!status.ok()) {
      std::fprintf(stderr, "lakeml server: %s\n", status.ToString().c_str());
      throw CLI::RuntimeError(1);
    }
  });
}

}  // namespace lakeml::cli
