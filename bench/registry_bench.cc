// registry_bench: an end-to-end load driver for the MLflow model registry REST API served by
// `lakeml server`. Like tracking_bench it speaks HTTP only (bench_util), so it measures parsing,
// routing, the registry store, the SQL engine and response encoding together.
//
//   registry_bench --url http://127.0.0.1:PORT [--server-pid PID] [--seconds 5] [--json out.json]
//
// Populates 1,000 registered models `model-<i>` x 20 versions (version 20 in Production, 19 in
// Staging, 1-5 Archived; aliases `champion` -> 20 and `challenger` -> 19), then times, one
// client each (and search with --search-clients too):
//   search_models      GET registered-models/search  filter name LIKE 'model-1%', max_results 100
//   search_versions    GET model-versions/search     filter name = 'model-42'
//   latest_versions    POST registered-models/get-latest-versions of a random model
//   alias_lookup       GET registered-models/alias   champion of a random model
//   get_version        GET model-versions/get        a random (model, version)
// The first answer of each is checked against the populated data. Targets (p50 < 10 ms on
// SQLite) are printed as met / NOT met, never asserted.

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "bench_util.h"

namespace lakeml::bench {
namespace {

using Json = nlohmann::json;

constexpr char kApi[] = "/api/2.0/mlflow";
constexpr char kModelsFilter[] = "name LIKE 'model-1%'";
constexpr int kModelsPageSize = 100;
constexpr int kSearchedModel = 42;
constexpr double kTargetP50Ms = 10.0;

struct Options {
  std::string url;
  int server_pid = 0;
  double seconds = 5.0;
  int models = 1000;
  int versions = 20;
  int populate_clients = 4;
  int search_clients = 4;
  double wait_seconds = 15.0;
  uint64_t seed = 42;
  std::string json_path;
  std::string label;
};

TimedRunOptions TimedOptions(const Options& options) {
  return {options.url, options.seconds, options.server_pid};
}

std::string ApiPath(const char* method) { return fmt::format("{}/{}", kApi, method); }

std::string ModelName(int model_idx) { return fmt::format("model-{}", model_idx); }

// Percent-encodes a query value (RFC 3986 unreserved characters stay as they are).
std::string UrlEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// The stage the populated version `version` (1-based) of any model ends in.
std::string PopulatedStage(int version, int versions) {
  if (version == versions) return "Production";
  if (version == versions - 1) return "Staging";
  if (version <= 5 && version < versions - 1) return "Archived";
  return "None";
}

// How many populated model names match `name LIKE 'model-1%'`.
int64_t ExpectedModelMatches(int models) {
  int64_t matches = 0;
  for (int model_idx = 0; model_idx < models; ++model_idx) {
    if (ModelName(model_idx).rfind("model-1", 0) == 0) ++matches;
  }
  return matches;
}

// Creates the models, their versions, the stage transitions and the aliases. Each model is
// populated by one client, front to back, so its versions are numbered 1..versions.
WorkloadResult Populate(const Options& options) {
  fmt::print(stderr, "populating {} models x {} versions with {} client(s)...\n", options.models,
             options.versions, options.populate_clients);
  std::atomic<int> next_model{0};
  std::vector<WorkerTally> tallies(options.populate_clients);
  RssSampler sampler(options.server_pid);
  const Clock::time_point start = Clock::now();
  {
    std::vector<std::jthread> workers;
    for (int client_idx = 0; client_idx < options.populate_clients; ++client_idx) {
      workers.emplace_back([&, client_idx] {
        ApiClient api(options.url);
        WorkerTally& tally = tallies[client_idx];
        auto call = [&](const char* method, const Json& body) {
          const Clock::time_point call_start = Clock::now();
          Reply reply = api.Post(ApiPath(method), body.dump());
          RecordReply(reply,
                      std::chrono::duration<double, std::milli>(Clock::now() - call_start).count(),
                      tally);
          return reply.status == 200;
        };
        for (int model_idx = next_model++; model_idx < options.models; model_idx = next_model++) {
          const std::string name = ModelName(model_idx);
          if (!call("registered-models/create",
                    {{"name", name}, {"description", "benchmark model"}})) {
            continue;
          }
          for (int version = 1; version <= options.versions; ++version) {
            call("model-versions/create",
                 {{"name", name},
                  {"source",
                   fmt::format("mlflow-artifacts:/0/bench-{}/artifacts/v{}", model_idx, version)},
                  {"tags",
                   Json::array({{{"key", "bench.version"}, {"value", std::to_string(version)}}})}});
          }
          for (int version = 1; version <= options.versions; ++version) {
            const std::string stage = PopulatedStage(version, options.versions);
            if (stage == "None") continue;
            call("model-versions/transition-stage", {{"name", name},
                                                     {"version", std::to_string(version)},
                                                     {"stage", stage},
                                                     {"archive_existing_versions", false}});
          }
          call("registered-models/alias", {{"name", name},
                                           {"alias", "champion"},
                                           {"version", std::to_string(options.versions)}});
          if (options.versions > 1) {
            call("registered-models/alias", {{"name", name},
                                             {"alias", "challenger"},
                                             {"version", std::to_string(options.versions - 1)}});
          }
        }
      });
    }
  }
  const double elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  WorkloadResult result =
      Summarize("populate", options.populate_clients, elapsed_s, tallies, sampler.StopAndPeakMb());
  result.note = fmt::format("{:.0f} versions/s",
                            static_cast<double>(options.models) * options.versions / elapsed_s);
  return result;
}

// Checks one answer with `check`, which returns a note or an error text starting with "WARNING".
std::string CheckFirst(const Reply& reply, const std::string& what,
                       const std::function<std::string(const Json&)>& check) {
  std::optional<Json> body = ParseOk(reply, what);
  if (!body) return "no answer";
  std::string note = check(*body);
  if (note.rfind("WARNING", 0) == 0) fmt::print("{}\n", note);
  return note;
}

// Runs a timed workload whose client 0 checks its first answer.
WorkloadResult RunChecked(const Options& options, const std::string& name, int clients,
                          const RequestFn& request,
                          const std::function<std::string(const Json&)>& check) {
  std::string note;
  WorkloadResult result = RunTimed(TimedOptions(options), name, clients,
                                   [&](int client_idx, int64_t iteration, ApiClient& api) {
                                     Reply reply = request(client_idx, iteration, api);
                                     if (client_idx == 0 && iteration == 0)
                                       note = CheckFirst(reply, name, check);
                                     return reply;
                                   });
  result.note = note;
  return result;
}

WorkloadResult RunSearchModels(const Options& options, int clients) {
  const std::string path =
      fmt::format("{}?filter={}&max_results={}", ApiPath("registered-models/search"),
                  UrlEncode(kModelsFilter), kModelsPageSize);
  const int64_t expected = std::min<int64_t>(ExpectedModelMatches(options.models), kModelsPageSize);
  return RunChecked(
      options, "search_models", clients,
      [&](int, int64_t, ApiClient& api) { return api.Get(path); },
      [&](const Json& body) {
        const Json models = body.value("registered_models", Json::array());
        if (static_cast<int64_t>(models.size()) != expected) {
          return fmt::format("WARNING: search_models returned {} models, expected {}",
                             models.size(), expected);
        }
        return fmt::format("{} models/page", models.size());
      });
}

WorkloadResult RunSearchVersions(const Options& options) {
  const std::string model = ModelName(std::min(kSearchedModel, options.models - 1));
  const std::string path = fmt::format("{}?filter={}", ApiPath("model-versions/search"),
                                       UrlEncode(fmt::format("name = '{}'", model)));
  return RunChecked(
      options, "search_versions", 1, [&](int, int64_t, ApiClient& api) { return api.Get(path); },
      [&](const Json& body) {
        const Json versions = body.value("model_versions", Json::array());
        if (static_cast<int>(versions.size()) != options.versions) {
          return fmt::format("WARNING: search_versions returned {} versions, expected {}",
                             versions.size(), options.versions);
        }
        return fmt::format("{} versions", versions.size());
      });
}

// Per-client random model indexes, reproducible from the seed.
std::vector<std::mt19937_64> ClientRngs(const Options& options, int clients) {
  std::vector<std::mt19937_64> rngs;
  for (int client_idx = 0; client_idx < clients; ++client_idx) {
    rngs.emplace_back(options.seed + 7919u * static_cast<uint64_t>(client_idx));
  }
  return rngs;
}

WorkloadResult RunLatestVersions(const Options& options) {
  std::vector<std::mt19937_64> rngs = ClientRngs(options, 1);
  const std::string path = ApiPath("registered-models/get-latest-versions");
  const int stage_count = std::min(options.versions, 4);
  return RunChecked(
      options, "latest_versions", 1,
      [&](int client_idx, int64_t, ApiClient& api) {
        const int model_idx = static_cast<int>(rngs[client_idx]() % options.models);
        return api.Post(path, fmt::format(R"({{"name":"{}"}})", ModelName(model_idx)));
      },
      [&](const Json& body) {
        const Json versions = body.value("model_versions", Json::array());
        if (static_cast<int>(versions.size()) != stage_count) {
          return fmt::format("WARNING: get-latest-versions returned {} versions, expected {}",
                             versions.size(), stage_count);
        }
        return fmt::format("{} stages", versions.size());
      });
}

WorkloadResult RunAliasLookup(const Options& options) {
  std::vector<std::mt19937_64> rngs = ClientRngs(options, 1);
  const std::string path = ApiPath("registered-models/alias");
  return RunChecked(
      options, "alias_lookup", 1,
      [&](int client_idx, int64_t, ApiClient& api) {
        const int model_idx = static_cast<int>(rngs[client_idx]() % options.models);
        return api.Get(fmt::format("{}?name={}&alias=champion", path, ModelName(model_idx)));
      },
      [&](const Json& body) {
        const std::string version =
            body.value("model_version", Json::object()).value("version", "");
        if (version != std::to_string(options.versions)) {
          return fmt::format("WARNING: alias champion points to version '{}', expected {}", version,
                             options.versions);
        }
        return std::string("champion -> latest");
      });
}

WorkloadResult RunGetVersion(const Options& options) {
  std::vector<std::mt19937_64> rngs = ClientRngs(options, 1);
  const std::string path = ApiPath("model-versions/get");
  return RunChecked(
      options, "get_version", 1,
      [&](int client_idx, int64_t, ApiClient& api) {
        const int model_idx = static_cast<int>(rngs[client_idx]() % options.models);
        const int version = 1 + static_cast<int>(rngs[client_idx]() % options.versions);
        return api.Get(fmt::format("{}?name={}&version={}", path, ModelName(model_idx), version));
      },
      [&](const Json& body) {
        const Json version = body.value("model_version", Json::object());
        if (version.value("status", "") != "READY") {
          return std::string("WARNING: model-versions/get did not return a READY version");
        }
        return std::string("READY");
      });
}

int Main(int argc, char** argv) {
  Options options;
  CLI::App app{"Load driver for lakeml's MLflow model registry REST API (see bench/README.md)"};
  app.add_option("--url", options.url, "server base URL, e.g. http://127.0.0.1:5000")->required();
  app.add_option("--server-pid", options.server_pid,
                 "pid of the server, to sample VmRSS/VmHWM from /proc (0 = don't)");
  app.add_option("--seconds", options.seconds, "duration of each timed workload")
      ->check(CLI::PositiveNumber);
  app.add_option("--models", options.models, "registered models to populate")
      ->check(CLI::PositiveNumber);
  app.add_option("--versions", options.versions, "versions per model")->check(CLI::Range(2, 10000));
  app.add_option("--populate-clients", options.populate_clients, "concurrent clients to populate")
      ->check(CLI::PositiveNumber);
  app.add_option("--search-clients", options.search_clients,
                 "concurrent clients of the second search_models row")
      ->check(CLI::PositiveNumber);
  app.add_option("--wait-seconds", options.wait_seconds, "how long to wait for the server");
  app.add_option("--seed", options.seed, "seed of the random model choices");
  app.add_option("--json", options.json_path, "also write the results to this JSON file");
  app.add_option("--label", options.label, "free text recorded with the results (e.g. backend)");
  CLI11_PARSE(app, argc, argv);

  if (!WaitForServer(options.url, options.wait_seconds)) {
    fmt::print(stderr, "error: no HTTP answer from {} within {:.1f} s\n", options.url,
               options.wait_seconds);
    return 1;
  }
  const std::string load_before = ReadLoadAverage();
  {
    // A server that already holds model-0 was populated by an earlier run: the checks below
    // assume fresh names, so refuse rather than report wrong numbers.
    ApiClient api(options.url);
    if (api.Get(fmt::format("{}?name={}", ApiPath("registered-models/get"), ModelName(0))).status ==
        200) {
      fmt::print(stderr, "error: {} already has a model named {}; use a fresh server\n",
                 options.url, ModelName(0));
      return 1;
    }
  }

  std::vector<WorkloadResult> results;
  results.push_back(Populate(options));
  if (results.back().errors > 0) {
    fmt::print("WARNING: populate had {} errors; first: {}\n", results.back().errors,
               results.back().first_error);
  }
  results.push_back(RunSearchModels(options, 1));
  results.push_back(RunSearchModels(options, options.search_clients));
  results.push_back(RunSearchVersions(options));
  results.push_back(RunLatestVersions(options));
  results.push_back(RunAliasLookup(options));
  results.push_back(RunGetVersion(options));

  const double hwm_mb =
      options.server_pid > 0
          ? static_cast<double>(ReadProcStatusKb(options.server_pid, "VmHWM").value_or(-1024)) /
                1024.0
          : -1.0;
  const std::string load_after = ReadLoadAverage();

  fmt::print(
      "\nlakeml registry_bench: {} ({}), {} models x {} versions, {:.0f} s per workload, "
      "{} hardware threads\n",
      options.url, options.label.empty() ? "no label" : options.label, options.models,
      options.versions, options.seconds, std::thread::hardware_concurrency());
  fmt::print("load average before: {}, after: {}; server VmHWM {} MB\n", load_before, load_after,
             FormatMb(hwm_mb));
  fmt::print("search_models: filter \"{}\", max_results {}; search_versions: name = '{}'\n",
             kModelsFilter, kModelsPageSize,
             ModelName(std::min(kSearchedModel, options.models - 1)));
  PrintTable(results);

  fmt::print("\n");
  Json targets = Json::array();
  for (const WorkloadResult& result : results) {
    if (result.name == "populate" || result.clients != 1) continue;
    std::string verdict = result.p50_ms < kTargetP50Ms ? "met" : "NOT met";
    if (result.errors > 0) verdict = fmt::format("invalid: {} errors", result.errors);
    fmt::print("target {} p50 < {:.0f} ms: {:.2f} ms ({})\n", result.name, kTargetP50Ms,
               result.p50_ms, verdict);
    targets.push_back({{"workload", result.name}, {"p50_ms", result.p50_ms}, {"verdict", verdict}});
  }

  if (!options.json_path.empty()) {
    Json output = {{"url", options.url},
                   {"label", options.label},
                   {"models", options.models},
                   {"versions_per_model", options.versions},
                   {"seconds_per_workload", options.seconds},
                   {"hardware_threads", std::thread::hardware_concurrency()},
                   {"load_average_before", load_before},
                   {"load_average_after", load_after},
                   {"server_vmhwm_mb", hwm_mb < 0 ? Json(nullptr) : Json(hwm_mb)},
                   {"workloads", Json::array()},
                   {"targets", targets}};
    for (const WorkloadResult& result : results) output["workloads"].push_back(ToJson(result));
    std::ofstream json_file(options.json_path);
    json_file << output.dump(2) << "\n";
    if (!json_file) {
      fmt::print(stderr, "error: could not write {}\n", options.json_path);
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace lakeml::bench

int main(int argc, char** argv) { return lakeml::bench::Main(argc, argv); }
