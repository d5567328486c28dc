#include "server/tracking_json.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace lakeml::server {
namespace {

using nlohmann::json;

TEST(TrackingJsonTest, DoublesSpellNonFiniteValuesAsStrings) {
  EXPECT_EQ(DoubleToJson(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(DoubleToJson(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(DoubleToJson(-std::numeric_limits<double>::infinity()), "-Infinity");
  EXPECT_EQ(DoubleToJson(0.5), 0.5);
}

TEST(TrackingJsonTest, MetricHasInt64NumbersAndNaNString) {
  tracking::Metric metric{"loss", std::numeric_limits<double>::quiet_NaN(), 1700000000123, 7};
  json out = MetricToJson(metric);
  EXPECT_EQ(out["key"], "loss");
  EXPECT_EQ(out["value"], "NaN");
  EXPECT_TRUE(out["timestamp"].is_number_integer());
  EXPECT_EQ(out["timestamp"], 1700000000123);
  EXPECT_EQ(out["step"], 7);
  EXPECT_EQ(out.dump(), R"({"key":"loss","step":7,"timestamp":1700000000123,"value":"NaN"})");
}

TEST(TrackingJsonTest, RunInfoOmitsUnsetEndTimeAndDuplicatesRunUuid) {
  tracking::RunInfo info;
  info.run_id = "0123456789abcdef0123456789abcdef";
  info.run_name = "bold-owl-1";
  info.experiment_id = "1";
  info.status = tracking::RunStatus::kRunning;
  info.start_time = 1000;
  info.artifact_uri = "mlflow-artifacts:/1/0123456789abcdef0123456789abcdef/artifacts";
  json out = RunInfoToJson(info);
  EXPECT_FALSE(out.contains("end_time"));
  EXPECT_EQ(out["run_uuid"], info.run_id);
  EXPECT_EQ(out["status"], "RUNNING");
  EXPECT_EQ(out["lifecycle_stage"], "active");
  EXPECT_TRUE(out["start_time"].is_number_integer());

  info.end_time = 2000;
  info.status = tracking::RunStatus::kFinished;
  info.lifecycle_stage = tracking::LifecycleStage::kDeleted;
  out = RunInfoToJson(info);
  EXPECT_EQ(out["end_time"], 2000);
  EXPECT_EQ(out["status"], "FINISHED");
  EXPECT_EQ(out["lifecycle_stage"], "deleted");
}

TEST(TrackingJsonTest, RunOmitsEmptyListsButKeepsInputs) {
  tracking::Run run;
  run.info.run_id = "r";
  json out = RunToJson(run);
  EXPECT_EQ(out["data"], json::object());
  EXPECT_EQ(out["inputs"], json::object());
  EXPECT_FALSE(out.contains("outputs"));

  run.data.tags.push_back({"mlflow.runName", "x"});
  run.data.params.push_back({"lr", "0.1"});
  run.model_outputs.push_back({"m-1", 3});
  out = RunToJson(run);
  EXPECT_EQ(out["data"]["tags"], json::parse(R"([{"key":"mlflow.runName","value":"x"}])"));
  EXPECT_EQ(out["data"]["params"], json::parse(R"([{"key":"lr","value":"0.1"}])"));
  EXPECT_EQ(out["outputs"], json::parse(R"({"model_outputs":[{"model_id":"m-1","step":3}]})"));
}

TEST(TrackingJsonTest, ExperimentShape) {
  tracking::Experiment experiment;
  experiment.experiment_id = "0";
  experiment.name = "Default";
  experiment.artifact_location = "mlflow-artifacts:/0";
  experiment.creation_time = 5;
  experiment.last_update_time = 6;
  json out = ExperimentToJson(experiment);
  EXPECT_EQ(out, json::parse(R"({"experiment_id":"0","name":"Default",
      "artifact_location":"mlflow-artifacts:/0","lifecycle_stage":"active",
      "creation_time":5,"last_update_time":6})"));
}

TEST(TrackingJsonTest, FileInfoOmitsSizeForDirectories) {
  EXPECT_EQ(FileInfoToJson({"model", true, std::nullopt}),
            json::parse(R"({"path":"model","is_dir":true})"));
  EXPECT_EQ(FileInfoToJson({"model/MLmodel", false, 42}),
            json::parse(R"({"path":"model/MLmodel","is_dir":false,"file_size":42})"));
}

TEST(TrackingJsonTest, LoggedModelStatusByName) {
  tracking::LoggedModel model;
  model.model_id = "m-1";
  model.status = tracking::LoggedModelStatus::kReady;
  json out = LoggedModelToJson(model);
  EXPECT_EQ(out["info"]["status"], "LOGGED_MODEL_READY");
  EXPECT_FALSE(out["info"].contains("model_type"));
  EXPECT_EQ(out["data"], json::object());
}

TEST(TrackingJsonTest, DecodersAcceptEnumNamesAndNumbers) {
  Request request =
      Request::FromJsonBody(R"({"status": "KILLED", "view": 3, "model": "LOGGED_MODEL_READY"})")
          .value();
  EXPECT_EQ(DecodeRunStatus(request, "status").value(), tracking::RunStatus::kKilled);
  EXPECT_EQ(DecodeViewType(request, "view").value(), tracking::ViewType::kAll);
  EXPECT_EQ(DecodeLoggedModelStatus(request, "model").value(),
            tracking::LoggedModelStatus::kReady);
  EXPECT_FALSE(DecodeRunStatus(request, "view").ok() &&
               DecodeRunStatus(request, "model").ok());
}

TEST(TrackingJsonTest, DecodeMetricRequiresKeyValueTimestamp) {
  Request good =
      Request::FromJsonBody(R"({"key": "acc", "value": "NaN", "timestamp": "12"})").value();
  tracking::Metric metric = DecodeMetric(good).value();
  EXPECT_EQ(metric.key, "acc");
  EXPECT_TRUE(std::isnan(metric.value));
  EXPECT_EQ(metric.timestamp, 12);
  EXPECT_EQ(metric.step, 0);

  Request no_timestamp = Request::FromJsonBody(R"({"key": "acc", "value": 1})").value();
  EXPECT_NE(DecodeMetric(no_timestamp).status().message().find("'timestamp'"), std::string::npos);
}

TEST(TrackingJsonTest, DecodeTagsRequiresKeysAndDefaultsValues) {
  Request request =
      Request::FromJsonBody(R"({"tags": [{"key": "a"}, {"key": "b", "value": "v"}]})").value();
  std::vector<tracking::Tag> tags = DecodeTags(request, "tags").value();
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_EQ(tags[0].value, "");
  EXPECT_EQ(tags[1].value, "v");
  Request bad = Request::FromJsonBody(R"({"tags": [{"value": "v"}]})").value();
  EXPECT_NE(DecodeTags(bad, "tags").status().message().find("'tags[0].key'"), std::string::npos);
}

TEST(TrackingJsonTest, DecodeDatasetInputsRequiresDataset) {
  Request request = Request::FromJsonBody(R"({"datasets": [{"dataset": {"name": "d",
      "digest": "abc", "source_type": "local", "source": "{}", "schema": "{}"},
      "tags": [{"key": "mlflow.data.context", "value": "training"}]}]})")
                        .value();
  std::vector<tracking::DatasetInput> inputs = DecodeDatasetInputs(request, "datasets").value();
  ASSERT_EQ(inputs.size(), 1u);
  EXPECT_EQ(inputs[0].dataset.schema, "{}");
  EXPECT_FALSE(inputs[0].dataset.profile.has_value());
  EXPECT_EQ(inputs[0].tags[0].value, "training");
  Request missing = Request::FromJsonBody(R"({"datasets": [{"tags": []}]})").value();
  EXPECT_FALSE(DecodeDatasetInputs(missing, "datasets").ok());
}

}  // namespace
}  // namespace lakeml::server
