#pragma once

#include <cstdint>
#include <string>

namespace lakeml::core {

// `num_chars` lowercase hex characters from a CSPRNG-seeded generator. Thread-safe.
std::string RandomHex(int num_chars);

// A uuid4-shaped id as 32 lowercase hex characters (MLflow's run id format). Thread-safe.
std::string NewRunId();

// MLflow-style generated run name: "<adjective>-<noun>-<0..999>", e.g. "bold-owl-417". Thread-safe.
std::string GenerateRunName();

// Uniform random integer in [0, bound). Thread-safe.
uint64_t RandomBelow(uint64_t bound);

}  // namespace lakeml::core
