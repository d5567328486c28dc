#pragma once

// Shared parts of lakeml's end-to-end HTTP load drivers (tracking_bench, registry_bench): a
// keep-alive HTTP client, closed-loop timed workloads with nearest-rank percentiles, server RSS
// sampling from /proc, and the result table. Like the drivers, it links none of lakeml's
// libraries, so what is measured is what a client sees.

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace lakeml::bench {

using Clock = std::chrono::steady_clock;

// Outcome of one HTTP call. status 0 means a transport failure (connect, read, timeout).
struct Reply {
  int status = 0;
  std::string body;
};

// One keep-alive connection to the server with TCP_NODELAY. Not thread-safe: each worker thread
// owns one, which is also how real clients behave (a requests.Session per process).
class ApiClient {
 public:
  explicit ApiClient(const std::string& url);

  Reply Post(const std::string& path, const std::string& body);
  Reply Patch(const std::string& path, const std::string& body);
  Reply Get(const std::string& path_and_query);

 private:
  static Reply Convert(const httplib::Result& result);

  httplib::Client client_;
};

// Reads one "Key:   123 kB" line of /proc/<pid>/status; nullopt when the process is gone.
std::optional<int64_t> ReadProcStatusKb(int pid, const std::string& key);

// The 1, 5 and 15 minute load averages of /proc/loadavg, space-separated.
std::string ReadLoadAverage();

// Samples a process's VmRSS on a background thread for as long as it lives (nothing when
// pid <= 0). The peak of the samples is what the server needed for one workload; VmHWM cannot
// tell workloads apart because it only ever grows over the process lifetime. Thread-safe.
class RssSampler {
 public:
  explicit RssSampler(int pid);

  // Stops sampling and returns the peak in MB, or a negative value when no pid was given.
  double StopAndPeakMb();

 private:
  void Sample();

  const int pid_;
  std::mutex mutex_;
  int64_t peak_kb_ = 0;  // guarded by mutex_
  std::jthread thread_;
};

struct WorkloadResult {
  std::string name;
  int clients = 0;
  int64_t requests = 0;
  int64_t errors = 0;
  double elapsed_s = 0.0;
  double requests_per_s = 0.0;
  double p50_ms = 0.0;
  double p99_ms = 0.0;
  double max_ms = 0.0;
  double rss_peak_mb = -1.0;
  std::string first_error;
  std::string note;
};

// Everything one worker thread records; merged after the threads are joined, so no locking.
struct WorkerTally {
  std::vector<float> latencies_ms;
  int64_t errors = 0;
  std::string first_error;
};

// Nearest-rank percentile of ascending samples; 0 when empty.
double Percentile(const std::vector<float>& sorted_ms, double fraction);

// Merges the tallies into one result (requests, errors, req/s, p50/p99/max).
WorkloadResult Summarize(std::string name, int clients, double elapsed_s,
                         std::vector<WorkerTally>& tallies, double rss_peak_mb);

// Records one call: its latency, and an error unless the reply is a 200.
void RecordReply(const Reply& reply, double latency_ms, WorkerTally& tally);

// What a timed workload needs to know about the server under test.
struct TimedRunOptions {
  std::string url;
  double seconds = 10.0;
  int server_pid = 0;  // 0: do not sample RSS
};

// `request(client_idx, iteration, api)` performs one request and returns its reply. It is called
// from `clients` threads at once, each with its own ApiClient.
using RequestFn = std::function<Reply(int client_idx, int64_t iteration, ApiClient& api)>;

// Runs `request` in a closed loop from `clients` threads for `options.seconds` and summarizes
// latency. Each client connects (GET /health) before the clock starts.
WorkloadResult RunTimed(const TimedRunOptions& options, const std::string& name, int clients,
                        const RequestFn& request);

// Returns the parsed body of a 200 reply, or nullopt after printing why not.
std::optional<nlohmann::json> ParseOk(const Reply& reply, const std::string& what);

// Wall-clock milliseconds since the Unix epoch.
int64_t NowMs();

// Polls GET /health until any HTTP answer arrives; false after `wait_seconds`.
bool WaitForServer(const std::string& url, double wait_seconds);

// "12.3", or "-" for a negative (unmeasured) value.
std::string FormatMb(double megabytes);

// Prints the results as one table, then a warning per workload that had non-200 replies.
void PrintTable(const std::vector<WorkloadResult>& results);

nlohmann::json ToJson(const WorkloadResult& result);

}  // namespace lakeml::bench
