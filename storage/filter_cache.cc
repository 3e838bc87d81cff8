#include "storage/filter_cache.h"

namespace sluice::storage {

std::shared_ptr<const std::string> FilterCache::find(int64_t day, uint64_t block_id) const {
  std::lock_guard lock(mutex_);
  auto found = filters_.find(Key{day, block_id});
  return found == filters_.end() ? nullptr : found->second;
}

std::shared_ptr<const std::string> FilterCache::insert(int64_t day, uint64_t block_id, std::string bytes) {
  auto filter = std::make_shared<const std::string>(std::move(bytes));
  const uint64_t size = filter->size();
  if (size > max_bytes_) return filter;
  std::lock_guard lock(mutex_);
  auto [it, inserted] = filters_.try_emplace(Key{day, block_id}, filter);
  if (!inserted) return it->second;  // another search read it meanwhile
  order_.push_back(Key{day, block_id});
  bytes_ += size;
  while (bytes_ > max_bytes_ && !order_.empty()) {
    auto oldest = filters_.find(order_.front());
    order_.pop_front();
    if (oldest == filters_.end()) continue;
    bytes_ -= oldest->second->size();
    filters_.erase(oldest);
  }
  return filter;
}

void FilterCache::erase_day(int64_t day) {
  std::lock_guard lock(mutex_);
  for (auto it = filters_.begin(); it != filters_.end();) {
    if (it->first.day == day) {
      bytes_ -= it->second->size();
      it = filters_.erase(it);
    } else {
      ++it;
    }
  }
  // Keys of the day stay in order_ and are skipped when they come up; drop
  // them now if the queue is mostly such names.
  if (order_.size() > 2 * filters_.size() + 64) {
    std::erase_if(order_, [&](const Key& key) { return !filters_.contains(key); });
  }
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
