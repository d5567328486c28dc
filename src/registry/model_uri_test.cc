#include "registry/model_uri.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "registry/registry_test_fixture.h"

namespace lakeml::registry {
namespace {

using core::StatusCode;
using testing::Backend;
using testing::RegistryTest;

TEST(ParseModelUriTest, ParsesEveryForm) {
  auto version = ParseModelUri("models:/wine_quality/3");
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(version->kind, ModelUriKind::kVersion);
  EXPECT_EQ(version->name, "wine_quality");
  EXPECT_EQ(version->version, 3);

  auto stage = ParseModelUri("models:/wine_quality/staging");
  ASSERT_TRUE(stage.ok()) << stage.status().ToString();
  EXPECT_EQ(stage->kind, ModelUriKind::kStage);
  EXPECT_EQ(stage->stage, "Staging");

  auto latest = ParseModelUri("models:/wine_quality/LATEST");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->kind, ModelUriKind::kLatest);
  EXPECT_EQ(latest->name, "wine_quality");

  auto alias = ParseModelUri("models:/wine_quality@champion");
  ASSERT_TRUE(alias.ok());
  EXPECT_EQ(alias->kind, ModelUriKind::kAlias);
  EXPECT_EQ(alias->name, "wine_quality");
  EXPECT_EQ(alias->alias, "champion");

  auto logged = ParseModelUri("models:/m-0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(logged.ok());
  EXPECT_EQ(logged->kind, ModelUriKind::kLoggedModel);
  EXPECT_EQ(logged->model_id, "m-0123456789abcdef0123456789abcdef");

  auto run = ParseModelUri("runs:/abc123/model/sub");
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->kind, ModelUriKind::kRun);
  EXPECT_EQ(run->run_id, "abc123");
  EXPECT_EQ(run->path, "model/sub");
  auto run_root = ParseModelUri("runs:/abc123");
  ASSERT_TRUE(run_root.ok());
  EXPECT_EQ(run_root->path, "");
}

TEST(ParseModelUriTest, RefusesMalformedAndUnsafeUris) {
  for (const char* bad : {"",
                          "models:",
                          "models:/",
                          "models:/ ",
                          "models://host/m/1",
                          "models:/m/1/2",
                          "models:/m/",
                          "models:/m/ ",
                          "models:/@a",
                          "models:/m@a/1",
                          "models:/m/Shipping",
                          "models:/m/1?x=1",
                          "models:/m/1#frag",
                          "models:/m/99999999999999999999999",
                          "runs:",
                          "runs:/",
                          "runs://h/id/p",
                          "runs:/id/../x",
                          "runs:/id/..%2fx",
                          "runs:/id/%252e%252e/x",
                          "runs:/id//x",
                          "runs:/id/a\\b",
                          "runs:/i.d/x",
                          "runs:/id/x#y",
                          "s3://bucket/model",
                          "/etc/passwd",
                          "file:///etc",
                          "mlflow-artifacts:/0/r/artifacts/model"}) {
    auto parsed = ParseModelUri(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

class ModelUriTest : public RegistryTest {
 protected:
  void SetUp() override {
    RegistryTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    resolver_ = std::make_unique<ModelUriResolver>(*registry_, *tracking_, *artifacts_);
    run_ = CreateRun();
    model_dir_ = WriteModelDir(run_, "model");
    other_dir_ = WriteModelDir(run_, "other");
    MustCreateModel("wine_quality");
    // v1 = model (Staging), v2 = other (Production), v3 = model (None).
    for (const char* path : {"model", "other", "model"}) {
      CreateModelVersionRequest request;
      request.name = "wine_quality";
      request.source = "runs:/" + run_.info.run_id + "/" + path;
      request.run_id = run_.info.run_id;
      ASSERT_TRUE(registry_->CreateModelVersion(request).ok());
    }
    ASSERT_TRUE(registry_->TransitionModelVersionStage("wine_quality", "1", "Staging", false).ok());
    ASSERT_TRUE(
        registry_->TransitionModelVersionStage("wine_quality", "2", "Production", false).ok());
    ASSERT_TRUE(registry_->SetRegisteredModelAlias("wine_quality", "champion", "2").ok());
  }

  std::filesystem::path Resolve(const std::string& uri) {
    auto local = resolver_->ResolveLocalDirectory(uri);
    EXPECT_TRUE(local.ok()) << uri << ": " << local.status().ToString();
    return local.ok() ? std::filesystem::weakly_canonical(*local) : std::filesystem::path();
  }

  std::unique_ptr<ModelUriResolver> resolver_;
  tracking::Run run_;
  std::filesystem::path model_dir_;
  std::filesystem::path other_dir_;
};

TEST_P(ModelUriTest, ResolvesEveryFormToTheModelDirectory) {
  const auto model = std::filesystem::weakly_canonical(model_dir_);
  const auto other = std::filesystem::weakly_canonical(other_dir_);
  EXPECT_EQ(Resolve("models:/wine_quality/1"), model);
  EXPECT_EQ(Resolve("models:/wine_quality/2"), other);
  EXPECT_EQ(Resolve("models:/wine_quality/Staging"), model);
  EXPECT_EQ(Resolve("models:/wine_quality/staging"), model);
  EXPECT_EQ(Resolve("models:/wine_quality/PRODUCTION"), other);
  EXPECT_EQ(Resolve("models:/wine_quality/None"), model);
  EXPECT_EQ(Resolve("models:/wine_quality@champion"), other);
  EXPECT_EQ(Resolve("models:/wine_quality/latest"), model);  // v3
  EXPECT_EQ(Resolve("runs:/" + run_.info.run_id + "/model"), model);
  EXPECT_EQ(Resolve("runs:/" + run_.info.run_id + "/other/"), other);

  auto version = resolver_->ResolveVersion("models:/wine_quality/latest");
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->version, "3");
  EXPECT_EQ(*resolver_->ResolveArtifactUri("models:/wine_quality@champion"),
            run_.info.artifact_uri + "/other");
  EXPECT_EQ(*resolver_->ResolveArtifactUri("runs:/" + run_.info.run_id + "/model"),
            run_.info.artifact_uri + "/model");
}

TEST_P(ModelUriTest, LatestAndStagesSkipDeletedVersions) {
  ASSERT_TRUE(registry_->DeleteModelVersion("wine_quality", "3").ok());
  EXPECT_EQ(resolver_->ResolveVersion("models:/wine_quality/latest")->version, "2");
  EXPECT_EQ(resolver_->ResolveVersion("models:/wine_quality/None").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(resolver_->ResolveVersion("models:/wine_quality/3").status().code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(registry_->DeleteModelVersion("wine_quality", "2").ok());
  EXPECT_EQ(resolver_->ResolveVersion("models:/wine_quality@champion").status().code(),
            StatusCode::kNotFound);
}

TEST_P(ModelUriTest, ErrorsNameTheUri) {
  struct Case {
    std::string uri;
    StatusCode code;
  };
  const std::vector<Case> cases = {
      {"models:/wine_quality/9", StatusCode::kNotFound},
      {"models:/nope/1", StatusCode::kNotFound},
      {"models:/nope/latest", StatusCode::kNotFound},
      {"models:/wine_quality/Archived", StatusCode::kNotFound},
      {"models:/wine_quality@nope", StatusCode::kNotFound},
      {"runs:/0123456789abcdef0123456789abcdef/model", StatusCode::kNotFound},
      {"runs:/" + run_.info.run_id + "/missing", StatusCode::kNotFound},
      {"models:/m-0123456789abcdef0123456789abcdef", StatusCode::kNotFound},
      {"models:/wine_quality/Shipping", StatusCode::kInvalidArgument},
      {"models:/wine_quality/1/x", StatusCode::kInvalidArgument},
      {"runs:/" + run_.info.run_id + "/../../etc", StatusCode::kInvalidArgument},
      {"file:///etc", StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    auto local = resolver_->ResolveLocalDirectory(c.uri);
    ASSERT_FALSE(local.ok()) << c.uri;
    EXPECT_EQ(local.status().code(), c.code) << c.uri << ": " << local.status().ToString();
    EXPECT_NE(local.status().message().find(c.uri.substr(0, 20)), std::string::npos)
        << local.status().message();
  }
  EXPECT_EQ(resolver_->ResolveVersion("runs:/" + run_.info.run_id + "/model").status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(ModelUriTest, ModelDirectoryIsRemovedAfterRegistration) {
  std::filesystem::remove_all(model_dir_);
  auto local = resolver_->ResolveLocalDirectory("models:/wine_quality/1");
  EXPECT_EQ(local.status().code(), StatusCode::kNotFound);
}

TEST_P(ModelUriTest, SymlinkOutOfTheStoreIsRefused) {
  // A model directory replaced by a link to elsewhere after registration must not be served.
  std::filesystem::remove_all(model_dir_);
  std::filesystem::create_directory_symlink("/etc", model_dir_);
  auto local = resolver_->ResolveLocalDirectory("models:/wine_quality/1");
  ASSERT_FALSE(local.ok());
  EXPECT_EQ(local.status().code(), StatusCode::kInvalidArgument) << local.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(Backends, ModelUriTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::BackendName);

}  // namespace
}  // namespace lakeml::registry
