#include "server/inputs/gelf_chunks.h"

#include <cstring>

namespace sluice::server {

GelfChunkAssembler::Result GelfChunkAssembler::add(std::string_view datagram, int64_t now_ns,
                                                   std::string& out) {
  if (datagram.size() < kGelfChunkHeaderBytes || !is_gelf_chunk(datagram)) {
    ++stats_.invalid;
    return Result::kInvalid;
  }
  uint64_t id = 0;
  std::memcpy(&id, datagram.data() + 2, sizeof id);  // an opaque key: byte order is irrelevant
  const unsigned seq = static_cast<unsigned char>(datagram[10]);
  const unsigned count = static_cast<unsigned char>(datagram[11]);
  if (count == 0 || count > kGelfMaxChunks || seq >= count) {
    ++stats_.invalid;
    return Result::kInvalid;
  }
  const std::string_view payload = datagram.substr(kGelfChunkHeaderBytes);
  if (payload.size() > limits_.max_message_bytes) {
    ++stats_.too_large;
    return Result::kTooLarge;
  }

  auto it = messages_.find(id);
  if (it == messages_.end()) {
    if (count == 1) {  // a message in one chunk needs no bookkeeping
      out.assign(payload);
      ++stats_.completed;
      return Result::kComplete;
    }
    make_room(payload.size(), id);
    it = messages_.emplace(id, Message{}).first;
    Message& message = it->second;
    message.first_ns = now_ns;
    message.count = static_cast<uint8_t>(count);
    message.chunks.resize(count);
    arrival_.push_back(id);
    message.age = std::prev(arrival_.end());
  } else if (it->second.count != count) {
    // The same id with another chunk count: not one message. Ignore the
    // chunk; the message completes or expires as it would.
    ++stats_.invalid;
    return Result::kInvalid;
  } else if (it->second.have.test(seq)) {
    ++stats_.duplicates;
    return Result::kDuplicate;
  } else {
    if (it->second.bytes + payload.size() > limits_.max_message_bytes) {
      erase(it);
      ++stats_.too_large;
      return Result::kTooLarge;
    }
    make_room(payload.size(), id);
    it = messages_.find(id);  // make_room never evicts `id`, but rehashing is allowed
  }
  Message& message = it->second;
  message.chunks[seq].assign(payload);
  message.have.set(seq);
  ++message.received;
  message.bytes += payload.size();
  open_bytes_ += payload.size();
  if (message.received < message.count) return Result::kPending;

  out.clear();
  out.reserve(message.bytes);
  for (const std::string& chunk : message.chunks) out.append(chunk);
  erase(it);
  ++stats_.completed;
  return Result::kComplete;
}

void GelfChunkAssembler::expire(int64_t now_ns) {
  // Arrival order is age order: stop at the first message still in time.
  while (!arrival_.empty()) {
    auto it = messages_.find(arrival_.front());
    if (now_ns - it->second.first_ns < limits_.timeout_ns) break;
    erase(it);
    ++stats_.expired;
  }
}

void GelfChunkAssembler::make_room(size_t incoming, uint64_t keep_id) {
  const bool is_new = messages_.find(keep_id) == messages_.end();
  while (!arrival_.empty()) {
    const bool too_many = is_new && messages_.size() >= limits_.max_open_messages;
    const bool too_big = open_bytes_ + incoming > limits_.max_open_bytes;
    if (!too_many && !too_big) break;
    if (arrival_.front() == keep_id) {
      // The oldest is the message this chunk belongs to: evict the next.
      if (arrival_.size() == 1) break;
      erase(messages_.find(*std::next(arrival_.begin())));
    } else {
      erase(messages_.find(arrival_.front()));
    }
    ++stats_.evicted;
  }
}

void GelfChunkAssembler::erase(std::unordered_map<uint64_t, Message>::iterator it) {
  open_bytes_ -= it->second.bytes;
  arrival_.erase(it->second.age);
  messages_.erase(it);
}

}  // namespace sluice::server
