#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tracking/entities.h"

namespace lakeml::tracking {

// MLflow's input limits and key rules (mlflow/utils/validation.py). Pure functions, thread-safe;
// every failure is kInvalidArgument with a message in MLflow's wording.

inline constexpr size_t kMaxEntityKeyLength = 250;
inline constexpr size_t kMaxParamValueLength = 6000;
inline constexpr size_t kMaxRunTagValueLength = 8000;
inline constexpr size_t kMaxExperimentNameLength = 500;
inline constexpr size_t kMaxExperimentTagKeyLength = 250;
inline constexpr size_t kMaxExperimentTagValueLength = 5000;
inline constexpr size_t kMaxArtifactLocationLength = 2048;
inline constexpr size_t kMaxRunNameLength = 250;
inline constexpr size_t kMaxMetricsPerBatch = 1000;
inline constexpr size_t kMaxParamsTagsPerBatch = 100;
inline constexpr size_t kMaxEntitiesPerBatch = 1000;
inline constexpr size_t kMaxDatasetNameLength = 500;
inline constexpr size_t kMaxDatasetDigestLength = 36;
inline constexpr size_t kMaxDatasetSourceLength = 65535;
inline constexpr size_t kMaxDatasetSchemaLength = 1048575;
inline constexpr size_t kMaxDatasetProfileLength = 16777215;
inline constexpr size_t kMaxInputTagKeyLength = 255;
inline constexpr size_t kMaxInputTagValueLength = 500;

// Length in characters (Unicode code points), as Python's len() counts them.
size_t CharLength(std::string_view text);

// posixpath.normpath(path).
std::string NormalizePosixPath(std::string_view path);

// A metric, param or tag name: `^[/\w.\- :]*$` (non-ASCII letters accepted, as Python's
// Unicode-aware \w does), and normpath(name) == name, not ".", no leading ".." or "/".
// `path` names the field in messages, e.g. "key" or "metrics[3].name".
core::Status ValidateEntityName(std::string_view path, const std::string& name);

core::Status ValidateMetric(const Metric& metric, std::string_view path_prefix = "");
core::Status ValidateParam(const Param& param, std::string_view path_prefix = "");
core::Status ValidateRunTag(const Tag& tag, std::string_view path_prefix = "");
core::Status ValidateExperimentTag(const Tag& tag);
core::Status ValidateExperimentName(const std::string& name);
core::Status ValidateArtifactLocation(const std::string& artifact_location);
core::Status ValidateRunName(const std::string& run_name);
core::Status ValidateBatchLimits(size_t num_metrics, size_t num_params, size_t num_tags);
core::Status ValidateDatasetInput(const DatasetInput& input);
core::Status ValidateLoggedModelName(const std::string& name);

}  // namespace lakeml::tracking
