#include "tracking/artifact_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <utility>

#include "core/ids.h"
#include "core/text.h"

namespace lakeml::tracking {
namespace fs = std::filesystem;

namespace {

// Each round peels one layer of encoding; real clients encode at most twice, so a path still
// changing after this many rounds is an attack, not a file name.
constexpr int kMaxDecodeRounds = 10;
// NAME_MAX on every file system we target; longer segments would only fail later in open().
constexpr size_t kMaxSegmentBytes = 255;
// Keeps temp names below NAME_MAX even for a maximal target name.
constexpr size_t kMaxTempStemBytes = 100;
constexpr int kTempSuffixHexChars = 16;
constexpr std::string_view kTempMarker = ".tmp-";
constexpr size_t kChunkBytes = size_t{1} << 20;

core::Status InvalidPath(std::string_view path) {
  return core::InvalidArgument("invalid path '{}'", core::EscapeForMessage(path));
}

// True for "scheme:" in RFC 3986 form; this also covers Windows drives ("C:").
bool HasSchemePrefix(std::string_view first_segment) {
  const size_t colon = first_segment.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const auto is_alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!is_alpha(first_segment[0])) return false;
  for (size_t i = 1; i < colon; ++i) {
    const char c = first_segment[i];
    if (!is_alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

// Our own upload temp files: ".<stem>.tmp-<16 hex>". Listing hides them.
bool IsTempFileName(std::string_view name) {
  const size_t suffix_size = kTempMarker.size() + kTempSuffixHexChars;
  if (name.size() < 1 + suffix_size || name.front() != '.') return false;
  const std::string_view suffix = name.substr(name.size() - suffix_size);
  if (suffix.substr(0, kTempMarker.size()) != kTempMarker) return false;
  const std::string_view random_part = suffix.substr(kTempMarker.size());
  return std::all_of(random_part.begin(), random_part.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string TempFileName(const std::string& target_name) {
  size_t stem_bytes = std::min(target_name.size(), kMaxTempStemBytes);
  // Do not cut a UTF-8 sequence in half: back off over continuation bytes.
  while (stem_bytes > 0 && stem_bytes < target_name.size() &&
         (static_cast<unsigned char>(target_name[stem_bytes]) & 0xC0) == 0x80) {
    --stem_bytes;
  }
  return fmt::format(".{}{}{}", target_name.substr(0, stem_bytes), kTempMarker,
                     core::RandomHex(kTempSuffixHexChars));
}

// Component-wise, so "/root-evil" is not mistaken for being inside "/root".
bool IsInside(const fs::path& candidate, const fs::path& root) {
  auto root_it = root.begin();
  auto candidate_it = candidate.begin();
  for (; root_it != root.end(); ++root_it, ++candidate_it) {
    // A trailing separator shows up as an empty final component; it does not narrow the root.
    if (root_it->empty()) continue;
    if (candidate_it == candidate.end() || *candidate_it != *root_it) return false;
  }
  return true;
}

core::Status FromErrorCode(const std::error_code& ec, std::string_view action,
                           std::string_view relative_path) {
  const std::string what =
      fmt::format("cannot {} '{}': {}", action, core::EscapeForMessage(relative_path), ec.message());
  if (ec == std::errc::no_such_file_or_directory) return {core::StatusCode::kNotFound, what};
  if (ec == std::errc::permission_denied || ec == std::errc::operation_not_permitted ||
      ec == std::errc::read_only_file_system) {
    return {core::StatusCode::kPermissionDenied, what};
  }
  if (ec == std::errc::no_space_on_device || ec == std::errc::file_too_large ||
      ec.value() == EDQUOT) {
    return {core::StatusCode::kResourceExhausted, what};
  }
  if (ec == std::errc::filename_too_long || ec == std::errc::not_a_directory ||
      ec == std::errc::is_a_directory || ec == std::errc::file_exists ||
      ec == std::errc::too_many_symbolic_link_levels) {
    return {core::StatusCode::kInvalidArgument, what};
  }
  return {core::StatusCode::kInternal, what};
}

core::Status FromErrno(int error_number, std::string_view action, std::string_view path) {
  return FromErrorCode(std::error_code(error_number, std::generic_category()), action, path);
}

// Owns a POSIX file descriptor.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() { Close(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Returns the close() errno, or 0; write errors on NFS can surface only here.
  int Close() {
    if (fd_ < 0) return 0;
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

// Removes an upload's temp file on every exit path that did not commit it, including a
// ChunkSource that throws.
class TempFileGuard {
 public:
  explicit TempFileGuard(fs::path path) : path_(std::move(path)) {}
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;
  ~TempFileGuard() {
    if (armed_) {
      std::error_code ignored;
      fs::remove(path_, ignored);
    }
  }
  void Disarm() { armed_ = false; }

 private:
  fs::path path_;
  bool armed_ = true;
};

bool WriteAll(int fd, const char* data, size_t size, int* error_number) {
  while (size > 0) {
    const ssize_t written = ::write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      *error_number = errno;
      return false;
    }
    data += written;
    size -= static_cast<size_t>(written);
  }
  return true;
}

// Where the checks in Resolve compare against: the root with its own symlinks resolved, so an
// operator may point --artifacts-destination at a symlink.
core::Result<fs::path> CanonicalRoot(const fs::path& absolute_root) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(absolute_root, ec);
  if (ec) return FromErrorCode(ec, "resolve", "<artifact root>");
  return canonical;
}

}  // namespace

core::Result<std::string> ValidatePathIsSafe(std::string_view path) {
  std::string decoded(path);
  bool stable = false;
  for (int round = 0; round < kMaxDecodeRounds; ++round) {
    std::string next = core::PercentDecodeOnce(decoded);
    if (next == decoded) {
      stable = true;
      break;
    }
    decoded = std::move(next);
  }
  if (!stable) return InvalidPath(decoded);
  if (decoded.empty()) return decoded;

  for (char c : decoded) {
    if (core::IsControlChar(c) || c == '#' || c == '\\') return InvalidPath(decoded);
  }
  if (decoded.front() == '/') return InvalidPath(decoded);
  // Exactly one trailing slash is how clients name a directory; anything more would be a path
  // that changes under normalisation, which MLflow refuses.
  if (decoded.back() == '/') decoded.pop_back();

  std::string_view rest = decoded;
  bool first_segment = true;
  while (true) {
    const size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    if (segment.empty() || segment == "." || segment == ".." || segment.size() > kMaxSegmentBytes) {
      return InvalidPath(decoded);
    }
    if (first_segment && HasSchemePrefix(segment)) return InvalidPath(decoded);
    first_segment = false;
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return decoded;
}

ArtifactStore::ArtifactStore(fs::path root) : root_(std::move(root)) {
  std::error_code ec;
  absolute_root_ = fs::absolute(root_, ec).lexically_normal();
  // absolute() fails only if the working directory is gone; every later call then reports
  // the missing root instead of writing somewhere unexpected.
  if (ec) absolute_root_ = root_.lexically_normal();
}

core::Result<fs::path> ArtifactStore::Resolve(std::string_view relative_path) const {
  LAKEML_ASSIGN_OR_RETURN(const std::string safe_path, ValidatePathIsSafe(relative_path));
  LAKEML_ASSIGN_OR_RETURN(const fs::path canonical_root, CanonicalRoot(absolute_root_));
  const fs::path target = safe_path.empty() ? absolute_root_ : absolute_root_ / safe_path;
  const auto escapes = [&] {
    return core::InvalidArgument("path '{}' resolves outside the artifact root",
                                 core::EscapeForMessage(safe_path));
  };

  // weakly_canonical alone treats a dangling symlink as a missing plain name, so every
  // existing symlink along the path is resolved and checked on its own.
  std::error_code ec;
  fs::path prefix = absolute_root_;
  for (const fs::path& part : fs::path(safe_path)) {
    prefix /= part;
    const fs::file_status link_status = fs::symlink_status(prefix, ec);
    if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory) {
      return FromErrorCode(ec, "resolve", safe_path);
    }
    if (ec || link_status.type() == fs::file_type::not_found) break;
    if (fs::is_symlink(link_status)) {
      const fs::path real = fs::canonical(prefix, ec);
      if (ec || !IsInside(real, canonical_root)) return escapes();
    }
  }
  const fs::path real_target = fs::weakly_canonical(target, ec);
  if (ec) return FromErrorCode(ec, "resolve", safe_path);
  if (!IsInside(real_target, canonical_root)) return escapes();
  return target;
}

core::Status ArtifactStore::Put(std::string_view relative_path, const ChunkSource& source) {
  LAKEML_ASSIGN_OR_RETURN(const fs::path target, Resolve(relative_path));
  // Resolve succeeded, so the path is decoded and safe to echo.
  LAKEML_ASSIGN_OR_RETURN(const std::string name, ValidatePathIsSafe(relative_path));
  if (name.empty()) return core::InvalidArgument("cannot write to the artifact root itself");

  std::error_code ec;
  const fs::path directory = target.parent_path();
  fs::create_directories(directory, ec);
  if (ec) return FromErrorCode(ec, "create the parent directories of", name);
  if (fs::is_directory(target, ec)) {
    return core::InvalidArgument("artifact '{}' is a directory", core::EscapeForMessage(name));
  }

  const fs::path temp_path = directory / TempFileName(target.filename().string());
  // O_NOFOLLOW and O_EXCL: the random name is never a pre-planted file or link.
  FileDescriptor file(
      ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666));
  if (!file.valid()) return FromErrno(errno, "create", name);
  TempFileGuard guard(temp_path);

  int write_errno = 0;
  const ChunkSink sink = [&](const char* data, size_t size) {
    return WriteAll(file.get(), data, size, &write_errno);
  };
  const bool source_ok = source(sink);
  if (write_errno != 0) return FromErrno(write_errno, "write", name);
  if (!source_ok) {
    return core::Aborted("upload of '{}' was interrupted", core::EscapeForMessage(name));
  }
  if (const int close_errno = file.Close(); close_errno != 0) {
    return FromErrno(close_errno, "write", name);
  }
  // No fsync: the rename alone guarantees readers see either the old file or the complete new
  // one, which is the promise the header makes; durability across power loss is not.
  fs::rename(temp_path, target, ec);
  if (ec) return FromErrorCode(ec, "write", name);
  guard.Disarm();
  return core::Status::Ok();
}

core::Status ArtifactStore::Get(std::string_view relative_path, const ChunkSink& sink) const {
  LAKEML_ASSIGN_OR_RETURN(const fs::path target, Resolve(relative_path));
  LAKEML_ASSIGN_OR_RETURN(const std::string name, ValidatePathIsSafe(relative_path));

  FileDescriptor file(::open(target.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file.valid()) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return core::NotFound("artifact '{}' not found", core::EscapeForMessage(name));
    }
    return FromErrno(errno, "read", name);
  }
  struct stat info {};
  if (::fstat(file.get(), &info) != 0) return FromErrno(errno, "read", name);
  if (S_ISDIR(info.st_mode)) {
    return core::InvalidArgument("artifact '{}' is a directory", core::EscapeForMessage(name));
  }
  if (!S_ISREG(info.st_mode)) {
    return core::InvalidArgument("artifact '{}' is not a regular file", core::EscapeForMessage(name));
  }

  std::vector<char> buffer(kChunkBytes);
  while (true) {
    const ssize_t got = ::read(file.get(), buffer.data(), buffer.size());
    if (got < 0) {
      if (errno == EINTR) continue;
      return FromErrno(errno, "read", name);
    }
    if (got == 0) break;
    if (!sink(buffer.data(), static_cast<size_t>(got))) {
      return core::Aborted("download of '{}' was interrupted", core::EscapeForMessage(name));
    }
  }
  return core::Status::Ok();
}

core::Result<int64_t> ArtifactStore::FileSize(std::string_view relative_path) const {
  LAKEML_ASSIGN_OR_RETURN(const fs::path target, Resolve(relative_path));
  LAKEML_ASSIGN_OR_RETURN(const std::string name, ValidatePathIsSafe(relative_path));
  std::error_code ec;
  const fs::file_status status = fs::status(target, ec);
  if (status.type() == fs::file_type::not_found || (ec && ec == std::errc::not_a_directory)) {
    return core::NotFound("artifact '{}' not found", core::EscapeForMessage(name));
  }
  if (ec) return FromErrorCode(ec, "stat", name);
  if (fs::is_directory(status)) {
    return core::InvalidArgument("artifact '{}' is a directory", core::EscapeForMessage(name));
  }
  const uintmax_t size_bytes = fs::file_size(target, ec);
  if (ec) return FromErrorCode(ec, "stat", name);
  return static_cast<int64_t>(size_bytes);
}

core::Result<std::vector<FileInfo>> ArtifactStore::List(std::string_view relative_dir) const {
  LAKEML_ASSIGN_OR_RETURN(const fs::path directory, Resolve(relative_dir));
  LAKEML_ASSIGN_OR_RETURN(const std::string name, ValidatePathIsSafe(relative_dir));
  LAKEML_ASSIGN_OR_RETURN(const fs::path canonical_root, CanonicalRoot(absolute_root_));

  std::vector<FileInfo> entries;
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) return entries;

  fs::directory_iterator it(directory, ec);
  if (ec) return FromErrorCode(ec, "list", name);
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return FromErrorCode(ec, "list", name);
    const fs::path& child = it->path();
    const std::string child_name = child.filename().string();
    if (IsTempFileName(child_name)) continue;

    std::error_code child_ec;
    const fs::file_status link_status = fs::symlink_status(child, child_ec);
    if (child_ec) continue;  // Vanished between readdir and stat: a concurrent delete.
    if (fs::is_symlink(link_status)) {
      const fs::path real = fs::canonical(child, child_ec);
      if (child_ec || !IsInside(real, canonical_root)) continue;
    }
    const fs::file_status status = fs::status(child, child_ec);
    if (child_ec) continue;
    if (fs::is_directory(status)) {
      entries.push_back(FileInfo{child_name, true, std::nullopt});
    } else if (fs::is_regular_file(status)) {
      const uintmax_t size_bytes = fs::file_size(child, child_ec);
      if (child_ec) continue;
      entries.push_back(FileInfo{child_name, false, static_cast<int64_t>(size_bytes)});
    }
    // Sockets, FIFOs and devices are never artifacts; listing them would only invite a Get
    // that blocks.
  }
  std::sort(entries.begin(), entries.end(),
            [](const FileInfo& a, const FileInfo& b) { return a.path < b.path; });
  return entries;
}

core::Status ArtifactStore::Delete(std::string_view relative_path) {
  LAKEML_ASSIGN_OR_RETURN(const fs::path target, Resolve(relative_path));
  LAKEML_ASSIGN_OR_RETURN(const std::string name, ValidatePathIsSafe(relative_path));
  if (name.empty()) return core::InvalidArgument("cannot delete the artifact root itself");

  std::error_code ec;
  const fs::file_status link_status = fs::symlink_status(target, ec);
  if (link_status.type() == fs::file_type::not_found || (ec && ec == std::errc::not_a_directory)) {
    return core::NotFound("artifact '{}' not found", core::EscapeForMessage(name));
  }
  if (ec) return FromErrorCode(ec, "delete", name);
  // remove_all never descends through symlinks: a link inside the tree is removed, not its
  // target.
  fs::remove_all(target, ec);
  if (ec) return FromErrorCode(ec, "delete", name);
  return core::Status::Ok();
}

core::Result<std::string> ArtifactUriToRelativePath(std::string_view artifact_uri) {
  const auto unsupported = [&] {
    return core::InvalidArgument("unsupported artifact uri '{}'", core::EscapeForMessage(artifact_uri));
  };
  const auto starts_with_ignore_case = [&](std::string_view prefix) {
    if (artifact_uri.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
      char c = artifact_uri[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != prefix[i]) return false;
    }
    return true;
  };
  // Queries and fragments have no meaning for a stored artifact location; MLflow refuses them
  // in artifact_location, and a fragment hid "../" in CVE-2024-1594.
  if (artifact_uri.find_first_of("?#") != std::string_view::npos) return unsupported();

  std::string_view path;
  if (constexpr std::string_view kScheme = "mlflow-artifacts:"; starts_with_ignore_case(kScheme)) {
    path = artifact_uri.substr(kScheme.size());
    if (path.substr(0, 2) == "//") {
      // The authority names the server the client should talk to; here we are that server.
      path.remove_prefix(2);
      const size_t slash = path.find('/');
      path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
    }
  } else {
    std::string_view rest;
    if (starts_with_ignore_case("http://")) {
      rest = artifact_uri.substr(7);
    } else if (starts_with_ignore_case("https://")) {
      rest = artifact_uri.substr(8);
    } else {
      return unsupported();
    }
    const size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return unsupported();
    rest.remove_prefix(slash);
    constexpr std::string_view kAnchor = "/api/2.0/mlflow-artifacts/artifacts";
    const size_t anchor = rest.find(kAnchor);
    if (anchor == std::string_view::npos) return unsupported();
    path = rest.substr(anchor + kAnchor.size());
    if (!path.empty() && path.front() != '/') return unsupported();
  }
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return ValidatePathIsSafe(path);
}

}  // namespace lakeml::tracking
