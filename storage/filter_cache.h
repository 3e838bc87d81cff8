// Block filters kept in memory for searches.
//
// A search probes the filter of every block in its time range (one per
// 16,384 events); reading each from RocksDB costs a copy and a checksum of
// tens of KB, which dominated a rare-token search. Filters never change
// once written, so a filter read once is kept, up to a byte budget; the
// entries cached first go first when it is exceeded.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace sluice::storage {

// Thread: safe; one mutex, held only to find, insert or evict.
class FilterCache {
 public:
  explicit FilterCache(uint64_t max_bytes) : max_bytes_(max_bytes) {}

  // The filter of a block, or null if it is not cached.
  std::shared_ptr<const std::string> find(int64_t day, uint64_t block_id) const;
  // Caches `bytes` (unless it alone is over the budget) and returns it.
  std::shared_ptr<const std::string> insert(int64_t day, uint64_t block_id, std::string bytes);
  // Forgets a partition's filters (its blocks were dropped).
  void erase_day(int64_t day);

  uint64_t bytes() const;
  uint64_t entries() const;

 private:
  struct Key {
    int64_t day;
    uint64_t block_id;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& key) const {
      return std::hash<uint64_t>()(key.block_id * 0x9e3779b97f4a7c15 ^ static_cast<uint64_t>(key.day));
    }
  };

  const uint64_t max_bytes_;
  mutable std::mutex mutex_;
  std::unordered_map<Key, std::shared_ptr<const std::string>, KeyHash> filters_;
  std::deque<Key> order_;  // insertion order; may name entries already erased
  uint64_t bytes_ = 0;
};

}  // namespace sluice::storage
