#include "storage/csv_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <utility>

namespace lakeml::storage {
namespace {

// A record this long is almost always a quote left open by mistake; refusing it bounds memory.
constexpr size_t kMaxRecordBytes = size_t{256} << 20;
// Bounds the per-record field vector against a line made only of separators.
constexpr size_t kMaxFields = 100000;
// String columns store uint32 offsets, and no column holds more bytes than the raw text of the
// batch, so cutting batches at 2 GiB of input (plus one record) keeps offsets in range.
constexpr uint64_t kMaxBatchBytes = uint64_t{1} << 31;
constexpr size_t kSniffBytes = size_t{64} << 10;
constexpr size_t kSniffRecords = 100;

// ---------------------------------------------------------------------------------------------
// Byte sources. Positional reads keep re-parsing a batch after a widening a matter of seeking.

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `size` bytes at `offset`; fewer only at the end of the data.
  virtual core::Result<size_t> ReadAt(uint64_t offset, char* dst, size_t size) = 0;
  // Size when opened; a hint for buffer and batch sizing only.
  virtual uint64_t size_bytes() const = 0;
};

class FileSource final : public ByteSource {
 public:
  FileSource(int fd, std::string path, uint64_t size_bytes)
      : fd_(fd), path_(std::move(path)), size_bytes_(size_bytes) {}
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  ~FileSource() override { ::close(fd_); }

  core::Result<size_t> ReadAt(uint64_t offset, char* dst, size_t size) override {
    size_t done = 0;
    while (done < size) {
      const ssize_t got = ::pread(fd_, dst + done, size - done, static_cast<off_t>(offset + done));
      if (got < 0) {
        if (errno == EINTR) continue;
        return core::Internal("reading csv file '{}': {}", path_, std::strerror(errno));
      }
      if (got == 0) break;
      done += static_cast<size_t>(got);
    }
    return done;
  }
  uint64_t size_bytes() const override { return size_bytes_; }

 private:
  int fd_;
  std::string path_;
  uint64_t size_bytes_;
};

class StringSource final : public ByteSource {
 public:
  explicit StringSource(std::string text) : text_(std::move(text)) {}

  core::Result<size_t> ReadAt(uint64_t offset, char* dst, size_t size) override {
    if (offset >= text_.size()) return size_t{0};
    const size_t n = std::min<uint64_t>(size, text_.size() - offset);
    std::memcpy(dst, text_.data() + offset, n);
    return n;
  }
  uint64_t size_bytes() const override { return text_.size(); }

 private:
  std::string text_;
};

// ---------------------------------------------------------------------------------------------
// Record scanner: splits one record into fields without copying, except for quoted fields that
// hold doubled quotes or text after the closing quote, which are unescaped into a scratch buffer.

enum class ScanStatus { kRecord, kNeedMore, kOpenQuote };

static_assert(std::endian::native == std::endian::little, "FindFieldEnd assumes little endian");

// The first `sep` or '\n' in [p, end), or end. Fields average a few bytes, so eight bytes are
// tested per step (SWAR): a byte equal to the target becomes zero after the XOR, and the
// zero-byte test flags the lowest such byte exactly (false flags only appear above it).
inline const char* FindFieldEnd(const char* p, const char* end, char sep) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  const uint64_t sep_bytes = kOnes * static_cast<uint8_t>(sep);
  const uint64_t newline_bytes = kOnes * static_cast<uint8_t>('\n');
  while (end - p >= 8) {
    uint64_t word = 0;
    std::memcpy(&word, p, 8);
    const uint64_t x = word ^ sep_bytes;
    const uint64_t y = word ^ newline_bytes;
    const uint64_t hits = (((x - kOnes) & ~x) | ((y - kOnes) & ~y)) & kHighs;
    if (hits != 0) return p + (std::countr_zero(hits) >> 3);
    p += 8;
  }
  while (p < end && *p != sep && *p != '\n') ++p;
  return p;
}

class RecordScanner {
 public:
  explicit RecordScanner(char sep = ',') : sep_(sep) {}

  // Scans the record starting at `begin`. `at_eof`: nothing follows `end`, so a record may end
  // there. kNeedMore: the record may continue past `end`. kOpenQuote: a quote is still open at
  // the end of the data.
  ScanStatus Scan(const char* begin, const char* end, bool at_eof);

  // Fields of the last kRecord, valid until the next Scan() or until the scanned bytes move.
  const std::vector<std::string_view>& fields() const { return fields_; }
  // Number of fields; may exceed fields().size() for records with more than kMaxFields.
  size_t field_count() const { return field_count_; }
  const char* record_end() const { return record_end_; }
  // Line feeds consumed, including the terminator.
  size_t newlines() const { return newlines_; }
  // An empty line (possibly "\r"): skipped by readers.
  bool blank() const { return field_count_ == 1 && !any_quoted_ && fields_[0].empty(); }

 private:
  void AddField(std::string_view field) {
    if (field_count_ < kMaxFields) fields_.push_back(field);
    ++field_count_;
  }
  void AddScratchField(size_t scratch_begin) {
    if (field_count_ < kMaxFields) {
      scratch_fields_.emplace_back(fields_.size(), scratch_begin);
      fields_.emplace_back(nullptr, 0);
      scratch_sizes_.push_back(scratch_.size() - scratch_begin);
    }
    ++field_count_;
  }
  void Finish(const char* record_end, size_t terminators);

  char sep_;
  std::vector<std::string_view> fields_;
  std::string scratch_;
  std::vector<std::pair<size_t, size_t>> scratch_fields_;  // (field index, scratch offset)
  std::vector<size_t> scratch_sizes_;
  size_t field_count_ = 0;
  size_t newlines_ = 0;
  bool any_quoted_ = false;
  const char* record_end_ = nullptr;
};

void RecordScanner::Finish(const char* record_end, size_t terminators) {
  // Scratch may have reallocated while later fields were appended, so views are made last.
  for (size_t i = 0; i < scratch_fields_.size(); ++i) {
    fields_[scratch_fields_[i].first] =
        std::string_view(scratch_.data() + scratch_fields_[i].second, scratch_sizes_[i]);
  }
  record_end_ = record_end;
  newlines_ += terminators;
}

ScanStatus RecordScanner::Scan(const char* begin, const char* end, bool at_eof) {
  fields_.clear();
  scratch_.clear();
  scratch_fields_.clear();
  scratch_sizes_.clear();
  field_count_ = 0;
  newlines_ = 0;
  any_quoted_ = false;
  const char sep = sep_;
  const char* p = begin;
  for (;;) {
    if (p < end && *p == '"') {
      any_quoted_ = true;
      const char* content = ++p;
      bool in_scratch = false;
      size_t scratch_begin = 0;
      for (;;) {
        const char* quote = static_cast<const char*>(std::memchr(p, '"', end - p));
        if (quote == nullptr) return at_eof ? ScanStatus::kOpenQuote : ScanStatus::kNeedMore;
        // A quote at the very end could be the first half of a doubled quote.
        if (quote + 1 == end && !at_eof) return ScanStatus::kNeedMore;
        newlines_ += static_cast<size_t>(std::count(p, quote, '\n'));
        if (quote + 1 < end && quote[1] == '"') {
          if (!in_scratch) {
            in_scratch = true;
            scratch_begin = scratch_.size();
            scratch_.append(content, quote + 1);
          } else {
            scratch_.append(p, quote + 1);
          }
          p = quote + 2;
          continue;
        }
        if (in_scratch) scratch_.append(p, quote);
        p = quote + 1;
        // RFC 4180 wants a separator or line end here; like most readers we keep stray text.
        const char* tail = p;
        p = FindFieldEnd(p, end, sep);
        if (p == end && !at_eof) return ScanStatus::kNeedMore;
        const char* tail_end = p;
        if ((p == end || *p == '\n') && tail_end > tail && tail_end[-1] == '\r') --tail_end;
        if (tail_end > tail) {
          if (!in_scratch) {
            in_scratch = true;
            scratch_begin = scratch_.size();
            scratch_.append(content, quote);
          }
          scratch_.append(tail, tail_end);
        }
        if (in_scratch) {
          AddScratchField(scratch_begin);
        } else {
          AddField(std::string_view(content, static_cast<size_t>(quote - content)));
        }
        break;
      }
    } else {
      const char* start = p;
      p = FindFieldEnd(p, end, sep);
      if (p == end && !at_eof) return ScanStatus::kNeedMore;
      const char* field_end = p;
      if ((p == end || *p == '\n') && field_end > start && field_end[-1] == '\r') --field_end;
      AddField(std::string_view(start, static_cast<size_t>(field_end - start)));
    }
    if (p == end) {
      Finish(end, 0);
      return ScanStatus::kRecord;
    }
    if (*p == sep) {
      ++p;
      continue;
    }
    Finish(p + 1, 1);
    return ScanStatus::kRecord;
  }
}

// ---------------------------------------------------------------------------------------------
// Value parsing. Fast paths take the text as is; spaces and a leading '+' only cost on failure.

enum class ValueType { kNull, kBool, kInt64, kDouble, kDate, kTimestamp, kString };

DataType ToDataType(ValueType type) {
  switch (type) {
    case ValueType::kBool:
      return DataType::kBool;
    case ValueType::kInt64:
      return DataType::kInt64;
    case ValueType::kDouble:
      return DataType::kDouble;
    case ValueType::kDate:
      return DataType::kDate;
    case ValueType::kTimestamp:
      return DataType::kTimestamp;
    case ValueType::kNull:
    case ValueType::kString:
      return DataType::kString;
  }
  return DataType::kString;
}

std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Trims spaces and one leading '+' (from_chars accepts neither); false if nothing changed.
bool NormalizeNumber(std::string_view* text) {
  std::string_view trimmed = TrimSpaces(*text);
  if (trimmed.size() >= 2 && trimmed[0] == '+' && trimmed[1] != '-' && trimmed[1] != '+') {
    trimmed.remove_prefix(1);
  }
  if (trimmed.size() == text->size()) return false;
  *text = trimmed;
  return true;
}

// Up to 18 digits cannot overflow, which covers nearly every integer in a CSV file.
inline bool ParseInt64Fast(std::string_view text, int64_t* out) {
  const char* p = text.data();
  const char* end = p + text.size();
  const bool negative = p < end && *p == '-';
  if (negative) ++p;
  if (p == end || end - p > 18) return false;
  uint64_t value = 0;
  for (; p < end; ++p) {
    const unsigned digit = static_cast<unsigned char>(*p) - unsigned{'0'};
    if (digit > 9) return false;
    value = value * 10 + digit;
  }
  *out = negative ? -static_cast<int64_t>(value) : static_cast<int64_t>(value);
  return true;
}

bool ParseInt64(std::string_view text, int64_t* out) {
  if (ParseInt64Fast(text, out)) return true;
  for (;;) {
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, *out);
    if (ec == std::errc() && ptr == end && !text.empty()) return true;
    if (!NormalizeNumber(&text)) return false;
  }
}

// Plain decimals with at most 15 significant digits: the digits form an integer below 2^53 and
// 10^k (k <= 15) is exact too, so one IEEE division yields the correctly rounded value.
inline bool ParseDoubleFast(std::string_view text, double* out) {
  static constexpr double kPowersOf10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                           1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  const char* p = text.data();
  const char* end = p + text.size();
  const bool negative = p < end && *p == '-';
  if (negative) ++p;
  uint64_t mantissa = 0;
  int digits = 0;
  int fraction_digits = 0;
  for (; p < end && static_cast<unsigned char>(*p) - unsigned{'0'} <= 9; ++p, ++digits) {
    mantissa = mantissa * 10 + static_cast<unsigned>(*p - '0');
  }
  if (p < end && *p == '.') {
    for (++p; p < end && static_cast<unsigned char>(*p) - unsigned{'0'} <= 9;
         ++p, ++digits, ++fraction_digits) {
      mantissa = mantissa * 10 + static_cast<unsigned>(*p - '0');
    }
  }
  if (p != end || digits == 0 || digits > 15) return false;
  const double value = static_cast<double>(mantissa) / kPowersOf10[fraction_digits];
  *out = negative ? -value : value;
  return true;
}

bool ParseDouble(std::string_view text, double* out) {
  if (ParseDoubleFast(text, out)) return true;
  for (;;) {
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, *out);
    if (ptr == end && !text.empty()) {
      if (ec == std::errc()) return true;
      if (ec == std::errc::result_out_of_range) {
        // from_chars leaves the value unset; strtod gives the IEEE answer (±HUGE_VAL or 0).
        const std::string copy(text);
        *out = std::strtod(copy.c_str(), nullptr);
        return true;
      }
    }
    if (!NormalizeNumber(&text)) return false;
  }
}

bool EqualsIgnoreCase(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const char folded = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (folded != lower[i]) return false;
  }
  return true;
}

bool ParseBool(std::string_view text, int64_t* out) {
  text = TrimSpaces(text);
  if (EqualsIgnoreCase(text, "true")) {
    *out = 1;
    return true;
  }
  if (EqualsIgnoreCase(text, "false")) {
    *out = 0;
    return true;
  }
  return false;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Parses `count` digits at text[pos].
bool Digits(std::string_view text, size_t pos, size_t count, int* out) {
  if (pos + count > text.size()) return false;
  int value = 0;
  for (size_t i = 0; i < count; ++i) {
    if (!IsDigit(text[pos + i])) return false;
    value = value * 10 + (text[pos + i] - '0');
  }
  *out = value;
  return true;
}

// Days since 1970-01-01 in the proleptic Gregorian calendar. Counting years from March 1 puts
// the leap day last, so each 400-year era has a fixed day layout.
int64_t DaysFromCivil(int year, int month, int day) {
  const int64_t y = static_cast<int64_t>(year) - (month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t year_of_era = y - era * 400;
  const int64_t month_from_march = (month + 9) % 12;
  const int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

// YYYY-MM-DD at the start of `text`.
bool ParseDatePrefix(std::string_view text, int64_t* days) {
  int year = 0;
  int month = 0;
  int day = 0;
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return false;
  if (!Digits(text, 0, 4, &year) || !Digits(text, 5, 2, &month) || !Digits(text, 8, 2, &day)) {
    return false;
  }
  static constexpr int kDaysInMonth[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) return false;
  const int month_days = kDaysInMonth[month - 1] + (month == 2 && IsLeapYear(year) ? 1 : 0);
  if (day > month_days) return false;
  *days = DaysFromCivil(year, month, day);
  return true;
}

bool ParseDate(std::string_view text, int64_t* days) {
  text = TrimSpaces(text);
  return text.size() == 10 && ParseDatePrefix(text, days);
}

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;

// YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z|±HH[:MM]|±HHMM]; a bare date when `allow_date` is set.
bool ParseTimestamp(std::string_view text, bool allow_date, int64_t* micros) {
  text = TrimSpaces(text);
  int64_t days = 0;
  if (!ParseDatePrefix(text, &days)) return false;
  if (text.size() == 10) {
    if (!allow_date) return false;
    *micros = days * kMicrosPerDay;
    return true;
  }
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (text.size() < 19 || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
      text[13] != ':' || text[16] != ':' || !Digits(text, 11, 2, &hour) ||
      !Digits(text, 14, 2, &minute) || !Digits(text, 17, 2, &second) || hour > 23 || minute > 59 ||
      second > 59) {
    return false;
  }
  int64_t fraction_micros = 0;
  size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const size_t digits_begin = pos;
    int64_t scale = 100000;
    while (pos < text.size() && IsDigit(text[pos])) {
      fraction_micros += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == digits_begin || pos - digits_begin > 9) return false;
  }
  int64_t offset_minutes = 0;
  if (pos < text.size()) {
    const char zone = text[pos];
    if (zone == 'Z' || zone == 'z') {
      ++pos;
    } else if (zone == '+' || zone == '-') {
      int zone_hours = 0;
      int zone_minutes = 0;
      if (!Digits(text, pos + 1, 2, &zone_hours)) return false;
      pos += 3;
      if (pos < text.size()) {
        if (text[pos] == ':') ++pos;
        if (!Digits(text, pos, 2, &zone_minutes)) return false;
        pos += 2;
      }
      if (zone_hours > 23 || zone_minutes > 59) return false;
      offset_minutes = (zone_hours * 60 + zone_minutes) * (zone == '-' ? -1 : 1);
    } else {
      return false;
    }
  }
  if (pos != text.size()) return false;
  *micros = days * kMicrosPerDay + (hour * 3600 + minute * 60 + second) * kMicrosPerSecond +
            fraction_micros - offset_minutes * 60 * kMicrosPerSecond;
  return true;
}

// The narrowest type of a non-NULL value.
ValueType TypeOf(std::string_view text) {
  int64_t int_value = 0;
  double double_value = 0;
  if (ParseBool(text, &int_value)) return ValueType::kBool;
  if (ParseInt64(text, &int_value)) return ValueType::kInt64;
  if (ParseDouble(text, &double_value)) return ValueType::kDouble;
  if (ParseDate(text, &int_value)) return ValueType::kDate;
  if (ParseTimestamp(text, false, &int_value)) return ValueType::kTimestamp;
  return ValueType::kString;
}

bool Fits(ValueType type, std::string_view text) {
  int64_t int_value = 0;
  double double_value = 0;
  switch (type) {
    case ValueType::kNull:
      return false;
    case ValueType::kBool:
      return ParseBool(text, &int_value);
    case ValueType::kInt64:
      return ParseInt64(text, &int_value);
    case ValueType::kDouble:
      return ParseDouble(text, &double_value);
    case ValueType::kDate:
      return ParseDate(text, &int_value);
    case ValueType::kTimestamp:
      return ParseTimestamp(text, true, &int_value);
    case ValueType::kString:
      return true;
  }
  return false;
}

// The least type holding both: NULL is the bottom, long widens to double, date to timestamp,
// and every other pair meets at string.
ValueType Join(ValueType a, ValueType b) {
  if (a == b || b == ValueType::kNull) return a;
  if (a == ValueType::kNull) return b;
  auto either = [&](ValueType x, ValueType y) { return (a == x && b == y) || (a == y && b == x); };
  if (either(ValueType::kInt64, ValueType::kDouble)) return ValueType::kDouble;
  if (either(ValueType::kDate, ValueType::kTimestamp)) return ValueType::kTimestamp;
  return ValueType::kString;
}

bool IsValidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    if (end - p >= 8) {
      uint64_t word = 0;
      std::memcpy(&word, p, 8);
      if ((word & 0x8080808080808080ULL) == 0) {
        p += 8;
        continue;
      }
    }
    const unsigned char lead = *p;
    if (lead < 0x80) {
      ++p;
      continue;
    }
    size_t continuation = 0;
    uint32_t code_point = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
      continuation = 1;
      code_point = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      continuation = 2;
      code_point = lead & 0x0F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      continuation = 3;
      code_point = lead & 0x07;
    } else {
      return false;
    }
    if (static_cast<size_t>(end - p) <= continuation) return false;
    for (size_t i = 1; i <= continuation; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (p[i] & 0x3F);
    }
    if (continuation == 2 &&
        (code_point < 0x800 || (code_point >= 0xD800 && code_point <= 0xDFFF))) {
      return false;
    }
    if (continuation == 3 && (code_point < 0x10000 || code_point > 0x10FFFF)) return false;
    p += continuation + 1;
  }
  return true;
}

// Matches NULL tokens; the length mask rejects most fields without a comparison.
class NullMatcher {
 public:
  explicit NullMatcher(const std::vector<std::string>& values) : values_(values) {
    for (const std::string& value : values_) {
      if (value.size() < 64) {
        length_mask_ |= uint64_t{1} << value.size();
      } else {
        has_long_ = true;
      }
      if (TypeOf(value) != ValueType::kString) parses_as_value_ = true;
    }
  }

  bool Match(std::string_view text) const {
    if (text.size() < 64 ? ((length_mask_ >> text.size()) & 1) == 0 : !has_long_) return false;
    for (const std::string& value : values_) {
      if (value == text) return true;
    }
    return false;
  }
  // Whether some token is also a bool, number, date or timestamp; then NULL is checked first.
  bool parses_as_value() const { return parses_as_value_; }

 private:
  std::vector<std::string> values_;
  uint64_t length_mask_ = 0;
  bool has_long_ = false;
  bool parses_as_value_ = false;
};

// Picks the candidate that splits the most sampled records into the same number (> 1) of
// fields; more fields breaks ties, then the candidate order.
char SniffSeparator(std::string_view sample, bool whole_file) {
  static constexpr char kCandidates[] = {',', ';', '\t', '|'};
  char best = ',';
  size_t best_agree = 0;
  size_t best_total = 1;
  size_t best_fields = 1;
  for (const char candidate : kCandidates) {
    RecordScanner scanner(candidate);
    std::map<size_t, size_t> frequency;
    size_t total = 0;
    const char* p = sample.data();
    const char* end = p + sample.size();
    while (total < kSniffRecords && p < end) {
      if (scanner.Scan(p, end, whole_file) != ScanStatus::kRecord) break;
      p = scanner.record_end();
      if (scanner.blank()) continue;
      ++frequency[scanner.field_count()];
      ++total;
    }
    size_t mode = 0;
    size_t agree = 0;
    for (const auto& [fields, count] : frequency) {
      if (count >= agree) {
        mode = fields;
        agree = count;
      }
    }
    if (mode <= 1) continue;
    // Compare agree/total with best_agree/best_total without floating point.
    const uint64_t lhs = static_cast<uint64_t>(agree) * best_total;
    const uint64_t rhs = static_cast<uint64_t>(best_agree) * total;
    if (lhs > rhs || (lhs == rhs && mode > best_fields)) {
      best = candidate;
      best_agree = agree;
      best_total = total;
      best_fields = mode;
    }
  }
  return best;
}

std::vector<std::string> DedupeNames(const std::vector<std::string>& raw) {
  std::vector<std::string> names;
  std::set<std::string> used;
  for (size_t i = 0; i < raw.size(); ++i) {
    const std::string base = raw[i].empty() ? fmt::format("_c{}", i) : raw[i];
    std::string name = base;
    for (size_t suffix = 1; used.count(name) != 0; ++suffix)
      name = fmt::format("{}_{}", base, suffix);
    used.insert(name);
    names.push_back(std::move(name));
  }
  return names;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

class CsvReader::Impl {
 public:
  Impl(std::unique_ptr<ByteSource> source, std::string description, const CsvOptions& options)
      : options_(options),
        source_(std::move(source)),
        description_(std::move(description)),
        nulls_(options.null_values) {}

  core::Status Init();
  core::Result<std::optional<ColumnBatch>> Next();
  core::Status Rewind() {
    Seek(data_offset_, data_line_);
    malformed_ = CsvMalformedRows();
    done_ = empty_;
    return core::Status::Ok();
  }

  const Schema& schema() const { return schema_; }
  char sep() const { return sep_; }
  bool has_header() const { return has_header_; }
  const CsvMalformedRows& malformed_rows() const { return malformed_; }

 private:
  enum class RecordResult { kRecord, kEnd, kOpenQuote };

  // Scans the next non-blank record into scanner_, refilling the buffer as needed.
  core::Result<RecordResult> NextRecord();
  core::Status Refill();
  void Seek(uint64_t offset, size_t line);
  uint64_t CurrentOffset() const { return buffer_offset_ + pos_; }
  // Counts a malformed row, or turns it into the error when rows are not skipped.
  core::Status Malformed(size_t line, std::string message);

  struct BatchResult {
    ColumnBatch batch;
    bool widened = false;
  };
  core::Result<BatchResult> ParseBatch();
  bool AppendValue(Column& column, ValueType type, std::string_view text) const;
  void SetTypes(std::vector<ValueType> types);

  CsvOptions options_;
  std::unique_ptr<ByteSource> source_;
  std::string description_;  // "csv file 'x'" for messages
  NullMatcher nulls_;

  char sep_ = ',';
  bool has_header_ = false;
  bool empty_ = false;  // no records at all
  bool done_ = false;
  Schema schema_;
  std::vector<ValueType> types_;
  std::vector<size_t> string_columns_;
  uint64_t data_offset_ = 0;         // first data row (after BOM and header)
  double sample_record_bytes_ = 64;  // mean record size in the inference sample
  size_t data_line_ = 1;

  std::vector<char> buffer_;
  uint64_t buffer_offset_ = 0;  // source offset of buffer_[0]
  size_t pos_ = 0;              // next unread byte
  size_t end_ = 0;              // valid bytes
  bool eof_ = false;            // nothing after buffer_[end_)
  size_t line_ = 1;             // line of buffer_[pos_]
  size_t record_line_ = 1;      // line of the record last returned by NextRecord()
  RecordScanner scanner_;

  CsvMalformedRows malformed_;
};

void CsvReader::Impl::Seek(uint64_t offset, size_t line) {
  // Rewinding after the inference sample usually lands inside the buffer; keep it.
  if (offset >= buffer_offset_ && offset <= buffer_offset_ + end_) {
    pos_ = static_cast<size_t>(offset - buffer_offset_);
  } else {
    buffer_offset_ = offset;
    pos_ = 0;
    end_ = 0;
    eof_ = false;
  }
  line_ = line;
}

core::Status CsvReader::Impl::Refill() {
  const size_t kept = end_ - pos_;
  if (pos_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + pos_, kept);
    buffer_offset_ += pos_;
    pos_ = 0;
    end_ = kept;
  }
  // Reading at least as much as is kept makes rescans of one long record linear overall; the
  // +1 past the known size lets a small input hit its end in one read.
  size_t want = std::max(options_.block_bytes, kept);
  const uint64_t known_left =
      source_->size_bytes() - std::min(source_->size_bytes(), buffer_offset_ + end_);
  if (known_left < want) want = static_cast<size_t>(known_left) + 1;
  if (buffer_.size() < end_ + want) buffer_.resize(end_ + want);
  LAKEML_ASSIGN_OR_RETURN(size_t got,
                          source_->ReadAt(buffer_offset_ + end_, buffer_.data() + end_, want));
  end_ += got;
  if (got < want) eof_ = true;
  return core::Status::Ok();
}

core::Result<CsvReader::Impl::RecordResult> CsvReader::Impl::NextRecord() {
  for (;;) {
    if (pos_ == end_) {
      if (eof_) return RecordResult::kEnd;
      LAKEML_RETURN_IF_ERROR(Refill());
      continue;
    }
    const char* begin = buffer_.data() + pos_;
    const ScanStatus status = scanner_.Scan(begin, buffer_.data() + end_, eof_);
    if (status == ScanStatus::kNeedMore) {
      if (end_ - pos_ > kMaxRecordBytes) {
        return core::InvalidArgument(
            "{} line {}: record is longer than {} MiB (is a quote left open?)", description_, line_,
            kMaxRecordBytes >> 20);
      }
      LAKEML_RETURN_IF_ERROR(Refill());
      continue;
    }
    record_line_ = line_;
    if (status == ScanStatus::kOpenQuote) {
      pos_ = end_;
      return RecordResult::kOpenQuote;
    }
    line_ += scanner_.newlines();
    pos_ = static_cast<size_t>(scanner_.record_end() - buffer_.data());
    if (scanner_.blank()) continue;
    return RecordResult::kRecord;
  }
}

core::Status CsvReader::Impl::Malformed(size_t line, std::string message) {
  if (!options_.skip_malformed) {
    return core::InvalidArgument("{} line {}: {}", description_, line, message);
  }
  if (malformed_.count == 0) malformed_.first_message = fmt::format("line {}: {}", line, message);
  if (malformed_.first_lines.size() < CsvMalformedRows::kMaxReportedLines) {
    malformed_.first_lines.push_back(line);
  }
  ++malformed_.count;
  return core::Status::Ok();
}

void CsvReader::Impl::SetTypes(std::vector<ValueType> types) {
  types_ = std::move(types);
  string_columns_.clear();
  for (size_t i = 0; i < types_.size(); ++i) {
    if (types_[i] == ValueType::kNull) types_[i] = ValueType::kString;
    if (types_[i] == ValueType::kString) string_columns_.push_back(i);
    schema_.fields[i].type = ToDataType(types_[i]);
  }
}

core::Status CsvReader::Impl::Init() {
  if (options_.sep && (*options_.sep == '"' || *options_.sep == '\n' || *options_.sep == '\r')) {
    return core::InvalidArgument("csv separator cannot be a quote or a line break");
  }
  if (options_.batch_rows == 0) return core::InvalidArgument("csv batch_rows must be positive");
  if (options_.block_bytes == 0) return core::InvalidArgument("csv block_bytes must be positive");

  char bom[3] = {};
  LAKEML_ASSIGN_OR_RETURN(size_t bom_bytes, source_->ReadAt(0, bom, sizeof(bom)));
  if (bom_bytes == 3 && std::memcmp(bom, "\xEF\xBB\xBF", 3) == 0) data_offset_ = 3;

  if (options_.sep) {
    sep_ = *options_.sep;
  } else {
    std::string sample(kSniffBytes, '\0');
    LAKEML_ASSIGN_OR_RETURN(size_t sample_bytes,
                            source_->ReadAt(data_offset_, sample.data(), sample.size()));
    sample.resize(sample_bytes);
    sep_ = SniffSeparator(sample, sample_bytes < kSniffBytes);
  }
  scanner_ = RecordScanner(sep_);
  Seek(data_offset_, 1);

  LAKEML_ASSIGN_OR_RETURN(RecordResult first, NextRecord());
  if (first != RecordResult::kRecord) {
    empty_ = done_ = true;
    if (first == RecordResult::kOpenQuote) {
      LAKEML_RETURN_IF_ERROR(
          Malformed(record_line_, "a quoted field is not closed before the end of the file"));
    }
    return core::Status::Ok();
  }
  if (scanner_.field_count() > kMaxFields) {
    return core::InvalidArgument("{} line {}: more than {} columns", description_, record_line_,
                                 kMaxFields);
  }
  const std::vector<std::string> first_fields(scanner_.fields().begin(), scanner_.fields().end());
  const size_t first_line = record_line_;
  const size_t num_columns = first_fields.size();
  const uint64_t after_first_offset = CurrentOffset();
  const size_t after_first_line = line_;

  // Types of the rows after the first; the header decision needs them without the first row.
  std::vector<ValueType> rest(num_columns, ValueType::kNull);
  size_t rest_rows = 0;
  while (options_.infer_rows == 0 || rest_rows < options_.infer_rows) {
    LAKEML_ASSIGN_OR_RETURN(RecordResult record, NextRecord());
    if (record != RecordResult::kRecord) break;
    if (scanner_.field_count() != num_columns) continue;
    for (size_t c = 0; c < num_columns; ++c) {
      const std::string_view text = scanner_.fields()[c];
      if (nulls_.Match(text) || Fits(rest[c], text)) continue;
      rest[c] = Join(rest[c], TypeOf(text));
    }
    ++rest_rows;
  }
  if (rest_rows > 0) {
    sample_record_bytes_ =
        static_cast<double>(CurrentOffset() - after_first_offset) / static_cast<double>(rest_rows);
  }

  if (options_.header) {
    has_header_ = *options_.header;
  } else {
    bool first_is_text = true;
    for (const std::string& text : first_fields) {
      if (text.empty() || nulls_.Match(text) || TypeOf(text) != ValueType::kString) {
        first_is_text = false;
      }
    }
    const bool rest_all_text = std::all_of(rest.begin(), rest.end(), [](ValueType type) {
      return type == ValueType::kString || type == ValueType::kNull;
    });
    if (!first_is_text) {
      has_header_ = false;
    } else if (rest_rows == 0 || !rest_all_text) {
      has_header_ = true;
    } else {
      has_header_ = std::set<std::string>(first_fields.begin(), first_fields.end()).size() ==
                    first_fields.size();
    }
  }

  std::vector<std::string> raw_names(num_columns);
  if (has_header_) {
    for (size_t c = 0; c < num_columns; ++c) {
      if (!IsValidUtf8(first_fields[c])) {
        return core::InvalidArgument("{} line {}: header name {} is not valid UTF-8", description_,
                                     first_line, c + 1);
      }
      raw_names[c] = first_fields[c];
    }
    data_offset_ = after_first_offset;
    data_line_ = after_first_line;
  } else {
    for (size_t c = 0; c < num_columns; ++c) {
      const std::string_view text = first_fields[c];
      if (!nulls_.Match(text) && !Fits(rest[c], text)) rest[c] = Join(rest[c], TypeOf(text));
    }
  }
  const std::vector<std::string> names = DedupeNames(raw_names);
  schema_.fields.clear();
  for (size_t c = 0; c < num_columns; ++c) {
    schema_.fields.push_back(Field{names[c], DataType::kString, true});
  }
  SetTypes(std::move(rest));
  Seek(data_offset_, data_line_);
  return core::Status::Ok();
}

bool CsvReader::Impl::AppendValue(Column& column, ValueType type, std::string_view text) const {
  if (type == ValueType::kString) {
    if (nulls_.Match(text)) {
      column.AppendNull();
    } else {
      column.AppendBytes(text);
    }
    return true;
  }
  if (nulls_.parses_as_value() && nulls_.Match(text)) {
    column.AppendNull();
    return true;
  }
  // Typed columns try the value first: NULL tokens are rare and checked only on failure.
  bool parsed = false;
  switch (type) {
    case ValueType::kInt64: {
      int64_t value = 0;
      if ((parsed = ParseInt64(text, &value))) column.AppendInt(value);
      break;
    }
    case ValueType::kDouble: {
      double value = 0;
      if ((parsed = ParseDouble(text, &value))) column.AppendDouble(value);
      break;
    }
    case ValueType::kBool: {
      int64_t value = 0;
      if ((parsed = ParseBool(text, &value))) column.AppendInt(value);
      break;
    }
    case ValueType::kDate: {
      int64_t value = 0;
      if ((parsed = ParseDate(text, &value))) column.AppendInt(value);
      break;
    }
    case ValueType::kTimestamp: {
      int64_t value = 0;
      if ((parsed = ParseTimestamp(text, true, &value))) column.AppendInt(value);
      break;
    }
    case ValueType::kNull:
    case ValueType::kString:
      break;
  }
  if (parsed) return true;
  if (nulls_.Match(text)) {
    column.AppendNull();
    return true;
  }
  return false;
}

core::Result<CsvReader::Impl::BatchResult> CsvReader::Impl::ParseBatch() {
  const size_t num_columns = types_.size();
  BatchResult result;
  std::vector<Column>& columns = result.batch.columns;
  columns.reserve(num_columns);
  // Growing a column by doubling copies it about once more; the sample's record size predicts
  // the rows left well enough to allocate each column once.
  const uint64_t bytes_left =
      source_->size_bytes() - std::min(source_->size_bytes(), CurrentOffset());
  const size_t expected_rows = static_cast<size_t>(
      std::min(static_cast<double>(options_.batch_rows),
               static_cast<double>(bytes_left) / std::max(sample_record_bytes_, 1.0) * 1.05 + 16));
  for (const ValueType type : types_) {
    columns.emplace_back(ToDataType(type));
    columns.back().Reserve(expected_rows);
  }

  // After a misfit the rest of the batch is only typed, so one re-parse covers every widening.
  std::vector<ValueType> widened;
  size_t misfit_column = 0;
  const uint64_t batch_offset = CurrentOffset();
  size_t rows = 0;
  while (rows < options_.batch_rows && CurrentOffset() - batch_offset < kMaxBatchBytes) {
    LAKEML_ASSIGN_OR_RETURN(RecordResult record, NextRecord());
    if (record == RecordResult::kEnd) break;
    if (record == RecordResult::kOpenQuote) {
      LAKEML_RETURN_IF_ERROR(
          Malformed(record_line_, "a quoted field is not closed before the end of the file"));
      break;
    }
    const std::vector<std::string_view>& fields = scanner_.fields();
    if (scanner_.field_count() != num_columns) {
      LAKEML_RETURN_IF_ERROR(Malformed(
          record_line_,
          fmt::format("expected {} fields, found {}", num_columns, scanner_.field_count())));
      continue;
    }
    if (widened.empty()) {
      bool valid = true;
      for (const size_t c : string_columns_) {
        if (!IsValidUtf8(fields[c])) {
          LAKEML_RETURN_IF_ERROR(Malformed(
              record_line_, fmt::format("column '{}' is not valid UTF-8", schema_.fields[c].name)));
          valid = false;
          break;
        }
      }
      if (!valid) continue;
      size_t c = 0;
      while (c < num_columns && AppendValue(columns[c], types_[c], fields[c])) ++c;
      if (c == num_columns) {
        ++rows;
        continue;
      }
      widened = types_;
      misfit_column = c;
    }
    for (size_t c = 0; c < num_columns; ++c) {
      const std::string_view text = fields[c];
      if (nulls_.Match(text) || Fits(widened[c], text)) continue;
      widened[c] = Join(widened[c], TypeOf(text));
    }
    ++rows;
  }
  if (!widened.empty()) {
    // The parsers behind Fits() and TypeOf() agree, so the misfit column always widens; forcing
    // string if they ever did not keeps the re-parse loop finite.
    if (widened[misfit_column] == types_[misfit_column])
      widened[misfit_column] = ValueType::kString;
    SetTypes(std::move(widened));
    result.widened = true;
    return result;
  }
  result.batch.schema = schema_;
  return result;
}

core::Result<std::optional<ColumnBatch>> CsvReader::Impl::Next() {
  while (!done_) {
    const uint64_t batch_offset = CurrentOffset();
    const size_t batch_line = line_;
    CsvMalformedRows malformed_before = malformed_;
    core::Result<BatchResult> result = ParseBatch();
    if (!result.ok()) {
      done_ = true;
      return std::move(result).status();
    }
    if (result->widened) {
      Seek(batch_offset, batch_line);
      malformed_ = std::move(malformed_before);
      continue;
    }
    if (result->batch.num_rows() == 0) {
      done_ = true;
      break;
    }
    return std::optional<ColumnBatch>(std::move(result->batch));
  }
  return std::optional<ColumnBatch>();
}

// ---------------------------------------------------------------------------------------------

CsvReader::CsvReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CsvReader::~CsvReader() = default;

core::Result<std::unique_ptr<CsvReader>> CsvReader::Open(const std::string& path,
                                                         const CsvOptions& options) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT) return core::NotFound("csv file '{}' not found", path);
    if (error == EACCES) return core::PermissionDenied("csv file '{}' is not readable", path);
    return core::Internal("opening csv file '{}': {}", path, std::strerror(error));
  }
  struct stat file_stat = {};
  if (::fstat(fd, &file_stat) != 0 || !S_ISREG(file_stat.st_mode)) {
    ::close(fd);
    return core::InvalidArgument("csv file '{}' is not a regular file", path);
  }
  auto impl = std::make_unique<Impl>(
      std::make_unique<FileSource>(fd, path, static_cast<uint64_t>(file_stat.st_size)),
      fmt::format("csv file '{}'", path), options);
  LAKEML_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<CsvReader>(new CsvReader(std::move(impl)));
}

core::Result<std::unique_ptr<CsvReader>> CsvReader::OpenString(std::string text,
                                                               const CsvOptions& options) {
  auto impl =
      std::make_unique<Impl>(std::make_unique<StringSource>(std::move(text)), "csv text", options);
  LAKEML_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<CsvReader>(new CsvReader(std::move(impl)));
}

const Schema& CsvReader::schema() const { return impl_->schema(); }
char CsvReader::sep() const { return impl_->sep(); }
bool CsvReader::has_header() const { return impl_->has_header(); }
core::Result<std::optional<ColumnBatch>> CsvReader::Next() { return impl_->Next(); }
core::Status CsvReader::Rewind() { return impl_->Rewind(); }
const CsvMalformedRows& CsvReader::malformed_rows() const { return impl_->malformed_rows(); }

core::Result<ColumnBatch> ReadCsvString(std::string_view text, const CsvOptions& options) {
  CsvOptions one_batch = options;
  one_batch.batch_rows = std::numeric_limits<size_t>::max();
  LAKEML_ASSIGN_OR_RETURN(std::unique_ptr<CsvReader> reader,
                          CsvReader::OpenString(std::string(text), one_batch));
  LAKEML_ASSIGN_OR_RETURN(std::optional<ColumnBatch> batch, reader->Next());
  if (batch) {
    LAKEML_ASSIGN_OR_RETURN(std::optional<ColumnBatch> more, reader->Next());
    if (more) return core::ResourceExhausted("csv text is too large for one batch");
    return std::move(*batch);
  }
  ColumnBatch empty;
  empty.schema = reader->schema();
  for (const Field& field : empty.schema.fields) empty.columns.emplace_back(field.type);
  return empty;
}

}  // namespace lakeml::storage
