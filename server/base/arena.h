// Arena: bump allocation for the bytes of one batch.
//
// Everything a batch's events point at (unescaped values, derived strings)
// lives here, and all of it is released at once by reset(), which keeps the
// first block so that a reused batch allocates nothing in steady state.
// Thread: owned by one thread at a time, like the batch that holds it.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace sluice {

class Arena {
 public:
  // Large enough that a typical batch of 4096 short events fits one block.
  static constexpr size_t kBlockBytes = 256 * 1024;

  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  char* allocate(size_t bytes) {
    if (blocks_.empty() || used_ + bytes > blocks_[current_].size) next_block(bytes);
    char* out = blocks_[current_].data.get() + used_;
    used_ += bytes;
    return out;
  }

  // Copies `text` into the arena; the view lives until reset().
  std::string_view copy(std::string_view text) {
    if (text.empty()) return {};
    char* out = allocate(text.size());
    std::memcpy(out, text.data(), text.size());
    return {out, text.size()};
  }

  void reset() {
    // Keep only the first block: a batch that once grew huge gives it back.
    if (blocks_.size() > 1) blocks_.resize(1);
    current_ = 0;
    used_ = 0;
  }

 private:
  struct Block {
    std::unique_ptr<char[]> data;
    size_t size;
  };

  void next_block(size_t at_least) {
    if (!blocks_.empty() && current_ + 1 < blocks_.size() &&
        blocks_[current_ + 1].size >= at_least) {
      ++current_;
    } else {
      size_t size = at_least > kBlockBytes ? at_least : kBlockBytes;
      blocks_.push_back(Block{std::make_unique<char[]>(size), size});
      current_ = blocks_.size() - 1;
    }
    used_ = 0;
  }

  std::vector<Block> blocks_;
  size_t current_ = 0;
  size_t used_ = 0;
};

}  // namespace sluice
