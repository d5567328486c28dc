#include "cli/models_command.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "registry/model_registry.h"
#include "registry/model_uri.h"
#include "server/embedded_stores.h"
#include "server/registry_json.h"

namespace lakeml::cli {
namespace {

using registry::ModelVersion;
using registry::RegisteredModel;

struct ModelsFlags {
  server::StoreLocations locations;
};

// Columns padded to their widest cell; the last column is not padded, so long sources do not
// drag trailing blanks along.
void PrintTable(const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(headers.size());
  for (size_t column = 0; column < headers.size(); ++column)
    widths[column] = headers[column].size();
  for (const auto& row : rows) {
    for (size_t column = 0; column < row.size() && column < widths.size(); ++column) {
      widths[column] = std::max(widths[column], row[column].size());
    }
  }
  auto print_row = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t column = 0; column < cells.size(); ++column) {
      if (column + 1 == cells.size()) {
        line += cells[column];
      } else {
        line += fmt::format("{:<{}}  ", cells[column], widths[column]);
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::printf("%s\n", line.c_str());
  };
  print_row(headers);
  for (const auto& row : rows) print_row(row);
}

std::string FormatTimestamp(int64_t millis) {
  if (millis <= 0) return "-";
  const std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &utc);
  return text;
}

std::string OrDash(const std::string& text) { return text.empty() ? "-" : text; }

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ",";
    out += item;
  }
  return out;
}

// A filter string literal: the grammar doubles a quote inside quotes.
std::string QuoteFilterValue(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// A relative local path means "relative to where I am" on a command line; the registry only
// accepts absolute local paths (inside the run's artifact directory), so anchor existing ones.
std::string AnchorLocalSource(const std::string& source) {
  if (source.empty() || source.front() == '/' || source.find(':') != std::string::npos) {
    return source;
  }
  std::error_code error;
  if (!std::filesystem::exists(source, error)) return source;
  return std::filesystem::absolute(source, error).string();
}

// Opens the stores and runs `action`; a failure is printed and becomes exit code 1.
void RunWithStores(const std::string& verb, const ModelsFlags& flags,
                   const std::function<core::Status(server::EmbeddedStores&)>& action) {
  core::Status status = [&]() -> core::Status {
    LAKEML_ASSIGN_OR_RETURN(std::unique_ptr<server::EmbeddedStores> stores,
                            server::OpenEmbeddedStores(flags.locations));
    return action(*stores);
  }();
  if (!status.ok()) {
    std::fprintf(stderr, "lakeml models %s: %s\n", verb.c_str(), status.ToString().c_str());
    throw CLI::RuntimeError(1);
  }
}

void PrintVersions(const std::vector<ModelVersion>& versions) {
  std::vector<std::vector<std::string>> rows;
  for (const ModelVersion& version : versions) {
    rows.push_back({version.version, version.current_stage,
                    std::string(server::ModelVersionStatusName(version.status)),
                    OrDash(Join(version.aliases)), FormatTimestamp(version.creation_timestamp),
                    OrDash(version.run_id), version.source});
  }
  PrintTable({"VERSION", "STAGE", "STATUS", "ALIASES", "CREATED (UTC)", "RUN ID", "SOURCE"}, rows);
}

core::Status Register(server::EmbeddedStores& stores, const std::string& source,
                      const std::string& name, const std::string& run_id) {
  registry::CreateModelVersionRequest request;
  request.name = name;
  request.source = AnchorLocalSource(source);
  request.run_id = run_id;
  // As MLflow's register_model does: a runs:/ source names its run, which the version records.
  if (request.run_id.empty() && request.source.rfind("runs:", 0) == 0) {
    LAKEML_ASSIGN_OR_RETURN(registry::ModelUri uri, registry::ParseModelUri(request.source));
    request.run_id = uri.run_id;
  }
  // Checked before the model is created, so a refused source leaves no empty model behind.
  LAKEML_RETURN_IF_ERROR(
      stores.registry->ValidateVersionSource(request.source, request.run_id, "").status());
  core::Result<RegisteredModel> created = stores.registry->CreateRegisteredModel(name, {}, "");
  // Registering into an existing model is the common case, as in MLflow's register_model.
  if (!created.ok() && created.status().code() != core::StatusCode::kAlreadyExists) {
    return created.status();
  }
  LAKEML_ASSIGN_OR_RETURN(ModelVersion version, stores.registry->CreateModelVersion(request));
  std::printf("registered %s version %s (source %s)\n", version.name.c_str(),
              version.version.c_str(), version.source.c_str());
  std::printf("models:/%s/%s\n", version.name.c_str(), version.version.c_str());
  return core::Status::Ok();
}

core::Status List(server::EmbeddedStores& stores) {
  std::vector<std::vector<std::string>> rows;
  registry::SearchRegisteredModelsRequest search;
  search.max_results = 1000;
  do {
    LAKEML_ASSIGN_OR_RETURN(registry::Page<RegisteredModel> page,
                            stores.registry->SearchRegisteredModels(search));
    for (const RegisteredModel& model : page.items) {
      std::vector<std::string> latest;
      for (const ModelVersion& version : model.latest_versions) {
        latest.push_back(fmt::format("{}:{}", version.current_stage, version.version));
      }
      std::vector<std::string> aliases;
      for (const registry::RegisteredModelAlias& alias : model.aliases) {
        aliases.push_back(fmt::format("{}={}", alias.alias, alias.version));
      }
      rows.push_back({model.name, OrDash(Join(latest)), OrDash(Join(aliases)),
                      FormatTimestamp(model.last_updated_timestamp), OrDash(model.description)});
    }
    search.page_token = page.next_page_token;
  } while (!search.page_token.empty());
  if (rows.empty()) {
    std::printf("no registered models\n");
    return core::Status::Ok();
  }
  PrintTable({"NAME", "LATEST VERSIONS", "ALIASES", "UPDATED (UTC)", "DESCRIPTION"}, rows);
  return core::Status::Ok();
}

core::Status Show(server::EmbeddedStores& stores, const std::string& name) {
  LAKEML_ASSIGN_OR_RETURN(RegisteredModel model, stores.registry->GetRegisteredModel(name));
  std::vector<std::vector<std::string>> fields = {
      {"name", model.name},
      {"description", OrDash(model.description)},
      {"created (UTC)", FormatTimestamp(model.creation_timestamp)},
      {"updated (UTC)", FormatTimestamp(model.last_updated_timestamp)}};
  for (const registry::RegisteredModelAlias& alias : model.aliases) {
    fields.push_back({"alias", fmt::format("{} -> version {}", alias.alias, alias.version)});
  }
  for (const registry::Tag& tag : model.tags) {
    fields.push_back({"tag", fmt::format("{}={}", tag.key, tag.value)});
  }
  PrintTable({"FIELD", "VALUE"}, fields);

  std::vector<ModelVersion> versions;
  registry::SearchModelVersionsRequest search;
  search.filter = "name = " + QuoteFilterValue(name);
  search.order_by = {"version_number ASC"};
  do {
    LAKEML_ASSIGN_OR_RETURN(registry::Page<ModelVersion> page,
                            stores.registry->SearchModelVersions(search));
    versions.insert(versions.end(), page.items.begin(), page.items.end());
    search.page_token = page.next_page_token;
  } while (!search.page_token.empty());
  std::printf("\n");
  if (versions.empty()) {
    std::printf("no versions\n");
    return core::Status::Ok();
  }
  PrintVersions(versions);
  return core::Status::Ok();
}

}  // namespace

void AddModelsCommand(CLI::App& app) {
  // Shared with the callbacks, which run after parsing, when this function has returned.
  auto flags = std::make_shared<ModelsFlags>();
  CLI::App* models = app.add_subcommand("models", "Manage the model registry (embedded)");
  models->require_subcommand(1);
  // Lets the store options follow the subcommand too: `lakeml models list --data DIR`.
  models->fallthrough();
  models->add_option("--data", flags->locations.data_dir, "Data directory")->capture_default_str();
  models->add_option("--backend-store-uri", flags->locations.backend_store_uri,
                     "Metadata database (default: <data>/lakeml.db)");
  models->add_option("--artifacts-destination", flags->locations.artifacts_destination,
                     "Directory holding artifacts (default: <data>/artifacts)");

  struct RegisterArgs {
    std::string source;
    std::string name;
    std::string run_id;
  };
  auto register_args = std::make_shared<RegisterArgs>();
  CLI::App* register_command = models->add_subcommand(
      "register", "Register a model version; prints its models:/<name>/<version> URI");
  register_command
      ->add_option("source", register_args->source,
                   "runs:/<run_id>/<path>, models:/..., mlflow-artifacts:/..., or a local path "
                   "inside the run's artifacts (with --run-id)")
      ->required();
  register_command->add_option("name", register_args->name, "Registered model name")->required();
  register_command->add_option("--run-id", register_args->run_id, "Run that produced the model");
  register_command->callback([flags, register_args] {
    RunWithStores("register", *flags, [&](server::EmbeddedStores& stores) {
      return Register(stores, register_args->source, register_args->name, register_args->run_id);
    });
  });

  struct TransitionArgs {
    std::string name;
    std::string version;
    std::string stage;
    bool archive_existing = false;
  };
  auto transition_args = std::make_shared<TransitionArgs>();
  CLI::App* transition = models->add_subcommand(
      "transition", "Move a version to None, Staging, Production or Archived");
  transition->add_option("name", transition_args->name, "Registered model name")->required();
  transition->add_option("version", transition_args->version, "Version number")->required();
  transition->add_option("stage", transition_args->stage, "Target stage (any case)")->required();
  transition->add_flag("--archive-existing", transition_args->archive_existing,
                       "Archive the other versions in the target stage (Staging/Production)");
  transition->callback([flags, transition_args] {
    RunWithStores("transition", *flags, [&](server::EmbeddedStores& stores) -> core::Status {
      LAKEML_ASSIGN_OR_RETURN(ModelVersion version,
                              stores.registry->TransitionModelVersionStage(
                                  transition_args->name, transition_args->version,
                                  transition_args->stage, transition_args->archive_existing));
      PrintVersions({version});
      return core::Status::Ok();
    });
  });

  struct AliasArgs {
    std::string name;
    std::string alias;
    std::string version;
  };
  auto alias_args = std::make_shared<AliasArgs>();
  CLI::App* alias = models->add_subcommand("alias", "Point an alias at a version");
  alias->add_option("name", alias_args->name, "Registered model name")->required();
  alias->add_option("alias", alias_args->alias, "Alias (letters, digits, _ and -)")->required();
  alias->add_option("version", alias_args->version, "Version number")->required();
  alias->callback([flags, alias_args] {
    RunWithStores("alias", *flags, [&](server::EmbeddedStores& stores) -> core::Status {
      LAKEML_RETURN_IF_ERROR(stores.registry->SetRegisteredModelAlias(
          alias_args->name, alias_args->alias, alias_args->version));
      std::printf("models:/%s@%s -> version %s\n", alias_args->name.c_str(),
                  alias_args->alias.c_str(), alias_args->version.c_str());
      return core::Status::Ok();
    });
  });

  CLI::App* list = models->add_subcommand("list", "List registered models");
  list->callback([flags] {
    RunWithStores("list", *flags, [](server::EmbeddedStores& stores) { return List(stores); });
  });

  auto show_name = std::make_shared<std::string>();
  CLI::App* show = models->add_subcommand("show", "Show a registered model and its versions");
  show->add_option("name", *show_name, "Registered model name")->required();
  show->callback([flags, show_name] {
    RunWithStores("show", *flags,
                  [&](server::EmbeddedStores& stores) { return Show(stores, *show_name); });
  });
}

}  // namespace lakeml::cli
