#include "tracking/search_filter.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace lakeml::tracking {
namespace {

using core::InvalidArgument;
using core::Result;
using core::Status;

// Error messages quote user input; a long excerpt would only bloat the response.
constexpr std::size_t kMaxExcerptBytes = 120;

using ComparatorSet = std::uint32_t;

constexpr ComparatorSet Bit(Comparator comparator) {
  return ComparatorSet{1} << static_cast<unsigned>(comparator);
}

constexpr ComparatorSet kNumericComparators = Bit(Comparator::kEq) | Bit(Comparator::kNotEq) |
                                              Bit(Comparator::kGt) | Bit(Comparator::kGe) |
                                              Bit(Comparator::kLt) | Bit(Comparator::kLe);
constexpr ComparatorSet kStringComparators = Bit(Comparator::kEq) | Bit(Comparator::kNotEq) |
                                             Bit(Comparator::kLike) | Bit(Comparator::kILike);
constexpr ComparatorSet kListComparators = Bit(Comparator::kIn) | Bit(Comparator::kNotIn);

constexpr Comparator kAllComparators[] = {
    Comparator::kEq, Comparator::kNotEq, Comparator::kGt,    Comparator::kGe, Comparator::kLt,
    Comparator::kLe, Comparator::kLike,  Comparator::kILike, Comparator::kIn, Comparator::kNotIn};

bool IsList(Comparator comparator) {
  return comparator == Comparator::kIn || comparator == Comparator::kNotIn;
}

std::string ComparatorSetText(ComparatorSet allowed) {
  std::string text;
  for (Comparator comparator : kAllComparators) {
    if ((allowed & Bit(comparator)) == 0) continue;
    if (!text.empty()) text += ", ";
    text += ComparatorSql(comparator);
  }
  return text;
}

// One attribute a search understands, under one of the spellings MLflow accepts.
struct AttributeSpec {
  std::string_view spelling;
  std::string_view canonical;
  bool numeric;
  ComparatorSet comparators;  // unused for order_by tables
};

constexpr ComparatorSet kRunIdComparators = kStringComparators | kListComparators;
// MLflow's model-version parser allows IN but not NOT IN on run_id.
constexpr ComparatorSet kVersionRunIdComparators = kStringComparators | Bit(Comparator::kIn);

constexpr AttributeSpec kRunFilterAttributes[] = {
    {"run_id", "run_id", false, kRunIdComparators},
    {"run_name", "run_name", false, kStringComparators},
    {"run name", "run_name", false, kStringComparators},
    {"Run name", "run_name", false, kStringComparators},
    {"Run Name", "run_name", false, kStringComparators},
    {"status", "status", false, kStringComparators},
    {"user_id", "user_id", false, kStringComparators},
    {"artifact_uri", "artifact_uri", false, kStringComparators},
    {"start_time", "start_time", true, kNumericComparators},
    {"end_time", "end_time", true, kNumericComparators},
    {"created", "start_time", true, kNumericComparators},
    {"Created", "start_time", true, kNumericComparators},
};
constexpr AttributeSpec kExperimentFilterAttributes[] = {
    {"name", "name", false, kStringComparators},
    {"creation_time", "creation_time", true, kNumericComparators},
    {"last_update_time", "last_update_time", true, kNumericComparators},
};
constexpr AttributeSpec kRegisteredModelFilterAttributes[] = {
    {"name", "name", false, kStringComparators},
};
constexpr AttributeSpec kModelVersionFilterAttributes[] = {
    {"name", "name", false, kStringComparators},
    {"run_id", "run_id", false, kVersionRunIdComparators},
    {"source_path", "source_path", false, kStringComparators},
    {"version_number", "version_number", true, kNumericComparators},
};

constexpr AttributeSpec kRunOrderAttributes[] = {
    {"run_id", "run_id", false, 0},        {"run_name", "run_name", false, 0},
    {"run name", "run_name", false, 0},    {"Run name", "run_name", false, 0},
    {"Run Name", "run_name", false, 0},    {"status", "status", false, 0},
    {"user_id", "user_id", false, 0},      {"artifact_uri", "artifact_uri", false, 0},
    {"start_time", "start_time", true, 0}, {"end_time", "end_time", true, 0},
    {"created", "start_time", true, 0},    {"Created", "start_time", true, 0},
};
constexpr AttributeSpec kExperimentOrderAttributes[] = {
    {"name", "name", false, 0},
    {"experiment_id", "experiment_id", false, 0},
    {"creation_time", "creation_time", true, 0},
    {"last_update_time", "last_update_time", true, 0},
};
constexpr AttributeSpec kRegisteredModelOrderAttributes[] = {
    {"name", "name", false, 0},
    {"creation_timestamp", "creation_timestamp", true, 0},
    {"timestamp", "creation_timestamp", true, 0},
    {"last_updated_timestamp", "last_updated_timestamp", true, 0},
};
constexpr AttributeSpec kModelVersionOrderAttributes[] = {
    {"name", "name", false, 0},
    {"version_number", "version_number", true, 0},
    {"creation_timestamp", "creation_timestamp", true, 0},
    {"last_updated_timestamp", "last_updated_timestamp", true, 0},
};

constexpr std::string_view kDatasetKeys[] = {"name", "digest", "context"};

std::span<const AttributeSpec> FilterAttributes(SearchKind kind) {
  switch (kind) {
    case SearchKind::kRuns:
      return kRunFilterAttributes;
    case SearchKind::kExperiments:
      return kExperimentFilterAttributes;
    case SearchKind::kRegisteredModels:
      return kRegisteredModelFilterAttributes;
    case SearchKind::kModelVersions:
      return kModelVersionFilterAttributes;
  }
  return {};
}

std::span<const AttributeSpec> OrderAttributes(SearchKind kind) {
  switch (kind) {
    case SearchKind::kRuns:
      return kRunOrderAttributes;
    case SearchKind::kExperiments:
      return kExperimentOrderAttributes;
    case SearchKind::kRegisteredModels:
      return kRegisteredModelOrderAttributes;
    case SearchKind::kModelVersions:
      return kModelVersionOrderAttributes;
  }
  return {};
}

// Lists the spellings so the error tells the user what would have worked.
std::string SpellingsText(std::span<const AttributeSpec> specs) {
  std::string text;
  for (const AttributeSpec& spec : specs) {
    if (!text.empty()) text += ", ";
    text += spec.spelling;
  }
  return text;
}

const AttributeSpec* FindAttribute(std::span<const AttributeSpec> specs, std::string_view key) {
  for (const AttributeSpec& spec : specs) {
    if (spec.spelling == key) return &spec;
  }
  return nullptr;
}

// The singular names MLflow uses in its messages.
std::string_view EntityName(EntityType entity) {
  switch (entity) {
    case EntityType::kMetric:
      return "metric";
    case EntityType::kParam:
      return "parameter";
    case EntityType::kTag:
      return "tag";
    case EntityType::kAttribute:
      return "attribute";
    case EntityType::kDataset:
      return "dataset";
  }
  return "unknown";
}

bool ParseEntity(std::string_view name, EntityType* entity) {
  struct Alias {
    std::string_view name;
    EntityType entity;
  };
  static constexpr Alias kAliases[] = {
      {"metric", EntityType::kMetric},
      {"metrics", EntityType::kMetric},
      {"param", EntityType::kParam},
      {"params", EntityType::kParam},
      {"parameter", EntityType::kParam},
      {"parameters", EntityType::kParam},
      {"tag", EntityType::kTag},
      {"tags", EntityType::kTag},
      {"attribute", EntityType::kAttribute},
      {"attributes", EntityType::kAttribute},
      {"attr", EntityType::kAttribute},
      {"run", EntityType::kAttribute},
      {"dataset", EntityType::kDataset},
      {"datasets", EntityType::kDataset},
  };
  for (const Alias& alias : kAliases) {
    if (alias.name == name) {
      *entity = alias.entity;
      return true;
    }
  }
  return false;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
// Non-ASCII bytes count as letters so that unquoted unicode names work, as in sqlparse.
bool IsWordStart(char c) {
  return IsAsciiAlpha(c) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}
bool IsWordChar(char c) { return IsWordStart(c) || IsDigit(c); }
bool IsOperatorChar(char c) { return c == '=' || c == '!' || c == '<' || c == '>'; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

// Cuts at a UTF-8 boundary: the input was validated, and a split sequence would make the JSON
// error body invalid.
std::string Excerpt(std::string_view text) {
  if (text.size() <= kMaxExcerptBytes) return std::string(text);
  std::size_t cut = kMaxExcerptBytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

bool IsValidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    std::uint32_t code_point = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2;
      code_point = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      code_point = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      code_point = lead & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    // Overlong forms and surrogates are rejected, as a strict decoder (and PostgreSQL) would.
    static constexpr std::uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kMinForLength[length] || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

Status CheckInputShape(std::string_view text, std::string_view what) {
  if (text.size() > kMaxSearchStringBytes) {
    return InvalidArgument("{} is too long ({} bytes; the limit is {})", what, text.size(),
                           kMaxSearchStringBytes);
  }
  if (text.find('\0') != std::string_view::npos) {
    return InvalidArgument("{} contains a NUL byte", what);
  }
  if (!IsValidUtf8(text)) return InvalidArgument("{} is not valid UTF-8", what);
  return Status::Ok();
}

struct IdentifierPart {
  std::string text;
  char quote = 0;  // 0 for a bare word, else '`' or '"'
};

struct RawIdentifier {
  std::vector<IdentifierPart> parts;
  std::string_view source;
};

// kOther is a token that is no value at all (an unquoted word, say); it is kept so that the
// type check can quote it in the error it is bound to raise.
enum class ValueKind { kNumber, kString, kList, kOther };

struct RawValue {
  ValueKind kind;
  FilterValue value;
  std::string_view source;
};

struct ResolvedIdentifier {
  EntityType entity;
  std::string key;
  const AttributeSpec* attribute = nullptr;  // set for attributes only
};

enum class Purpose { kFilter, kOrderBy };

// A cursor over the input with one reader per grammar element. Every reader either consumes a
// complete element or returns an error, so no backtracking is needed and no recursion happens.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }
  std::size_t Position() const { return pos_; }
  std::string_view Rest() const { return text_.substr(pos_); }
  std::string_view From(std::size_t begin) const { return text_.substr(begin, pos_ - begin); }
  std::string_view Suffix(std::size_t begin) const { return text_.substr(begin); }

  void SkipSpace() {
    while (!AtEnd() && IsSpace(text_[pos_])) ++pos_;
  }

  bool AtIdentifierStart() const {
    const char c = Peek();
    return IsWordStart(c) || c == '`' || c == '"';
  }

  std::string_view ReadWord() {
    const std::size_t begin = pos_;
    while (!AtEnd() && IsWordChar(text_[pos_])) ++pos_;
    return From(begin);
  }

  // Reads up to the next space; only used to quote a bad token in an error message.
  std::string_view ReadRawToken() {
    const std::size_t begin = pos_;
    while (!AtEnd() && !IsSpace(text_[pos_])) ++pos_;
    return From(begin);
  }

  // Precondition: Peek() is a quote character. A doubled quote inside stands for one quote
  // (SQL style); backslashes have no special meaning.
  Result<std::string> ReadQuoted() {
    const std::size_t begin = pos_;
    const char quote = text_[pos_++];
    std::string out;
    while (!AtEnd()) {
      const char c = text_[pos_++];
      if (c != quote) {
        out.push_back(c);
        continue;
      }
      if (!AtEnd() && text_[pos_] == quote) {
        out.push_back(quote);
        ++pos_;
        continue;
      }
      return out;
    }
    return InvalidArgument("Unterminated quoted string: '{}'", Excerpt(text_.substr(begin)));
  }

  // `part(.part)*` where a part is a bare word or a backtick- or double-quoted name.
  // Precondition: AtIdentifierStart().
  Result<RawIdentifier> ReadIdentifier() {
    const std::size_t begin = pos_;
    RawIdentifier identifier;
    while (true) {
      IdentifierPart part;
      const char c = Peek();
      if (c == '`' || c == '"') {
        part.quote = c;
        LAKEML_ASSIGN_OR_RETURN(part.text, ReadQuoted());
      } else if (IsWordChar(c)) {
        part.text = std::string(ReadWord());
      } else {
        ++pos_;  // include the offending character in the quoted identifier
        return InvalidArgument("Invalid identifier '{}'", Excerpt(From(begin)));
      }
      identifier.parts.push_back(std::move(part));
      if (Peek() != '.') break;
      ++pos_;
      if (AtEnd()) return InvalidArgument("Invalid identifier '{}'", Excerpt(From(begin)));
    }
    // Words glued to a quoted part (`tags."a"b`) have no sensible reading.
    if (IsWordChar(Peek()) || Peek() == '`' || Peek() == '"') {
      ++pos_;
      return InvalidArgument("Invalid identifier '{}'", Excerpt(From(begin)));
    }
    identifier.source = From(begin);
    return identifier;
  }

  // Precondition: !AtEnd().
  Result<Comparator> ReadComparator() {
    const std::size_t begin = pos_;
    if (IsOperatorChar(Peek())) {
      while (!AtEnd() && IsOperatorChar(text_[pos_])) ++pos_;
      const std::string_view op = From(begin);
      if (op == "=") return Comparator::kEq;
      if (op == "!=" || op == "<>") return Comparator::kNotEq;
      if (op == ">") return Comparator::kGt;
      if (op == ">=") return Comparator::kGe;
      if (op == "<") return Comparator::kLt;
      if (op == "<=") return Comparator::kLe;
      return InvalidComparator(op);
    }
    if (IsWordStart(Peek())) {
      const std::string_view word = ReadWord();
      if (EqualsIgnoreCase(word, "LIKE")) return Comparator::kLike;
      if (EqualsIgnoreCase(word, "ILIKE")) return Comparator::kILike;
      if (EqualsIgnoreCase(word, "IN")) return Comparator::kIn;
      if (EqualsIgnoreCase(word, "NOT")) {
        SkipSpace();
        if (EqualsIgnoreCase(ReadWord(), "IN")) return Comparator::kNotIn;
      }
      return InvalidComparator(From(begin));
    }
    return InvalidComparator(ReadRawToken());
  }

  // Precondition: !AtEnd(). Reads a quoted string, a number or a parenthesised list.
  Result<RawValue> ReadValue() {
    const std::size_t begin = pos_;
    const char c = Peek();
    if (c == '\'' || c == '"') {
      LAKEML_ASSIGN_OR_RETURN(std::string text, ReadQuoted());
      return RawValue{ValueKind::kString, std::move(text), From(begin)};
    }
    if (c == '(') {
      LAKEML_ASSIGN_OR_RETURN(std::vector<std::string> items, ReadList());
      return RawValue{ValueKind::kList, std::move(items), From(begin)};
    }
    if (StartsNumber()) {
      LAKEML_ASSIGN_OR_RETURN(double number, ReadNumber());
      return RawValue{ValueKind::kNumber, number, From(begin)};
    }
    const std::string_view token = ReadRawToken();
    return RawValue{ValueKind::kOther, std::string(token), token};
  }

 private:
  static Status InvalidComparator(std::string_view text) {
    return InvalidArgument(
        "Invalid comparator '{}'. Valid comparators are =, !=, <>, >, >=, <, <=, LIKE, ILIKE, "
        "IN, NOT IN",
        Excerpt(text));
  }

  bool StartsNumber() const {
    std::size_t i = pos_;
    if (i < text_.size() && (text_[i] == '+' || text_[i] == '-')) ++i;
    if (i < text_.size() && text_[i] == '.') ++i;
    return i < text_.size() && IsDigit(text_[i]);
  }

  // [+-] (digits [. digits*] | . digits) [(e|E) [+-] digits]; the next character must end the
  // token, so `1abc` and `1.2.3` are errors rather than a number followed by garbage.
  Result<double> ReadNumber() {
    const std::size_t begin = pos_;
    if (Peek() == '+' || Peek() == '-') ++pos_;
    while (IsDigit(Peek())) ++pos_;
    if (Peek() == '.') {
      ++pos_;
      while (IsDigit(Peek())) ++pos_;
    }
    bool well_formed = true;
    if (Peek() == 'e' || Peek() == 'E') {
      ++pos_;
      if (Peek() == '+' || Peek() == '-') ++pos_;
      if (!IsDigit(Peek())) well_formed = false;
      while (IsDigit(Peek())) ++pos_;
    }
    if (IsWordChar(Peek()) || Peek() == '.' || Peek() == '\'' || Peek() == '"' || Peek() == '`') {
      well_formed = false;
    }
    if (!well_formed) {
      pos_ = begin;
      return InvalidArgument("Invalid numeric value '{}'", Excerpt(ReadRawToken()));
    }
    std::string_view digits = From(begin);
    // std::from_chars rejects a leading '+'.
    if (digits.front() == '+') digits.remove_prefix(1);
    double number = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
    if (error == std::errc::result_out_of_range) {
      return InvalidArgument("Numeric value '{}' is out of range", Excerpt(From(begin)));
    }
    if (error != std::errc() || end != digits.data() + digits.size()) {
      return InvalidArgument("Invalid numeric value '{}'", Excerpt(From(begin)));
    }
    return number;
  }

  // '(' quoted (',' quoted)* ')'. Precondition: Peek() == '('.
  Result<std::vector<std::string>> ReadList() {
    const std::size_t begin = pos_;
    ++pos_;
    SkipSpace();
    if (Peek() == ')') {
      return InvalidArgument(
          "While parsing a list in the query, expected a non-empty list of string values, but "
          "got empty list");
    }
    std::vector<std::string> items;
    while (true) {
      SkipSpace();
      if (Peek() != '\'' && Peek() != '"') {
        return InvalidArgument(
            "While parsing a list in the query, expected a non-empty list of quoted string "
            "values, but got ill-formed list: {}",
            Excerpt(text_.substr(begin)));
      }
      LAKEML_ASSIGN_OR_RETURN(std::string item, ReadQuoted());
      items.push_back(std::move(item));
      SkipSpace();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == ')') {
        ++pos_;
        return items;
      }
      return InvalidArgument(
          "While parsing a list in the query, expected a non-empty list of quoted string "
          "values, but got ill-formed list: {}",
          Excerpt(text_.substr(begin)));
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

bool EntityAllowed(SearchKind kind, Purpose purpose, EntityType entity) {
  if (kind == SearchKind::kRuns) {
    return purpose == Purpose::kFilter || entity != EntityType::kDataset;
  }
  if (purpose == Purpose::kOrderBy) return entity == EntityType::kAttribute;
  return entity == EntityType::kAttribute || entity == EntityType::kTag;
}

std::string_view ValidEntitiesText(SearchKind kind, Purpose purpose) {
  if (kind == SearchKind::kRuns) {
    return purpose == Purpose::kFilter ? "metric, parameter, tag, attribute, dataset"
                                       : "metric, parameter, tag, attribute";
  }
  return purpose == Purpose::kFilter ? "attribute, tag" : "attribute";
}

// Splits `entity.key` (the key is everything after the first dot), checks the entity and key
// against the search kind and canonicalises attribute keys.
Result<ResolvedIdentifier> ResolveIdentifier(const RawIdentifier& raw, SearchKind kind,
                                             Purpose purpose) {
  ResolvedIdentifier resolved{EntityType::kAttribute, "", nullptr};
  std::span<const IdentifierPart> key_parts(raw.parts);
  if (raw.parts.size() > 1) {
    const IdentifierPart& entity_part = raw.parts.front();
    // MLflow strips backticks from the entity but not double quotes.
    if (entity_part.quote == '"' || !ParseEntity(entity_part.text, &resolved.entity)) {
      return InvalidArgument("Invalid entity type '{}'. Valid values are {}",
                             Excerpt(entity_part.text), ValidEntitiesText(kind, purpose));
    }
    key_parts = key_parts.subspan(1);
  }
  if (!EntityAllowed(kind, purpose, resolved.entity)) {
    return InvalidArgument("Invalid entity type '{}'. Valid values are {}",
                           Excerpt(raw.parts.front().text), ValidEntitiesText(kind, purpose));
  }

  if (key_parts.size() == 1) {
    resolved.key = key_parts.front().text;
  } else {
    // A dotted key such as tags.mlflow.runName; a quoted piece in the middle is ambiguous.
    for (const IdentifierPart& part : key_parts) {
      if (part.quote != 0) {
        return InvalidArgument(
            "Invalid identifier '{}'. Quote the whole key, e.g. tags.`mlflow.my key`",
            Excerpt(raw.source));
      }
      if (!resolved.key.empty()) resolved.key += '.';
      resolved.key += part.text;
    }
  }
  if (resolved.key.empty()) {
    return InvalidArgument("Invalid identifier '{}': the key is empty", Excerpt(raw.source));
  }

  if (resolved.entity == EntityType::kAttribute) {
    const auto specs = purpose == Purpose::kFilter ? FilterAttributes(kind) : OrderAttributes(kind);
    resolved.attribute = FindAttribute(specs, resolved.key);
    if (resolved.attribute == nullptr) {
      return InvalidArgument("Invalid attribute key '{}' specified. Valid keys are {}",
                             Excerpt(resolved.key), SpellingsText(specs));
    }
    resolved.key = std::string(resolved.attribute->canonical);
  } else if (resolved.entity == EntityType::kDataset) {
    bool known = false;
    for (std::string_view dataset_key : kDatasetKeys) known = known || dataset_key == resolved.key;
    if (!known) {
      return InvalidArgument(
          "Invalid dataset key '{}' specified. Valid keys are name, digest, "
          "context",
          Excerpt(resolved.key));
    }
  }
  return resolved;
}

struct ClauseRule {
  ComparatorSet comparators;
  bool numeric;
};

ClauseRule RuleFor(SearchKind kind, const ResolvedIdentifier& identifier) {
  switch (identifier.entity) {
    case EntityType::kMetric:
      return {kNumericComparators, true};
    case EntityType::kParam:
      return {kStringComparators, false};
    case EntityType::kTag:
      if (kind == SearchKind::kModelVersions) {
        return {kStringComparators | Bit(Comparator::kIn), false};
      }
      return {kStringComparators, false};
    case EntityType::kDataset:
      return {kStringComparators | kListComparators, false};
    case EntityType::kAttribute:
      return {identifier.attribute->comparators, identifier.attribute->numeric};
  }
  return {0, false};
}

Status CheckComparator(const ResolvedIdentifier& identifier, const ClauseRule& rule,
                       Comparator comparator) {
  if ((rule.comparators & Bit(comparator)) != 0) return Status::Ok();
  if (IsList(comparator) && identifier.entity == EntityType::kAttribute && !rule.numeric) {
    return InvalidArgument(
        "Only the 'run_id' attribute supports comparison with a list of quoted string values "
        "(got {} on attribute '{}')",
        ComparatorSql(comparator), identifier.key);
  }
  return InvalidArgument("Invalid comparator '{}' for {} '{}'; not one of '{}'",
                         ComparatorSql(comparator), EntityName(identifier.entity),
                         Excerpt(identifier.key), ComparatorSetText(rule.comparators));
}

std::string ExpectedValueText(const ResolvedIdentifier& identifier, const ClauseRule& rule,
                              Comparator comparator) {
  if (rule.numeric) {
    if (identifier.entity == EntityType::kMetric) return "Expected numeric value type for metric";
    return fmt::format("Expected numeric value type for numeric attribute: {}", identifier.key);
  }
  if (IsList(comparator)) {
    return fmt::format("Expected a parenthesised list of quoted strings for {} on {} '{}'",
                       ComparatorSql(comparator), EntityName(identifier.entity),
                       Excerpt(identifier.key));
  }
  return fmt::format("Expected a quoted string value for {} (e.g. 'my-value')",
                     EntityName(identifier.entity));
}

Status CheckValueKind(const ResolvedIdentifier& identifier, const ClauseRule& rule,
                      Comparator comparator, const RawValue& value) {
  ValueKind wanted = ValueKind::kString;
  if (rule.numeric) {
    wanted = ValueKind::kNumber;
  } else if (IsList(comparator)) {
    wanted = ValueKind::kList;
  }
  if (value.kind == wanted) return Status::Ok();
  const char* verb = rule.numeric ? ". Found" : ". Got value";
  return InvalidArgument("{}{} {}", ExpectedValueText(identifier, rule, comparator), verb,
                         Excerpt(value.source));
}

bool HasAsciiUppercase(std::string_view text) {
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') return true;
  }
  return false;
}

Status InvalidClauses(std::string_view text, std::string_view hint = "") {
  return InvalidArgument("Invalid clause(s) in filter string: '{}'{}", Excerpt(text), hint);
}

bool IsKeyword(const RawIdentifier& raw) {
  if (raw.parts.size() != 1 || raw.parts.front().quote != 0) return false;
  const std::string& word = raw.parts.front().text;
  return EqualsIgnoreCase(word, "AND") || EqualsIgnoreCase(word, "OR") ||
         EqualsIgnoreCase(word, "NOT");
}

Result<FilterClause> ParseClause(Scanner& scanner, SearchKind kind) {
  const std::size_t begin = scanner.Position();
  if (!scanner.AtIdentifierStart()) return InvalidClauses(scanner.Rest());
  LAKEML_ASSIGN_OR_RETURN(RawIdentifier raw, scanner.ReadIdentifier());
  if (IsKeyword(raw)) return InvalidClauses(scanner.Suffix(begin));
  LAKEML_ASSIGN_OR_RETURN(ResolvedIdentifier identifier,
                          ResolveIdentifier(raw, kind, Purpose::kFilter));
  const ClauseRule rule = RuleFor(kind, identifier);

  const std::size_t identifier_end = scanner.Position();
  scanner.SkipSpace();
  if (scanner.AtEnd()) return InvalidClauses(scanner.From(begin));
  // `tags.my-key = 'x'` fails at '-'; the usual cause is an unquoted key, so say so.
  const bool glued_to_identifier = scanner.Position() == identifier_end;
  auto comparator_or = scanner.ReadComparator();
  if (!comparator_or.ok()) {
    if (!glued_to_identifier) return std::move(comparator_or).status();
    return InvalidArgument(
        "{} (keys with special characters must be quoted, e.g. tags.`my-key` or "
        "metrics.\"my key\")",
        comparator_or.status().message());
  }
  const Comparator comparator = *comparator_or;
  LAKEML_RETURN_IF_ERROR(CheckComparator(identifier, rule, comparator));

  scanner.SkipSpace();
  if (scanner.AtEnd()) return InvalidClauses(scanner.From(begin));
  LAKEML_ASSIGN_OR_RETURN(RawValue value, scanner.ReadValue());
  LAKEML_RETURN_IF_ERROR(CheckValueKind(identifier, rule, comparator, value));

  if (identifier.entity == EntityType::kAttribute && identifier.key == "run_id" &&
      value.kind == ValueKind::kList) {
    auto& run_ids = std::get<std::vector<std::string>>(value.value);
    std::erase_if(run_ids, [](const std::string& run_id) { return HasAsciiUppercase(run_id); });
  }
  return FilterClause{identifier.entity, std::move(identifier.key), comparator,
                      std::move(value.value)};
}

}  // namespace

std::string_view ComparatorSql(Comparator comparator) {
  switch (comparator) {
    case Comparator::kEq:
      return "=";
    case Comparator::kNotEq:
      return "!=";
    case Comparator::kGt:
      return ">";
    case Comparator::kGe:
      return ">=";
    case Comparator::kLt:
      return "<";
    case Comparator::kLe:
      return "<=";
    case Comparator::kLike:
      return "LIKE";
    case Comparator::kILike:
      return "ILIKE";
    case Comparator::kIn:
      return "IN";
    case Comparator::kNotIn:
      return "NOT IN";
  }
  return "=";
}

Result<std::vector<FilterClause>> ParseFilter(std::string_view filter, SearchKind kind) {
  LAKEML_RETURN_IF_ERROR(CheckInputShape(filter, "filter string"));
  Scanner scanner(filter);
  std::vector<FilterClause> clauses;
  scanner.SkipSpace();
  while (!scanner.AtEnd()) {
    LAKEML_ASSIGN_OR_RETURN(FilterClause clause, ParseClause(scanner, kind));
    clauses.push_back(std::move(clause));
    scanner.SkipSpace();
    if (scanner.AtEnd()) break;
    if (scanner.Peek() == ';') {
      return InvalidArgument(
          "Search filter contained multiple expressions '{}'. Provide AND-ed expression list.",
          Excerpt(filter));
    }
    const std::size_t connective_begin = scanner.Position();
    const std::string_view word = scanner.ReadWord();
    if (EqualsIgnoreCase(word, "OR")) {
      return InvalidClauses(filter.substr(connective_begin), " (only AND is supported)");
    }
    if (!EqualsIgnoreCase(word, "AND")) return InvalidClauses(filter.substr(connective_begin));
    scanner.SkipSpace();
    if (scanner.AtEnd()) return InvalidClauses(filter.substr(connective_begin));
  }
  return clauses;
}

Result<OrderByItem> ParseOrderBy(std::string_view order_by, SearchKind kind) {
  LAKEML_RETURN_IF_ERROR(CheckInputShape(order_by, "order_by clause"));
  const auto invalid = [&](std::string_view detail) {
    return InvalidArgument("Invalid order_by clause '{}'{}", Excerpt(order_by), detail);
  };
  Scanner scanner(order_by);
  scanner.SkipSpace();
  if (!scanner.AtIdentifierStart()) {
    return invalid(". Expected '<identifier> [ASC|DESC]'");
  }
  auto raw = scanner.ReadIdentifier();
  if (!raw.ok()) return invalid(fmt::format(": {}", raw.status().message()));
  if (IsKeyword(*raw)) return invalid(". Expected '<identifier> [ASC|DESC]'");

  OrderByItem item;
  scanner.SkipSpace();
  if (!scanner.AtEnd()) {
    const std::string_view direction = scanner.ReadWord();
    if (EqualsIgnoreCase(direction, "ASC")) {
      item.ascending = true;
    } else if (EqualsIgnoreCase(direction, "DESC")) {
      item.ascending = false;
    } else {
      return invalid(". Expected '<identifier> [ASC|DESC]'");
    }
    scanner.SkipSpace();
    if (!scanner.AtEnd()) return invalid(". Expected '<identifier> [ASC|DESC]'");
  }

  auto resolved = ResolveIdentifier(*raw, kind, Purpose::kOrderBy);
  if (!resolved.ok()) return invalid(fmt::format(": {}", resolved.status().message()));
  item.entity = resolved->entity;
  item.key = std::move(resolved->key);
  return item;
}

}  // namespace lakeml::tracking
