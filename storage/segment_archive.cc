#include "storage/segment_archive.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "server/base/clock.h"
#include "server/base/time_format.h"
#include "storage/s3/s3_client.h"

namespace sluice::storage {
namespace {

std::string hex_id(uint64_t id) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(id));
  return text;
}

std::string trim_slashes(std::string text) {
  while (!text.empty() && text.back() == '/') text.pop_back();
  while (!text.empty() && text.front() == '/') text.erase(text.begin());
  return text;
}

// Streams the file through SHA-256, so a 256 MiB segment is never in memory.
Expected<std::string> sha256_of_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error("read " + path + ": cannot open");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) {
    return Status::error("sha256: cannot initialise");
  }
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const std::streamsize got = in.gcount();
    if (got > 0) EVP_DigestUpdate(context.get(), buffer.data(), static_cast<size_t>(got));
  }
  if (in.bad()) return Status::error("read " + path + ": I/O error");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context.get(), digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

std::string json_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out.push_back(c);
  }
  return out;
}

std::string manifest_json(const ManifestEntry& entry) {
  std::string out = "{";
  out += "\"key\":\"" + json_escape(entry.key) + "\",";
  out += "\"node\":\"" + json_escape(entry.node) + "\",";
  out += "\"segment_id\":" + std::to_string(entry.segment_id) + ",";
  out += "\"bytes\":" + std::to_string(entry.bytes) + ",";
  out += "\"sha256\":\"" + entry.sha256 + "\",";
  out += "\"records\":" + std::to_string(entry.records) + ",";
  out += "\"frames\":" + std::to_string(entry.frames) + ",";
  out += "\"first_seq\":" + std::to_string(entry.first_seq) + ",";
  out += "\"last_seq\":" + std::to_string(entry.last_seq) + ",";
  out += "\"min_received_ns\":" + std::to_string(entry.min_received_ns) + ",";
  out += "\"max_received_ns\":" + std::to_string(entry.max_received_ns) + ",";
  out += "\"format\":\"sluice-raw-segment-v" + std::to_string(kRawSegmentFormatVersion) + "\"}";
  return out;
}

// Reads back what manifest_json() wrote (flat object, escaped strings).
bool json_string(std::string_view json, std::string_view name, std::string& out) {
  const std::string needle = "\"" + std::string(name) + "\":\"";
  size_t at = json.find(needle);
  if (at == std::string_view::npos) return false;
  out.clear();
  for (at += needle.size(); at < json.size() && json[at] != '"'; ++at) {
    if (json[at] == '\\' && at + 1 < json.size()) ++at;
    out.push_back(json[at]);
  }
  return at < json.size();
}

template <typename Int>
bool json_number(std::string_view json, std::string_view name, Int& out) {
  const std::string needle = "\"" + std::string(name) + "\":";
  const size_t at = json.find(needle);
  if (at == std::string_view::npos) return false;
  const char* begin = json.data() + at + needle.size();
  auto [end, ec] = std::from_chars(begin, json.data() + json.size(), out);
  return ec == std::errc() && end != begin;
}

Expected<ManifestEntry> parse_manifest(std::string_view json) {
  ManifestEntry entry;
  const bool ok = json_string(json, "key", entry.key) && json_string(json, "node", entry.node) &&
                  json_number(json, "segment_id", entry.segment_id) && json_number(json, "bytes", entry.bytes) &&
                  json_string(json, "sha256", entry.sha256) && json_number(json, "records", entry.records) &&
                  json_number(json, "frames", entry.frames) && json_number(json, "first_seq", entry.first_seq) &&
                  json_number(json, "last_seq", entry.last_seq) &&
                  json_number(json, "min_received_ns", entry.min_received_ns) &&
                  json_number(json, "max_received_ns", entry.max_received_ns);
  if (!ok) return Status::error("manifest entry is not sluice's format");
  return entry;
}

s3::S3Config s3_config_of(const config::ArchiveOptions& options) {
  s3::S3Config config;
  config.endpoint = options.endpoint;
  config.region = options.region;
  config.bucket = options.bucket;
  config.path_style = options.path_style;
  config.credentials.access_key_id = options.access_key_id;
  config.credentials.secret_access_key = options.secret_access_key;
  config.multipart_threshold_bytes = options.multipart_threshold_bytes;
  config.part_size_bytes = options.part_size_bytes;
  return config;
}

std::string manifest_prefix(const config::ArchiveOptions& options) {
  const std::string prefix = trim_slashes(options.prefix);
  return (prefix.empty() ? "" : prefix + "/") + "manifest/";
}

class S3SegmentArchive final : public SegmentArchive {
 public:
  S3SegmentArchive(const config::ArchiveOptions& options, std::string state_dir, FileSystem* fs,
                   std::unique_ptr<s3::S3Client> client)
      : options_(options), state_dir_(std::move(state_dir)), fs_(fs), client_(std::move(client)),
        node_(archive_node_name(options)) {}

  ~S3SegmentArchive() override { stop_thread(); }

  Status load_markers() {
    Status status = fs_->create_dirs(state_dir_);
    if (!status) return status.with_context("archive state");
    auto names = fs_->list_dir(state_dir_);
    if (!names) return names.error().with_context("archive state");
    for (const std::string& name : *names) {
      if (name.size() != 16 + 9 || !name.ends_with(".uploaded")) continue;
      uint64_t id = 0;
      auto [end, ec] = std::from_chars(name.data(), name.data() + 16, id, 16);
      if (ec == std::errc() && end == name.data() + 16) archived_.insert(id);
    }
    return Status::ok();
  }

  void start() override {
    thread_ = std::thread([this] { run(); });
  }

  void enqueue(const SegmentInfo& segment) override {
    {
      std::lock_guard lock(mutex_);
      if (archived_.count(segment.id) != 0) return;
      for (const SegmentInfo& queued : queue_) {
        if (queued.id == segment.id) return;
      }
      queue_.push_back(segment);
      pending_bytes_ += segment.bytes;
    }
    wake_.notify_all();
  }

  bool is_archived(uint64_t segment_id) const override {
    std::lock_guard lock(mutex_);
    return archived_.count(segment_id) != 0;
  }

  Status drain(int64_t deadline_monotonic_ns) override {
    std::unique_lock lock(mutex_);
    draining_ = true;
    drain_deadline_ns_ = deadline_monotonic_ns;
    wake_.notify_all();
    while (!queue_.empty() && monotonic_now_ns() < deadline_monotonic_ns && thread_.joinable()) {
      done_.wait_for(lock, std::chrono::milliseconds(100));
    }
    const size_t left = queue_.size();
    const uint64_t left_bytes = pending_bytes_;
    lock.unlock();
    stop_thread();
    if (left == 0) return Status::ok();
    return Status::error("archive: " + std::to_string(left) + " segment(s), " + std::to_string(left_bytes) +
                         " bytes, not uploaded before the deadline; they stay on disk and upload on the next start");
  }

  ArchiveStats stats() const override {
    ArchiveStats stats;
    stats.segments_uploaded = uploaded_.load(std::memory_order_relaxed);
    stats.bytes_uploaded = bytes_uploaded_.load(std::memory_order_relaxed);
    stats.upload_failures = failures_.load(std::memory_order_relaxed);
    stats.request_retries = retries_.load(std::memory_order_relaxed);
    stats.last_upload_unix_ns = last_upload_ns_.load(std::memory_order_relaxed);
    std::lock_guard lock(mutex_);
    stats.pending_segments = queue_.size();
    stats.pending_bytes = pending_bytes_;
    stats.at_risk_bytes = pending_bytes_ > options_.max_pending_bytes ? pending_bytes_ - options_.max_pending_bytes : 0;
    return stats;
  }

 private:
  void stop_thread() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  Status upload(const SegmentInfo& segment, const s3::CallOptions& call) {
    auto sha256 = sha256_of_file(segment.path);
    if (!sha256) return sha256.error();
    ManifestEntry entry;
    entry.key = archive_segment_key(options_, node_, segment);
    entry.node = node_;
    entry.segment_id = segment.id;
    entry.bytes = segment.bytes;
    entry.sha256 = *sha256;
    entry.records = segment.records;
    entry.frames = segment.frames;
    entry.first_seq = segment.first_seq;
    entry.last_seq = segment.last_seq;
    entry.min_received_ns = segment.min_received_ns;
    entry.max_received_ns = segment.max_received_ns;
    Status status = client_->put_file(entry.key, segment.path, call);
    if (!status) return status;
    // Confirmed only when the endpoint reports the whole object.
    auto head = client_->head(entry.key, call);
    if (!head) return head.error();
    if (head->size != segment.bytes) {
      return Status::error("s3 " + entry.key + ": stored " + std::to_string(head->size) + " bytes of " +
                           std::to_string(segment.bytes));
    }
    const std::string manifest = manifest_json(entry);
    status = client_->put_object(manifest_prefix(options_) + node_ + "/" + hex_id(segment.id) + ".json", manifest, call);
    if (!status) return status;
    // The local marker: raw retention may delete the segment from now on.
    auto marker = fs_->open_for_append(state_dir_ + "/" + hex_id(segment.id) + ".uploaded");
    if (!marker) return marker.error();
    status = (*marker)->append(manifest);
    if (status) status = (*marker)->sync();
    Status closed = (*marker)->close();
    return status ? closed : status;
  }

  void run() noexcept {
    auto backoff = std::chrono::seconds(1);
    std::unique_lock lock(mutex_);
    while (true) {
      while (!stopping_ && queue_.empty()) wake_.wait(lock);
      if (stopping_) break;
      const SegmentInfo segment = queue_.front();
      s3::CallOptions call;
      if (draining_) call.deadline_monotonic_ns = drain_deadline_ns_;
      lock.unlock();
      const uint64_t retries_before = client_->retries();
      Status status = upload(segment, call);
      retries_.fetch_add(client_->retries() - retries_before, std::memory_order_relaxed);
      lock.lock();
      if (status) {
        queue_.pop_front();
        pending_bytes_ -= std::min(pending_bytes_, segment.bytes);
        archived_.insert(segment.id);
        uploaded_.fetch_add(1, std::memory_order_relaxed);
        bytes_uploaded_.fetch_add(segment.bytes, std::memory_order_relaxed);
        last_upload_ns_.store(wall_now_ns(), std::memory_order_relaxed);
        backoff = std::chrono::seconds(1);
        done_.notify_all();
        continue;
      }
      failures_.fetch_add(1, std::memory_order_relaxed);
      std::fprintf(stderr, "sluice: archive: upload of %s failed (retrying in %llds): %s\n", segment.path.c_str(),
                   static_cast<long long>(backoff.count()), status.message().c_str());
      if (draining_ && monotonic_now_ns() >= drain_deadline_ns_) {
        done_.notify_all();
        wake_.wait(lock, [this] { return stopping_; });
        break;
      }
      // The endpoint may be down for hours: back off up to five minutes,
      // but wake at once for a shutdown's drain.
      const bool was_draining = draining_;
      wake_.wait_for(lock, backoff, [&] { return stopping_ || draining_ != was_draining; });
      backoff = std::min(backoff * 2, std::chrono::seconds(300));
      if (draining_) backoff = std::chrono::seconds(1);
    }
  }

  const config::ArchiveOptions options_;
  const std::string state_dir_;
  FileSystem* fs_;
  std::unique_ptr<s3::S3Client> client_;
  const std::string node_;

  mutable std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::deque<SegmentInfo> queue_;
  uint64_t pending_bytes_ = 0;
  std::set<uint64_t> archived_;
  bool stopping_ = false;
  bool draining_ = false;
  int64_t drain_deadline_ns_ = 0;
  std::thread thread_;

  std::atomic<uint64_t> uploaded_{0}, bytes_uploaded_{0}, failures_{0}, retries_{0};
  std::atomic<int64_t> last_upload_ns_{0};
};

}  // namespace

std::string archive_node_name(const config::ArchiveOptions& options) {
  if (!options.node.empty()) return options.node;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "sluice";
  return host;
}

std::string archive_segment_key(const config::ArchiveOptions& options, const std::string& node,
                                const SegmentInfo& segment) {
  const int64_t seconds = segment.min_received_ns / 1000000000;
  const int64_t day = seconds / 86400 - (seconds % 86400 < 0 ? 1 : 0);
  const int64_t second_of_day = seconds - day * 86400;
  const CivilDate date = civil_from_days(day);
  char path[96];
  std::snprintf(path, sizeof path, "raw/%04lld/%02u/%02u/", static_cast<long long>(date.year), date.month, date.day);
  char name[48];
  std::snprintf(name, sizeof name, "%02lld%02lld%02lld-%s.slr", static_cast<long long>(second_of_day / 3600),
                static_cast<long long>(second_of_day / 60 % 60), static_cast<long long>(second_of_day % 60),
                hex_id(segment.id).c_str());
  const std::string prefix = trim_slashes(options.prefix);
  return (prefix.empty() ? "" : prefix + "/") + path + node + "/" + name;
}

Expected<std::unique_ptr<SegmentArchive>> SegmentArchive::open(const config::ArchiveOptions& options,
                                                              const std::string& state_dir, FileSystem* fs) {
  auto client = s3::S3Client::create(s3_config_of(options));
  if (!client) return client.error().with_context("archive");
  auto archive = std::make_unique<S3SegmentArchive>(options, state_dir, fs ? fs : &default_file_system(),
                                                    std::move(client.value()));
  Status status = archive->load_markers();
  if (!status) return status;
  return std::unique_ptr<SegmentArchive>(std::move(archive));
}

Expected<std::vector<ManifestEntry>> list_archive(const config::ArchiveOptions& options) {
  auto client = s3::S3Client::create(s3_config_of(options));
  if (!client) return client.error();
  auto objects = (*client)->list(manifest_prefix(options));
  if (!objects) return objects.error();
  std::vector<ManifestEntry> entries;
  for (const s3::ObjectInfo& object : *objects) {
    if (!object.key.ends_with(".json")) continue;
    auto body = (*client)->get_object(object.key);
    if (!body) return body.error();
    auto entry = parse_manifest(*body);
    if (!entry) return entry.error().with_context(object.key);
    entries.push_back(std::move(entry.value()));
  }
  std::sort(entries.begin(), entries.end(), [](const ManifestEntry& a, const ManifestEntry& b) {
    return a.min_received_ns != b.min_received_ns ? a.min_received_ns < b.min_received_ns : a.key < b.key;
  });
  return entries;
}

Expected<std::vector<ManifestEntry>> restore_archive(const config::ArchiveOptions& options, int64_t from_ns,
                                                     int64_t to_ns, const std::string& to_dir,
                                                     const std::function<void(size_t, size_t)>& progress) {
  auto entries = list_archive(options);
  if (!entries) return entries.error();
  std::vector<ManifestEntry> wanted;
  for (ManifestEntry& entry : *entries) {
    if (entry.max_received_ns >= from_ns && entry.min_received_ns <= to_ns) wanted.push_back(std::move(entry));
  }
  std::error_code ec;
  std::filesystem::create_directories(to_dir, ec);
  if (ec) return Status::error("restore: create " + to_dir + ": " + ec.message());
  auto client = s3::S3Client::create(s3_config_of(options));
  if (!client) return client.error();
  // Segments of several servers may share ids: restored files are numbered
  // afresh, in time order, as the raw log names them.
  for (size_t i = 0; i < wanted.size(); ++i) {
    const std::string path = to_dir + "/" + hex_id(i + 1) + ".seg";
    Status status = (*client)->get_object_to_file(wanted[i].key, path);
    if (!status) return status.with_context("restore");
    auto sha256 = sha256_of_file(path);
    if (!sha256) return sha256.error().with_context("restore");
    if (*sha256 != wanted[i].sha256) {
      return Status::error("restore: " + wanted[i].key + ": sha256 " + *sha256 + " differs from the manifest's " +
                           wanted[i].sha256);
    }
    if (progress) progress(i + 1, wanted.size());
  }
  return wanted;
}

}  // namespace sluice::storage
