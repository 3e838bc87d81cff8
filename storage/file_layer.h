// The file operations storage needs, behind an interface, so tests can make
// the disk fill up, fsync fail or a write tear half-way — failures that real
// disks produce rarely and never on demand.
//
// Paths are plain strings; every error message names the operation and the
// path and ends in the system's text, e.g.
//   "write /data/raw/0000000000000003.open: No space left on device".
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "server/base/expected.h"
#include "server/base/status.h"

namespace sluice::storage {

// A file open for appending. Owned by one writer.
// Thread: sync() may run on one thread while append() runs on another (the
// raw log fsyncs on its sync thread while committing the next frame); every
// other call, and every call at all on a closed file, needs the owner's
// exclusion.
class WritableFile {
 public:
  virtual ~WritableFile();  // closes the file if close() was not called; errors are lost

  // Writes all of `data` at the end of the file, or fails. After a failure
  // the file may hold any prefix of `data`; size() counts what was written,
  // so truncate(size_before) removes the partial tail.
  virtual Status append(std::string_view data) = 0;
  // Makes everything appended so far durable (fdatasync: data and size).
  virtual Status sync() = 0;
  // Cuts the file to `size` bytes; used to drop a partial tail after a failed append.
  virtual Status truncate(uint64_t size) = 0;
  // Closes the descriptor; further calls other than size() fail. Idempotent.
  virtual Status close() = 0;
  virtual uint64_t size() const = 0;
};

// Thread-safe: implementations keep no per-call state (the fault injector
// guards its own with a mutex).
class FileSystem {
 public:
  virtual ~FileSystem();

  // Opens `path` for appending, creating it if missing (and then fsyncing its
  // directory, so the new name survives a crash); size() starts at the
  // existing size.
  virtual Expected<std::unique_ptr<WritableFile>> open_for_append(const std::string& path) = 0;
  // The whole file.
  virtual Expected<std::string> read_file(const std::string& path) = 0;
  // Replaces `out` with up to `n` bytes at `offset`; fewer only at the end of the file.
  virtual Status read_at(const std::string& path, uint64_t offset, size_t n, std::string& out) = 0;
  virtual Expected<uint64_t> file_size(const std::string& path) = 0;
  // Atomically renames, replacing `to`, then fsyncs the directory of `to` so
  // the new name is durable when this returns.
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  // Removes a file (not a directory). The directory is not fsynced: a crash
  // may bring the file back.
  virtual Status remove(const std::string& path) = 0;
  // Names (not paths) of the entries of `dir`, without "." and "..", sorted.
  virtual Expected<std::vector<std::string>> list_dir(const std::string& dir) = 0;
  // Creates `dir` and its missing parents; OK if it exists.
  virtual Status create_dirs(const std::string& dir) = 0;
  // Cuts a file that is not open to `size` bytes and fsyncs it, so the cut
  // is durable before, say, a rename that depends on it.
  virtual Status truncate_file(const std::string& path, uint64_t size) = 0;
};

// POSIX files: open/write/fdatasync/ftruncate/rename. Lives for the program.
FileSystem& default_file_system();

// Wraps another FileSystem and makes its failures happen on request. For tests,
// and for the server's disk-full test. Files it opens refer to it: it must
// outlive them.
// Thread-safe.
class FaultInjectingFileSystem : public FileSystem {
 public:
  explicit FaultInjectingFileSystem(FileSystem& base);
  ~FaultInjectingFileSystem() override;

  // From now on, appends (through any file this opened, before or after) may
  // write `bytes` in total; the append that crosses the limit writes what
  // fits and then fails with "write <path>: No space left on device", as a
  // full disk does. Truncating gives no space back: the budget counts bytes
  // appended, which is all the tests need.
  void set_space_limit(uint64_t bytes);
  void clear_space_limit();
  // While on, WritableFile::sync() fails with "fsync <path>: Input/output error"
  // without syncing.
  void fail_syncs(bool on);
  // While on, WritableFile::truncate() and truncate_file() fail with
  // "truncate <path>: Input/output error" and change nothing.
  void fail_truncates(bool on);
  // Calls of WritableFile::sync() so far, failed ones included.
  uint64_t sync_calls() const;

  Expected<std::unique_ptr<WritableFile>> open_for_append(const std::string& path) override;
  Expected<std::string> read_file(const std::string& path) override;
  Status read_at(const std::string& path, uint64_t offset, size_t n, std::string& out) override;
  Expected<uint64_t> file_size(const std::string& path) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status remove(const std::string& path) override;
  Expected<std::vector<std::string>> list_dir(const std::string& dir) override;
  Status create_dirs(const std::string& dir) override;
  Status truncate_file(const std::string& path, uint64_t size) override;

 private:
  friend class FaultInjectingFile;
  // How many of `wanted` bytes an append may write now; takes them from the budget.
  uint64_t take_space(uint64_t wanted);
  bool syncs_fail();
  bool truncates_fail() const;

  FileSystem& base_;
  mutable std::mutex mutex_;
  bool limited_ = false;
  uint64_t space_left_ = 0;
  bool fail_syncs_ = false;
  bool fail_truncates_ = false;
  uint64_t sync_calls_ = 0;
};

}  // namespace sluice::storage
