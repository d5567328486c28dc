#include "bench_util.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <latch>
#include <sstream>
#include <stop_token>
#include <utility>

#include <fmt/core.h>

namespace lakeml::bench {

using Json = nlohmann::json;

ApiClient::ApiClient(const std::string& url) : client_(url) {
  client_.set_keep_alive(true);
  // Without TCP_NODELAY a small request can wait ~40 ms on Nagle + delayed ACK and the numbers
  // would measure the kernel rather than the server.
  client_.set_tcp_nodelay(true);
  client_.set_connection_timeout(5, 0);
  client_.set_read_timeout(60, 0);
  client_.set_write_timeout(60, 0);
}

Reply ApiClient::Post(const std::string& path, const std::string& body) {
  return Convert(client_.Post(path.c_str(), body, "application/json"));
}

Reply ApiClient::Patch(const std::string& path, const std::string& body) {
  return Convert(client_.Patch(path.c_str(), body, "application/json"));
}

Reply ApiClient::Get(const std::string& path_and_query) {
  return Convert(client_.Get(path_and_query.c_str()));
}

Reply ApiClient::Convert(const httplib::Result& result) {
  Reply reply;
  if (!result) {
    reply.body = fmt::format("transport error: {}", httplib::to_string(result.error()));
    return reply;
  }
  reply.status = result->status;
  reply.body = result->body;
  return reply;
}

std::optional<int64_t> ReadProcStatusKb(int pid, const std::string& key) {
  std::ifstream status_file(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status_file, line)) {
    if (line.rfind(key + ":", 0) == 0) {
      std::istringstream fields(line.substr(key.size() + 1));
      int64_t value_kb = 0;
      fields >> value_kb;
      return value_kb;
    }
  }
  return std::nullopt;
}

std::string ReadLoadAverage() {
  std::ifstream loadavg_file("/proc/loadavg");
  std::string one, five, fifteen;
  loadavg_file >> one >> five >> fifteen;
  return fmt::format("{} {} {}", one, five, fifteen);
}

RssSampler::RssSampler(int pid) : pid_(pid) {
  if (pid_ <= 0) return;
  thread_ = std::jthread([this](std::stop_token stop) {
    while (!stop.stop_requested()) {
      Sample();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
}

double RssSampler::StopAndPeakMb() {
  if (pid_ <= 0) return -1.0;
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
  Sample();
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<double>(peak_kb_) / 1024.0;
}

void RssSampler::Sample() {
  std::optional<int64_t> rss_kb = ReadProcStatusKb(pid_, "VmRSS");
  if (!rss_kb) return;
  std::lock_guard<std::mutex> lock(mutex_);
  peak_kb_ = std::max(peak_kb_, *rss_kb);
}

double Percentile(const std::vector<float>& sorted_ms, double fraction) {
  if (sorted_ms.empty()) return 0.0;
  // Nearest-rank: the smallest sample with at least `fraction` of the samples at or below it.
  size_t rank = static_cast<size_t>(std::ceil(fraction * static_cast<double>(sorted_ms.size())));
  rank = std::clamp<size_t>(rank, 1, sorted_ms.size());
  return sorted_ms[rank - 1];
}

WorkloadResult Summarize(std::string name, int clients, double elapsed_s,
                         std::vector<WorkerTally>& tallies, double rss_peak_mb) {
  WorkloadResult result;
  result.name = std::move(name);
  result.clients = clients;
  result.elapsed_s = elapsed_s;
  result.rss_peak_mb = rss_peak_mb;
  std::vector<float> all_ms;
  for (WorkerTally& tally : tallies) {
    all_ms.insert(all_ms.end(), tally.latencies_ms.begin(), tally.latencies_ms.end());
    result.errors += tally.errors;
    if (result.first_error.empty()) result.first_error = tally.first_error;
  }
  std::sort(all_ms.begin(), all_ms.end());
  result.requests = static_cast<int64_t>(all_ms.size());
  result.requests_per_s = elapsed_s > 0 ? static_cast<double>(result.requests) / elapsed_s : 0.0;
  result.p50_ms = Percentile(all_ms, 0.50);
  result.p99_ms = Percentile(all_ms, 0.99);
  result.max_ms = all_ms.empty() ? 0.0 : all_ms.back();
  return result;
}

void RecordReply(const Reply& reply, double latency_ms, WorkerTally& tally) {
  tally.latencies_ms.push_back(static_cast<float>(latency_ms));
  if (reply.status == 200) return;
  ++tally.errors;
  if (tally.first_error.empty()) {
    tally.first_error = fmt::format("HTTP {}: {}", reply.status, reply.body.substr(0, 200));
  }
}

WorkloadResult RunTimed(const TimedRunOptions& options, const std::string& name, int clients,
                        const RequestFn& request) {
  fmt::print(stderr, "running {} with {} client(s) for {:.0f} s...\n", name, clients,
             options.seconds);
  std::vector<WorkerTally> tallies(clients);
  std::latch ready(clients + 1);
  const auto duration =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.seconds));
  Clock::time_point deadline;  // written before `ready` opens, read after
  std::vector<std::jthread> workers;
  for (int client_idx = 0; client_idx < clients; ++client_idx) {
    workers.emplace_back([&, client_idx] {
      ApiClient api(options.url);
      WorkerTally& tally = tallies[client_idx];
      tally.latencies_ms.reserve(1 << 16);
      // Connect before the clock starts: the workloads measure steady-state keep-alive traffic,
      // not eight simultaneous TCP handshakes (whose SYNs can overflow a small listen backlog).
      api.Get("/health");
      ready.arrive_and_wait();
      for (int64_t iteration = 0; Clock::now() < deadline; ++iteration) {
        const Clock::time_point start = Clock::now();
        Reply reply = request(client_idx, iteration, api);
        const double latency_ms =
            std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        RecordReply(reply, latency_ms, tally);
      }
    });
  }
  RssSampler sampler(options.server_pid);
  const Clock::time_point start = Clock::now();
  deadline = start + duration;
  ready.arrive_and_wait();
  for (std::jthread& worker : workers) worker.join();
  // Requests in flight at the deadline finish after it, so measure to the last completion.
  const double elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  return Summarize(name, clients, elapsed_s, tallies, sampler.StopAndPeakMb());
}

std::optional<Json> ParseOk(const Reply& reply, const std::string& what) {
  if (reply.status != 200) {
    fmt::print(stderr, "error: {} failed: HTTP {}: {}\n", what, reply.status,
               reply.body.substr(0, 300));
    return std::nullopt;
  }
  try {
    return Json::parse(reply.body);
  } catch (const Json::exception& error) {
    fmt::print(stderr, "error: {} returned invalid JSON: {}\n", what, error.what());
    return std::nullopt;
  }
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool WaitForServer(const std::string& url, double wait_seconds) {
  const Clock::time_point deadline =
      Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(wait_seconds * 1000));
  ApiClient api(url);
  while (true) {
    // Any HTTP answer means the listener is up; /health may not be routed yet in early builds.
    if (api.Get("/health").status != 0) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string FormatMb(double megabytes) {
  return megabytes < 0 ? std::string("-") : fmt::format("{:.1f}", megabytes);
}

void PrintTable(const std::vector<WorkloadResult>& results) {
  fmt::print("\n{:<18} {:>7} {:>9} {:>6} {:>10} {:>9} {:>9} {:>9} {:>8}  {}\n", "workload",
             "clients", "requests", "errors", "req/s", "p50 ms", "p99 ms", "max ms", "RSS MB",
             "note");
  for (const WorkloadResult& result : results) {
    fmt::print("{:<18} {:>7} {:>9} {:>6} {:>10.0f} {:>9.2f} {:>9.2f} {:>9.2f} {:>8}  {}\n",
               result.name, result.clients, result.requests, result.errors, result.requests_per_s,
               result.p50_ms, result.p99_ms, result.max_ms, FormatMb(result.rss_peak_mb),
               result.note);
  }
  for (const WorkloadResult& result : results) {
    if (result.errors > 0) {
      fmt::print("WARNING: {} had {} non-200 replies; first: {}\n", result.name, result.errors,
                 result.first_error);
    }
  }
}

Json ToJson(const WorkloadResult& result) {
  return {{"name", result.name},
          {"clients", result.clients},
          {"requests", result.requests},
          {"errors", result.errors},
          {"elapsed_s", result.elapsed_s},
          {"requests_per_s", result.requests_per_s},
          {"p50_ms", result.p50_ms},
          {"p99_ms", result.p99_ms},
          {"max_ms", result.max_ms},
          {"rss_peak_mb", result.rss_peak_mb < 0 ? Json(nullptr) : Json(result.rss_peak_mb)},
          {"note", result.note},
          {"first_error", result.first_error}};
}

}  // namespace lakeml::bench
