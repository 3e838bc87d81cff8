#include "storage/s3/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdlib>

#include "server/base/assert.h"

namespace sluice::storage::s3 {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

std::string to_hex(const unsigned char* bytes, size_t length) {
  std::string hex;
  hex.reserve(length * 2);
  for (size_t i = 0; i < length; ++i) {
    hex.push_back(kHexDigits[bytes[i] >> 4]);
    hex.push_back(kHexDigits[bytes[i] & 0xf]);
  }
  return hex;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  const unsigned char* result = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                                     reinterpret_cast<const unsigned char*>(data.data()),
                                     data.size(), digest, &digest_length);
  SLUICE_ASSERT(result != nullptr, "HMAC-SHA256 is always available in libcrypto");
  return std::string(reinterpret_cast<const char*>(digest), digest_length);
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Trims and collapses runs of spaces, as the canonical header rules require.
std::string canonical_header_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

Credentials credentials_from_env() {
  auto read = [](const char* name) {
    const char* value = std::getenv(name);
    return value ? std::string(value) : std::string();
  };
  return Credentials{read("AWS_ACCESS_KEY_ID"), read("AWS_SECRET_ACCESS_KEY"),
                     read("AWS_SESSION_TOKEN")};
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  int ok = EVP_Digest(data.data(), data.size(), digest, &digest_length, EVP_sha256(), nullptr);
  SLUICE_ASSERT(ok == 1, "SHA-256 is always available in libcrypto");
  return to_hex(digest, digest_length);
}

std::string uri_encode(std::string_view text, bool encode_slash) {
  static constexpr char kUpperHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() + text.size() / 2);
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
                            (byte >= '0' && byte <= '9') || byte == '-' || byte == '.' ||
                            byte == '_' || byte == '~';
    if (unreserved || (byte == '/' && !encode_slash)) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kUpperHex[byte >> 4]);
      out.push_back(kUpperHex[byte & 0xf]);
    }
  }
  return out;
}

Signature sign_v4(const SignableRequest& request, const Credentials& credentials,
                  std::string_view region, std::string_view service, std::string_view amz_date) {
  // Query: encode first, then sort by encoded name and value.
  std::vector<std::pair<std::string, std::string>> query;
  query.reserve(request.query.size());
  for (const auto& [name, value] : request.query) {
    query.emplace_back(uri_encode(name, true), uri_encode(value, true));
  }
  std::sort(query.begin(), query.end());
  std::string canonical_query;
  for (const auto& [name, value] : query) {
    if (!canonical_query.empty()) canonical_query += '&';
    canonical_query += name;
    canonical_query += '=';
    canonical_query += value;
  }

  // Headers: lower-case names, sorted; a stable sort keeps repeated names in
  // the order given, which is the order their values are joined in.
  std::vector<std::pair<std::string, std::string>> headers;
  headers.reserve(request.headers.size() + 1);
  headers.emplace_back("host", canonical_header_value(request.host));
  for (const auto& [name, value] : request.headers) {
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(), ascii_lower);
    headers.emplace_back(std::move(lower), canonical_header_value(value));
  }
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string canonical_headers;
  std::string signed_headers;
  for (size_t i = 0; i < headers.size(); ++i) {
    if (i > 0 && headers[i].first == headers[i - 1].first) {
      canonical_headers.back() = ',';  // replaces the previous line's '\n'
      canonical_headers += headers[i].second;
      canonical_headers += '\n';
      continue;
    }
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += headers[i].first;
    canonical_headers += headers[i].first;
    canonical_headers += ':';
    canonical_headers += headers[i].second;
    canonical_headers += '\n';
  }

  Signature result;
  result.canonical_request = request.method;
  result.canonical_request += '\n';
  result.canonical_request += request.path.empty() ? std::string("/") : request.path;
  result.canonical_request += '\n';
  result.canonical_request += canonical_query;
  result.canonical_request += '\n';
  result.canonical_request += canonical_headers;
  result.canonical_request += '\n';
  result.canonical_request += signed_headers;
  result.canonical_request += '\n';
  result.canonical_request += request.payload_sha256_hex;

  const std::string_view day = amz_date.substr(0, 8);
  std::string scope(day);
  scope += '/';
  scope += region;
  scope += '/';
  scope += service;
  scope += "/aws4_request";

  result.string_to_sign = "AWS4-HMAC-SHA256\n";
  result.string_to_sign += amz_date;
  result.string_to_sign += '\n';
  result.string_to_sign += scope;
  result.string_to_sign += '\n';
  result.string_to_sign += sha256_hex(result.canonical_request);

  std::string key = hmac_sha256("AWS4" + credentials.secret_access_key, day);
  key = hmac_sha256(key, region);
  key = hmac_sha256(key, service);
  key = hmac_sha256(key, "aws4_request");
  const std::string raw_signature = hmac_sha256(key, result.string_to_sign);
  result.signature =
      to_hex(reinterpret_cast<const unsigned char*>(raw_signature.data()), raw_signature.size());

  result.authorization = "AWS4-HMAC-SHA256 Credential=";
  result.authorization += credentials.access_key_id;
  result.authorization += '/';
  result.authorization += scope;
  result.authorization += ", SignedHeaders=";
  result.authorization += signed_headers;
  result.authorization += ", Signature=";
  result.authorization += result.signature;
  return result;
}

}  // namespace sluice::storage::s3
