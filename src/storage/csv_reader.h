#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "storage/column_batch.h"

namespace lakeml::storage {

// How to read a CSV file. Defaults suit most files: everything is detected.
struct CsvOptions {
  // Field separator. nullopt: detected from the first records among `,` `;` tab `|` (the one that
  // splits the most records into the same number (> 1) of fields; ties go to that order); a file
  // where none splits anything is read as one column.
  std::optional<char> sep;
  // Whether the first record is a header. nullopt: detected — a header when every field of the
  // first record is a non-empty, non-NULL text that parses as no other type and either a later
  // row has a non-text column or the file holds only that record; for files whose columns are all
  // text the first record is a header when its fields are pairwise distinct.
  std::optional<bool> header;
  // Field contents read as NULL (compared after unquoting, so `""` is NULL when "" is listed).
  std::vector<std::string> null_values = {"", "NA", "null", "NULL"};
  // false: the first malformed row fails Next() with kInvalidArgument naming its line.
  // true: malformed rows are skipped and counted in malformed_rows().
  bool skip_malformed = false;
  // Rows per batch returned by Next() (> 0). Memory use is about one batch plus one block.
  size_t batch_rows = size_t{1} << 20;
  // Data rows sampled by Open() for type inference; 0 samples the whole file (one extra pass, and
  // then no batch ever widens a column — see CsvReader).
  size_t infer_rows = 10000;
  // Bytes read from the file at a time (> 0). A tuning knob; tests set it tiny to force records
  // across block boundaries.
  size_t block_bytes = size_t{8} << 20;
};

// Rows skipped because they were malformed (only filled when skip_malformed is set).
struct CsvMalformedRows {
  static constexpr size_t kMaxReportedLines = 10;
  size_t count = 0;
  std::vector<size_t> first_lines;  // 1-based line numbers of the first kMaxReportedLines rows
  std::string first_message;        // why the first one was rejected
};

// Streams a CSV file (RFC 4180) as typed ColumnBatches.
//
// Format: records end with LF or CRLF (a lone CR is data); fields may be double-quoted, and
// quoted fields may hold the separator, line breaks and doubled quotes (`""` → `"`); text after a
// closing quote is kept literally (`"ab"c` → `abc`). A UTF-8 byte-order mark is skipped. Blank
// lines are skipped. Text must be valid UTF-8: a string value that is not is a malformed row
// (error or skipped, see CsvOptions::skip_malformed); header names must be valid UTF-8.
// Malformed rows: a wrong number of fields, invalid UTF-8 in a string column, a quote left open
// at the end of the file. Line numbers are 1-based physical lines of the row's first byte.
//
// Types: Open() infers one type per column from the first `infer_rows` rows: bool
// (true/false, any case), long (int64), double (from_chars syntax, exponents, inf, nan), date
// (YYYY-MM-DD → kDate), timestamp (YYYY-MM-DD[T ]HH:MM:SS[.f…][Z|±HH[:]MM] → kTimestamp, µs UTC,
// digits past microseconds truncated) or string; a column with only NULLs is string. Numbers,
// bools, dates and timestamps may be surrounded by spaces. Every field is nullable.
// If a later value does not fit, the column widens (long → double → string, date → timestamp →
// string, anything else → string) and the current batch is parsed again from its first byte, so
// a batch never fails on a type misfit. The widened type applies to that batch and all later
// ones, so a batch may carry a wider schema than the batches before it; a consumer that needs
// one schema for the whole file either sets infer_rows = 0, or compares each batch's schema with
// schema() as of the first batch and, on a change, discards its output and calls Rewind().
//
// Ownership: the reader owns its file descriptor and buffers; returned batches are independent
// values. Thread-compatible (one thread at a time), not thread-safe.
class CsvReader {
 public:
  // Opens `path`, detects separator and header, infers the schema.
  // Errors: kNotFound (no such file), kPermissionDenied, kInvalidArgument (bad options, header not
  // UTF-8, not a regular file, a record longer than 256 MiB, more than 100,000 columns),
  // kInternal (I/O failure).
  static core::Result<std::unique_ptr<CsvReader>> Open(const std::string& path,
                                                       const CsvOptions& options);
  // Same as Open() over CSV text held in memory.
  static core::Result<std::unique_ptr<CsvReader>> OpenString(std::string text,
                                                             const CsvOptions& options);

  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;
  ~CsvReader();

  // The current schema: inferred by Open(), widened by Next() when a later value does not fit.
  // An empty file has no fields; a header-only file has string fields and no rows.
  const Schema& schema() const;
  char sep() const;
  bool has_header() const;

  // The next batch of at most batch_rows rows (its schema is schema() at that point), or nullopt
  // after the last one (a file without data rows returns nullopt at once).
  // Errors: kInvalidArgument naming the line of a malformed row (unless skip_malformed) or of a
  // record longer than 256 MiB; kInternal (I/O failure). After an error the reader is done.
  core::Result<std::optional<ColumnBatch>> Next();

  // Restarts at the first data row, keeping the current (possibly widened) schema and clearing
  // malformed_rows(). Errors: kInternal (I/O failure).
  core::Status Rewind();

  // Rows skipped so far (skip_malformed only).
  const CsvMalformedRows& malformed_rows() const;

 private:
  class Impl;
  explicit CsvReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Reads all of `text` into one batch (options.batch_rows is ignored), so its schema covers every
// row. A text without data rows gives a batch of empty columns (no columns for an empty text).
// Errors: as CsvReader::Open and CsvReader::Next; kResourceExhausted when a string column would
// exceed one batch's 4 GiB (a text over 2 GiB).
core::Result<ColumnBatch> ReadCsvString(std::string_view text, const CsvOptions& options = {});

}  // namespace lakeml::storage
