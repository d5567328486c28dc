#include "server/router.h"

#include <gtest/gtest.h>

namespace lakeml::server {
namespace {

TEST(RouterTest, LiteralRoutesMatchExactlyPerMethod) {
  Router<int> router;
  EXPECT_TRUE(router.Add(HttpMethod::kPost, "/api/2.0/mlflow/runs/create", 1));
  EXPECT_TRUE(router.Add(HttpMethod::kGet, "/api/2.0/mlflow/experiments/search", 2));
  EXPECT_TRUE(router.Add(HttpMethod::kPost, "/api/2.0/mlflow/experiments/search", 3));
  EXPECT_FALSE(router.Add(HttpMethod::kPost, "/api/2.0/mlflow/runs/create", 9));

  EXPECT_EQ(*router.Find(HttpMethod::kPost, "/api/2.0/mlflow/runs/create")->handler, 1);
  EXPECT_EQ(*router.Find(HttpMethod::kGet, "/api/2.0/mlflow/experiments/search")->handler, 2);
  EXPECT_EQ(*router.Find(HttpMethod::kPost, "/api/2.0/mlflow/experiments/search")->handler, 3);
  EXPECT_FALSE(router.Find(HttpMethod::kGet, "/api/2.0/mlflow/runs/create"));
  EXPECT_FALSE(router.Find(HttpMethod::kPost, "/api/2.0/mlflow/runs/create/"));
  EXPECT_FALSE(router.Find(HttpMethod::kGet, "/api/2.0/mlflow/experiments/list"));
  // The npm client's missing slash.
  EXPECT_FALSE(router.Find(HttpMethod::kPost, "/api/2.0/mlflow/experimentsset-experiment-tag"));
  EXPECT_TRUE(router.HasPath("/api/2.0/mlflow/runs/create"));
  EXPECT_FALSE(router.HasPath("/api/2.0/mlflow/runs"));
}

TEST(RouterTest, PathParametersMatchOneSegment) {
  Router<int> router;
  router.Add(HttpMethod::kGet, "/mlflow/logged-models/{model_id}", 1);
  router.Add(HttpMethod::kGet, "/mlflow/logged-models/{model_id}/artifacts/directories", 2);
  router.Add(HttpMethod::kPost, "/mlflow/logged-models/search", 3);

  auto match = router.Find(HttpMethod::kGet, "/mlflow/logged-models/m-abc");
  ASSERT_TRUE(match);
  EXPECT_EQ(*match->handler, 1);
  EXPECT_EQ(match->path_params, (PathParams{{"model_id", "m-abc"}}));

  match = router.Find(HttpMethod::kGet, "/mlflow/logged-models/m-abc/artifacts/directories");
  ASSERT_TRUE(match);
  EXPECT_EQ(*match->handler, 2);

  EXPECT_EQ(*router.Find(HttpMethod::kPost, "/mlflow/logged-models/search")->handler, 3);
  EXPECT_FALSE(router.Find(HttpMethod::kGet, "/mlflow/logged-models/"));
  EXPECT_FALSE(router.Find(HttpMethod::kGet, "/mlflow/logged-models/m-abc/extra"));
  EXPECT_FALSE(router.Find(HttpMethod::kGet, "/mlflow/logged-models//artifacts/directories"));
}

TEST(RouterTest, RestParameterTakesTheRemainderWithSlashes) {
  Router<int> router;
  router.Add(HttpMethod::kPut, "/api/2.0/mlflow-artifacts/artifacts/{artifact_path...}", 1);
  router.Add(HttpMethod::kGet, "/api/2.0/mlflow-artifacts/artifacts", 2);

  auto match = router.Find(HttpMethod::kPut, "/api/2.0/mlflow-artifacts/artifacts/1/r/a/b.txt");
  ASSERT_TRUE(match);
  EXPECT_EQ(match->path_params, (PathParams{{"artifact_path", "1/r/a/b.txt"}}));
  // Kept raw: the handler validates it, so "//etc" must reach it as "/etc".
  match = router.Find(HttpMethod::kPut, "/api/2.0/mlflow-artifacts/artifacts//etc/passwd");
  ASSERT_TRUE(match);
  EXPECT_EQ(match->path_params[0].second, "/etc/passwd");
  EXPECT_FALSE(router.Find(HttpMethod::kPut, "/api/2.0/mlflow-artifacts/artifacts/"));
  EXPECT_EQ(*router.Find(HttpMethod::kGet, "/api/2.0/mlflow-artifacts/artifacts")->handler, 2);
}

TEST(RouterTest, LiteralRoutesWinOverPatterns) {
  Router<int> router;
  router.Add(HttpMethod::kGet, "/a/{x}", 1);
  router.Add(HttpMethod::kGet, "/a/b", 2);
  EXPECT_EQ(*router.Find(HttpMethod::kGet, "/a/b")->handler, 2);
  EXPECT_EQ(*router.Find(HttpMethod::kGet, "/a/c")->handler, 1);
}

TEST(RouterTest, MethodNames) {
  EXPECT_EQ(ParseHttpMethod("HEAD"), HttpMethod::kGet);
  EXPECT_EQ(ParseHttpMethod("DELETE"), HttpMethod::kDelete);
  EXPECT_FALSE(ParseHttpMethod("OPTIONS"));
  EXPECT_EQ(HttpMethodName(HttpMethod::kPatch), "PATCH");
}

}  // namespace
}  // namespace lakeml::server
