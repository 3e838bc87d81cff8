// A client for S3 and S3-compatible object stores (MinIO, Ceph RGW, R2,
// s3rver): objects up and down, listing, multipart upload of large files,
// SigV4-signed, with retries. The archive output uses it; nothing here knows
// about segments or partitions.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/base/expected.h"
#include "server/base/status.h"
#include "storage/s3/sigv4.h"

namespace sluice::storage::s3 {

struct S3Config {
  // Scheme, host and optional port; no path. "http://127.0.0.1:4568",
  // "https://s3.eu-west-1.amazonaws.com".
  std::string endpoint;
  std::string region = "us-east-1";
  std::string bucket;
  // true: https://host/bucket/key. false: https://bucket.host/key, which needs
  // DNS for bucket.host (and, over TLS, a bucket name without dots).
  bool path_style = true;
  Credentials credentials;  // access key empty: credentials_from_env()
  // Attempts per request, counting the first. Network errors, 5xx (503
  // SlowDown included), 429 and S3's 400 RequestTimeout are retried; other
  // 4xx answers are final.
  uint32_t max_attempts = 5;
  // Before attempt n+1 the client waits initial_backoff_ms * 2^(n-1), capped
  // at max_backoff_ms, then drawn uniformly from its upper half so that
  // clients failing together do not retry together.
  uint32_t initial_backoff_ms = 200;
  uint32_t max_backoff_ms = 10000;
  // Files larger than this go up in parts: a failed part is retried alone
  // instead of the whole file.
  uint64_t multipart_threshold_bytes = 64ull << 20;
  // S3 refuses parts below 5 MiB (except the last) and allows 10,000 parts:
  // the part size grows for a file that would need more.
  uint64_t part_size_bytes = 16ull << 20;
  // Lets tests upload in parts smaller than 5 MiB; real S3 would answer
  // EntityTooSmall on completion.
  bool allow_small_parts_for_tests = false;
  // Bounds one attempt, from connecting to the last byte.
  uint32_t request_timeout_ms = 60000;
};

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  // Without the surrounding quotes. For a single PUT, the hex MD5 of the
  // bytes; for a multipart upload, not an MD5 of anything.
  std::string etag;
};

struct CallOptions {
  // No attempt starts after this instant (monotonic_now_ns()), no backoff
  // sleeps past it, and each attempt's timeout is cut to end by it.
  int64_t deadline_monotonic_ns = INT64_MAX;
};

// Keys are raw UTF-8 (any bytes but NUL), encoded here per the SigV4 rules
// with '/' kept. Errors read
//   s3 PUT bucket/key: 403 SignatureDoesNotMatch: <Message of S3's answer>
//   s3 GET bucket/key: connect 127.0.0.1:4568: Couldn't connect to server (after 5 attempts)
// Not handled: SSE-C, object metadata, versioned objects, keys holding
// characters that XML 1.0 cannot carry (listing would fail to parse them).
//
// Thread: one thread at a time (it owns one libcurl handle, reused so that
// connections are kept alive); retries() is thread-safe.
class S3Client {
 public:
  // Validates the endpoint URL, the bucket name, the sizes and that
  // credentials are present; makes no request.
  static Expected<std::unique_ptr<S3Client>> create(S3Config config);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  Status put_object(const std::string& key, std::string_view body, const CallOptions& = {});
  // Streams the file from disk. Above multipart_threshold_bytes it goes up in
  // parts (CreateMultipartUpload, UploadPart, CompleteMultipartUpload;
  // AbortMultipartUpload on failure, if the deadline still allows). Every PUT
  // and part carries Content-MD5 and its real x-amz-content-sha256, so a file
  // changing underneath fails the upload instead of storing a mix. The file is
  // read twice per part: once to hash, once to send.
  Status put_file(const std::string& key, const std::string& path, const CallOptions& = {});
  Expected<std::string> get_object(const std::string& key, const CallOptions& = {});
  // Writes `path`.tmp, fsyncs it and renames it over `path`: `path` is
  // either absent, its old self, or complete.
  Status get_object_to_file(const std::string& key, const std::string& path,
                            const CallOptions& = {});
  // ListObjectsV2 from `prefix`, following continuation tokens to the end, in
  // S3's order (UTF-8 binary order of keys).
  Expected<std::vector<ObjectInfo>> list(const std::string& prefix, const CallOptions& = {});
  Expected<ObjectInfo> head(const std::string& key, const CallOptions& = {});
  // Deleting a key that does not exist succeeds, as in S3.
  Status delete_object(const std::string& key, const CallOptions& = {});
  // For tests and a first start. A bucket that exists and that these
  // credentials can reach counts as created.
  Status create_bucket(const CallOptions& = {});

  // Keys per ListObjectsV2 page; 0 (the default) leaves it to the server,
  // which sends at most 1000. Tests set it low to exercise continuation.
  void set_max_keys_per_page(uint32_t n);
  // Retries made so far (attempts after the first of each request), for
  // /metrics.
  uint64_t retries() const;

 private:
  struct Impl;
  explicit S3Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::storage::s3
