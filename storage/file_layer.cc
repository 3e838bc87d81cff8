#include "storage/file_layer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

namespace sluice::storage {

namespace {

// "write /x/y: No space left on device". std::error_code's message is
// thread-safe where strerror() is not.
Status errno_error(std::string_view operation, const std::string& path, int error_number) {
  std::string message(operation);
  message += ' ';
  message += path;
  message += ": ";
  message += std::error_code(error_number, std::generic_category()).message();
  return Status::error(std::move(message));
}

std::string parent_dir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Makes the entries of `dir` (a creation, a rename) durable: fsyncing a file
// covers its contents, not its name.
Status sync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_error("open directory", dir, errno);
  Status status;
  if (::fsync(fd) != 0) status = errno_error("fsync directory", dir, errno);
  ::close(fd);
  return status;
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status append(std::string_view data) override {
    if (fd_ < 0) return errno_error("write", path_, EBADF);
    const char* next = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t written = ::write(fd_, next, left);
      if (written < 0) {
        if (errno == EINTR) continue;
        return errno_error("write", path_, errno);
      }
      // A short write is how a filling disk shows up first; the next call
      // then reports ENOSPC.
      next += written;
      left -= static_cast<size_t>(written);
      size_ += static_cast<uint64_t>(written);
    }
    return Status::ok();
  }

  Status sync() override {
    if (fd_ < 0) return errno_error("fsync", path_, EBADF);
    while (::fdatasync(fd_) != 0) {
      if (errno != EINTR) return errno_error("fsync", path_, errno);
    }
    return Status::ok();
  }

  Status truncate(uint64_t size) override {
    if (fd_ < 0) return errno_error("truncate", path_, EBADF);
    // The descriptor is O_APPEND, so the next write lands at the new end.
    while (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      if (errno != EINTR) return errno_error("truncate", path_, errno);
    }
    size_ = size;
    return Status::ok();
  }

  Status close() override {
    if (fd_ < 0) return Status::ok();
    int fd = fd_;
    fd_ = -1;
    // No retry on EINTR: on Linux the descriptor is gone either way.
    if (::close(fd) != 0) return errno_error("close", path_, errno);
    return Status::ok();
  }

  uint64_t size() const override { return size_; }

 private:
  std::string path_;
  int fd_;
  uint64_t size_;
};

class PosixFileSystem final : public FileSystem {
 public:
  Expected<std::unique_ptr<WritableFile>> open_for_append(const std::string& path) override {
    bool created = false;
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
      fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      created = fd >= 0;
    }
    if (fd < 0) return errno_error("open", path, errno);
    struct stat info;
    if (::fstat(fd, &info) != 0) {
      Status error = errno_error("stat", path, errno);
      ::close(fd);
      return error;
    }
    auto file = std::make_unique<PosixWritableFile>(path, fd, static_cast<uint64_t>(info.st_size));
    if (created) {
      Status synced = sync_dir(parent_dir(path));
      if (!synced) return synced;
    }
    return std::unique_ptr<WritableFile>(std::move(file));
  }

  Expected<std::string> read_file(const std::string& path) override {
    Expected<uint64_t> size = file_size(path);
    if (!size) return size.error();
    std::string out;
    Status status = read_at(path, 0, static_cast<size_t>(*size), out);
    if (!status) return status;
    return out;
  }

  Status read_at(const std::string& path, uint64_t offset, size_t n, std::string& out) override {
    out.clear();
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno_error("open", path, errno);
    out.resize(n);
    size_t got = 0;
    Status status;
    while (got < n) {
      ssize_t read = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(offset + got));
      if (read < 0) {
        if (errno == EINTR) continue;
        status = errno_error("read", path, errno);
        break;
      }
      if (read == 0) break;  // end of file
      got += static_cast<size_t>(read);
    }
    ::close(fd);
    out.resize(got);
    return status;
  }

  Expected<uint64_t> file_size(const std::string& path) override {
    struct stat info;
    if (::stat(path.c_str(), &info) != 0) return errno_error("stat", path, errno);
    return static_cast<uint64_t>(info.st_size);
  }

  Status rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return errno_error("rename", from + " to " + to, errno);
    }
    return sync_dir(parent_dir(to));
  }

  Status remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return errno_error("remove", path, errno);
    return Status::ok();
  }

  Expected<std::vector<std::string>> list_dir(const std::string& dir) override {
    DIR* handle = ::opendir(dir.c_str());
    if (handle == nullptr) return errno_error("list", dir, errno);
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* entry = ::readdir(handle)) {
      std::string_view name = entry->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
      errno = 0;
    }
    int read_errno = errno;
    ::closedir(handle);
    if (read_errno != 0) return errno_error("list", dir, read_errno);
    std::sort(names.begin(), names.end());
    return names;
  }

  Status create_dirs(const std::string& dir) override {
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error) return Status::error("create directory " + dir + ": " + error.message());
    return Status::ok();
  }

  Status truncate_file(const std::string& path, uint64_t size) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno_error("open", path, errno);
    Status status;
    while (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
      if (errno != EINTR) {
        status = errno_error("truncate", path, errno);
        break;
      }
    }
    if (status && ::fdatasync(fd) != 0) status = errno_error("fsync", path, errno);
    ::close(fd);
    return status;
  }
};

}  // namespace

WritableFile::~WritableFile() = default;
FileSystem::~FileSystem() = default;

FileSystem& default_file_system() {
  static PosixFileSystem file_system;
  return file_system;
}

// A file of the fault injector: asks it before each append, sync and truncate.
class FaultInjectingFile final : public WritableFile {
 public:
  FaultInjectingFile(FaultInjectingFileSystem& owner, std::string path,
                     std::unique_ptr<WritableFile> base)
      : owner_(owner), path_(std::move(path)), base_(std::move(base)) {}

  Status append(std::string_view data) override {
    uint64_t allowed = owner_.take_space(data.size());
    if (allowed >= data.size()) return base_->append(data);
    // Write the part that fits, as a real full disk does, so callers meet a torn tail.
    Status partial = base_->append(data.substr(0, static_cast<size_t>(allowed)));
    if (!partial) return partial;
    return errno_error("write", path_, ENOSPC);
  }

  Status sync() override {
    if (owner_.syncs_fail()) return errno_error("fsync", path_, EIO);
    return base_->sync();
  }

  Status truncate(uint64_t size) override {
    if (owner_.truncates_fail()) return errno_error("truncate", path_, EIO);
    return base_->truncate(size);
  }

  Status close() override { return base_->close(); }
  uint64_t size() const override { return base_->size(); }

 private:
  FaultInjectingFileSystem& owner_;
  std::string path_;
  std::unique_ptr<WritableFile> base_;
};

FaultInjectingFileSystem::FaultInjectingFileSystem(FileSystem& base) : base_(base) {}
FaultInjectingFileSystem::~FaultInjectingFileSystem() = default;

void FaultInjectingFileSystem::set_space_limit(uint64_t bytes) {
  std::lock_guard lock(mutex_);
  limited_ = true;
  space_left_ = bytes;
}

void FaultInjectingFileSystem::clear_space_limit() {
  std::lock_guard lock(mutex_);
  limited_ = false;
}

void FaultInjectingFileSystem::fail_syncs(bool on) {
  std::lock_guard lock(mutex_);
  fail_syncs_ = on;
}

void FaultInjectingFileSystem::fail_truncates(bool on) {
  std::lock_guard lock(mutex_);
  fail_truncates_ = on;
}

uint64_t FaultInjectingFileSystem::sync_calls() const {
  std::lock_guard lock(mutex_);
  return sync_calls_;
}

uint64_t FaultInjectingFileSystem::take_space(uint64_t wanted) {
  std::lock_guard lock(mutex_);
  if (!limited_) return wanted;
  uint64_t allowed = std::min(wanted, space_left_);
  space_left_ -= allowed;
  return allowed;
}

bool FaultInjectingFileSystem::syncs_fail() {
  std::lock_guard lock(mutex_);
  ++sync_calls_;
  return fail_syncs_;
}

bool FaultInjectingFileSystem::truncates_fail() const {
  std::lock_guard lock(mutex_);
  return fail_truncates_;
}

Expected<std::unique_ptr<WritableFile>> FaultInjectingFileSystem::open_for_append(
    const std::string& path) {
  Expected<std::unique_ptr<WritableFile>> base = base_.open_for_append(path);
  if (!base) return base.error();
  return std::unique_ptr<WritableFile>(
      std::make_unique<FaultInjectingFile>(*this, path, std::move(*base)));
}

Expected<std::string> FaultInjectingFileSystem::read_file(const std::string& path) {
  return base_.read_file(path);
}

Status FaultInjectingFileSystem::read_at(const std::string& path, uint64_t offset, size_t n,
                                         std::string& out) {
  return base_.read_at(path, offset, n, out);
}

Expected<uint64_t> FaultInjectingFileSystem::file_size(const std::string& path) {
  return base_.file_size(path);
}

Status FaultInjectingFileSystem::rename(const std::string& from, const std::string& to) {
  return base_.rename(from, to);
}

Status FaultInjectingFileSystem::remove(const std::string& path) { return base_.remove(path); }

Expected<std::vector<std::string>> FaultInjectingFileSystem::list_dir(const std::string& dir) {
  return base_.list_dir(dir);
}

Status FaultInjectingFileSystem::create_dirs(const std::string& dir) {
  return base_.create_dirs(dir);
}

Status FaultInjectingFileSystem::truncate_file(const std::string& path, uint64_t size) {
  if (truncates_fail()) return errno_error("truncate", path, EIO);
  return base_.truncate_file(path, size);
}

}  // namespace sluice::storage
