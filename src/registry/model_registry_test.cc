#include "registry/model_registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "registry/registry_test_fixture.h"

namespace lakeml::registry {
namespace {

using core::StatusCode;
using testing::Backend;
using testing::RegistryTest;

std::vector<std::string> Names(const std::vector<RegisteredModel>& models) {
  std::vector<std::string> names;
  for (const RegisteredModel& model : models) names.push_back(model.name);
  return names;
}

std::vector<std::string> Versions(const std::vector<ModelVersion>& versions) {
  std::vector<std::string> out;
  for (const ModelVersion& version : versions) out.push_back(version.name + "/" + version.version);
  return out;
}

class ModelRegistryTest : public RegistryTest {
 protected:
  Page<RegisteredModel> SearchModels(const std::string& filter,
                                     const std::vector<std::string>& order_by = {},
                                     int64_t max_results = 100, const std::string& token = "") {
    SearchRegisteredModelsRequest request;
    request.filter = filter;
    request.order_by = order_by;
    request.max_results = max_results;
    request.page_token = token;
    auto page = registry_->SearchRegisteredModels(request);
    EXPECT_TRUE(page.ok()) << filter << ": " << page.status().ToString();
    return page.ok() ? *page : Page<RegisteredModel>{};
  }

  Page<ModelVersion> SearchVersions(const std::string& filter,
                                    const std::vector<std::string>& order_by = {},
                                    int64_t max_results = 10000, const std::string& token = "") {
    SearchModelVersionsRequest request;
    request.filter = filter;
    request.order_by = order_by;
    request.max_results = max_results;
    request.page_token = token;
    auto page = registry_->SearchModelVersions(request);
    EXPECT_TRUE(page.ok()) << filter << ": " << page.status().ToString();
    return page.ok() ? *page : Page<ModelVersion>{};
  }

  // Every model_versions row, deleted ones included: "name/version/stage/source/run_id".
  std::vector<std::string> RawVersionRows() {
    std::vector<std::string> out;
    EXPECT_TRUE(db_->Read([&](metastore::Transaction& tx) -> core::Status {
                     LAKEML_ASSIGN_OR_RETURN(
                         auto rows, tx.Query("SELECT name, version, current_stage, source, "
                                             "run_id FROM model_versions ORDER BY name, version"));
                     for (const auto& row : rows) {
                       out.push_back(row.Text(0) + "/" + row.Text(1) + "/" + row.Text(2) + "/" +
                                     row.Text(3) + "/" + row.Text(4));
                     }
                     return core::Status::Ok();
                   })
                    .ok());
    return out;
  }

  core::Status CreateWithSource(const std::string& name, const std::string& source,
                                const std::string& run_id = "", const std::vector<Tag>& tags = {}) {
    CreateModelVersionRequest request;
    request.name = name;
    request.source = source;
    request.run_id = run_id;
    request.tags = tags;
    return registry_->CreateModelVersion(request).status();
  }
};

// ---- Registered models -------------------------------------------------------------------

TEST_P(ModelRegistryTest, CreateAndGetRegisteredModel) {
  auto created = registry_->CreateRegisteredModel(
      "wine_quality", {{"team", "ml"}, {"b", "1"}, {"team", "ds"}}, "predicts quality");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->name, "wine_quality");
  EXPECT_EQ(created->description, "predicts quality");
  EXPECT_GT(created->creation_timestamp, 0);
  EXPECT_EQ(created->creation_timestamp, created->last_updated_timestamp);
  ASSERT_EQ(created->tags.size(), 2u);  // repeated keys: the last value wins

  auto fetched = registry_->GetRegisteredModel("wine_quality");
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_EQ(fetched->name, "wine_quality");
  EXPECT_EQ(fetched->description, "predicts quality");
  EXPECT_EQ(fetched->creation_timestamp, created->creation_timestamp);
  ASSERT_EQ(fetched->tags.size(), 2u);
  EXPECT_EQ(fetched->tags[0].key, "b");
  EXPECT_EQ(fetched->tags[1].key, "team");
  EXPECT_EQ(fetched->tags[1].value, "ds");
  EXPECT_TRUE(fetched->latest_versions.empty());
  EXPECT_TRUE(fetched->aliases.empty());
}

TEST_P(ModelRegistryTest, DuplicateRegisteredModelIsAlreadyExists) {
  MustCreateModel("m");
  auto duplicate = registry_->CreateRegisteredModel("m", {}, "");
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(duplicate.status().message(), "registered model 'm' already exists");
}

TEST_P(ModelRegistryTest, InvalidRegisteredModelInput) {
  EXPECT_EQ(registry_->CreateRegisteredModel("", {}, "").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->CreateRegisteredModel(std::string(257, 'n'), {}, "").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->CreateRegisteredModel("m", {{"../up", "v"}}, "").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      registry_->CreateRegisteredModel("m", {{std::string(251, 'k'), "v"}}, "").status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(
      registry_->CreateRegisteredModel("m", {{"k", std::string(5001, 'v')}}, "").status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      registry_->CreateRegisteredModel("m", {{std::string(250, 'k'), std::string(5000, 'v')}}, "")
          .ok());
  EXPECT_EQ(registry_->GetRegisteredModel("").status().code(), StatusCode::kInvalidArgument);
}

TEST_P(ModelRegistryTest, UnknownRegisteredModelIsNotFound) {
  auto missing = registry_->GetRegisteredModel("nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "registered model 'nope' not found");
  EXPECT_EQ(registry_->UpdateRegisteredModel("nope", "d").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->RenameRegisteredModel("nope", "x").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->DeleteRegisteredModel("nope").code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->SetRegisteredModelTag("nope", {"k", "v"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->DeleteRegisteredModelTag("nope", "k").code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->GetLatestVersions("nope", {}).status().code(), StatusCode::kNotFound);
  CreateModelVersionRequest request;
  request.name = "nope";
  request.source = "mlflow-artifacts:/0/r/artifacts/model";
  EXPECT_EQ(registry_->CreateModelVersion(request).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->GetModelVersion("nope", "1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->SetRegisteredModelAlias("nope", "a", "1").code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->DeleteRegisteredModelAlias("nope", "a").code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->GetModelVersionByAlias("nope", "a").status().code(), StatusCode::kNotFound);
}

TEST_P(ModelRegistryTest, UpdateRegisteredModelDescription) {
  const RegisteredModel created = MustCreateModel("m");
  auto updated = registry_->UpdateRegisteredModel("m", "new text");
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->description, "new text");
  EXPECT_GT(updated->last_updated_timestamp, created.last_updated_timestamp);
  EXPECT_EQ(registry_->GetRegisteredModel("m")->description, "new text");
  EXPECT_EQ(registry_->UpdateRegisteredModel("m", std::string(5001, 'd')).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(ModelRegistryTest, RenameMovesVersionsTagsAndAliases) {
  MustCreateModel("old");
  ASSERT_TRUE(registry_->SetRegisteredModelTag("old", {"team", "ml"}).ok());
  MustCreateVersion("old", {{"validated", "yes"}});
  MustCreateVersion("old");
  ASSERT_TRUE(registry_->SetRegisteredModelAlias("old", "champion", "2").ok());
  ASSERT_TRUE(registry_->TransitionModelVersionStage("old", "1", "Production", false).ok());
  MustCreateModel("taken");

  auto clash = registry_->RenameRegisteredModel("old", "taken");
  EXPECT_EQ(clash.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(clash.status().message(), "registered model 'taken' already exists");

  auto renamed = registry_->RenameRegisteredModel("old", "new");
  ASSERT_TRUE(renamed.ok()) << renamed.status().ToString();
  EXPECT_EQ(renamed->name, "new");
  ASSERT_EQ(renamed->tags.size(), 1u);
  EXPECT_EQ(renamed->tags[0].key, "team");
  ASSERT_EQ(renamed->aliases.size(), 1u);
  EXPECT_EQ(renamed->aliases[0].alias, "champion");
  EXPECT_EQ(renamed->aliases[0].version, "2");
  ASSERT_EQ(renamed->latest_versions.size(), 2u);
  for (const ModelVersion& version : renamed->latest_versions) EXPECT_EQ(version.name, "new");

  EXPECT_EQ(registry_->GetRegisteredModel("old").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->GetModelVersion("old", "1").status().code(), StatusCode::kNotFound);
  auto v1 = registry_->GetModelVersion("new", "1");
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(v1->current_stage, "Production");
  ASSERT_EQ(v1->tags.size(), 1u);
  EXPECT_EQ(v1->tags[0].key, "validated");
  auto by_alias = registry_->GetModelVersionByAlias("new", "champion");
  ASSERT_TRUE(by_alias.ok()) << by_alias.status().ToString();
  EXPECT_EQ(by_alias->version, "2");
  EXPECT_EQ(Versions(SearchVersions("name = 'new'").items),
            (std::vector<std::string>{"new/2", "new/1"}));
  EXPECT_TRUE(SearchVersions("name = 'old'").items.empty());
  // The next version continues the renamed model's numbering.
  EXPECT_EQ(MustCreateVersion("new").version, "3");
}

TEST_P(ModelRegistryTest, DeleteRegisteredModelCascades) {
  MustCreateModel("m");
  ASSERT_TRUE(registry_->SetRegisteredModelTag("m", {"k", "v"}).ok());
  MustCreateVersion("m", {{"t", "1"}});
  MustCreateVersion("m");
  ASSERT_TRUE(registry_->SetRegisteredModelAlias("m", "prod", "1").ok());
  MustCreateModel("other");
  MustCreateVersion("other");

  ASSERT_TRUE(registry_->DeleteRegisteredModel("m").ok());
  EXPECT_EQ(registry_->GetRegisteredModel("m").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->GetModelVersionByAlias("m", "prod").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Versions(SearchVersions("").items), (std::vector<std::string>{"other/1"}));
  EXPECT_EQ(RawVersionRows().size(), 1u);

  // The name is free again and numbering restarts.
  auto again = registry_->CreateRegisteredModel("m", {}, "");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->tags.empty());
  EXPECT_EQ(MustCreateVersion("m").version, "1");
}

TEST_P(ModelRegistryTest, RegisteredModelTags) {
  MustCreateModel("m");
  ASSERT_TRUE(registry_->SetRegisteredModelTag("m", {"k", "v1"}).ok());
  ASSERT_TRUE(registry_->SetRegisteredModelTag("m", {"k", "v2"}).ok());
  auto model = registry_->GetRegisteredModel("m");
  ASSERT_EQ(model->tags.size(), 1u);
  EXPECT_EQ(model->tags[0].value, "v2");
  EXPECT_TRUE(registry_->DeleteRegisteredModelTag("m", "k").ok());
  EXPECT_TRUE(registry_->GetRegisteredModel("m")->tags.empty());
  // As MLflow's SQL store: deleting a key the model does not have succeeds.
  EXPECT_TRUE(registry_->DeleteRegisteredModelTag("m", "never-set").ok());
  EXPECT_EQ(registry_->SetRegisteredModelTag("m", {"", "v"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->SetRegisteredModelTag("m", {"k", std::string(5001, 'x')}).code(),
            StatusCode::kInvalidArgument);
}

TEST_P(ModelRegistryTest, SearchRegisteredModelsFiltersAndOrders) {
  for (const char* name : {"alpha", "Beta", "beta-2", "gamma", "delta"}) MustCreateModel(name);
  ASSERT_TRUE(registry_->SetRegisteredModelTag("gamma", {"team", "ml"}).ok());
  ASSERT_TRUE(registry_->SetRegisteredModelTag("delta", {"team", "ds"}).ok());

  EXPECT_EQ(Names(SearchModels("").items),
            (std::vector<std::string>{"Beta", "alpha", "beta-2", "delta", "gamma"}));
  EXPECT_EQ(Names(SearchModels("name = 'alpha'").items), (std::vector<std::string>{"alpha"}));
  EXPECT_EQ(Names(SearchModels("name != 'alpha'").items).size(), 4u);
  EXPECT_EQ(Names(SearchModels("name LIKE 'beta%'").items), (std::vector<std::string>{"beta-2"}));
  EXPECT_EQ(Names(SearchModels("name ILIKE 'beta%'").items),
            (std::vector<std::string>{"Beta", "beta-2"}));
  EXPECT_EQ(Names(SearchModels("tags.team = 'ml'").items), (std::vector<std::string>{"gamma"}));
  EXPECT_EQ(Names(SearchModels("tags.team LIKE '%'").items),
            (std::vector<std::string>{"delta", "gamma"}));
  EXPECT_EQ(Names(SearchModels("tags.team != 'ml' AND name LIKE '%a'").items),
            (std::vector<std::string>{"delta"}));

  EXPECT_EQ(Names(SearchModels("", {"name DESC"}).items),
            (std::vector<std::string>{"gamma", "delta", "beta-2", "alpha", "Beta"}));
  EXPECT_EQ(Names(SearchModels("", {"creation_timestamp DESC"}).items),
            (std::vector<std::string>{"delta", "gamma", "beta-2", "Beta", "alpha"}));
  EXPECT_EQ(Names(SearchModels("", {"timestamp"}).items),
            (std::vector<std::string>{"alpha", "Beta", "beta-2", "gamma", "delta"}));
  ASSERT_TRUE(registry_->UpdateRegisteredModel("alpha", "touched").ok());
  EXPECT_EQ(Names(SearchModels("", {"last_updated_timestamp DESC"}).items).front(), "alpha");
}

TEST_P(ModelRegistryTest, SearchRegisteredModelsPaginates) {
  for (int i = 0; i < 7; ++i) MustCreateModel(fmt::format("model-{}", i));
  for (const std::vector<std::string>& order_by :
       {std::vector<std::string>{}, std::vector<std::string>{"creation_timestamp DESC"}}) {
    std::vector<std::string> seen;
    std::string token;
    int pages = 0;
    do {
      Page<RegisteredModel> page = SearchModels("", order_by, 3, token);
      for (const auto& model : page.items) seen.push_back(model.name);
      token = page.next_page_token;
      ++pages;
    } while (!token.empty() && pages < 10);
    EXPECT_EQ(pages, 3);
    ASSERT_EQ(seen.size(), 7u);
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 7u);
  }
  SearchRegisteredModelsRequest request;
  request.max_results = 1001;
  EXPECT_EQ(registry_->SearchRegisteredModels(request).status().code(),
            StatusCode::kInvalidArgument);
  request.max_results = 0;
  EXPECT_EQ(registry_->SearchRegisteredModels(request).status().code(),
            StatusCode::kInvalidArgument);
  request.max_results = 1000;
  request.page_token = "garbage";
  EXPECT_EQ(registry_->SearchRegisteredModels(request).status().code(),
            StatusCode::kInvalidArgument);
  // A token from another query is refused rather than silently skipping rows.
  const std::string token = SearchModels("", {}, 2).next_page_token;
  ASSERT_FALSE(token.empty());
  request.page_token = token;
  request.filter = "name LIKE 'model%'";
  EXPECT_EQ(registry_->SearchRegisteredModels(request).status().code(),
            StatusCode::kInvalidArgument);
  request = {};
  request.filter = "name > 'a'";
  EXPECT_EQ(registry_->SearchRegisteredModels(request).status().code(),
            StatusCode::kInvalidArgument);
  request.filter = "run_id = 'a'";
  EXPECT_EQ(registry_->SearchRegisteredModels(request).status().code(),
            StatusCode::kInvalidArgument);
  request.filter = "";
  request.order_by = {"name", "name DESC"};
  EXPECT_EQ(registry_->SearchRegisteredModels(request).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(ModelRegistryTest, SearchHidesPromptsUnlessTheFilterNamesTheTag) {
  MustCreateModel("model");
  ASSERT_TRUE(
      registry_->CreateRegisteredModel("prompt", {{"mlflow.prompt.is_prompt", "true"}}, "").ok());
  ASSERT_TRUE(
      registry_->CreateRegisteredModel("not-prompt", {{"mlflow.prompt.is_prompt", "false"}}, "")
          .ok());
  MustCreateVersion("model");
  MustCreateVersion("prompt", {{"mlflow.prompt.is_prompt", "true"}});

  EXPECT_EQ(Names(SearchModels("").items), (std::vector<std::string>{"model", "not-prompt"}));
  EXPECT_EQ(Names(SearchModels("tags.`mlflow.prompt.is_prompt` = 'true'").items),
            (std::vector<std::string>{"prompt"}));
  EXPECT_EQ(Names(SearchModels("tags.`mlflow.prompt.is_prompt` != 'true'").items),
            (std::vector<std::string>{"model", "not-prompt"}));
  EXPECT_EQ(Names(SearchModels("tags.`mlflow.prompt.is_prompt` = 'false'").items),
            (std::vector<std::string>{"model", "not-prompt"}));
  EXPECT_EQ(Versions(SearchVersions("").items), (std::vector<std::string>{"model/1"}));
  EXPECT_EQ(Versions(SearchVersions("tags.`mlflow.prompt.is_prompt` = 'true'").items),
            (std::vector<std::string>{"prompt/1"}));
  // Direct reads are not filtered.
  EXPECT_TRUE(registry_->GetRegisteredModel("prompt").ok());
}

TEST_P(ModelRegistryTest, LatestVersionsAndAliasesOnGetAndSearch) {
  MustCreateModel("m");
  for (int i = 0; i < 5; ++i) MustCreateVersion("m");
  ASSERT_TRUE(registry_->TransitionModelVersionStage("m", "1", "Production", false).ok());
  ASSERT_TRUE(registry_->TransitionModelVersionStage("m", "2", "Staging", false).ok());
  ASSERT_TRUE(registry_->TransitionModelVersionStage("m", "3", "Staging", false).ok());
  ASSERT_TRUE(registry_->TransitionModelVersionStage("m", "5", "Archived", false).ok());
  ASSERT_TRUE(registry_->SetRegisteredModelAlias("m", "champion", "1").ok());
  ASSERT_TRUE(registry_->SetRegisteredModelAlias("m", "challenger", "3").ok());

  for (const RegisteredModel& model :
       {*registry_->GetRegisteredModel("m"), SearchModels("name = 'm'").items.at(0)}) {
    std::vector<std::string> latest;
    for (const auto& version : model.latest_versions) {
      latest.push_back(version.version + ":" + version.current_stage);
    }
    EXPECT_EQ(latest,
              (std::vector<std::string>{"1:Production", "3:Staging", "4:None", "5:Archived"}));
    ASSERT_EQ(model.aliases.size(), 2u);
    EXPECT_EQ(model.aliases[0].alias, "challenger");
    EXPECT_EQ(model.aliases[0].version, "3");
    EXPECT_EQ(model.aliases[1].alias, "champion");
    EXPECT_EQ(model.aliases[1].version, "1");
    EXPECT_EQ(model.latest_versions[0].aliases, (std::vector<std::string>{"champion"}));
  }
}

TEST_P(ModelRegistryTest, GetLatestVersionsPerStage) {
  MustCreateModel("m");
  for (int i = 0; i < 4; ++i) MustCreateVersion("m");
  ASSERT_TRUE(registry_->TransitionModelVersionStage("m", "1", "staging", false).ok());
  ASSERT_TRUE(registry_->TransitionModelVersionStage("m", "2", "PRODUCTION", false).ok());
  ASSERT_TRUE(registry_->TransitionModelVersionStage("m", "3", "Staging", false).ok());

  auto staging = registry_->GetLatestVersions("m", {"sTaGiNg"});
  ASSERT_TRUE(staging.ok()) << staging.status().ToString();
  EXPECT_EQ(Versions(*staging), (std::vector<std::string>{"m/3"}));
  EXPECT_EQ(staging->at(0).current_stage, "Staging");

  auto all = registry_->GetLatestVersions("m", {});
  ASSERT_TRUE(all.ok());
  std::vector<std::string> stages;
  for (const auto& version : *all) stages.push_back(version.current_stage + ":" + version.version);
  EXPECT_EQ(stages, (std::vector<std::string>{"None:4", "Staging:3", "Production:2"}));

  auto two = registry_->GetLatestVersions("m", {"Production", "None"});
  EXPECT_EQ(Versions(*two), (std::vector<std::string>{"m/4", "m/2"}));
  EXPECT_TRUE(registry_->GetLatestVersions("m", {"Archived"})->empty());
  EXPECT_EQ(registry_->GetLatestVersions("m", {"Shipping"}).status().code(),
            StatusCode::kInvalidArgument);

  ASSERT_TRUE(registry_->DeleteModelVersion("m", "3").ok());
  EXPECT_EQ(Versions(*registry_->GetLatestVersions("m", {"Staging"})),
            (std::vector<std::string>{"m/1"}));
}

// ---- Model versions ----------------------------------------------------------------------

TEST_P(ModelRegistryTest, CreateModelVersionsNumbersFromOne) {
  MustCreateModel("m");
  const tracking::Run run = CreateRun();
  CreateModelVersionRequest request;
  request.name = "m";
  request.source = "runs:/" + run.info.run_id + "/model";
  request.run_id = run.info.run_id;
  request.run_link = "http://ui/run";
  request.description = "first";
  request.tags = {{"validated", "true"}};
  auto first = registry_->CreateModelVersion(request);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->version, "1");
  EXPECT_EQ(first->status, ModelVersionStatus::kReady);
  EXPECT_EQ(first->current_stage, "None");
  EXPECT_EQ(first->source, request.source);
  EXPECT_EQ(first->storage_location, run.info.artifact_uri + "/model");
  EXPECT_EQ(first->run_id, run.info.run_id);

  auto fetched = registry_->GetModelVersion("m", "1");
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_EQ(fetched->description, "first");
  EXPECT_EQ(fetched->run_link, "http://ui/run");
  EXPECT_EQ(fetched->status, ModelVersionStatus::kReady);
  ASSERT_EQ(fetched->tags.size(), 1u);
  EXPECT_EQ(fetched->tags[0].value, "true");
  EXPECT_EQ(fetched->creation_timestamp, first->creation_timestamp);

  EXPECT_EQ(MustCreateVersion("m").version, "2");
  EXPECT_EQ(MustCreateVersion("m").version, "3");
  // Creating a version touches the model.
  EXPECT_GT(registry_->GetRegisteredModel("m")->last_updated_timestamp,
            fetched->creation_timestamp);
}

TEST_P(ModelRegistryTest, VersionMustBeAnInteger) {
  MustCreateModel("m");
  MustCreateVersion("m");
  for (const char* bad : {"abc", "", "1.5", "1a", " 1", "99999999999999999999999"}) {
    auto result = registry_->GetModelVersion("m", bad);
    ASSERT_FALSE(result.ok()) << bad;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(result.status().message().find("Model version must be an integer"),
              std::string::npos);
    EXPECT_EQ(registry_->TransitionModelVersionStage("m", bad, "Staging", false).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(registry_->SetRegisteredModelAlias("m", "a", bad).code(),
              StatusCode::kInvalidArgument);
  }
  auto missing = registry_->GetModelVersion("m", "7");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "model version 7 of registered model 'm' not found");
  EXPECT_TRUE(registry_->GetModelVersion("m", "+1").ok());
}

TEST_P(ModelRegistryTest, UpdateModelVersionDescription) {
  MustCreateModel("m");
  const ModelVersion created = MustCreateVersion("m");
  auto updated = registry_->UpdateModelVersion("m", "1", "better");
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->description, "better");
  EXPECT_GT(updated->last_updated_timestamp, created.last_updated_timestamp);
  EXPECT_EQ(registry_->GetModelVersion("m", "1")->description, "better");
  EXPECT_EQ(registry_->UpdateModelVersion("m", "2", "x").status().code(), StatusCode::kNotFound);
}

TEST_P(ModelRegistryTest, DeletedVersionsAreHiddenRedactedAndNeverReused) {
  MustCreateModel("m");
  MustCreateVersion("m");
  MustCreateVersion("m");
  MustCreateVersion("m");
  ASSERT_TRUE(registry_->TransitionModelVersionStage("m", "3", "Production", false).ok());
  ASSERT_TRUE(registry_->SetRegisteredModelAlias("m", "prod", "3").ok());
  ASSERT_TRUE(registry_->SetRegisteredModelAlias("m", "keep", "1").ok());

  ASSERT_TRUE(registry_->DeleteModelVersion("m", "3").ok());
  EXPECT_EQ(registry_->GetModelVersion("m", "3").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->GetModelVersionDownloadUri("m", "3").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->DeleteModelVersion("m", "3").code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->UpdateModelVersion("m", "3", "x").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->TransitionModelVersionStage("m", "3", "Staging", false).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(registry_->SetModelVersionTag("m", "3", {"k", "v"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->SetRegisteredModelAlias("m", "again", "3").code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->GetModelVersionByAlias("m", "prod").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Versions(SearchVersions("name = 'm'").items), (std::vector<std::string>{"m/2", "m/1"}));
  EXPECT_TRUE(registry_->GetLatestVersions("m", {"Production"})->empty());
  auto model = registry_->GetRegisteredModel("m");
  ASSERT_EQ(model->aliases.size(), 1u);
  EXPECT_EQ(model->aliases[0].alias, "keep");
  for (const auto& version : model->latest_versions) EXPECT_NE(version.version, "3");

  const std::vector<std::string> rows = RawVersionRows();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2], "m/3/Deleted_Internal/REDACTED-SOURCE-PATH/REDACTED-RUN-ID");
  EXPECT_EQ(MustCreateVersion("m").version, "4");
  EXPECT_EQ(
      registry_->TransitionModelVersionStage("m", "1", "Deleted_Internal", false).status().code(),
      StatusCode::kInvalidArgument);
}

TEST_P(ModelRegistryTest, SearchModelVersionsFiltersOrdersAndPaginates) {
  const tracking::Run run_a = CreateRun();
  const tracking::Run run_b = CreateRun();
  MustCreateModel("a");
  MustCreateModel("b");
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        CreateWithSource("a", "runs:/" + run_a.info.run_id + "/model", run_a.info.run_id).ok());
  }
  ASSERT_TRUE(
      CreateWithSource("b", "runs:/" + run_b.info.run_id + "/model", run_b.info.run_id).ok());
  ASSERT_TRUE(CreateWithSource("b", "mlflow-artifacts:/0/x/artifacts/other").ok());
  ASSERT_TRUE(registry_->SetModelVersionTag("a", "2", {"validated", "true"}).ok());
  ASSERT_TRUE(registry_->SetModelVersionTag("b", "1", {"validated", "false"}).ok());

  EXPECT_EQ(Versions(SearchVersions("").items),
            (std::vector<std::string>{"a/3", "a/2", "a/1", "b/2", "b/1"}));
  EXPECT_EQ(Versions(SearchVersions("name = 'b'").items), (std::vector<std::string>{"b/2", "b/1"}));
  EXPECT_EQ(Versions(SearchVersions("run_id = '" + run_b.info.run_id + "'").items),
            (std::vector<std::string>{"b/1"}));
  EXPECT_EQ(Versions(SearchVersions("run_id != '" + run_a.info.run_id + "'").items),
            (std::vector<std::string>{"b/1"}));
  EXPECT_EQ(Versions(SearchVersions("run_id IN ('" + run_b.info.run_id + "', 'zzz')").items),
            (std::vector<std::string>{"b/1"}));
  // Ids with uppercase letters are dropped (MLflow's MySQL rule), leaving an empty IN list.
  EXPECT_TRUE(SearchVersions("run_id IN ('ABC')").items.empty());
  EXPECT_EQ(Versions(SearchVersions("source_path LIKE '%other'").items),
            (std::vector<std::string>{"b/2"}));
  EXPECT_EQ(Versions(SearchVersions("version_number > 1 AND name = 'a'").items),
            (std::vector<std::string>{"a/3", "a/2"}));
  EXPECT_EQ(Versions(SearchVersions("version_number = 2").items),
            (std::vector<std::string>{"a/2", "b/2"}));
  EXPECT_EQ(Versions(SearchVersions("version_number <= 1.5").items),
            (std::vector<std::string>{"a/1", "b/1"}));
  EXPECT_EQ(Versions(SearchVersions("tags.validated = 'true'").items),
            (std::vector<std::string>{"a/2"}));
  EXPECT_EQ(Versions(SearchVersions("tags.validated IN ('true', 'false')").items),
            (std::vector<std::string>{"a/2", "b/1"}));
  EXPECT_EQ(Versions(SearchVersions("tags.validated ILIKE 'TR%' AND name = 'a'").items),
            (std::vector<std::string>{"a/2"}));

  EXPECT_EQ(Versions(SearchVersions("", {"version_number ASC"}).items),
            (std::vector<std::string>{"a/1", "b/1", "a/2", "b/2", "a/3"}));
  EXPECT_EQ(Versions(SearchVersions("", {"name DESC"}).items),
            (std::vector<std::string>{"b/2", "b/1", "a/3", "a/2", "a/1"}));
  EXPECT_EQ(Versions(SearchVersions("", {"creation_timestamp DESC"}).items),
            (std::vector<std::string>{"b/2", "b/1", "a/3", "a/2", "a/1"}));
  ASSERT_TRUE(registry_->UpdateModelVersion("a", "1", "touched").ok());
  EXPECT_EQ(Versions(SearchVersions("", {"last_updated_timestamp DESC"}).items).front(), "a/1");

  std::vector<std::string> paged;
  std::string token;
  int pages = 0;
  do {
    Page<ModelVersion> page = SearchVersions("", {}, 2, token);
    for (const auto& version : page.items) paged.push_back(version.name + "/" + version.version);
    token = page.next_page_token;
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(paged, (std::vector<std::string>{"a/3", "a/2", "a/1", "b/2", "b/1"}));

  SearchModelVersionsRequest request;
  request.max_results = 200001;
  EXPECT_EQ(registry_->SearchModelVersions(request).status().code(), StatusCode::kInvalidArgument);
  request.max_results = 200000;
  request.filter = "version_number = 'x'";
  EXPECT_EQ(registry_->SearchModelVersions(request).status().code(), StatusCode::kInvalidArgument);
  request.filter = "name IN ('a')";
  EXPECT_EQ(registry_->SearchModelVersions(request).status().code(), StatusCode::kInvalidArgument);
  request.filter = "metrics.x > 1";
  EXPECT_EQ(registry_->SearchModelVersions(request).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(ModelRegistryTest, TransitionStagesCaseInsensitively) {
  MustCreateModel("m");
  MustCreateVersion("m");
  for (const auto& [in, out] :
       std::vector<std::pair<std::string, std::string>>{{"staging", "Staging"},
                                                        {"PRODUCTION", "Production"},
                                                        {"archived", "Archived"},
                                                        {"none", "None"}}) {
    auto moved = registry_->TransitionModelVersionStage("m", "1", in, false);
    ASSERT_TRUE(moved.ok()) << in << ": " << moved.status().ToString();
    EXPECT_EQ(moved->current_stage, out);
    EXPECT_EQ(registry_->GetModelVersion("m", "1")->current_stage, out);
  }
  auto bad = registry_->TransitionModelVersionStage("m", "1", "Shipping", false);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("Invalid Model Version stage"), std::string::npos);
  EXPECT_EQ(registry_->TransitionModelVersionStage("m", "2", "Staging", false).status().code(),
            StatusCode::kNotFound);
}

TEST_P(ModelRegistryTest, ArchiveExistingVersionsMovesOnlyTheTargetStage) {
  MustCreateModel("m");
  for (int i = 0; i < 4; ++i) MustCreateVersion("m");
  ASSERT_TRUE(registry_->TransitionModelVersionStage("m", "1", "Production", false).ok());
  ASSERT_TRUE(registry_->TransitionModelVersionStage("m", "2", "Production", false).ok());
  ASSERT_TRUE(registry_->TransitionModelVersionStage("m", "3", "Staging", false).ok());

  auto promoted = registry_->TransitionModelVersionStage("m", "4", "production", true);
  ASSERT_TRUE(promoted.ok()) << promoted.status().ToString();
  EXPECT_EQ(promoted->current_stage, "Production");
  EXPECT_EQ(registry_->GetModelVersion("m", "1")->current_stage, "Archived");
  EXPECT_EQ(registry_->GetModelVersion("m", "2")->current_stage, "Archived");
  EXPECT_EQ(registry_->GetModelVersion("m", "3")->current_stage, "Staging");

  // Re-transitioning the sole holder with archiving keeps it in place.
  ASSERT_TRUE(registry_->TransitionModelVersionStage("m", "4", "Production", true).ok());
  EXPECT_EQ(registry_->GetModelVersion("m", "4")->current_stage, "Production");

  for (const char* stage : {"Archived", "None"}) {
    auto refused = registry_->TransitionModelVersionStage("m", "3", stage, true);
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument) << stage;
  }
  EXPECT_EQ(registry_->GetModelVersion("m", "3")->current_stage, "Staging");
}

// Readers must never see the intermediate state of an archiving transition: exactly one version
// is in Production at every instant.
TEST_P(ModelRegistryTest, ArchiveExistingVersionsIsOneTransaction) {
  MustCreateModel("m");
  MustCreateVersion("m");
  MustCreateVersion("m");
  ASSERT_TRUE(registry_->TransitionModelVersionStage("m", "1", "Production", false).ok());
  std::atomic<bool> writing{true};
  std::atomic<int> reads{0};
  std::thread writer([&] {
    for (int i = 0; i < 40; ++i) {
      const std::string version = i % 2 == 0 ? "2" : "1";
      auto moved = registry_->TransitionModelVersionStage("m", version, "Production", true);
      EXPECT_TRUE(moved.ok()) << moved.status().ToString();
    }
    writing = false;
  });
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (writing) {
        SearchModelVersionsRequest request;
        request.filter = "name = 'm'";
        auto page = registry_->SearchModelVersions(request);
        ASSERT_TRUE(page.ok()) << page.status().ToString();
        int production = 0;
        for (const auto& version : page->items) production += version.current_stage == "Production";
        EXPECT_EQ(production, 1);
        ++reads;
      }
    });
  }
  writer.join();
  for (auto& reader : readers) reader.join();
  EXPECT_GT(reads.load(), 0);
}

TEST_P(ModelRegistryTest, ConcurrentCreatesGiveVersionsOneToTwenty) {
  MustCreateModel("m");
  MustCreateModel("other");
  constexpr int kThreads = 20;
  std::vector<std::thread> threads;
  std::vector<core::Result<ModelVersion>> results(kThreads, core::Internal("not run"));
  std::atomic<bool> go{false};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      CreateModelVersionRequest request;
      request.name = i % 5 == 4 ? "other" : "m";
      request.source = fmt::format("mlflow-artifacts:/0/run{}/artifacts/model", i);
      results[i] = registry_->CreateModelVersion(request);
    });
  }
  go = true;
  for (auto& thread : threads) thread.join();
  std::set<int64_t> m_versions;
  std::set<int64_t> other_versions;
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_TRUE(results[i].ok()) << results[i].status().ToString();
    (i % 5 == 4 ? other_versions : m_versions).insert(*ParseVersion(results[i]->version));
  }
  EXPECT_EQ(m_versions, (std::set<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}));
  EXPECT_EQ(other_versions, (std::set<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(SearchVersions("name = 'm'").items.size(), 16u);

  // And a single model under 20 concurrent creators.
  MustCreateModel("solo");
  threads.clear();
  go = false;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      CreateModelVersionRequest request;
      request.name = "solo";
      request.source = "mlflow-artifacts:/0/run/artifacts/model";
      results[i] = registry_->CreateModelVersion(request);
    });
  }
  go = true;
  for (auto& thread : threads) thread.join();
  std::set<int64_t> solo;
  for (const auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    solo.insert(*ParseVersion(result->version));
  }
  ASSERT_EQ(solo.size(), 20u);
  EXPECT_EQ(*solo.begin(), 1);
  EXPECT_EQ(*solo.rbegin(), 20);
}

TEST_P(ModelRegistryTest, ModelVersionTags) {
  MustCreateModel("m");
  MustCreateVersion("m");
  ASSERT_TRUE(registry_->SetModelVersionTag("m", "1", {"k", "a"}).ok());
  ASSERT_TRUE(registry_->SetModelVersionTag("m", "1", {"k", "b"}).ok());
  ASSERT_TRUE(registry_->SetModelVersionTag("m", "1", {"j", "c"}).ok());
  auto version = registry_->GetModelVersion("m", "1");
  ASSERT_EQ(version->tags.size(), 2u);
  EXPECT_EQ(version->tags[0].key, "j");
  EXPECT_EQ(version->tags[1].value, "b");
  ASSERT_TRUE(registry_->DeleteModelVersionTag("m", "1", "k").ok());
  EXPECT_TRUE(registry_->DeleteModelVersionTag("m", "1", "never-set").ok());
  EXPECT_EQ(registry_->GetModelVersion("m", "1")->tags.size(), 1u);
  EXPECT_EQ(registry_->SetModelVersionTag("m", "2", {"k", "v"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->DeleteModelVersionTag("m", "2", "k").code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->SetModelVersionTag("m", "x", {"k", "v"}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->SetModelVersionTag("m", "1", {std::string(251, 'k'), "v"}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->SetModelVersionTag("m", "1", {"k", std::string(5001, 'v')}).code(),
            StatusCode::kInvalidArgument);
}

TEST_P(ModelRegistryTest, DownloadUriIsTheResolvedStorageLocation) {
  MustCreateModel("m");
  const tracking::Run run = CreateRun();
  ASSERT_TRUE(CreateWithSource("m", "mlflow-artifacts:/0/r/artifacts/model").ok());
  ASSERT_TRUE(CreateWithSource("m", "runs:/" + run.info.run_id + "/sub/model").ok());
  ASSERT_TRUE(registry_->SetRegisteredModelAlias("m", "best", "2").ok());
  ASSERT_TRUE(CreateWithSource("m", "models:/m@best").ok());
  ASSERT_TRUE(CreateWithSource("m", "models:/m/1").ok());
  EXPECT_EQ(*registry_->GetModelVersionDownloadUri("m", "1"),
            "mlflow-artifacts:/0/r/artifacts/model");
  EXPECT_EQ(*registry_->GetModelVersionDownloadUri("m", "2"), run.info.artifact_uri + "/sub/model");
  EXPECT_EQ(*registry_->GetModelVersionDownloadUri("m", "3"), run.info.artifact_uri + "/sub/model");
  EXPECT_EQ(*registry_->GetModelVersionDownloadUri("m", "4"),
            "mlflow-artifacts:/0/r/artifacts/model");
  EXPECT_EQ(registry_->GetModelVersion("m", "3")->source, "models:/m@best");
  EXPECT_EQ(registry_->GetModelVersionDownloadUri("m", "9").status().code(), StatusCode::kNotFound);
}

// ---- Aliases -----------------------------------------------------------------------------

TEST_P(ModelRegistryTest, AliasesSetMoveDeleteAndResolve) {
  MustCreateModel("m");
  MustCreateVersion("m");
  MustCreateVersion("m");
  ASSERT_TRUE(registry_->SetRegisteredModelAlias("m", "champion", "1").ok());
  ASSERT_TRUE(registry_->SetRegisteredModelAlias("m", "Also-OK_2", "1").ok());
  auto by_alias = registry_->GetModelVersionByAlias("m", "champion");
  ASSERT_TRUE(by_alias.ok()) << by_alias.status().ToString();
  EXPECT_EQ(by_alias->version, "1");
  EXPECT_EQ(by_alias->aliases, (std::vector<std::string>{"Also-OK_2", "champion"}));

  // Setting again moves the alias.
  ASSERT_TRUE(registry_->SetRegisteredModelAlias("m", "champion", "2").ok());
  EXPECT_EQ(registry_->GetModelVersionByAlias("m", "champion")->version, "2");
  EXPECT_EQ(registry_->GetModelVersion("m", "1")->aliases, (std::vector<std::string>{"Also-OK_2"}));
  EXPECT_EQ(registry_->GetModelVersion("m", "2")->aliases, (std::vector<std::string>{"champion"}));
  EXPECT_EQ(SearchVersions("name = 'm'").items.at(0).aliases,
            (std::vector<std::string>{"champion"}));

  ASSERT_TRUE(registry_->DeleteRegisteredModelAlias("m", "champion").ok());
  auto gone = registry_->GetModelVersionByAlias("m", "champion");
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(gone.status().message(), "alias 'champion' of registered model 'm' not found");
  EXPECT_TRUE(registry_->DeleteRegisteredModelAlias("m", "champion").ok());
  EXPECT_EQ(registry_->SetRegisteredModelAlias("m", "x", "3").code(), StatusCode::kNotFound);
}

TEST_P(ModelRegistryTest, AliasNameRules) {
  MustCreateModel("m");
  MustCreateVersion("m");
  for (const std::string& bad :
       {std::string("latest"), std::string("LATEST"), std::string("Latest"), std::string("v1"),
        std::string("V12"), std::string("v0"), std::string(""), std::string("a b"),
        std::string("a/b"), std::string("a.b"), std::string("a@b"), std::string("../x"),
        std::string(256, 'a')}) {
    EXPECT_EQ(registry_->SetRegisteredModelAlias("m", bad, "1").code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
  for (const std::string& good : {std::string("v"), std::string("v1a"), std::string("version1"),
                                  std::string("latest-2"), std::string(255, 'a')}) {
    EXPECT_TRUE(registry_->SetRegisteredModelAlias("m", good, "1").ok()) << good;
  }
}

// ---- Source validation -------------------------------------------------------------------

TEST_P(ModelRegistryTest, AcceptedSources) {
  MustCreateModel("m");
  const tracking::Run run = CreateRun();
  const std::filesystem::path model_dir = WriteModelDir(run, "model");
  const std::string run_id = run.info.run_id;
  struct Case {
    std::string source;
    std::string run_id;
    std::string storage;
  };
  const std::vector<Case> cases = {
      {"mlflow-artifacts:/0/" + run_id + "/artifacts/model", "",
       "mlflow-artifacts:/0/" + run_id + "/artifacts/model"},
      {"mlflow-artifacts://host:5000/0/r/artifacts/model", "",
       "mlflow-artifacts://host:5000/0/r/artifacts/model"},
      {"http://host:5000/api/2.0/mlflow-artifacts/artifacts/0/r/artifacts/model", "",
       "http://host:5000/api/2.0/mlflow-artifacts/artifacts/0/r/artifacts/model"},
      {"runs:/" + run_id + "/model", "", run.info.artifact_uri + "/model"},
      {model_dir.string(), run_id, run.info.artifact_uri + "/model"},
      {"file://" + model_dir.string(), run_id, run.info.artifact_uri + "/model"},
      {"file:" + model_dir.string(), run_id, run.info.artifact_uri + "/model"},
      {"file://localhost" + model_dir.string() + "/", run_id, run.info.artifact_uri + "/model"},
      {RunArtifactDir(run).string(), run_id, run.info.artifact_uri},
  };
  for (const Case& c : cases) {
    for (const std::vector<Tag>& tags :
         {std::vector<Tag>{}, std::vector<Tag>{{"mlflow.prompt.is_prompt", "true"}}}) {
      CreateModelVersionRequest request;
      request.name = "m";
      request.source = c.source;
      request.run_id = c.run_id;
      request.tags = tags;
      auto created = registry_->CreateModelVersion(request);
      ASSERT_TRUE(created.ok()) << c.source << ": " << created.status().ToString();
      EXPECT_EQ(created->storage_location, c.storage) << c.source;
      EXPECT_EQ(created->source, c.source);
      auto recheck = registry_->ValidateVersionSource(created->source, created->run_id, "");
      EXPECT_TRUE(recheck.ok()) << c.source;
    }
  }
}

TEST_P(ModelRegistryTest, AttackSourcesAreRefusedWhateverTheTags) {
  MustCreateModel("m");
  const tracking::Run run = CreateRun();
  const tracking::Run other_run = CreateRun();
  WriteModelDir(run, "model");
  WriteModelDir(other_run, "model");
  const std::string run_dir = RunArtifactDir(run).string();
  const std::string other_dir = RunArtifactDir(other_run).string();
  std::filesystem::create_symlink("/etc", RunArtifactDir(run) / "escape");
  const std::string run_id = run.info.run_id;

  const std::vector<std::string> attacks = {
      // CVE-2023-1177: local directories of the server.
      "file:///etc/", "/", "//etc", "/etc/passwd", "file:///etc/passwd", "file:/etc",
      "file://localhost/etc/passwd", "etc/passwd", "model",
      // CVE-2023-2356: relative traversal in any scheme.
      "mlflow-artifacts://host:port/../../../../", "mlflow-artifacts:/../../../etc",
      "mlflow-artifacts:/0/../../etc", "http://host/api/2.0/mlflow-artifacts/artifacts/../../",
      "https://host:5000/api/2.0/mlflow-artifacts/artifacts/../../../../etc",
      "file://path/../../../../", "file://path/to/../../../../some/where/you/should/not/be",
      "s3:/bucket/models/../../other", "/models/artifacts/../../../",
      // CVE-2023-2780 and friends: backslashes.
      "\\..\\..\\filename", "file:///..\\..\\etc", "mlflow-artifacts:/0\\..\\..\\etc",
      "C:\\Windows\\System32", "c:/windows",
      // Encoded traversals (CVE-2023-6909/6977, CVE-2024-1560, CVE-2023-6730).
      "mlflow-artifacts://host:port/..%2f..%2f..%2f..%2f", "mlflow-artifacts:/..%2F..%2Fetc",
      "mlflow-artifacts:/%2e%2e/%2e%2e/etc", "mlflow-artifacts:/%252e%252e%252f%252e%252e%252fetc",
      "mlflow-artifacts:/%25252e%25252e%25252fetc", "runs:/" + run_id + "/..%2f..%2f..%2fetc",
      "runs:/" + run_id + "/%252e%252e/%252e%252e/etc", "%2fetc%2fpasswd",
      "file%3A%2F%2F%2Fetc%2Fpasswd",
      // NUL and control characters.
      "http://host:port/api/2.0/mlflow-artifacts/artifacts%00",
      std::string("mlflow-artifacts:/0/r/artifacts/model") + '\0' + "/../../x",
      std::string("mlflow-artifacts:/0/r/artifacts/model") + '\0' + "x",
      "mlflow-artifacts:/0/r%00/artifacts", "mlflow-artifacts:/0/r\n/artifacts",
      // Fragments and queries (CVE-2024-1594/3848, CVE-2024-2928).
      "mlflow-artifacts:/0/r#/../../../../etc", "http://host/#/../../../../etc/",
      "file:///#../../etc", "mlflow-artifacts:/0/r/artifacts/model?x=../../etc",
      "runs:/" + run_id + "/model#frag",
      // Paths that change under normalisation, the store root, foreign locations.
      "mlflow-artifacts:/0/./r/artifacts", "mlflow-artifacts:/0//r", "mlflow-artifacts:/",
      "mlflow-artifacts://host:5000", "http://evil.example/model",
      "http://host/api/2.0/mlflow-artifacts/artifactsx/0", "s3://bucket/model", "gs://bucket/model",
      "dbfs:/model", "ftp://host/model", "runs:/" + run_id + "/../../etc",
      "runs://host/" + run_id + "/model", "runs:/", "models:/m/../../etc", "models://x/m/1",
      "models:/m/1/../..",
      // Local paths outside the run's artifact directory, given with the run id.
      run_dir + "/../../other", run_dir + "/model/../../../etc", other_dir + "/model",
      "file://" + other_dir + "/model", run_dir + "x/model", run_dir + "/escape",
      run_dir + "/escape/passwd", run_dir + "/./model", run_dir + "//model", "/proc/self/root/etc",
      "file://" + run_dir + "/../" + other_run.info.run_id};

  const std::vector<std::vector<Tag>> tag_sets = {
      {},
      {{"mlflow.prompt.is_prompt", "true"}},
      {{"mlflow.prompt.is_prompt", "true"}, {"mlflow.prompt.text", "hi {{x}}"}},
      {{"mlflow.prompt.is_prompt", "false"}}};
  for (const std::string& source : attacks) {
    for (const std::string& with_run : {std::string(), run_id}) {
      for (const auto& tags : tag_sets) {
        const core::Status status = CreateWithSource("m", source, with_run, tags);
        EXPECT_EQ(status.code(), StatusCode::kInvalidArgument)
            << "source '" << source << "' run '" << with_run << "' tags " << tags.size() << ": "
            << status.ToString();
      }
      auto checked = registry_->ValidateVersionSource(source, with_run, "");
      EXPECT_FALSE(checked.ok()) << source;
    }
  }
  // A prompt model does not loosen the rules either.
  ASSERT_TRUE(
      registry_->CreateRegisteredModel("p", {{"mlflow.prompt.is_prompt", "true"}}, "").ok());
  EXPECT_EQ(CreateWithSource("p", "/etc", "", {{"mlflow.prompt.is_prompt", "true"}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(RawVersionRows().empty());
}

TEST_P(ModelRegistryTest, SourceReferencesMustExist) {
  MustCreateModel("m");
  EXPECT_EQ(CreateWithSource("m", "runs:/0123456789abcdef0123456789abcdef/model").code(),
            StatusCode::kNotFound);
  EXPECT_EQ(CreateWithSource("m", "models:/m/1").code(), StatusCode::kNotFound);
  EXPECT_EQ(CreateWithSource("m", "models:/m@nope").code(), StatusCode::kNotFound);
  EXPECT_EQ(CreateWithSource("m", "models:/nope/Production").code(), StatusCode::kNotFound);
  EXPECT_EQ(CreateWithSource("m", "/tmp/x", "0123456789abcdef0123456789abcdef").code(),
            StatusCode::kNotFound);
  EXPECT_EQ(CreateWithSource("m", "").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(RawVersionRows().empty());
}

TEST_P(ModelRegistryTest, SourceValidationRegexNarrowsTheRules) {
  ModelRegistryOptions options;
  options.source_validation_regex = std::regex("^mlflow-artifacts:/.*$");
  ModelRegistry strict(*db_, clock_, *tracking_, *artifacts_, options);
  MustCreateModel("m");
  const tracking::Run run = CreateRun();
  CreateModelVersionRequest request;
  request.name = "m";
  request.source = "runs:/" + run.info.run_id + "/model";
  EXPECT_EQ(strict.CreateModelVersion(request).status().code(), StatusCode::kInvalidArgument);
  request.source = "mlflow-artifacts:/0/r/artifacts/model";
  EXPECT_TRUE(strict.CreateModelVersion(request).ok());
  request.source = "mlflow-artifacts:/../etc";
  EXPECT_EQ(strict.CreateModelVersion(request).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(ModelRegistryTest, ArtifactPathsOfAVersionStayInsideIt) {
  MustCreateModel("m");
  const tracking::Run run = CreateRun();
  WriteModelDir(run, "model");
  ASSERT_TRUE(CreateWithSource("m", "runs:/" + run.info.run_id + "/model").ok());
  auto root = tracking::ArtifactUriToRelativePath(run.info.artifact_uri);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(*registry_->ModelVersionArtifactPath("m", "1", "MLmodel"), *root + "/model/MLmodel");
  EXPECT_EQ(*registry_->ModelVersionArtifactPath("m", "1", ""), *root + "/model");
  for (const char* bad : {"../../etc/passwd", "..%2f..%2fetc", "%252e%252e/x", "/etc/passwd",
                          "a\\..\\b", "a#b", "file:///etc"}) {
    EXPECT_EQ(registry_->ModelVersionArtifactPath("m", "1", bad).status().code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(registry_->ModelVersionArtifactPath("m", "2", "MLmodel").status().code(),
            StatusCode::kNotFound);

  // A row that bypassed validation (written by an older release or by hand) is not served.
  ASSERT_TRUE(db_->Write([](metastore::Transaction& tx) {
                   return tx
                       .Execute(
                           "INSERT INTO model_versions (name, version, creation_time, "
                           "last_updated_time, current_stage, source, storage_location, "
                           "run_id, status) VALUES ('m', 7, 1, 1, 'None', '/etc', "
                           "'mlflow-artifacts:/0/r/artifacts/model', NULL, 'READY')")
                       .status();
                 })
                  .ok());
  EXPECT_EQ(registry_->ModelVersionArtifactPath("m", "7", "passwd").status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(ModelRegistryTest, UnknownLoggedModelIdIsNotFound) {
  MustCreateModel("m");
  CreateModelVersionRequest request;
  request.name = "m";
  request.source = "mlflow-artifacts:/0/r/artifacts/model";
  request.model_id = "m-0123456789abcdef0123456789abcdef";
  EXPECT_EQ(registry_->CreateModelVersion(request).status().code(), StatusCode::kNotFound);
  request.model_id.clear();
  request.run_id = std::string(257, 'r');
  EXPECT_EQ(registry_->CreateModelVersion(request).status().code(), StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Backends, ModelRegistryTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::BackendName);

TEST(CanonicalStageTest, MatchesAnyCase) {
  EXPECT_EQ(*CanonicalStage("nOnE"), "None");
  EXPECT_EQ(*CanonicalStage("STAGING"), "Staging");
  EXPECT_EQ(*CanonicalStage("production"), "Production");
  EXPECT_EQ(*CanonicalStage("Archived"), "Archived");
  EXPECT_EQ(CanonicalStage("Deleted_Internal").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CanonicalStage("").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lakeml::registry
