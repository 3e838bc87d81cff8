// AWS Signature Version 4 for requests whose whole payload hash is known up
// front (S3's "single chunk" mode): the canonical request, the string to sign,
// the signature and the Authorization header value. Pure functions, no IO.
//
// Thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::storage::s3 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless the keys are temporary (STS)
};

// Reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN; unset
// variables give empty strings.
Credentials credentials_from_env();

struct SignableRequest {
  std::string method;  // "GET"
  // The Host header value, with ":port" when the port is not the scheme's
  // default. Always signed.
  std::string host;
  // The absolute path exactly as it goes on the wire, already URI-encoded
  // (e.g. "/bucket/a%20b"). S3 does not normalise paths, so neither does this:
  // "/a/../b" is signed as written. Empty means "/".
  std::string path;
  // Decoded name/value pairs; encoding and sorting happen here. A bare
  // "?lifecycle" is {"lifecycle", ""}.
  std::vector<std::pair<std::string, std::string>> query;
  // Every other header to sign, in any case and order: x-amz-date must be
  // among them (equal to `amz_date`), and so must x-amz-content-sha256 for S3
  // and x-amz-security-token for temporary credentials. Values are trimmed and
  // inner runs of spaces collapsed; repeated names are joined with ','.
  std::vector<std::pair<std::string, std::string>> headers;
  // Lower-case hex SHA-256 of the body, or "UNSIGNED-PAYLOAD".
  std::string payload_sha256_hex;
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // lower-case hex
  std::string authorization;  // the Authorization header value
};

// `amz_date` is the request time in ISO 8601 basic form, "20130524T000000Z";
// its first eight characters name the day of the credential scope.
Signature sign_v4(const SignableRequest& request, const Credentials& credentials,
                  std::string_view region, std::string_view service, std::string_view amz_date);

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// Percent-encodes every byte except RFC 3986's unreserved characters
// (A-Z a-z 0-9 - . _ ~), with upper-case hex, as SigV4 requires. '/' is kept
// unless `encode_slash`: keep it for object keys in a path, encode it in query
// names and values.
std::string uri_encode(std::string_view text, bool encode_slash);

}  // namespace sluice::storage::s3
