#include "storage/filter_cache.h"

#include <doctest/doctest.h>

namespace sluice::storage {

TEST_CASE("filter cache: finds what it holds, keeps the newest blocks' filters within its budget") {
  FilterCache cache(1000);
  CHECK(cache.find(1, 1) == nullptr);
  auto a = cache.insert(1, 1, std::string(400, 'a'));
  REQUIRE(a != nullptr);
  CHECK(a->bytes == std::string(400, 'a'));
  cache.insert(1, 2, std::string(400, 'b'));
  CHECK(cache.bytes() == 800);
  CHECK(cache.find(1, 1) == a);  // the same bytes, not a copy
  // A second insert of a key keeps the first.
  CHECK(cache.insert(1, 2, std::string(5, 'z'))->bytes == std::string(400, 'b'));
  CHECK(cache.bytes() == 800);

  // Over the budget, a newer block displaces the oldest one...
  cache.insert(2, 3, std::string(400, 'c'));
  CHECK(cache.find(1, 1) == nullptr);
  CHECK(cache.find(1, 2) != nullptr);
  CHECK(cache.find(2, 3) != nullptr);
  CHECK(cache.bytes() == 800);
  CHECK(a->bytes == std::string(400, 'a'));  // a holder keeps evicted bytes alive
  // ...and an older one is returned but not kept: searches that scan more
  // blocks than fit keep hitting the newest instead of evicting them.
  auto older = cache.insert(1, 1, std::string(400, 'a'));
  CHECK(older->bytes == std::string(400, 'a'));
  CHECK(cache.find(1, 1) == nullptr);
  CHECK(cache.find(2, 3) != nullptr);
  // Days order before block ids: day 2's block 3 is newer than day 1's 9.
  cache.insert(1, 9, std::string(400, 'x'));
  CHECK(cache.find(1, 9) != nullptr);
  CHECK(cache.find(1, 2) == nullptr);
  CHECK(cache.find(2, 3) != nullptr);

  // Over the whole budget: returned, not kept.
  auto huge = cache.insert(3, 4, std::string(2000, 'h'));
  CHECK(huge->bytes.size() == 2000);
  CHECK(cache.find(3, 4) == nullptr);
  CHECK(cache.entries() == 2);

  cache.erase_day(1);
  CHECK(cache.find(1, 9) == nullptr);
  CHECK(cache.find(2, 3) != nullptr);
  CHECK(cache.bytes() == 400);
  for (uint64_t id = 10; id < 1000; ++id) cache.insert(5, id, std::string(100, 'x'));
  CHECK(cache.bytes() <= 1000);
  CHECK(cache.entries() == 10);
  CHECK(cache.find(5, 999) != nullptr);
  CHECK(cache.find(5, 990) != nullptr);
  CHECK(cache.find(5, 989) == nullptr);
  CHECK(cache.find(2, 3) == nullptr);
}

}  // namespace sluice::storage
