// GelfChunkAssembler: reassembles chunked GELF UDP messages, as Graylog's
// GELF UDP input does.
//
// A chunk is one datagram: magic 0x1e 0x0f, an 8-byte message id, the
// chunk's sequence number and the message's chunk count (1..128), then a
// piece of the (usually compressed) payload. Chunks may arrive in any order;
// duplicates are ignored. A message whose chunks do not all arrive within
// 5 s (Graylog's timeout) expires and is counted.
//
// Memory is bounded however chunks arrive: at most `max_open_messages`
// incomplete messages and `max_open_bytes` of their chunks are held (over
// either, the oldest message is evicted and counted), and a message that
// grows past `max_message_bytes` is discarded and counted — so a storm of
// chunks that never complete costs at most those bounds.
//
// The clock is the caller's: every call takes `now_ns` (monotonic), so
// tests drive expiry without waiting.
// Thread: one owner (the ingest loop); not thread-safe.
#pragma once

#include <bitset>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sluice::server {

constexpr unsigned char kGelfChunkMagic0 = 0x1e;
constexpr unsigned char kGelfChunkMagic1 = 0x0f;
constexpr size_t kGelfChunkHeaderBytes = 12;
// The GELF specification's limit: a sender may split a message into at
// most 128 chunks.
constexpr unsigned kGelfMaxChunks = 128;
// Graylog discards a message whose chunks did not all arrive in 5 s.
constexpr int64_t kGelfChunkTimeoutNs = 5'000'000'000;

inline bool is_gelf_chunk(std::string_view datagram) {
  return datagram.size() >= 2 && static_cast<unsigned char>(datagram[0]) == kGelfChunkMagic0 &&
         static_cast<unsigned char>(datagram[1]) == kGelfChunkMagic1;
}

class GelfChunkAssembler {
 public:
  struct Limits {
    size_t max_open_messages = 1024;
    size_t max_open_bytes = 32u << 20;
    size_t max_message_bytes = 1u << 20;
    int64_t timeout_ns = kGelfChunkTimeoutNs;
  };
  // What became of chunks and messages since the last take_stats().
  struct Stats {
    uint64_t completed = 0;   // messages reassembled
    uint64_t expired = 0;     // incomplete messages timed out
    uint64_t evicted = 0;     // incomplete messages dropped for the caps
    uint64_t too_large = 0;   // messages discarded past max_message_bytes
    uint64_t duplicates = 0;  // chunks already held, ignored
    uint64_t invalid = 0;     // malformed chunk headers, ignored
  };
  enum class Result { kComplete, kPending, kDuplicate, kInvalid, kTooLarge };

  explicit GelfChunkAssembler(Limits limits) : limits_(limits) {}

  // Takes one chunk datagram (magic included). On kComplete, `out` holds the
  // whole payload (cleared first; its capacity is reused).
  Result add(std::string_view datagram, int64_t now_ns, std::string& out);

  // Expires messages older than the timeout; call about once a second.
  void expire(int64_t now_ns);

  size_t open_messages() const { return messages_.size(); }
  size_t open_bytes() const { return open_bytes_; }

  Stats take_stats() {
    Stats stats = stats_;
    stats_ = Stats{};
    return stats;
  }

 private:
  struct Message {
    int64_t first_ns = 0;
    uint8_t count = 0;
    uint8_t received = 0;
    size_t bytes = 0;
    std::bitset<kGelfMaxChunks> have;
    std::vector<std::string> chunks;
    std::list<uint64_t>::iterator age;  // into arrival_
  };
  void erase(std::unordered_map<uint64_t, Message>::iterator it);
  // Evicts oldest messages until one more message of `incoming` bytes fits.
  void make_room(size_t incoming, uint64_t keep_id);

  const Limits limits_;
  std::unordered_map<uint64_t, Message> messages_;
  std::list<uint64_t> arrival_;  // message ids, oldest first
  size_t open_bytes_ = 0;
  Stats stats_;
};

}  // namespace sluice::server
