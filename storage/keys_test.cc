#include "storage/keys.h"

#include <doctest/doctest.h>

#include <limits>
#include <string>

using namespace sluice::storage;

namespace {
std::string key_of(int64_t ts, uint64_t seq) {
  char key[kEventKeyBytes];
  encode_event_key(ts, seq, key);
  return std::string(key, kEventKeyBytes);
}
}  // namespace

TEST_CASE("event keys sort in time order, across days and the epoch") {
  const int64_t day = sluice::kNanosPerDay;
  const int64_t times[] = {std::numeric_limits<int64_t>::min(), -day - 1, -1, 0, 1,
                           day - 1, day, 1'700'000'000'000'000'000, std::numeric_limits<int64_t>::max()};
  for (size_t i = 0; i + 1 < std::size(times); ++i) {
    CHECK(key_of(times[i], 99) < key_of(times[i + 1], 0));
  }
  CHECK(key_of(5, 1) < key_of(5, 2));
}

TEST_CASE("event keys round-trip and carry the partition day") {
  DecodedEventKey decoded;
  REQUIRE(decode_event_key(key_of(1'700'000'000'123'456'789, 42), decoded));
  CHECK(decoded.timestamp_ns == 1'700'000'000'123'456'789);
  CHECK(decoded.sequence == 42);
  CHECK(decoded.partition_day == 19675);  // 2023-11-14
  REQUIRE(decode_event_key(key_of(-1, 7), decoded));
  CHECK(decoded.partition_day == -1);
  CHECK(decoded.timestamp_ns == -1);
  CHECK_FALSE(decode_event_key("e123", decoded));
  CHECK_FALSE(decode_event_key(meta_key("open_count"), decoded));
}

TEST_CASE("partition days use floor division") {
  CHECK(partition_day_of(0) == 0);
  CHECK(partition_day_of(sluice::kNanosPerDay - 1) == 0);
  CHECK(partition_day_of(sluice::kNanosPerDay) == 1);
  CHECK(partition_day_of(-1) == -1);
  CHECK(partition_day_of(-sluice::kNanosPerDay) == -1);
  CHECK(partition_day_of(-sluice::kNanosPerDay - 1) == -2);
}
