#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace lakeml::server {

// An MLflow error as it goes on the wire: the `error_code` enum name and the HTTP status.
struct MlflowError {
  std::string_view error_code;
  int http_status = 500;
};

// The one table from core::StatusCode to MLflow's error_code and HTTP status (reference §5).
// kOk maps to {"", 200}. Thread-safe (pure).
MlflowError ToMlflowError(core::StatusCode code);

// The JSON error body `{"error_code": "...", "message": "..."}`. Invalid UTF-8 in `message` is
// replaced, never thrown. Thread-safe (pure).
std::string ErrorBody(std::string_view error_code, std::string_view message);

}  // namespace lakeml::server
