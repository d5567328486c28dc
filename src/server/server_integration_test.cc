// Starts the real server on a loopback port with a temp SQLite database and artifact directory,
// and talks to it with a real HTTP client.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "server/server.h"

namespace lakeml::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class ServerIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = fs::temp_directory_path() / ("lakeml-server-test-" + core::RandomHex(12));
    ServerOptions options;
    options.port = 0;
    options.data_dir = data_dir_.string();
    options.threads = 8;
    options.keep_alive_timeout_seconds = 2;
    core::Result<std::unique_ptr<Server>> server = Server::Create(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    serve_thread_ = std::thread([this] { run_status_ = server_->Run(); });
  }

  void TearDown() override {
    if (server_) server_->Stop();
    if (serve_thread_.joinable()) serve_thread_.join();
    EXPECT_TRUE(run_status_.ok()) << run_status_.ToString();
    server_.reset();
    std::error_code error;
    fs::remove_all(data_dir_, error);
  }

  std::unique_ptr<httplib::Client> NewClient() {
    auto client = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client->set_keep_alive(true);
    client->set_tcp_nodelay(true);
    client->set_read_timeout(10, 0);
    return client;
  }

  // POSTs JSON and returns (status, parsed body).
  std::pair<int, json> PostJson(httplib::Client& client, const std::string& path,
                                const json& body) {
    auto response = client.Post(path, body.dump(), "application/json");
    if (!response) return {-1, json()};
    return {response->status, json::parse(response->body, nullptr, false)};
  }

  std::pair<int, json> GetJson(httplib::Client& client, const std::string& path) {
    auto response = client.Get(path);
    if (!response) return {-1, json()};
    return {response->status, json::parse(response->body, nullptr, false)};
  }

  fs::path data_dir_;
  std::unique_ptr<Server> server_;
  std::thread serve_thread_;
  core::Status run_status_;
};

TEST_F(ServerIntegrationTest, HealthVersionAndServerInfo) {
  auto client = NewClient();
  auto health = client->Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "OK");
  auto version = client->Get("/version");
  ASSERT_TRUE(version);
  EXPECT_EQ(version->body, std::string(Version()));
  auto [status, info] = GetJson(*client, "/api/3.0/mlflow/server-info");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(info["store_type"], "SqlStore");
  EXPECT_EQ(info["workspaces_enabled"], false);
}

TEST_F(ServerIntegrationTest, ExperimentRunMetricRoundTrip) {
  auto client = NewClient();
  auto [create_status, created] =
      PostJson(*client, "/api/2.0/mlflow/experiments/create", {{"name", "wine"}});
  ASSERT_EQ(create_status, 200) << created.dump();
  const std::string experiment_id = created["experiment_id"];

  auto [duplicate_status, duplicate] =
      PostJson(*client, "/api/2.0/mlflow/experiments/create", {{"name", "wine"}});
  EXPECT_EQ(duplicate_status, 400);
  EXPECT_EQ(duplicate["error_code"], "RESOURCE_ALREADY_EXISTS");

  auto [get_status, experiment] =
      GetJson(*client, "/api/2.0/mlflow/experiments/get?experiment_id=" + experiment_id);
  ASSERT_EQ(get_status, 200) << experiment.dump();
  EXPECT_EQ(experiment["experiment"]["name"], "wine");
  EXPECT_TRUE(experiment["experiment"]["creation_time"].is_number_integer());

  auto [run_status, run] = PostJson(*client, "/api/2.0/mlflow/runs/create",
                                    {{"experiment_id", experiment_id},
                                     {"start_time", 1700000000000},
                                     {"tags", {{{"key", "team"}, {"value", "ml"}}}}});
  ASSERT_EQ(run_status, 200) << run.dump();
  const std::string run_id = run["run"]["info"]["run_id"];
  EXPECT_EQ(run["run"]["info"]["run_uuid"], run_id);
  EXPECT_EQ(run["run"]["info"]["status"], "RUNNING");
  EXPECT_FALSE(run["run"]["info"].contains("end_time"));

  auto [metric_status, metric] = PostJson(
      *client, "/api/2.0/mlflow/runs/log-metric",
      {{"run_uuid", run_id}, {"key", "auc"}, {"value", 0.91}, {"timestamp", 1700000000500}});
  ASSERT_EQ(metric_status, 200) << metric.dump();
  EXPECT_EQ(metric, json::object());
  auto [nan_status, nan_body] = PostJson(
      *client, "/api/2.0/mlflow/runs/log-metric",
      {{"run_id", run_id}, {"key", "loss"}, {"value", "NaN"}, {"timestamp", 1700000000600}});
  ASSERT_EQ(nan_status, 200) << nan_body.dump();

  auto [fetched_status, fetched] = GetJson(*client, "/api/2.0/mlflow/runs/get?run_id=" + run_id);
  ASSERT_EQ(fetched_status, 200);
  bool saw_auc = false;
  bool saw_nan = false;
  for (const json& m : fetched["run"]["data"]["metrics"]) {
    if (m["key"] == "auc") {
      saw_auc = true;
      EXPECT_DOUBLE_EQ(m["value"].get<double>(), 0.91);
      EXPECT_EQ(m["timestamp"], 1700000000500);
      EXPECT_EQ(m["step"], 0);
    }
    if (m["key"] == "loss") saw_nan = m["value"] == "NaN";
  }
  EXPECT_TRUE(saw_auc);
  EXPECT_TRUE(saw_nan);

  auto [history_status, history] = GetJson(
      *client, "/api/2.0/mlflow/metrics/get-history?run_id=" + run_id + "&metric_key=auc");
  ASSERT_EQ(history_status, 200);
  EXPECT_EQ(history["metrics"].size(), 1u);

  auto [update_status, updated] = PostJson(
      *client, "/ajax-api/2.0/mlflow/runs/update",
      {{"run_id", run_id}, {"status", "FINISHED"}, {"end_time", 1700000001000}});
  ASSERT_EQ(update_status, 200) << updated.dump();
  EXPECT_EQ(updated["run_info"]["status"], "FINISHED");
  EXPECT_EQ(updated["run_info"]["end_time"], 1700000001000);

  auto [search_status, search] = PostJson(
      *client, "/api/2.0/mlflow/runs/search",
      {{"experiment_ids", {experiment_id}}, {"filter", "metrics.auc > 0.9"}});
  ASSERT_EQ(search_status, 200) << search.dump();
  ASSERT_EQ(search["runs"].size(), 1u);
  EXPECT_FALSE(search.contains("next_page_token"));

  auto [missing_status, missing] = GetJson(*client, "/api/2.0/mlflow/runs/get?run_id=" +
                                                        std::string(32, '0'));
  EXPECT_EQ(missing_status, 404);
  EXPECT_EQ(missing["error_code"], "RESOURCE_DOES_NOT_EXIST");
}

TEST_F(ServerIntegrationTest, RequestDecodingErrors) {
  auto client = NewClient();
  // CVE-2023-43472: a cross-site "simple request" with text/plain must not be parsed.
  auto text = client->Post("/api/2.0/mlflow/experiments/create", R"({"name": "x"})",
                           "text/plain");
  ASSERT_TRUE(text);
  EXPECT_EQ(text->status, 400);
  json error = json::parse(text->body);
  EXPECT_EQ(error["error_code"], "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(error["message"],
            "Bad Request. Content-Type must be one of [application/json]. Got 'text/plain'");

  auto [missing_status, missing] =
      PostJson(*client, "/api/2.0/mlflow/experiments/create", {{"name", ""}});
  EXPECT_EQ(missing_status, 400);
  EXPECT_EQ(missing["message"],
            "Missing value for required parameter 'name'. See the API docs for more "
            "information about request parameters.");

  auto malformed = client->Post("/api/2.0/mlflow/experiments/create", "{nope", "application/json");
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->status, 400);

  auto [type_status, type_error] = PostJson(*client, "/api/2.0/mlflow/runs/log-metric",
                                            {{"run_id", "abc"}, {"key", "k"}, {"value", true},
                                             {"timestamp", 1}});
  EXPECT_EQ(type_status, 400);
  EXPECT_EQ(type_error["error_code"], "INVALID_PARAMETER_VALUE");

  // The keep-alive connection still works after rejected bodies.
  auto health = client->Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_F(ServerIntegrationTest, UnknownPathsAreJson404) {
  auto client = NewClient();
  for (const char* path : {"/api/2.0/mlflow/experiments/list", "/nope",
                           "/api/2.0/mlflow/traces", "/api/3.0/mlflow/scorers/list"}) {
    auto [status, body] = GetJson(*client, path);
    EXPECT_EQ(status, 404) << path;
    EXPECT_EQ(body["error_code"], "ENDPOINT_NOT_FOUND") << path;
  }
  // The npm client's broken path, with a body that must be drained from the connection.
  auto [status, body] = PostJson(*client, "/api/2.0/mlflow/experimentsset-experiment-tag",
                                 {{"experiment_id", "0"}, {"key", "k"}, {"value", "v"}});
  EXPECT_EQ(status, 404);
  EXPECT_EQ(body["error_code"], "ENDPOINT_NOT_FOUND");
  auto health = client->Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->body, "OK");
}

TEST_F(ServerIntegrationTest, ForeignHostHeaderIsRefused) {
  auto client = NewClient();
  httplib::Headers headers = {{"Host", "evil.example.com:5000"}};
  auto response = client->Get("/health", headers);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 403);
  EXPECT_EQ(json::parse(response->body)["message"], "Invalid Host header");

  httplib::Headers cross_site = {{"Origin", "http://evil.example.com"}};
  auto post = client->Post("/api/2.0/mlflow/experiments/create", cross_site, R"({"name":"x"})",
                           "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 403);
}

TEST_F(ServerIntegrationTest, ArtifactsUploadDownloadListAndTraversal) {
  auto client = NewClient();
  auto [run_status, run] = PostJson(*client, "/api/2.0/mlflow/runs/create", json::object());
  ASSERT_EQ(run_status, 200) << run.dump();
  const std::string run_id = run["run"]["info"]["run_id"];
  const std::string artifact_uri = run["run"]["info"]["artifact_uri"];
  ASSERT_EQ(artifact_uri.rfind("mlflow-artifacts:/", 0), 0u) << artifact_uri;
  const std::string run_root = artifact_uri.substr(std::string("mlflow-artifacts:/").size());
  const std::string base = "/api/2.0/mlflow-artifacts/artifacts/" + run_root;

  // The upload's Content-Type is the file's, not JSON.
  const std::string mlmodel = "artifact_path: model\nflavors: {}\n";
  auto put = client->Put(base + "/model/MLmodel", mlmodel, "application/octet-stream");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 200) << put->body;
  EXPECT_EQ(put->body, "{}");

  auto get = client->Get(base + "/model/MLmodel");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, mlmodel);
  EXPECT_EQ(get->get_header_value("Content-Type"), "text/plain");
  EXPECT_EQ(get->get_header_value("Content-Disposition"), "attachment; filename=MLmodel");
  EXPECT_EQ(get->get_header_value("X-Content-Type-Options"), "nosniff");

  auto [list_status, listing] =
      GetJson(*client, "/api/2.0/mlflow-artifacts/artifacts?path=" + run_root + "/model");
  ASSERT_EQ(list_status, 200) << listing.dump();
  ASSERT_EQ(listing["files"].size(), 1u);
  EXPECT_EQ(listing["files"][0]["path"], "MLmodel");
  EXPECT_EQ(listing["files"][0]["file_size"], mlmodel.size());

  auto [run_list_status, run_listing] =
      GetJson(*client, "/api/2.0/mlflow/artifacts/list?run_id=" + run_id + "&path=model");
  ASSERT_EQ(run_list_status, 200) << run_listing.dump();
  EXPECT_EQ(run_listing["root_uri"], artifact_uri);
  ASSERT_EQ(run_listing["files"].size(), 1u);
  EXPECT_EQ(run_listing["files"][0]["path"], "model/MLmodel");

  auto [root_list_status, root_listing] =
      GetJson(*client, "/api/2.0/mlflow/artifacts/list?run_id=" + run_id);
  ASSERT_EQ(root_list_status, 200);
  ASSERT_EQ(root_listing["files"].size(), 1u);
  EXPECT_EQ(root_listing["files"][0]["path"], "model");
  EXPECT_EQ(root_listing["files"][0]["is_dir"], true);

  auto ui_get = client->Get("/get-artifact?run_uuid=" + run_id + "&path=model/MLmodel");
  ASSERT_TRUE(ui_get);
  EXPECT_EQ(ui_get->status, 200);
  EXPECT_EQ(ui_get->body, mlmodel);

  auto upload = client->Post(
      "/ajax-api/2.0/mlflow/upload-artifact?run_uuid=" + run_id + "&path=notes/readme.md",
      "# hi", "text/markdown");
  ASSERT_TRUE(upload);
  EXPECT_EQ(upload->status, 200) << upload->body;

  // Traversal in every encoding reaches no file outside the root.
  for (const std::string& path :
       {base + "/..%2f..%2f..%2fetc%2fpasswd", base + "/%252e%252e%252f%252e%252e%252fetc",
        std::string("/api/2.0/mlflow-artifacts/artifacts/%2Fetc%2Fpasswd"),
        base + "/a%5c..%5c..%5cx"}) {
    auto attack = client->Get(path);
    ASSERT_TRUE(attack) << path;
    EXPECT_EQ(attack->status, 400) << path << " " << attack->body;
    EXPECT_EQ(json::parse(attack->body)["message"], "Invalid path") << path;
  }
  auto attack_put = client->Put("/api/2.0/mlflow-artifacts/artifacts/%252e%252e%252fescape.txt",
                                "x", "text/plain");
  ASSERT_TRUE(attack_put);
  EXPECT_EQ(attack_put->status, 400);
  EXPECT_FALSE(fs::exists(data_dir_ / "escape.txt"));
  auto ui_attack = client->Get("/get-artifact?run_uuid=" + run_id + "&path=../../../../etc/passwd");
  ASSERT_TRUE(ui_attack);
  EXPECT_EQ(ui_attack->status, 400);
  auto [list_attack_status, list_attack] = GetJson(
      *client, "/api/2.0/mlflow/artifacts/list?run_id=" + run_id + "&path=..%2F..%2F..");
  EXPECT_EQ(list_attack_status, 400);

  auto missing = client->Get(base + "/nope.txt");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);

  auto mpu = client->Post("/api/2.0/mlflow-artifacts/mpu/create/" + run_root + "/big.bin",
                          R"({"path": "big.bin", "num_parts": 2})", "application/json");
  ASSERT_TRUE(mpu);
  EXPECT_EQ(mpu->status, 501);
  EXPECT_EQ(json::parse(mpu->body)["error_code"], "NOT_IMPLEMENTED");

  auto deleted = client->Delete(base + "/model");
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 200);
  auto gone = client->Get(base + "/model/MLmodel");
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);
}

TEST_F(ServerIntegrationTest, LargeArtifactStreamsBothWays) {
  auto client = NewClient();
  std::string payload(24u << 20, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>((i * 31) % 251);
  auto put = client->Put("/api/2.0/mlflow-artifacts/artifacts/0/big/data.bin", payload,
                         "application/octet-stream");
  ASSERT_TRUE(put);
  ASSERT_EQ(put->status, 200) << put->body;
  auto get = client->Get("/api/2.0/mlflow-artifacts/artifacts/0/big/data.bin");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body.size(), payload.size());
  EXPECT_TRUE(get->body == payload);
  EXPECT_EQ(get->get_header_value("Content-Type"), "application/octet-stream");

  httplib::Headers range = {{"Range", "bytes=10-19"}};
  auto part = client->Get("/api/2.0/mlflow-artifacts/artifacts/0/big/data.bin", range);
  ASSERT_TRUE(part);
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->body, payload.substr(10, 10));
}

TEST_F(ServerIntegrationTest, LogBatchBodyLimitIsOneMegabyte) {
  auto client = NewClient();
  auto [run_status, run] = PostJson(*client, "/api/2.0/mlflow/runs/create", json::object());
  ASSERT_EQ(run_status, 200);
  const std::string run_id = run["run"]["info"]["run_id"];
  json batch = {{"run_id", run_id},
                {"tags", {{{"key", "big"}, {"value", std::string(1100000, 'x')}}}}};
  auto [status, body] = PostJson(*client, "/api/2.0/mlflow/runs/log-batch", batch);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["error_code"], "INVALID_PARAMETER_VALUE");

  json good = {{"run_id", run_id},
               {"metrics", {{{"key", "m"}, {"value", 1.5}, {"timestamp", 5}, {"step", 2}}}},
               {"params", {{{"key", "lr"}, {"value", "0.1"}}}}};
  auto [good_status, good_body] = PostJson(*client, "/api/2.0/mlflow/runs/log-batch", good);
  EXPECT_EQ(good_status, 200) << good_body.dump();
}

TEST_F(ServerIntegrationTest, LoggedModelLifecycle) {
  auto client = NewClient();
  auto [create_status, created] = PostJson(*client, "/api/2.0/mlflow/logged-models",
                                           {{"experiment_id", "0"}, {"name", "model"}});
  ASSERT_EQ(create_status, 200) << created.dump();
  const std::string model_id = created["model"]["info"]["model_id"];
  EXPECT_EQ(created["model"]["info"]["status"], "LOGGED_MODEL_PENDING");

  auto finalize = client->Patch("/api/3.0/mlflow/logged-models/" + model_id,
                                R"({"status": "LOGGED_MODEL_READY"})", "application/json");
  ASSERT_TRUE(finalize);
  ASSERT_EQ(finalize->status, 200) << finalize->body;
  EXPECT_EQ(json::parse(finalize->body)["model"]["info"]["status"], "LOGGED_MODEL_READY");

  auto tags = client->Patch("/api/2.0/mlflow/logged-models/" + model_id + "/tags",
                            R"({"tags": [{"key": "a/b", "value": "1"}]})", "application/json");
  ASSERT_TRUE(tags);
  ASSERT_EQ(tags->status, 200) << tags->body;
  auto delete_tag = client->Delete("/api/2.0/mlflow/logged-models/" + model_id + "/tags/a/b");
  ASSERT_TRUE(delete_tag);
  EXPECT_EQ(delete_tag->status, 200) << delete_tag->body;

  auto [get_status, fetched] = GetJson(*client, "/api/2.0/mlflow/logged-models/" + model_id);
  ASSERT_EQ(get_status, 200);
  EXPECT_FALSE(fetched["model"]["info"].contains("tags"));

  auto [search_status, search] = PostJson(*client, "/api/2.0/mlflow/logged-models/search",
                                          {{"experiment_ids", {"0"}}});
  ASSERT_EQ(search_status, 200) << search.dump();
  EXPECT_EQ(search["models"].size(), 1u);
}

// TCP_NODELAY regression: with Nagle on, each response's body waits for the delayed ACK of its
// headers (~40 ms). 50 requests on one keep-alive connection must take far less than 50 × 40 ms.
TEST_F(ServerIntegrationTest, KeepAliveRequestsDoNotStallOnDelayedAck) {
  auto client = NewClient();
  ASSERT_TRUE(client->Get("/health"));  // connect outside the timed loop
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) {
    auto response = client->Get("/api/2.0/mlflow/experiments/get?experiment_id=0");
    ASSERT_TRUE(response);
    ASSERT_EQ(response->status, 200);
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(1))
      << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms";
}

}  // namespace
}  // namespace lakeml::server
