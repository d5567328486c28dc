#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lakeml::tracking {

// MLflow's `validate_path_is_safe`, made stricter: decodes percent-escapes repeatedly until
// stable (at most 10 rounds; malformed escapes such as `%zz` stay literal), then refuses `#`,
// `\`, NUL and control characters, `..` segments, absolute POSIX or Windows paths, any
// `scheme:` prefix (`file:`, `C:`, `mlflow-artifacts:`), and paths that change under
// normalisation (`a//b`, `./a`, `a/.`) or have a segment over 255 bytes. One trailing `/` is
// allowed and stripped. Returns the decoded relative path; "" means the root.
// Errors: kInvalidArgument "invalid path '...'" (control characters escaped).
core::Result<std::string> ValidatePathIsSafe(std::string_view path);

struct FileInfo {
  std::string path;  // relative, '/'-separated
  bool is_dir = false;
  std::optional<int64_t> file_size;  // unset for directories
};

// Receives a request body piece by piece; returns false to abort.
using ChunkSink = std::function<bool(const char* data, size_t size)>;
// Produces the body of an upload: calls `sink` for each piece, returns false on a transport error.
using ChunkSource = std::function<bool(const ChunkSink& sink)>;

// Files under one root directory (the server's --artifacts-destination), addressed by relative
// paths that are checked with ValidatePathIsSafe and, after resolving symlinks, must stay inside
// the root. Writes go to a temp file in the target directory and are renamed into place, so a
// killed upload leaves no partial file. Streaming: memory use does not grow with file size.
// Thread-safe (the file system is the only state).
class ArtifactStore {
 public:
  explicit ArtifactStore(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }

  // Streams `source` into `relative_path`, creating parent directories (and the root).
  // Replaces an existing file atomically. Errors: kInvalidArgument (unsafe path, the root, a
  // directory, or a parent that is a file), kAborted (the source returned false; nothing is
  // left behind), kPermissionDenied, kResourceExhausted, kInternal.
  core::Status Put(std::string_view relative_path, const ChunkSource& source);
  // Streams the file at `relative_path` into `sink` in chunks of at most 1 MiB.
  // Errors: kNotFound, kInvalidArgument (unsafe path or a directory), kAborted (the sink
  // returned false).
  core::Status Get(std::string_view relative_path, const ChunkSink& sink) const;
  // Errors: kNotFound, kInvalidArgument (unsafe path or a directory).
  core::Result<int64_t> FileSize(std::string_view relative_path) const;
  // Lists the direct children of a directory, sorted by name; each FileInfo.path is the
  // child's basename (callers prefix it as their API needs). A missing directory or a file
  // gives an empty list. Upload temp files, non-regular files and symlinks that resolve
  // outside the root are left out. Errors: kInvalidArgument (unsafe path), kPermissionDenied.
  core::Result<std::vector<FileInfo>> List(std::string_view relative_dir) const;
  // Deletes a file or a directory recursively; a symlink is removed rather than followed (one
  // that resolves outside the root is refused like any unsafe path).
  // Errors: kNotFound, kInvalidArgument (unsafe path or the root itself).
  core::Status Delete(std::string_view relative_path);

  // Resolves a safe relative path to an absolute path inside the root (no I/O on the target
  // beyond resolving existing symlinked ancestors). Errors: kInvalidArgument (unsafe path, or
  // an existing symlink on the way that resolves outside the root or dangles); file-system
  // errors while resolving map to kPermissionDenied / kInternal.
  core::Result<std::filesystem::path> Resolve(std::string_view relative_path) const;

 private:
  std::filesystem::path root_;
  // root_ made absolute once, so a later chdir cannot move the store.
  std::filesystem::path absolute_root_;
};

// Maps a run's `artifact_uri` (e.g. "mlflow-artifacts:/1/<run>/artifacts") to the path relative
// to the artifact store root ("1/<run>/artifacts"). Accepts `mlflow-artifacts:` URIs (with or
// without host) and http(s) URLs containing "/api/2.0/mlflow-artifacts/artifacts/".
// Errors: kInvalidArgument for any other scheme or an unsafe path.
core::Result<std::string> ArtifactUriToRelativePath(std::string_view artifact_uri);

}  // namespace lakeml::tracking
