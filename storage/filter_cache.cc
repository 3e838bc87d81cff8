#include "storage/filter_cache.h"

namespace sluice::storage {

std::shared_ptr<const CachedFilter> FilterCache::find(int64_t day, uint64_t block_id) const {
  std::lock_guard lock(mutex_);
  auto found = filters_.find(Key{day, block_id});
  return found == filters_.end() ? nullptr : found->second;
}

std::shared_ptr<const CachedFilter> FilterCache::insert(int64_t day, uint64_t block_id, std::string bytes) {
  auto filter = std::make_shared<const CachedFilter>(std::move(bytes));
  const uint64_t size = filter->bytes.size();
  if (size > max_bytes_) return filter;
  const Key key{day, block_id};
  std::lock_guard lock(mutex_);
  if (auto found = filters_.find(key); found != filters_.end()) return found->second;  // read meanwhile
  // Make room by dropping older blocks' filters; if only newer ones are
  // left to drop, this one is the oldest: not admitted.
  while (bytes_ + size > max_bytes_) {
    auto oldest = order_.begin();
    if (oldest == order_.end() || !(*oldest < key)) return filter;
    auto entry = filters_.find(*oldest);
    bytes_ -= entry->second->bytes.size();
    filters_.erase(entry);
    order_.erase(oldest);
  }
  filters_.emplace(key, filter);
  order_.insert(key);
  bytes_ += size;
  return filter;
}

void FilterCache::erase_day(int64_t day) {
  std::lock_guard lock(mutex_);
  auto first = order_.lower_bound(Key{day, 0});
  auto last = first;
  while (last != order_.end() && last->first == day) {
    auto entry = filters_.find(*last);
    bytes_ -= entry->second->bytes.size();
    filters_.erase(entry);
    ++last;
  }
  order_.erase(first, last);
}

uint64_t FilterCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

uint64_t FilterCache::entries() const {
  std::lock_guard lock(mutex_);
  return filters_.size();
}

}  // namespace sluice::storage
