#include "storage/filter_cache.h"

#include <doctest/doctest.h>

namespace sluice::storage {

TEST_CASE("filter cache: finds what it holds, evicts the oldest over its budget, forgets dropped days") {
  FilterCache cache(1000);
  CHECK(cache.find(1, 1) == nullptr);
  auto a = cache.insert(1, 1, std::string(400, 'a'));
  REQUIRE(a != nullptr);
  CHECK(*a == std::string(400, 'a'));
  cache.insert(1, 2, std::string(400, 'b'));
  CHECK(cache.bytes() == 800);
  CHECK(cache.find(1, 1) == a);  // the same bytes, not a copy
  // A second insert of a key keeps the first.
  CHECK(*cache.insert(1, 2, std::string(5, 'z')) == std::string(400, 'b'));
  CHECK(cache.bytes() == 800);

  cache.insert(2, 3, std::string(400, 'c'));  // 1200 > 1000: (1, 1) goes
  CHECK(cache.find(1, 1) == nullptr);
  CHECK(cache.find(1, 2) != nullptr);
  CHECK(cache.find(2, 3) != nullptr);
  CHECK(cache.bytes() == 800);
  CHECK(*a == std::string(400, 'a'));  // a holder keeps evicted bytes alive

  // Over the whole budget: returned, not kept.
  auto huge = cache.insert(3, 4, std::string(2000, 'h'));
  CHECK(huge->size() == 2000);
  CHECK(cache.find(3, 4) == nullptr);
  CHECK(cache.entries() == 2);

  cache.erase_day(1);
  CHECK(cache.find(1, 2) == nullptr);
  CHECK(cache.find(2, 3) != nullptr);
  CHECK(cache.bytes() == 400);
  for (uint64_t id = 10; id < 1000; ++id) cache.insert(5, id, std::string(100, 'x'));
  CHECK(cache.bytes() <= 1000);
  CHECK(cache.entries() == 10);
  CHECK(cache.find(5, 999) != nullptr);
  CHECK(cache.find(5, 10) == nullptr);
}

}  // namespace sluice::storage
