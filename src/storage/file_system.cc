#include "storage/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lakeml::storage {
namespace {

core::Status ErrnoStatus(std::string_view what, const std::string& path, int err) {
  std::string message = fmt::format("{} '{}': {}", what, path, std::strerror(err));
  switch (err) {
    case EEXIST:
      return {core::StatusCode::kAlreadyExists, std::move(message)};
    case EACCES:
    case EPERM:
    case EROFS:
      return {core::StatusCode::kPermissionDenied, std::move(message)};
    case ENOENT:
    case ENOTDIR:
      return {core::StatusCode::kNotFound, std::move(message)};
    default:
      return {core::StatusCode::kUnavailable, std::move(message)};
  }
}

// Closes the descriptor on every path out of a function, keeping the first error.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

core::Status SyncPath(const std::string& path, int flags, std::string_view what) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(what, path, errno);
  FdCloser closer(fd);
  if (::fsync(fd) != 0) return ErrnoStatus(what, path, errno);
  return core::Status::Ok();
}

}  // namespace

FileSystem* FileSystem::Default() {
  static PosixFileSystem file_system;  // stateless, so destruction order at exit is harmless
  return &file_system;
}

core::Status PosixFileSystem::CreateDirs(const std::string& path) {
  if (path.empty()) return core::InvalidArgument("empty directory path");
  // mkdir each prefix in turn; EEXIST on a prefix is the normal case.
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    std::string prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus("creating directory", prefix, errno);
    }
  }
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return ErrnoStatus("creating directory", path, errno);
  if (!S_ISDIR(info.st_mode)) {
    return core::AlreadyExists("'{}' exists and is not a directory", path);
  }
  return core::Status::Ok();
}

core::Status PosixFileSystem::WriteFile(const std::string& path, std::string_view contents) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("creating file", path, errno);
  FdCloser closer(fd);
  size_t written = 0;
  while (written < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("writing file", path, errno);
    }
    written += static_cast<size_t>(n);
  }
  return core::Status::Ok();
}

core::Status PosixFileSystem::SyncFile(const std::string& path) {
  return SyncPath(path, O_RDONLY, "syncing file");
}

core::Status PosixFileSystem::SyncDir(const std::string& path) {
  return SyncPath(path, O_RDONLY | O_DIRECTORY, "syncing directory");
}

core::Status PosixFileSystem::LinkIfAbsent(const std::string& existing,
                                           const std::string& new_path) {
  // link(2) never replaces an existing name: it is the atomic "put if absent" Delta needs.
  if (::link(existing.c_str(), new_path.c_str()) != 0) {
    return ErrnoStatus("linking to", new_path, errno);
  }
  return core::Status::Ok();
}

core::Status PosixFileSystem::Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus("renaming", from, errno);
  return core::Status::Ok();
}

core::Status PosixFileSystem::RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return ErrnoStatus("removing", path, errno);
  return core::Status::Ok();
}

core::Result<std::string> PosixFileSystem::ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("opening file", path, errno);
  FdCloser closer(fd);
  std::string contents;
  char buffer[64 * 1024];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("reading file", path, errno);
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
  }
  return contents;
}

core::Result<std::vector<std::string>> PosixFileSystem::ListDir(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return ErrnoStatus("listing directory", path, errno);
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* entry = ::readdir(dir)) {
    std::string_view name(entry->d_name);
    if (name != "." && name != "..") names.emplace_back(name);
    errno = 0;
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) return ErrnoStatus("listing directory", path, err);
  return names;
}

core::Result<bool> PosixFileSystem::Exists(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  return ErrnoStatus("checking", path, errno);
}

void FaultInjectionFileSystem::FailNthMutation(int64_t n, bool crash) {
  std::lock_guard lock(mu_);
  fail_at_ = n <= 0 ? 0 : count_ + n;
  crash_ = crash;
  fired_ = false;
}

int64_t FaultInjectionFileSystem::mutation_count() const {
  std::lock_guard lock(mu_);
  return count_;
}

void FaultInjectionFileSystem::Reset() {
  std::lock_guard lock(mu_);
  count_ = 0;
  fail_at_ = 0;
  crash_ = false;
  fired_ = false;
}

bool FaultInjectionFileSystem::fired() const {
  std::lock_guard lock(mu_);
  return fired_;
}

core::Status FaultInjectionFileSystem::Tick(std::string_view op, const std::string& path) {
  std::lock_guard lock(mu_);
  ++count_;
  bool fail = (fail_at_ != 0 && count_ == fail_at_) || (fired_ && crash_);
  if (!fail) return core::Status::Ok();
  fired_ = true;
  return core::Unavailable("injected fault in {} '{}' (mutation {})", op, path, count_);
}

core::Status FaultInjectionFileSystem::CreateDirs(const std::string& path) {
  LAKEML_RETURN_IF_ERROR(Tick("create dirs", path));
  return base_->CreateDirs(path);
}

core::Status FaultInjectionFileSystem::WriteFile(const std::string& path,
                                                 std::string_view contents) {
  core::Status fault = Tick("write", path);
  if (!fault.ok()) {
    // A torn write: part of the data reached the file before the failure.
    base_->WriteFile(path, contents.substr(0, contents.size() / 2)).IgnoreError();
    return fault;
  }
  return base_->WriteFile(path, contents);
}

core::Status FaultInjectionFileSystem::SyncFile(const std::string& path) {
  LAKEML_RETURN_IF_ERROR(Tick("sync file", path));
  return base_->SyncFile(path);
}

core::Status FaultInjectionFileSystem::SyncDir(const std::string& path) {
  LAKEML_RETURN_IF_ERROR(Tick("sync dir", path));
  return base_->SyncDir(path);
}

core::Status FaultInjectionFileSystem::LinkIfAbsent(const std::string& existing,
                                                    const std::string& new_path) {
  LAKEML_RETURN_IF_ERROR(Tick("link", new_path));
  return base_->LinkIfAbsent(existing, new_path);
}

core::Status FaultInjectionFileSystem::Rename(const std::string& from, const std::string& to) {
  LAKEML_RETURN_IF_ERROR(Tick("rename", from));
  return base_->Rename(from, to);
}

core::Status FaultInjectionFileSystem::RemoveFile(const std::string& path) {
  LAKEML_RETURN_IF_ERROR(Tick("remove", path));
  return base_->RemoveFile(path);
}

core::Result<std::string> FaultInjectionFileSystem::ReadFile(const std::string& path) {
  return base_->ReadFile(path);
}

core::Result<std::vector<std::string>> FaultInjectionFileSystem::ListDir(const std::string& path) {
  return base_->ListDir(path);
}

core::Result<bool> FaultInjectionFileSystem::Exists(const std::string& path) {
  return base_->Exists(path);
}

}  // namespace lakeml::storage
