#pragma once

#include <cstdint>

namespace lakeml::core {

// Source of wall-clock time, injected so tests can pin it. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual int64_t NowMillis() const = 0;
};

// The real clock.
class SystemClock final : public Clock {
 public:
  int64_t NowMillis() const override;
};

}  // namespace lakeml::core
