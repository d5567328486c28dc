#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace lakeml::server {

enum class HttpMethod { kGet, kPost, kPut, kPatch, kDelete };

// "GET", "HEAD" (served as GET), "POST", "PUT", "PATCH", "DELETE"; nullopt for anything else.
std::optional<HttpMethod> ParseHttpMethod(std::string_view method);
std::string_view HttpMethodName(HttpMethod method);

// Values captured from `{name}` segments, in pattern order.
using PathParams = std::vector<std::pair<std::string, std::string>>;

// Maps (method, path) to a handler. Patterns are '/'-separated; a segment is a literal, `{name}`
// (exactly one non-empty segment) or, as the last segment only, `{name...}` (the non-empty rest
// of the path, slashes included, unnormalised). Literal routes are found through a hash map and
// win over patterned ones; patterned routes are tried in registration order.
//
// Not thread-safe while routes are added; Find() is safe from many threads afterwards.
template <typename Handler>
class Router {
 public:
  struct Match {
    const Handler* handler = nullptr;
    PathParams path_params;
  };

  // Returns false (and adds nothing) if the same method and pattern are already registered.
  bool Add(HttpMethod method, std::string_view pattern, Handler handler);

  // The handler for `path` under `method`, or nullopt.
  std::optional<Match> Find(HttpMethod method, std::string_view path) const;

  // Whether any method serves `path` (to tell "wrong method" from "unknown path").
  bool HasPath(std::string_view path) const;

 private:
  struct Segment {
    std::string text;  // literal text, or the parameter name
    bool is_param = false;
    bool is_rest = false;
  };
  struct PatternRoute {
    HttpMethod method;
    std::string pattern;
    std::vector<Segment> segments;
    Handler handler;
  };

  static std::string Key(HttpMethod method, std::string_view path) {
    std::string key(HttpMethodName(method));
    key.push_back(' ');
    key.append(path);
    return key;
  }
  static std::vector<std::string_view> Split(std::string_view path);
  static bool MatchPattern(const PatternRoute& route, std::string_view path, PathParams* params);

  std::unordered_map<std::string, Handler> literal_routes_;
  std::vector<PatternRoute> pattern_routes_;
};

// ---- implementation ----

inline std::optional<HttpMethod> ParseHttpMethod(std::string_view method) {
  if (method == "GET" || method == "HEAD") return HttpMethod::kGet;
  if (method == "POST") return HttpMethod::kPost;
  if (method == "PUT") return HttpMethod::kPut;
  if (method == "PATCH") return HttpMethod::kPatch;
  if (method == "DELETE") return HttpMethod::kDelete;
  return std::nullopt;
}

inline std::string_view HttpMethodName(HttpMethod method) {
  switch (method) {
    case HttpMethod::kGet:
      return "GET";
    case HttpMethod::kPost:
      return "POST";
    case HttpMethod::kPut:
      return "PUT";
    case HttpMethod::kPatch:
      return "PATCH";
    case HttpMethod::kDelete:
      return "DELETE";
  }
  return "GET";
}

template <typename Handler>
std::vector<std::string_view> Router<Handler>::Split(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

template <typename Handler>
bool Router<Handler>::Add(HttpMethod method, std::string_view pattern, Handler handler) {
  if (pattern.find('{') == std::string_view::npos) {
    return literal_routes_.emplace(Key(method, pattern), std::move(handler)).second;
  }
  for (const PatternRoute& existing : pattern_routes_) {
    if (existing.method == method && existing.pattern == pattern) return false;
  }
  PatternRoute route{method, std::string(pattern), {}, std::move(handler)};
  for (std::string_view part : Split(pattern)) {
    Segment segment;
    if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      std::string_view name = part.substr(1, part.size() - 2);
      segment.is_param = true;
      if (name.size() > 3 && name.substr(name.size() - 3) == "...") {
        segment.is_rest = true;
        name.remove_suffix(3);
      }
      segment.text = std::string(name);
    } else {
      segment.text = std::string(part);
    }
    route.segments.push_back(std::move(segment));
  }
  pattern_routes_.push_back(std::move(route));
  return true;
}

template <typename Handler>
bool Router<Handler>::MatchPattern(const PatternRoute& route, std::string_view path,
                                   PathParams* params) {
  size_t pos = 0;  // start of the current segment in `path`
  const size_t count = route.segments.size();
  for (size_t i = 0; i < count; ++i) {
    const Segment& segment = route.segments[i];
    if (pos > path.size()) return false;
    if (segment.is_rest) {
      std::string_view rest = path.substr(pos);
      if (rest.empty()) return false;
      params->emplace_back(segment.text, std::string(rest));
      return true;
    }
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view part = path.substr(pos, slash - pos);
    if (segment.is_param) {
      if (part.empty()) return false;
      params->emplace_back(segment.text, std::string(part));
    } else if (part != segment.text) {
      return false;
    }
    pos = slash + 1;
  }
  // Every segment matched; the path must not have more.
  return pos == path.size() + 1;
}

template <typename Handler>
auto Router<Handler>::Find(HttpMethod method, std::string_view path) const
    -> std::optional<Match> {
  if (auto it = literal_routes_.find(Key(method, path)); it != literal_routes_.end()) {
    return Match{&it->second, {}};
  }
  for (const PatternRoute& route : pattern_routes_) {
    if (route.method != method) continue;
    PathParams params;
    if (MatchPattern(route, path, &params)) return Match{&route.handler, std::move(params)};
  }
  return std::nullopt;
}

template <typename Handler>
bool Router<Handler>::HasPath(std::string_view path) const {
  for (HttpMethod method : {HttpMethod::kGet, HttpMethod::kPost, HttpMethod::kPut,
                            HttpMethod::kPatch, HttpMethod::kDelete}) {
    if (Find(method, path)) return true;
  }
  return false;
}

}  // namespace lakeml::server
