#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "server/request.h"
#include "tracking/artifact_store.h"
#include "tracking/entities.h"

namespace lakeml::server {

// JSON codecs for the tracking entities, matching MLflow's `message_to_json` (reference §1.3,
// §2.1): snake_case names, int64 as JSON numbers, enums by name, NaN/±Inf as the strings "NaN",
// "Infinity", "-Infinity", unset optional fields and empty lists omitted. Decoders accept enum
// names or numbers. All functions are pure and thread-safe; decoders return kInvalidArgument.

nlohmann::json DoubleToJson(double value);

std::string_view RunStatusName(tracking::RunStatus status);
std::string_view LifecycleStageName(tracking::LifecycleStage stage);
std::string_view ViewTypeName(tracking::ViewType view_type);
std::string_view LoggedModelStatusName(tracking::LoggedModelStatus status);

nlohmann::json ExperimentToJson(const tracking::Experiment& experiment);
nlohmann::json RunInfoToJson(const tracking::RunInfo& info);
nlohmann::json RunToJson(const tracking::Run& run);
nlohmann::json MetricToJson(const tracking::Metric& metric);
nlohmann::json MetricWithRunIdToJson(const tracking::Metric& metric, const std::string& run_id);
nlohmann::json FileInfoToJson(const tracking::FileInfo& file);
nlohmann::json LoggedModelToJson(const tracking::LoggedModel& model);

// Adds `key: text` to `object` unless `text` is empty (e.g. next_page_token).
void SetIfNotEmpty(nlohmann::json& object, std::string_view key, const std::string& text);

// MLflow's empty response body: `{}`.
inline nlohmann::json Empty() { return nlohmann::json::object(); }

// A listing response `{<items_key>: [...], next_page_token}`; each part is omitted when empty, as
// MLflow omits unset fields (an empty last page is `{}`).
template <typename PageType, typename ToJson>
nlohmann::json PageToJson(const PageType& page, std::string_view items_key, ToJson to_json) {
  nlohmann::json out = Empty();
  if (!page.items.empty()) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& item : page.items) items.push_back(to_json(item));
    out[std::string(items_key)] = std::move(items);
  }
  SetIfNotEmpty(out, "next_page_token", page.next_page_token);
  return out;
}

// Decoders for request fields.
core::Result<std::optional<tracking::RunStatus>> DecodeRunStatus(const Request& request,
                                                                 std::string_view name);
core::Result<std::optional<tracking::ViewType>> DecodeViewType(const Request& request,
                                                               std::string_view name);
core::Result<std::optional<tracking::LoggedModelStatus>> DecodeLoggedModelStatus(
    const Request& request, std::string_view name);
// A list of {key*, value} objects (tags and params share the shape).
core::Result<std::vector<tracking::Tag>> DecodeTags(const Request& request, std::string_view name);
core::Result<std::vector<tracking::Param>> DecodeParams(const Request& request,
                                                        std::string_view name);
// One metric: key*, value*, timestamp*, step (default 0).
core::Result<tracking::Metric> DecodeMetric(const Request& request);
core::Result<std::vector<tracking::DatasetInput>> DecodeDatasetInputs(const Request& request,
                                                                      std::string_view name);

}  // namespace lakeml::server
