#include "tracking/artifact_store.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.h"

namespace lakeml::tracking {
namespace {

namespace fs = std::filesystem;
using core::StatusCode;

constexpr size_t kMiB = size_t{1} << 20;

ChunkSource SourceFromString(std::string content, size_t chunk_bytes = 7) {
  return [content = std::move(content), chunk_bytes](const ChunkSink& sink) {
    for (size_t offset = 0; offset < content.size(); offset += chunk_bytes) {
      const size_t size = std::min(chunk_bytes, content.size() - offset);
      if (!sink(content.data() + offset, size)) return false;
    }
    return true;
  };
}

core::Result<std::string> GetAll(const ArtifactStore& store, std::string_view path) {
  std::string content;
  core::Status status = store.Get(path, [&](const char* data, size_t size) {
    content.append(data, size);
    return true;
  });
  if (!status.ok()) return status;
  return content;
}

void WriteRaw(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

std::string ReadRaw(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Every entry, hidden temp files included: what a crash or a bug would leave behind.
std::vector<std::string> RawEntries(const fs::path& directory) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> ListedNames(const std::vector<FileInfo>& entries) {
  std::vector<std::string> names;
  for (const FileInfo& entry : entries) names.push_back(entry.path);
  return names;
}

class ArtifactStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("lakeml-artifact-store-test-" + core::RandomHex(12));
    outside_ = base_ / "outside";
    root_ = base_ / "root";
    fs::create_directories(outside_);
    WriteRaw(outside_ / "secret", "top secret");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  // The sibling directory an escape would reach is exactly as SetUp left it.
  void ExpectOutsideUntouched() {
    EXPECT_EQ(RawEntries(outside_), std::vector<std::string>{"secret"});
    EXPECT_EQ(ReadRaw(outside_ / "secret"), "top secret");
    EXPECT_EQ(RawEntries(base_), (std::vector<std::string>{"outside", "root"}));
  }

  fs::path base_;
  fs::path outside_;
  fs::path root_;
};

// --- ValidatePathIsSafe and the attack list (reference §12) ---

// Encodes `path`'s '%' signs `extra_layers` more times, e.g. "%2e" -> "%252e" -> "%25252e".
std::string EncodePercentAgain(std::string path, int extra_layers) {
  for (int layer = 0; layer < extra_layers; ++layer) {
    std::string next;
    for (char c : path) next += c == '%' ? std::string("%25") : std::string(1, c);
    path = std::move(next);
  }
  return path;
}

std::vector<std::string> AttackPaths() {
  return {
      // mlflow#7166 and plain traversal.
      "../../etc/passwd",
      "..",
      "../",
      "a/../../b",
      "a/..",
      "a/b/../../../c",
      // CVE-2023-6909 / 6977 / 6831: URL-encoded traversal.
      "..%2f..%2fetc",
      "..%2F..%2Fetc%2Fpasswd",
      "%2e%2e/%2e%2e/etc",
      "%2E%2E%2F%2E%2E%2Fetc",
      "%2e%2e",
      "%2fetc%2fpasswd",
      // CVE-2024-1560 / 2023-6730: double and triple encoding.
      "%252e%252e%252f",
      "%252e%252e%252fetc%252fpasswd",
      "%25252e%25252e%25252fetc",
      EncodePercentAgain("%2e%2e%2fetc", 3),
      // Encoded far past any real client: refused instead of decoded forever.
      EncodePercentAgain("a%2fb", 12),
      // CVE-2023-2780: backslashes, raw and encoded.
      "\\..\\..\\x",
      "a\\b",
      "%5c..%5c..%5cx",
      "..%5c..%5cx",
      "%255c..%255cx",
      // CVE-2023-1177: absolute POSIX, Windows and UNC forms.
      "/etc/passwd",
      "/",
      "//etc",
      "C:\\x",
      "C:/x",
      "c:x",
      "C:",
      "\\\\host\\share",
      // URIs smuggled in as paths.
      "file:///etc/passwd",
      "file://path/../../x",
      "file:",
      "mlflow-artifacts://h/../../",
      "mlflow-artifacts:/x",
      "http://h/x",
      "s3:/bucket/models/../../other",
      // CVE-2024-1594 / 2928: fragments.
      "x#/../../y",
      "#",
      "%23/../x",
      "a#b",
      // NUL and control characters.
      "a%00b",
      std::string("a\0b", 3),
      "a\x01"
      "b",
      "a\nb",
      "a\tb",
      "a\x7f",
      "a%0ab",
      "..%00/",
      "artifacts%00",
      // Paths that change under normalisation.
      "a//b",
      "./a",
      "a/.",
      ".",
      "a/./b",
      "a/b//",
      "./",
      "%2e",
      "a%2f%2fb",
      // Overlong segment.
      std::string(256, 'a'),
      "dir/" + std::string(300, 'b'),
  };
}

TEST(ValidatePathIsSafeTest, RefusesEveryAttackShape) {
  for (const std::string& path : AttackPaths()) {
    SCOPED_TRACE("path: " + path);
    const core::Result<std::string> result = ValidatePathIsSafe(path);
    ASSERT_FALSE(result.ok()) << "accepted as '" << *result << "'";
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    const std::string& message = result.status().message();
    EXPECT_EQ(message.rfind("invalid path '", 0), 0u) << message;
    EXPECT_TRUE(
        std::none_of(message.begin(), message.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
        << "control characters must be escaped in: " << message;
  }
}

TEST(ValidatePathIsSafeTest, EscapesControlCharactersInMessage) {
  const core::Result<std::string> result = ValidatePathIsSafe("a%00b\x01");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(), "invalid path 'a\\x00b\\x01'");
}

TEST(ValidatePathIsSafeTest, AcceptsOrdinaryNamesAndReturnsTheDecodedPath) {
  struct Case {
    std::string input;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"", ""},
      {"model.v1.bin", "model.v1.bin"},
      {"a/b/c.txt", "a/b/c.txt"},
      {"dir with spaces/file name.txt", "dir with spaces/file name.txt"},
      {"données/模型 v2.bin", "données/模型 v2.bin"},
      {"~/x", "~/x"},
      {"~user", "~user"},
      {"a..b", "a..b"},
      {"...", "..."},
      {"..a/b..", "..a/b.."},
      {".hidden/x", ".hidden/x"},
      {"a/b/", "a/b"},
      {"a%2Fb", "a/b"},
      {"a%20b", "a b"},
      {"a%25252fb", "a/b"},
      {"100%zz", "100%zz"},
      {"50%", "50%"},
      {"%", "%"},
      {"a%2", "a%2"},
      {"a/b:c", "a/b:c"},
      {"1:2", "1:2"},
      {std::string(255, 'a'), std::string(255, 'a')},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("path: " + c.input);
    const core::Result<std::string> result = ValidatePathIsSafe(c.input);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(*result, c.expected);
  }
}

TEST_F(ArtifactStoreTest, EveryOperationRefusesEveryAttackShape) {
  ArtifactStore store(root_);
  ASSERT_TRUE(store.Put("existing/file.txt", SourceFromString("keep me")).ok());
  for (const std::string& path : AttackPaths()) {
    SCOPED_TRACE("path: " + path);
    EXPECT_EQ(store.Put(path, SourceFromString("pwned")).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(GetAll(store, path).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store.FileSize(path).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store.List(path).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store.Delete(path).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store.Resolve(path).status().code(), StatusCode::kInvalidArgument);
  }
  ExpectOutsideUntouched();
  EXPECT_EQ(RawEntries(root_), std::vector<std::string>{"existing"});
  EXPECT_EQ(RawEntries(root_ / "existing"), std::vector<std::string>{"file.txt"});
  EXPECT_EQ(ReadRaw(root_ / "existing" / "file.txt"), "keep me");
}

// --- Symlinks inside the root ---

TEST_F(ArtifactStoreTest, SymlinksPointingOutsideAreNeverFollowed) {
  ArtifactStore store(root_);
  ASSERT_TRUE(store.Put("real/inside.txt", SourceFromString("inside")).ok());
  fs::create_directory_symlink(outside_, root_ / "link_dir");
  fs::create_symlink(outside_ / "secret", root_ / "link_file");
  fs::create_symlink(outside_ / "does-not-exist", root_ / "dangling");
  fs::create_directory_symlink(outside_, root_ / "real" / "nested_link");
  // Relative links escape as well as absolute ones.
  fs::create_symlink("../../outside/secret", root_ / "real" / "relative_link");

  for (const std::string path :
       {"link_dir", "link_dir/secret", "link_dir/new.txt", "link_file", "dangling", "dangling/x",
        "real/nested_link/secret", "real/nested_link/new", "real/relative_link"}) {
    SCOPED_TRACE("path: " + path);
    EXPECT_EQ(store.Put(path, SourceFromString("pwned")).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(GetAll(store, path).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store.FileSize(path).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store.List(path).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store.Delete(path).code(), StatusCode::kInvalidArgument);
  }

  // Listing skips the escaping links instead of reporting what they point at.
  const core::Result<std::vector<FileInfo>> root_listing = store.List("");
  ASSERT_TRUE(root_listing.ok()) << root_listing.status().ToString();
  EXPECT_EQ(ListedNames(*root_listing), std::vector<std::string>{"real"});
  const core::Result<std::vector<FileInfo>> real_listing = store.List("real");
  ASSERT_TRUE(real_listing.ok()) << real_listing.status().ToString();
  EXPECT_EQ(ListedNames(*real_listing), std::vector<std::string>{"inside.txt"});

  // Deleting a directory that contains an escaping link removes the link, not its target.
  EXPECT_TRUE(store.Delete("real").ok());
  EXPECT_FALSE(fs::exists(root_ / "real"));
  EXPECT_TRUE(fs::is_symlink(root_ / "link_dir"));
  ExpectOutsideUntouched();
}

TEST_F(ArtifactStoreTest, SymlinksThatStayInsideTheRootWork) {
  ArtifactStore store(root_);
  ASSERT_TRUE(store.Put("data/file.txt", SourceFromString("payload")).ok());
  fs::create_directory_symlink(root_ / "data", root_ / "alias");
  EXPECT_EQ(*GetAll(store, "alias/file.txt"), "payload");
  const core::Result<std::vector<FileInfo>> listing = store.List("");
  ASSERT_TRUE(listing.ok());
  ASSERT_EQ(listing->size(), 2u);
  EXPECT_EQ((*listing)[0].path, "alias");
  EXPECT_TRUE((*listing)[0].is_dir);
  // Deleting the alias removes only the link.
  EXPECT_TRUE(store.Delete("alias").ok());
  EXPECT_EQ(*GetAll(store, "data/file.txt"), "payload");
}

TEST_F(ArtifactStoreTest, RootReachedThroughASymlinkIsAllowed) {
  fs::create_directories(base_ / "real_root");
  fs::create_directory_symlink(base_ / "real_root", root_);
  ArtifactStore store(root_);
  ASSERT_TRUE(store.Put("a/b.txt", SourceFromString("x")).ok());
  EXPECT_EQ(ReadRaw(base_ / "real_root" / "a" / "b.txt"), "x");
  EXPECT_EQ(*GetAll(store, "a/b.txt"), "x");
}

// --- Ordinary use ---

TEST_F(ArtifactStoreTest, RoundTripsOrdinaryNames) {
  ArtifactStore store(root_);
  const std::vector<std::string> paths = {"model.v1.bin",
                                          "a/b/c.txt",
                                          "deep/er/and/deeper/still/file",
                                          "dir with spaces/file name.txt",
                                          "données/模型 v2.bin",
                                          "~user/notes",
                                          "...",
                                          ".hidden/x",
                                          "a%2Fencoded.txt",
                                          "a/b:c"};
  for (const std::string& path : paths) {
    SCOPED_TRACE("path: " + path);
    const std::string content = "content of " + path;
    ASSERT_TRUE(store.Put(path, SourceFromString(content)).ok());
    const std::string decoded = *ValidatePathIsSafe(path);
    EXPECT_EQ(ReadRaw(root_ / decoded), content);
    EXPECT_EQ(*GetAll(store, path), content);
    EXPECT_EQ(*store.FileSize(path), static_cast<int64_t>(content.size()));
    const fs::path as_path(decoded);
    const core::Result<std::vector<FileInfo>> listing = store.List(as_path.parent_path().string());
    ASSERT_TRUE(listing.ok());
    const std::vector<std::string> names = ListedNames(*listing);
    EXPECT_NE(std::find(names.begin(), names.end(), as_path.filename().string()), names.end());
  }
}

TEST_F(ArtifactStoreTest, PutCreatesTheRootAndReplacesExistingFiles) {
  ArtifactStore store(root_);
  EXPECT_FALSE(fs::exists(root_));
  ASSERT_TRUE(store.Put("f.txt", SourceFromString("first version, longer")).ok());
  ASSERT_TRUE(store.Put("f.txt", SourceFromString("second")).ok());
  EXPECT_EQ(*GetAll(store, "f.txt"), "second");
  EXPECT_EQ(RawEntries(root_), std::vector<std::string>{"f.txt"});
}

TEST_F(ArtifactStoreTest, PutRefusesDirectoriesTheRootAndFileParents) {
  ArtifactStore store(root_);
  ASSERT_TRUE(store.Put("dir/file.txt", SourceFromString("x")).ok());
  EXPECT_EQ(store.Put("dir", SourceFromString("y")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.Put("dir/", SourceFromString("y")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.Put("", SourceFromString("y")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.Put("dir/file.txt/child", SourceFromString("y")).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(*GetAll(store, "dir/file.txt"), "x");
  EXPECT_EQ(RawEntries(root_ / "dir"), std::vector<std::string>{"file.txt"});
}

TEST_F(ArtifactStoreTest, InterruptedPutLeavesNoFileAndNoTempFile) {
  ArtifactStore store(root_);
  const ChunkSource broken = [](const ChunkSink& sink) {
    const std::string chunk(4096, 'z');
    for (int i = 0; i < 3; ++i) {
      if (!sink(chunk.data(), chunk.size())) return false;
    }
    return false;  // The client went away mid-body.
  };
  const core::Status status = store.Put("runs/partial.bin", broken);
  EXPECT_EQ(status.code(), StatusCode::kAborted);
  EXPECT_EQ(status.message(), "upload of 'runs/partial.bin' was interrupted");
  EXPECT_TRUE(RawEntries(root_ / "runs").empty());
  EXPECT_EQ(store.FileSize("runs/partial.bin").status().code(), StatusCode::kNotFound);
}

TEST_F(ArtifactStoreTest, UploadInProgressIsInvisible) {
  ArtifactStore store(root_);
  ASSERT_TRUE(store.Put("d/other.txt", SourceFromString("o")).ok());
  std::vector<std::string> raw_during;
  std::vector<std::string> listed_during;
  const ChunkSource watched = [&](const ChunkSink& sink) {
    if (!sink("part", 4)) return false;
    raw_during = RawEntries(root_ / "d");
    listed_during = ListedNames(*store.List("d"));
    return sink("-rest", 5);
  };
  ASSERT_TRUE(store.Put("d/new.txt", watched).ok());
  // The real temp file exists on disk while the body streams, yet List hides it.
  EXPECT_EQ(raw_during.size(), 2u);
  EXPECT_EQ(listed_during, std::vector<std::string>{"other.txt"});
  EXPECT_EQ(*GetAll(store, "d/new.txt"), "part-rest");
  EXPECT_EQ(RawEntries(root_ / "d"), (std::vector<std::string>{"new.txt", "other.txt"}));
}

TEST_F(ArtifactStoreTest, InterruptedOverwriteKeepsTheOldFile) {
  ArtifactStore store(root_);
  ASSERT_TRUE(store.Put("model.bin", SourceFromString("old complete model")).ok());
  const ChunkSource broken = [](const ChunkSink& sink) {
    sink("new but cut", 11);
    return false;
  };
  EXPECT_EQ(store.Put("model.bin", broken).code(), StatusCode::kAborted);
  EXPECT_EQ(*GetAll(store, "model.bin"), "old complete model");
  EXPECT_EQ(RawEntries(root_), std::vector<std::string>{"model.bin"});
}

TEST_F(ArtifactStoreTest, GetErrors) {
  ArtifactStore store(root_);
  EXPECT_EQ(GetAll(store, "missing").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store.Put("dir/file.txt", SourceFromString("abc")).ok());
  EXPECT_EQ(GetAll(store, "dir").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GetAll(store, "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GetAll(store, "dir/file.txt/below").status().code(), StatusCode::kNotFound);
  const core::Status refused = store.Get("dir/file.txt", [](const char*, size_t) { return false; });
  EXPECT_EQ(refused.code(), StatusCode::kAborted);
}

TEST_F(ArtifactStoreTest, FileSize) {
  ArtifactStore store(root_);
  ASSERT_TRUE(store.Put("dir/file.txt", SourceFromString(std::string(12345, 'q'))).ok());
  ASSERT_TRUE(store.Put("dir/empty", SourceFromString("")).ok());
  EXPECT_EQ(*store.FileSize("dir/file.txt"), 12345);
  EXPECT_EQ(*store.FileSize("dir/empty"), 0);
  EXPECT_EQ(store.FileSize("dir").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.FileSize("dir/nope").status().code(), StatusCode::kNotFound);
}

TEST_F(ArtifactStoreTest, ListGivesSortedBasenamesWithSizes) {
  ArtifactStore store(root_);
  EXPECT_TRUE(store.List("")->empty());  // The root does not exist yet.
  ASSERT_TRUE(store.Put("run/model/MLmodel", SourceFromString("flavors: {}")).ok());
  ASSERT_TRUE(store.Put("run/b.txt", SourceFromString("bb")).ok());
  ASSERT_TRUE(store.Put("run/a.txt", SourceFromString("a")).ok());
  ASSERT_TRUE(store.Put("run/Z.txt", SourceFromString("")).ok());

  for (const std::string dir : {"run", "run/"}) {
    const core::Result<std::vector<FileInfo>> listing = store.List(dir);
    ASSERT_TRUE(listing.ok()) << listing.status().ToString();
    ASSERT_EQ(listing->size(), 4u);
    EXPECT_EQ(ListedNames(*listing),
              (std::vector<std::string>{"Z.txt", "a.txt", "b.txt", "model"}));
    EXPECT_FALSE((*listing)[0].is_dir);
    EXPECT_EQ((*listing)[0].file_size, 0);
    EXPECT_EQ((*listing)[2].file_size, 2);
    EXPECT_TRUE((*listing)[3].is_dir);
    EXPECT_FALSE((*listing)[3].file_size.has_value());
  }
  EXPECT_EQ(ListedNames(*store.List("")), std::vector<std::string>{"run"});
  EXPECT_TRUE(store.List("run/a.txt")->empty());
  EXPECT_TRUE(store.List("no/such/dir")->empty());
}

TEST_F(ArtifactStoreTest, ListHidesOnlyOurTempFiles) {
  ArtifactStore store(root_);
  ASSERT_TRUE(store.Put("d/real.txt", SourceFromString("x")).ok());
  WriteRaw(root_ / "d" / ".real.txt.tmp-0123456789abcdef", "half an upload");
  WriteRaw(root_ / "d" / ".looks.tmp-short", "a user's file");
  EXPECT_EQ(ListedNames(*store.List("d")),
            (std::vector<std::string>{".looks.tmp-short", "real.txt"}));
}

TEST_F(ArtifactStoreTest, DeleteFilesAndDirectoriesRecursively) {
  ArtifactStore store(root_);
  ASSERT_TRUE(store.Put("run/model/MLmodel", SourceFromString("m")).ok());
  ASSERT_TRUE(store.Put("run/model/data/weights.bin", SourceFromString("w")).ok());
  ASSERT_TRUE(store.Put("run/metrics.txt", SourceFromString("t")).ok());
  ASSERT_TRUE(store.Put("other/keep.txt", SourceFromString("k")).ok());

  EXPECT_TRUE(store.Delete("run/metrics.txt").ok());
  EXPECT_EQ(ListedNames(*store.List("run")), std::vector<std::string>{"model"});
  EXPECT_TRUE(store.Delete("run/model/").ok());
  EXPECT_TRUE(store.List("run")->empty());
  EXPECT_TRUE(store.Delete("run").ok());
  EXPECT_EQ(ListedNames(*store.List("")), std::vector<std::string>{"other"});

  EXPECT_EQ(store.Delete("run").code(), StatusCode::kNotFound);
  EXPECT_EQ(store.Delete("other/keep.txt/x").code(), StatusCode::kNotFound);
  EXPECT_EQ(store.Delete("").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*GetAll(store, "other/keep.txt"), "k");
}

TEST_F(ArtifactStoreTest, ResolveStaysUnderTheRoot) {
  ArtifactStore store(root_);
  const fs::path absolute_root = fs::absolute(root_);
  EXPECT_EQ(*store.Resolve(""), absolute_root);
  EXPECT_EQ(*store.Resolve("a/b.txt"), absolute_root / "a" / "b.txt");
  EXPECT_EQ(*store.Resolve("a%2Fb.txt/"), absolute_root / "a" / "b.txt");
  EXPECT_EQ(store.root(), root_);
}

// --- Streaming ---

// Deterministic pseudo-random bytes, so the checksum differs for any misplaced chunk.
class PatternGenerator {
 public:
  void Fill(char* data, size_t size) {
    for (size_t i = 0; i < size; ++i) {
      state_ ^= state_ << 13;
      state_ ^= state_ >> 7;
      state_ ^= state_ << 17;
      data[i] = static_cast<char>(state_ >> 56);
    }
  }

 private:
  uint64_t state_ = 0x9e3779b97f4a7c15ULL;
};

class Fnv1a {
 public:
  void Add(const char* data, size_t size) {
    for (size_t i = 0; i < size; ++i) {
      hash_ ^= static_cast<unsigned char>(data[i]);
      hash_ *= 0x100000001b3ULL;
    }
  }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

int64_t PeakRssBytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB.
}

TEST_F(ArtifactStoreTest, StreamsLargeFilesInBoundedChunks) {
  ArtifactStore store(root_);
  constexpr size_t kTotalBytes = 64 * kMiB;
  constexpr size_t kUploadChunkBytes = 64 * 1024;
  const int64_t peak_rss_before = PeakRssBytes();

  Fnv1a uploaded;
  // One reused buffer: a store that kept the pointers instead of writing them out would
  // end up with the wrong checksum.
  const ChunkSource generator = [&](const ChunkSink& sink) {
    PatternGenerator pattern;
    std::vector<char> chunk(kUploadChunkBytes);
    for (size_t sent = 0; sent < kTotalBytes; sent += chunk.size()) {
      pattern.Fill(chunk.data(), chunk.size());
      uploaded.Add(chunk.data(), chunk.size());
      if (!sink(chunk.data(), chunk.size())) return false;
    }
    return true;
  };
  ASSERT_TRUE(store.Put("big/blob.bin", generator).ok());
  EXPECT_EQ(*store.FileSize("big/blob.bin"), static_cast<int64_t>(kTotalBytes));

  Fnv1a downloaded;
  size_t total_bytes = 0;
  size_t chunk_count = 0;
  size_t largest_chunk_bytes = 0;
  const core::Status status = store.Get("big/blob.bin", [&](const char* data, size_t size) {
    downloaded.Add(data, size);
    total_bytes += size;
    ++chunk_count;
    largest_chunk_bytes = std::max(largest_chunk_bytes, size);
    return true;
  });
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(total_bytes, kTotalBytes);
  EXPECT_EQ(downloaded.value(), uploaded.value());
  EXPECT_LE(largest_chunk_bytes, kMiB);
  EXPECT_GE(chunk_count, kTotalBytes / kMiB);
  // Buffering the file anywhere would raise the peak by its whole 64 MiB.
  EXPECT_LT(PeakRssBytes() - peak_rss_before, static_cast<int64_t>(32 * kMiB));
}

TEST_F(ArtifactStoreTest, ConcurrentPutsToOnePathLeaveOneWholeVersion) {
  ArtifactStore store(root_);
  constexpr int kWriters = 4;
  constexpr size_t kBytes = 256 * 1024;
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int writer = 0; writer < kWriters; ++writer) {
    writers.emplace_back([&, writer] {
      const std::string content(kBytes, static_cast<char>('a' + writer));
      if (!store.Put("shared/file.bin", SourceFromString(content, 4096)).ok()) ++failures;
    });
  }
  for (std::thread& writer : writers) writer.join();
  EXPECT_EQ(failures.load(), 0);
  const std::string content = *GetAll(store, "shared/file.bin");
  ASSERT_EQ(content.size(), kBytes);
  EXPECT_EQ(std::count(content.begin(), content.end(), content.front()),
            static_cast<std::ptrdiff_t>(kBytes));
  EXPECT_EQ(RawEntries(root_ / "shared"), std::vector<std::string>{"file.bin"});
}

// --- ArtifactUriToRelativePath ---

TEST(ArtifactUriToRelativePathTest, MapsProxiedUris) {
  struct Case {
    std::string uri;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"mlflow-artifacts:/1/abc/artifacts", "1/abc/artifacts"},
      {"mlflow-artifacts://host:5000/1/abc", "1/abc"},
      {"mlflow-artifacts://myhostname/my/path", "my/path"},
      {"mlflow-artifacts:///1/abc", "1/abc"},
      {"mlflow-artifacts:/1/abc/", "1/abc"},
      {"mlflow-artifacts:/", ""},
      {"mlflow-artifacts:", ""},
      {"mlflow-artifacts://host:5000", ""},
      {"MLflow-Artifacts:/1/x", "1/x"},
      {"mlflow-artifacts:/1/with%20space", "1/with space"},
      {"http://localhost:5000/api/2.0/mlflow-artifacts/artifacts/1/abc", "1/abc"},
      {"https://h/prefix/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts", "1/abc/artifacts"},
      {"HTTPS://h/api/2.0/mlflow-artifacts/artifacts/0/r", "0/r"},
      {"http://h:80/api/2.0/mlflow-artifacts/artifacts", ""},
      {"http://h/api/2.0/mlflow-artifacts/artifacts/", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("uri: " + c.uri);
    const core::Result<std::string> result = ArtifactUriToRelativePath(c.uri);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(*result, c.expected);
  }
}

TEST(ArtifactUriToRelativePathTest, RefusesOtherSchemes) {
  for (const std::string uri :
       {"file:///etc/passwd", "file:/tmp/x", "s3://bucket/x", "gs://b/x", "runs:/abc/model",
        "models:/m/1", "/tmp/x", "1/abc", "", "ftp://h/api/2.0/mlflow-artifacts/artifacts/x",
        "http://h/x/y", "http://h", "http://h/api/2.0/mlflow-artifacts/artifactsx/1",
        "http://host:port/api/2.0/mlflow-artifacts/artifacts%00", "mlflow-artifacts:/1/abc?x=1",
        "http://host/#/../../../../etc/", "file:///#../../etc"}) {
    SCOPED_TRACE("uri: " + uri);
    const core::Result<std::string> result = ArtifactUriToRelativePath(uri);
    ASSERT_FALSE(result.ok()) << "mapped to '" << *result << "'";
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(result.status().message(), "unsupported artifact uri '" + uri + "'");
  }
}

TEST(ArtifactUriToRelativePathTest, RefusesTraversalInsideSupportedSchemes) {
  // From MLflow's _validate_non_local_source_contains_relative_paths and CVE-2023-2356.
  for (const std::string uri :
       {"mlflow-artifacts://h/../../", "mlflow-artifacts://host:port/../../../../",
        "mlflow-artifacts://host:port/..%2f..%2f..%2f..%2f", "mlflow-artifacts:/../x",
        "mlflow-artifacts:/1/%252e%252e/%252e%252e/x", "mlflow-artifacts:////etc",
        "mlflow-artifacts:/1//abc", "mlflow-artifacts:/\\..\\x",
        "http://host:port/api/2.0/mlflow-artifacts/artifacts/../../../../",
        "https://h/api/2.0/mlflow-artifacts/artifacts/a/%252e%252e/%252e%252e/x",
        "http://h/api/2.0/mlflow-artifacts/artifacts//etc/passwd",
        "http://h/api/2.0/mlflow-artifacts/artifacts/C:/x"}) {
    SCOPED_TRACE("uri: " + uri);
    const core::Result<std::string> result = ArtifactUriToRelativePath(uri);
    ASSERT_FALSE(result.ok()) << "mapped to '" << *result << "'";
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace lakeml::tracking
