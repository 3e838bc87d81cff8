#include "storage/s3/sigv4.h"

#include <doctest/doctest.h>

#include <string>

using namespace sluice::storage::s3;

namespace {

constexpr const char* kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// The worked examples of the Amazon S3 API Reference, "Signature Calculations
// for the Authorization Header: Transferring Payload in a Single Chunk (AWS
// Signature Version 4)":
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
const Credentials kS3Credentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                 ""};
constexpr const char* kS3Date = "20130524T000000Z";
constexpr const char* kS3Host = "examplebucket.s3.amazonaws.com";

Signature sign_s3(const SignableRequest& request) {
  return sign_v4(request, kS3Credentials, "us-east-1", "s3", kS3Date);
}

std::string s3_string_to_sign(const std::string& canonical_request_hash) {
  return "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n" +
         canonical_request_hash;
}

// The AWS Signature Version 4 test suite (aws-sig-v4-test-suite), as published
// with the AWS General Reference ("Signature Version 4 test suite") and carried
// in https://github.com/awslabs/aws-c-auth/tree/main/tests/aws-signing-test-suite/v4.
const Credentials kSuiteCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
constexpr const char* kSuiteDate = "20150830T123600Z";

SignableRequest suite_request(std::string method, std::string path) {
  SignableRequest request;
  request.method = std::move(method);
  request.host = "example.amazonaws.com";
  request.path = std::move(path);
  request.headers = {{"X-Amz-Date", kSuiteDate}};
  request.payload_sha256_hex = kEmptySha256;
  return request;
}

Signature sign_suite(const SignableRequest& request) {
  return sign_v4(request, kSuiteCredentials, "us-east-1", "service", kSuiteDate);
}

std::string suite_string_to_sign(const std::string& canonical_request_hash) {
  return "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n" +
         canonical_request_hash;
}

std::string suite_authorization(const std::string& signed_headers, const std::string& signature) {
  return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
         "SignedHeaders=" +
         signed_headers + ", Signature=" + signature;
}

}  // namespace

TEST_CASE("S3 example: GET Object with a Range header") {
  SignableRequest request;
  request.method = "GET";
  request.host = kS3Host;
  request.path = "/test.txt";
  request.headers = {
      {"Range", "bytes=0-9"}, {"x-amz-content-sha256", kEmptySha256}, {"x-amz-date", kS3Date}};
  request.payload_sha256_hex = kEmptySha256;
  Signature signature = sign_s3(request);
  CHECK(signature.canonical_request ==
        "GET\n"
        "/test.txt\n"
        "\n"
        "host:examplebucket.s3.amazonaws.com\n"
        "range:bytes=0-9\n"
        "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "x-amz-date:20130524T000000Z\n"
        "\n"
        "host;range;x-amz-content-sha256;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(signature.string_to_sign ==
        s3_string_to_sign("7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"));
  CHECK(signature.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  CHECK(signature.authorization ==
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_CASE("S3 example: PUT Object with a storage class and a '$' in the key") {
  const std::string payload_hash = sha256_hex("Welcome to Amazon S3.");
  REQUIRE(payload_hash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SignableRequest request;
  request.method = "PUT";
  request.host = kS3Host;
  request.path = "/" + uri_encode("test$file.text", false);
  request.headers = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                     {"x-amz-date", kS3Date},
                     {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                     {"x-amz-content-sha256", payload_hash}};
  request.payload_sha256_hex = payload_hash;
  Signature signature = sign_s3(request);
  CHECK(signature.canonical_request ==
        "PUT\n"
        "/test%24file.text\n"
        "\n"
        "date:Fri, 24 May 2013 00:00:00 GMT\n"
        "host:examplebucket.s3.amazonaws.com\n"
        "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
        "x-amz-date:20130524T000000Z\n"
        "x-amz-storage-class:REDUCED_REDUNDANCY\n"
        "\n"
        "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
        "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  CHECK(signature.string_to_sign ==
        s3_string_to_sign("9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"));
  CHECK(signature.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST_CASE("S3 example: GET Bucket Lifecycle, a subresource without a value") {
  SignableRequest request;
  request.method = "GET";
  request.host = kS3Host;
  request.path = "/";
  request.query = {{"lifecycle", ""}};
  request.headers = {{"x-amz-date", kS3Date}, {"x-amz-content-sha256", kEmptySha256}};
  request.payload_sha256_hex = kEmptySha256;
  Signature signature = sign_s3(request);
  CHECK(signature.canonical_request ==
        "GET\n"
        "/\n"
        "lifecycle=\n"
        "host:examplebucket.s3.amazonaws.com\n"
        "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "x-amz-date:20130524T000000Z\n"
        "\n"
        "host;x-amz-content-sha256;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(signature.string_to_sign ==
        s3_string_to_sign("9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca"));
  CHECK(signature.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST_CASE("S3 example: GET Bucket (List Objects), query parameters sorted") {
  SignableRequest request;
  request.method = "GET";
  request.host = kS3Host;
  request.path = "/";
  request.query = {{"prefix", "J"}, {"max-keys", "2"}};  // unsorted on purpose
  request.headers = {{"x-amz-date", kS3Date}, {"x-amz-content-sha256", kEmptySha256}};
  request.payload_sha256_hex = kEmptySha256;
  Signature signature = sign_s3(request);
  CHECK(signature.canonical_request ==
        "GET\n"
        "/\n"
        "max-keys=2&prefix=J\n"
        "host:examplebucket.s3.amazonaws.com\n"
        "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "x-amz-date:20130524T000000Z\n"
        "\n"
        "host;x-amz-content-sha256;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(signature.string_to_sign ==
        s3_string_to_sign("df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7"));
  CHECK(signature.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST_CASE("test suite: get-vanilla") {
  Signature signature = sign_suite(suite_request("GET", "/"));
  CHECK(signature.canonical_request ==
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(signature.string_to_sign ==
        suite_string_to_sign("bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"));
  CHECK(signature.authorization ==
        suite_authorization("host;x-amz-date",
                            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
}

TEST_CASE("test suite: get-vanilla-query-order-key-case") {
  SignableRequest request = suite_request("GET", "/");
  request.query = {{"Param2", "value2"}, {"Param1", "value1"}};
  Signature signature = sign_suite(request);
  CHECK(signature.canonical_request ==
        "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\n"
        "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(signature.string_to_sign ==
        suite_string_to_sign("816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0"));
  CHECK(signature.authorization ==
        suite_authorization("host;x-amz-date",
                            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"));
}

TEST_CASE("test suite: post-x-www-form-urlencoded") {
  SignableRequest request = suite_request("POST", "/");
  request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  request.payload_sha256_hex = sha256_hex("Param1=value1");
  Signature signature = sign_suite(request);
  CHECK(signature.canonical_request ==
        "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
        "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
        "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  CHECK(signature.string_to_sign ==
        suite_string_to_sign("42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281"));
  CHECK(signature.authorization ==
        suite_authorization("content-type;host;x-amz-date",
                            "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"));
}

TEST_CASE("test suite: get-utf8, a path encoded byte by byte") {
  const std::string path = uri_encode("/\xE1\x88\xB4", false);  // "/ሴ"
  CHECK(path == "/%E1%88%B4");
  Signature signature = sign_suite(suite_request("GET", path));
  CHECK(signature.canonical_request ==
        "GET\n/%E1%88%B4\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
        "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(signature.string_to_sign ==
        suite_string_to_sign("2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102"));
  CHECK(signature.signature == "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");
}

TEST_CASE("test suite: get-space, a space is %20 and never '+'") {
  const std::string path = uri_encode("/example space/", false);
  CHECK(path == "/example%20space/");
  Signature signature = sign_suite(suite_request("GET", path));
  CHECK(signature.string_to_sign ==
        suite_string_to_sign("63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86"));
  CHECK(signature.signature == "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741");
}

TEST_CASE("test suite: get-header-value-trim, values trimmed and inner spaces collapsed") {
  SignableRequest request = suite_request("GET", "/");
  request.headers.emplace_back("My-Header1", " value1");
  request.headers.emplace_back("My-Header2", " \"a   b   c\"");
  Signature signature = sign_suite(request);
  CHECK(signature.canonical_request.find("my-header1:value1\nmy-header2:\"a b c\"\n") !=
        std::string::npos);
  CHECK(signature.authorization ==
        suite_authorization("host;my-header1;my-header2;x-amz-date",
                            "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"));
}

TEST_CASE("uri_encode keeps only unreserved characters, and '/' when asked") {
  CHECK(uri_encode("AZaz09-._~", true) == "AZaz09-._~");
  CHECK(uri_encode("a/b c+d=e", false) == "a/b%20c%2Bd%3De");
  CHECK(uri_encode("a/b c+d=e", true) == "a%2Fb%20c%2Bd%3De");
  CHECK(uri_encode("*%!'()", true) == "%2A%25%21%27%28%29");
  CHECK(uri_encode(std::string_view("\0\xff", 2), true) == "%00%FF");
  CHECK(uri_encode("", true).empty());
}

TEST_CASE("query names and values are encoded before sorting, '/' included") {
  SignableRequest request = suite_request("GET", "/");
  request.query = {{"prefix", "logs/2025 03/"}, {"list-type", "2"}, {"continuation-token", "a+b="}};
  Signature signature = sign_suite(request);
  CHECK(signature.canonical_request.find(
            "\ncontinuation-token=a%2Bb%3D&list-type=2&prefix=logs%2F2025%2003%2F\n") !=
        std::string::npos);
}

TEST_CASE("a session token is signed like any other header") {
  SignableRequest request = suite_request("GET", "/");
  request.headers.emplace_back("x-amz-security-token", "token");
  Credentials credentials = kSuiteCredentials;
  credentials.session_token = "token";
  Signature signature = sign_v4(request, credentials, "us-east-1", "service", kSuiteDate);
  CHECK(signature.authorization.find("SignedHeaders=host;x-amz-date;x-amz-security-token,") !=
        std::string::npos);
  CHECK(signature.signature != sign_suite(suite_request("GET", "/")).signature);
}

TEST_CASE("sha256_hex of nothing is the documented empty-payload hash") {
  CHECK(sha256_hex("") == kEmptySha256);
}
