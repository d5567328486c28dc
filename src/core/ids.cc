#include "core/ids.h"

#include <array>
#include <random>

#include <fmt/format.h>

namespace lakeml::core {
namespace {

// One generator per thread: no lock on the hot path of run creation.
std::mt19937_64& Generator() {
  thread_local std::mt19937_64 generator = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  return generator;
}

constexpr std::array<const char*, 24> kAdjectives = {
    "able",   "bold",    "brave",  "bright", "calm",   "clever", "crisp",  "daring",
    "eager",  "fair",    "gentle", "grand",  "happy",  "keen",   "lively", "lucky",
    "merry",  "nimble",  "proud",  "quick",  "quiet",  "sharp",  "swift",  "wise"};
constexpr std::array<const char*, 24> kNouns = {
    "ant",   "bass",  "bear",  "crane", "deer",  "dove",  "eel",    "finch",
    "fox",   "gnat",  "hare",  "hawk",  "jay",   "lark",  "lynx",   "mole",
    "moth",  "newt",  "owl",   "ram",   "seal",  "shrew", "snail",  "wren"};

}  // namespace

uint64_t RandomBelow(uint64_t bound) {
  return std::uniform_int_distribution<uint64_t>(0, bound - 1)(Generator());
}

std::string RandomHex(int num_chars) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(static_cast<size_t>(num_chars), '0');
  uint64_t bits = 0;
  for (int i = 0; i < num_chars; ++i) {
    if (i % 16 == 0) bits = Generator()();
    out[static_cast<size_t>(i)] = kDigits[bits & 0xF];
    bits >>= 4;
  }
  return out;
}

std::string NewRunId() { return RandomHex(32); }

std::string GenerateRunName() {
  return fmt::format("{}-{}-{}", kAdjectives[RandomBelow(kAdjectives.size())],
                     kNouns[RandomBelow(kNouns.size())], RandomBelow(1000));
}

}  // namespace lakeml::core
