#include "server/registry_json.h"

#include <gtest/gtest.h>

namespace lakeml::server {
namespace {

using nlohmann::json;

registry::ModelVersion SampleVersion() {
  registry::ModelVersion version;
  version.name = "wine_quality";
  version.version = "3";
  version.creation_timestamp = 1700000000123;
  version.last_updated_timestamp = 1700000000456;
  version.current_stage = "Staging";
  version.source = "runs:/0123456789abcdef0123456789abcdef/model";
  version.storage_location = "mlflow-artifacts:/1/0123456789abcdef0123456789abcdef/artifacts/model";
  return version;
}

TEST(RegistryJsonTest, ModelVersionHasTextVersionNumbersAndOmitsUnsetFields) {
  json out = ModelVersionToJson(SampleVersion());
  EXPECT_TRUE(out["version"].is_string());
  EXPECT_EQ(out["version"], "3");
  EXPECT_TRUE(out["creation_timestamp"].is_number_integer());
  EXPECT_EQ(out["status"], "READY");
  EXPECT_EQ(out["current_stage"], "Staging");
  for (const char* absent : {"description", "run_id", "run_link", "user_id", "status_message",
                             "tags", "aliases", "model_id", "storage_location"}) {
    EXPECT_FALSE(out.contains(absent)) << absent;
  }
}

TEST(RegistryJsonTest, ModelVersionListsTagsAndAliases) {
  registry::ModelVersion version = SampleVersion();
  version.run_id = "0123456789abcdef0123456789abcdef";
  version.tags = {{"a", "1"}, {"b", ""}};
  version.aliases = {"champion", "prod"};
  json out = ModelVersionToJson(version);
  EXPECT_EQ(out["run_id"], version.run_id);
  EXPECT_EQ(out["tags"], json::parse(R"([{"key":"a","value":"1"},{"key":"b","value":""}])"));
  EXPECT_EQ(out["aliases"], json::parse(R"(["champion","prod"])"));
}

TEST(RegistryJsonTest, RegisteredModelNestsLatestVersionsAndAliasObjects) {
  registry::RegisteredModel model;
  model.name = "wine_quality";
  model.creation_timestamp = 1;
  model.last_updated_timestamp = 2;
  json bare = RegisteredModelToJson(model);
  EXPECT_EQ(bare.dump(),
            R"({"creation_timestamp":1,"last_updated_timestamp":2,"name":"wine_quality"})");
  model.description = "d";
  model.latest_versions = {SampleVersion()};
  model.aliases = {{"champion", "3"}};
  json out = RegisteredModelToJson(model);
  EXPECT_EQ(out["description"], "d");
  ASSERT_EQ(out["latest_versions"].size(), 1u);
  EXPECT_EQ(out["latest_versions"][0]["version"], "3");
  EXPECT_EQ(out["aliases"], json::parse(R"([{"alias":"champion","version":"3"}])"));
}

TEST(RegistryJsonTest, VersionFieldAcceptsTextAndIntegers) {
  auto decode = [](const char* body) {
    auto request = Request::FromJsonBody(body);
    EXPECT_TRUE(request.ok());
    return DecodeVersionField(*request, "version");
  };
  EXPECT_EQ(*decode(R"({"version": "7"})"), "7");
  EXPECT_EQ(*decode(R"({"version": 7})"), "7");
  EXPECT_EQ(*decode(R"({"version": "abc"})"), "abc");  // the registry judges the text
  EXPECT_EQ(decode(R"({})").status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(decode(R"({"version": ""})").status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(decode(R"({"version": 1.5})").status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(decode(R"({"version": [1]})").status().code(), core::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lakeml::server
