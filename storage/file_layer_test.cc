#include "storage/file_layer.h"
#include "tests/temp_dir.h"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

using namespace sluice;
using namespace sluice::storage;

namespace {

using sluice::testing::TempDir;

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("posix file system: append, reopen, read, rename, list, truncate, remove") {
  TempDir dir;
  FileSystem& fs = default_file_system();
  const std::string sub = dir.path + "/a/b";
  REQUIRE(fs.create_dirs(sub).is_ok());
  REQUIRE(fs.create_dirs(sub).is_ok());  // exists: still OK
  const std::string path = sub + "/file";
  {
    auto file = fs.open_for_append(path);
    REQUIRE_MESSAGE(file.has_value(), file.error().message());
    CHECK((*file)->size() == 0);
    REQUIRE((*file)->append("hello ").is_ok());
    REQUIRE((*file)->append(std::string("w\0rld", 5)).is_ok());
    CHECK((*file)->size() == 11);
    REQUIRE((*file)->sync().is_ok());
    REQUIRE((*file)->close().is_ok());
    REQUIRE((*file)->close().is_ok());  // idempotent
    CHECK_FALSE((*file)->append("x").is_ok());
  }
  {
    auto file = fs.open_for_append(path);  // existing: appends after its bytes
    REQUIRE(file.has_value());
    CHECK((*file)->size() == 11);
    REQUIRE((*file)->append("!!").is_ok());
    REQUIRE((*file)->truncate(12).is_ok());
    CHECK((*file)->size() == 12);
    REQUIRE((*file)->append("?").is_ok());  // lands at the new end
  }
  auto whole = fs.read_file(path);
  REQUIRE(whole.has_value());
  CHECK(*whole == std::string("hello w\0rld!?", 13));
  CHECK(fs.file_size(path).value() == 13);

  std::string part;
  REQUIRE(fs.read_at(path, 6, 5, part).is_ok());
  CHECK(part == std::string("w\0rld", 5));
  REQUIRE(fs.read_at(path, 10, 100, part).is_ok());  // short at the end
  CHECK(part == "d!?");
  REQUIRE(fs.read_at(path, 100, 10, part).is_ok());
  CHECK(part.empty());

  REQUIRE(fs.truncate_file(path, 5).is_ok());
  CHECK(fs.read_file(path).value() == "hello");

  const std::string renamed = sub + "/renamed";
  REQUIRE(fs.rename(path, renamed).is_ok());
  auto names = fs.list_dir(sub);
  REQUIRE(names.has_value());
  REQUIRE(names->size() == 1);
  CHECK((*names)[0] == "renamed");
  REQUIRE(fs.remove(renamed).is_ok());
  CHECK(fs.list_dir(sub)->empty());
}

TEST_CASE("posix file system: errors name the operation, the path and the cause") {
  TempDir dir;
  FileSystem& fs = default_file_system();
  const std::string missing = dir.path + "/missing";
  auto read = fs.read_file(missing);
  REQUIRE_FALSE(read.has_value());
  CHECK(read.error().message() == "stat " + missing + ": No such file or directory");
  std::string out;
  Status status = fs.read_at(missing, 0, 1, out);
  CHECK(status.message() == "open " + missing + ": No such file or directory");
  CHECK(contains(fs.remove(missing).message(), "remove " + missing));
  CHECK(contains(fs.rename(missing, missing + "2").message(), "rename " + missing));
  CHECK(contains(fs.list_dir(missing).error().message(), "list " + missing));
  CHECK(contains(fs.open_for_append(missing + "/x/y").error().message(), "open " + missing));
  CHECK_FALSE(fs.truncate_file(missing, 0).is_ok());
}

TEST_CASE("fault injection: a space limit tears the crossing append and fails with ENOSPC") {
  TempDir dir;
  FaultInjectingFileSystem fs(default_file_system());
  const std::string path = dir.path + "/file";
  auto opened = fs.open_for_append(path);
  REQUIRE(opened.has_value());
  WritableFile& file = **opened;
  REQUIRE(file.append("0123456789").is_ok());

  fs.set_space_limit(4);
  Status full = file.append("abcdefgh");
  REQUIRE_FALSE(full.is_ok());
  CHECK(full.message() == "write " + path + ": No space left on device");
  CHECK(file.size() == 14);  // the part that fitted is written
  CHECK(fs.read_file(path).value() == "0123456789abcd");
  CHECK_FALSE(file.append("x").is_ok());  // nothing left
  CHECK(file.size() == 14);

  REQUIRE(file.truncate(10).is_ok());  // cut the torn tail
  fs.clear_space_limit();
  REQUIRE(file.append("XY").is_ok());
  CHECK(fs.read_file(path).value() == "0123456789XY");

  // A limit set later applies to files opened earlier too, and an append that
  // fits exactly succeeds.
  fs.set_space_limit(2);
  CHECK(file.append("ab").is_ok());
  CHECK_FALSE(file.append("c").is_ok());
  fs.clear_space_limit();
}

TEST_CASE("fault injection: failed syncs and truncates") {
  TempDir dir;
  FaultInjectingFileSystem fs(default_file_system());
  const std::string path = dir.path + "/file";
  auto opened = fs.open_for_append(path);
  REQUIRE(opened.has_value());
  WritableFile& file = **opened;
  REQUIRE(file.append("abc").is_ok());
  REQUIRE(file.sync().is_ok());
  fs.fail_syncs(true);
  Status failed = file.sync();
  CHECK(failed.message() == "fsync " + path + ": Input/output error");
  fs.fail_syncs(false);
  CHECK(file.sync().is_ok());
  CHECK(fs.sync_calls() == 3);

  fs.fail_truncates(true);
  CHECK(file.truncate(1).message() == "truncate " + path + ": Input/output error");
  CHECK(file.size() == 3);
  CHECK_FALSE(fs.truncate_file(path, 1).is_ok());
  fs.fail_truncates(false);
  CHECK(file.truncate(1).is_ok());
  CHECK(fs.read_file(path).value() == "a");
}
