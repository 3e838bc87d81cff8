// Block filters kept in memory for searches.
//
// A search probes the filter of every block in its time range (one per
// 16,384 events); reading each from RocksDB costs a copy and a checksum of
// tens of KB, which dominated a rare-token search. Filters never change
// once written, so a filter read once is kept, up to a byte budget.
//
// Over the budget, the newest blocks' filters are the ones kept: the filter
// of a block older than every cached one is not admitted, and a newer one
// displaces the oldest cached. Recent data is what people search most, and
// a search visits blocks newest first, so repeated searches over a range
// larger than the budget keep hitting the same newest filters instead of
// each evicting what the next one needs (as insertion order would).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "storage/token_filter.h"

namespace sluice::storage {

// A block's serialized filter and its parsed view, made once: a search
// probes hundreds of filters, and re-reading each one's header would cost
// a cache miss per block.
struct CachedFilter {
  explicit CachedFilter(std::string serialized) : bytes(std::move(serialized)), filter(bytes) {}
  CachedFilter(const CachedFilter&) = delete;
  CachedFilter& operator=(const CachedFilter&) = delete;

  const std::string bytes;
  const BlockFilter filter;  // views `bytes`
};

// Thread: safe; one mutex, held only to find, insert or evict.
class FilterCache {
 public:
  explicit FilterCache(uint64_t max_bytes) : max_bytes_(max_bytes) {}

  // The filter of a block, or null if it is not cached.
  std::shared_ptr<const CachedFilter> find(int64_t day, uint64_t block_id) const;
  // Caches the filter `bytes` if the budget allows (see above) and returns
  // it, cached or not.
  std::shared_ptr<const CachedFilter> insert(int64_t day, uint64_t block_id, std::string bytes);
  // Forgets a partition's filters (its blocks were dropped).
  void erase_day(int64_t day);

  uint64_t bytes() const;
  uint64_t entries() const;

 private:
  // Ordered oldest first: by day, then by block id (ids grow as blocks are
  // written).
  using Key = std::pair<int64_t, uint64_t>;
  struct KeyHash {
    size_t operator()(const Key& key) const {
      return static_cast<size_t>((static_cast<uint64_t>(key.first) * 0x9e3779b97f4a7c15) ^ key.second);
    }
  };

  const uint64_t max_bytes_;
  mutable std::mutex mutex_;
  // Found by hash (one lookup per block a search visits); evicted in key
  // order, oldest first.
  std::unordered_map<Key, std::shared_ptr<const CachedFilter>, KeyHash> filters_;
  std::set<Key> order_;
  uint64_t bytes_ = 0;
};

}  // namespace sluice::storage
