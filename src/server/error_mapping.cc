#include "server/error_mapping.h"

#include <nlohmann/json.hpp>

namespace lakeml::server {

MlflowError ToMlflowError(core::StatusCode code) {
  using core::StatusCode;
  switch (code) {
    case StatusCode::kOk:
      return {"", 200};
    case StatusCode::kInvalidArgument:
      return {"INVALID_PARAMETER_VALUE", 400};
    case StatusCode::kNotFound:
      return {"RESOURCE_DOES_NOT_EXIST", 404};
    // MLflow answers duplicates with 400, not 409: clients branch on the code, not the status.
    case StatusCode::kAlreadyExists:
      return {"RESOURCE_ALREADY_EXISTS", 400};
    // Preconditions the caller can fix (e.g. writing to a deleted run). A 5xx here would make
    // clients retry a deterministic failure for a minute.
    case StatusCode::kFailedPrecondition:
      return {"INVALID_PARAMETER_VALUE", 400};
    case StatusCode::kAborted:
      return {"ABORTED", 409};
    case StatusCode::kPermissionDenied:
      return {"PERMISSION_DENIED", 403};
    case StatusCode::kUnauthenticated:
      return {"UNAUTHENTICATED", 401};
    case StatusCode::kResourceExhausted:
      return {"RESOURCE_EXHAUSTED", 429};
    case StatusCode::kUnavailable:
      return {"TEMPORARILY_UNAVAILABLE", 503};
    case StatusCode::kDeadlineExceeded:
      return {"DEADLINE_EXCEEDED", 504};
    case StatusCode::kUnimplemented:
      return {"NOT_IMPLEMENTED", 501};
    case StatusCode::kDataLoss:
      return {"DATA_LOSS", 500};
    case StatusCode::kInternal:
      return {"INTERNAL_ERROR", 500};
  }
  return {"INTERNAL_ERROR", 500};
}

std::string ErrorBody(std::string_view error_code, std::string_view message) {
  nlohmann::json body = {{"error_code", error_code}, {"message", message}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace lakeml::server
