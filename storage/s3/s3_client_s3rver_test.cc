// S3Client against s3rver, a real S3-compatible server, with Debian's AWS CLI
// v2 as an independent reader of what the client stored. Both come from
// scripts/install_deps.sh --test; a missing one fails the test.
//
// s3rver checks neither SigV4 signatures nor Content-MD5 (it accepts any
// well-formed Authorization with a known access key): signing is covered by
// the published AWS vectors of sigv4_test.cc, not here.
#include "storage/s3/s3_client.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server/base/clock.h"
#include "tests/temp_dir.h"

using namespace sluice;
using namespace sluice::storage::s3;

extern char** environ;

namespace {

using sluice::testing::TempDir;

constexpr const char* kS3rver = SLUICE_S3RVER;
constexpr const char* kAwsCli = SLUICE_AWS_CLI;
constexpr const char* kBucket = "sluice-test";
constexpr int64_t kStartTimeoutNs = 30 * kNanosPerSecond;

#define REQUIRE_OK(expression)                           \
  do {                                                   \
    const ::sluice::Status status_ = (expression);       \
    REQUIRE_MESSAGE(status_.is_ok(), status_.message()); \
  } while (0)

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

void write_file(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  REQUIRE_MESSAGE(out.good(), "writing " << path);
}

std::string random_bytes(size_t size, uint32_t seed) {
  std::mt19937 generator(seed);
  std::string bytes(size, '\0');
  for (char& byte : bytes) byte = static_cast<char>(generator() & 0xff);
  return bytes;
}

std::string md5_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  REQUIRE(EVP_Digest(data.data(), data.size(), digest, &length, EVP_md5(), nullptr) == 1);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

sockaddr_in loopback(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  return address;
}

// A port nothing listens on right now: the kernel's pick for port 0.
uint16_t free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address = loopback(0);
  socklen_t length = sizeof address;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  REQUIRE_MESSAGE(ok, "could not pick a free loopback port");
  return ntohs(address.sin_port);
}

bool port_answers(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address = loopback(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

// Polls `condition` until it holds or `timeout_ns` passes.
template <typename Condition>
bool wait_for(Condition condition, int64_t timeout_ns) {
  const int64_t deadline = monotonic_now_ns() + timeout_ns;
  while (!condition()) {
    if (monotonic_now_ns() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

void require_tools() {
  REQUIRE_MESSAGE(::access(kS3rver, X_OK) == 0,
                  std::string(kS3rver) << " is missing: run scripts/install_deps.sh --test");
  REQUIRE_MESSAGE(::access(kAwsCli, X_OK) == 0,
                  std::string(kAwsCli)
                      << " (Debian's awscli) is missing: run scripts/install_deps.sh --test");
}

// One s3rver process on 127.0.0.1:port over `data_dir`; killed when this goes
// out of scope, and by the kernel if the test process dies first.
class S3rver {
 public:
  S3rver(std::string data_dir, uint16_t port)
      : data_dir_(std::move(data_dir)), log_path_(data_dir_ + ".log"), port_(port) {}
  ~S3rver() { stop(); }
  S3rver(const S3rver&) = delete;
  S3rver& operator=(const S3rver&) = delete;

  uint16_t port() const { return port_; }
  const std::string& log_path() const { return log_path_; }

  void start() {
    require_tools();
    std::filesystem::create_directories(data_dir_);
    const std::string port_text = std::to_string(port_);
    // Everything the child needs is prepared before fork: after it, only
    // async-signal-safe calls.
    const char* argv[] = {kS3rver,     "-d", data_dir_.c_str(), "-a",
                          "127.0.0.1", "-p", port_text.c_str(), nullptr};
    // s3rver 3.7.1 encrypts continuation tokens with DES, which OpenSSL 3
    // keeps in its legacy provider: without it, a truncated listing is a 500.
    std::vector<std::string> environment;
    std::string node_options = "NODE_OPTIONS=--openssl-legacy-provider";
    for (char** variable = environ; *variable; ++variable) {
      std::string_view setting(*variable);
      if (setting.starts_with("NODE_OPTIONS=")) {
        node_options += ' ';
        node_options += setting.substr(std::string_view("NODE_OPTIONS=").size());
      } else {
        environment.emplace_back(setting);
      }
    }
    environment.push_back(node_options);
    std::vector<char*> envp;
    for (auto& setting : environment) envp.push_back(setting.data());
    envp.push_back(nullptr);
    const int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    REQUIRE_MESSAGE(log >= 0, "open " << log_path_);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::dup2(log, STDOUT_FILENO);
      ::dup2(log, STDERR_FILENO);
      ::execve(kS3rver, const_cast<char* const*>(argv), envp.data());
      ::_exit(127);
    }
    ::close(log);
    REQUIRE_MESSAGE(pid_ > 0, "fork failed");
    const bool up = wait_for(
        [&] {
          int status = 0;
          if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return true;  // exited: reported below
          }
          return port_answers(port_);
        },
        kStartTimeoutNs);
    REQUIRE_MESSAGE(pid_ > 0, "s3rver exited at start; its log:\n" << log_tail());
    REQUIRE_MESSAGE(up, "s3rver did not answer on port " << port_ << " within 30 s; its log:\n"
                                                         << log_tail());
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  std::string log_tail() const {
    std::string log = read_file(log_path_);
    return log.size() > 4096 ? log.substr(log.size() - 4096) : log;
  }

 private:
  std::string data_dir_;
  std::string log_path_;
  uint16_t port_;
  pid_t pid_ = -1;
};

S3Config config_for(uint16_t port) {
  S3Config config;
  config.endpoint = "http://127.0.0.1:" + std::to_string(port);
  config.bucket = kBucket;
  config.credentials = {"S3RVER", "S3RVER", ""};  // s3rver's built-in account
  config.initial_backoff_ms = 20;
  config.max_backoff_ms = 200;
  config.request_timeout_ms = 30000;
  return config;
}

std::unique_ptr<S3Client> make_client(const S3Config& config) {
  auto client = S3Client::create(config);
  REQUIRE_MESSAGE(client.has_value(), client.error().message());
  return std::move(client).value();
}

// The server most cases share, with the bucket created; it lives until the
// test binary exits.
struct SharedServer {
  TempDir dir;
  S3rver server{dir.path + "/data", free_loopback_port()};
  SharedServer() {
    server.start();
    REQUIRE_OK(make_client(config())->create_bucket());
  }
  S3Config config() const { return config_for(server.port()); }
};

SharedServer& shared_server() {
  static SharedServer shared;
  return shared;
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs the AWS CLI against s3rver with s3rver's credentials and nothing from
// the caller's AWS environment or ~/.aws.
CommandResult run_aws(uint16_t port, const std::vector<std::string>& arguments,
                      const std::string& scratch_dir) {
  std::vector<std::string> words = {kAwsCli, "--endpoint-url",
                                    "http://127.0.0.1:" + std::to_string(port)};
  words.insert(words.end(), arguments.begin(), arguments.end());
  std::vector<std::string> environment;
  for (char** variable = environ; *variable; ++variable) {
    if (std::string_view(*variable).starts_with("AWS_")) continue;
    environment.emplace_back(*variable);
  }
  for (const char* setting :
       {"AWS_ACCESS_KEY_ID=S3RVER", "AWS_SECRET_ACCESS_KEY=S3RVER", "AWS_DEFAULT_REGION=us-east-1",
        "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER="}) {
    environment.emplace_back(setting);
  }
  environment.push_back("AWS_CONFIG_FILE=" + scratch_dir + "/no-aws-config");
  environment.push_back("AWS_SHARED_CREDENTIALS_FILE=" + scratch_dir + "/no-aws-credentials");

  std::vector<char*> argv;
  for (auto& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& setting : environment) envp.push_back(setting.data());
  envp.push_back(nullptr);

  int pipe_fds[2];
  REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::dup2(pipe_fds[1], STDERR_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  REQUIRE(pid > 0);
  CommandResult result;
  char buffer[4096];
  for (;;) {
    const ssize_t got = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    result.output.append(buffer, static_cast<size_t>(got));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace

TEST_CASE("small objects go up and come back; the ETag is the MD5 of the bytes") {
  SharedServer& shared = shared_server();
  auto client = make_client(shared.config());
  REQUIRE_OK(client->put_object("small/hello.txt", "hello, s3"));
  auto body = client->get_object("small/hello.txt");
  REQUIRE_MESSAGE(body.has_value(), body.error().message());
  CHECK(*body == "hello, s3");

  auto info = client->head("small/hello.txt");
  REQUIRE_MESSAGE(info.has_value(), info.error().message());
  CHECK(info->key == "small/hello.txt");
  CHECK(info->size == 9);
  CHECK(info->etag == md5_hex("hello, s3"));

  REQUIRE_OK(client->put_object("small/empty", ""));
  auto empty = client->get_object("small/empty");
  REQUIRE_MESSAGE(empty.has_value(), empty.error().message());
  CHECK(empty->empty());

  // Overwriting replaces.
  const std::string binary = random_bytes(70000, 7);
  REQUIRE_OK(client->put_object("small/hello.txt", binary));
  auto again = client->get_object("small/hello.txt");
  REQUIRE_MESSAGE(again.has_value(), again.error().message());
  CHECK(*again == binary);
  CHECK(client->retries() == 0);
}

TEST_CASE("a file above the threshold goes up in parts and comes back identical") {
  SharedServer& shared = shared_server();
  S3Config config = shared.config();
  config.multipart_threshold_bytes = 5ull << 20;
  config.part_size_bytes = 5ull << 20;
  auto client = make_client(config);
  TempDir dir;
  const std::string content = random_bytes((12ull << 20) + 12345, 12);
  const std::string source = dir.path + "/source.bin";
  write_file(source, content);

  REQUIRE_OK(client->put_file("big/twelve.bin", source));
  // s3rver logs each stored part: the upload really went in three.
  CHECK(read_file(shared.server.log_path()).find("Stored part 3 of") != std::string::npos);

  auto info = client->head("big/twelve.bin");
  REQUIRE_MESSAGE(info.has_value(), info.error().message());
  CHECK(info->size == content.size());

  const std::string target = dir.path + "/target.bin";
  write_file(target, "old content that must be replaced whole");
  REQUIRE_OK(client->get_object_to_file("big/twelve.bin", target));
  CHECK(read_file(target) == content);
  CHECK_FALSE(std::filesystem::exists(target + ".tmp"));

  auto in_memory = client->get_object("big/twelve.bin");
  REQUIRE_MESSAGE(in_memory.has_value(), in_memory.error().message());
  CHECK(*in_memory == content);

  // A file at or below the threshold goes in one PUT, streamed from disk.
  const std::string small = random_bytes(100000, 13);
  write_file(source, small);
  REQUIRE_OK(client->put_file("big/small.bin", source));
  auto small_info = client->head("big/small.bin");
  REQUIRE_MESSAGE(small_info.has_value(), small_info.error().message());
  CHECK(small_info->etag == md5_hex(small));
}

TEST_CASE("local file errors name the file") {
  SharedServer& shared = shared_server();
  auto client = make_client(shared.config());
  TempDir dir;
  Status missing = client->put_file("local/x", dir.path + "/absent");
  CHECK(missing.message() ==
        "s3 PUT sluice-test/local/x: open " + dir.path + "/absent: No such file or directory");
  REQUIRE_OK(client->put_object("local/y", "y"));
  Status unwritable = client->get_object_to_file("local/y", dir.path + "/no/such/dir/y");
  CHECK(unwritable.message() == "s3 GET sluice-test/local/y: open " + dir.path +
                                    "/no/such/dir/y.tmp: No such file or directory");
}

TEST_CASE("parts below 5 MiB need the test flag") {
  S3Config config = config_for(4568);
  config.part_size_bytes = 1 << 20;
  auto refused = S3Client::create(config);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message() ==
        "s3 config: part_size_bytes 1048576 is below S3's minimum part of 5 MiB");
  config.allow_small_parts_for_tests = true;
  CHECK(S3Client::create(config).has_value());
}

TEST_CASE("small parts upload when allowed") {
  SharedServer& shared = shared_server();
  S3Config config = shared.config();
  config.allow_small_parts_for_tests = true;
  config.multipart_threshold_bytes = 100000;
  config.part_size_bytes = 64 << 10;
  auto client = make_client(config);
  TempDir dir;
  const std::string content = random_bytes(300001, 21);  // 5 parts, the last of 37,841 bytes
  write_file(dir.path + "/parts.bin", content);
  REQUIRE_OK(client->put_file("parts/five.bin", dir.path + "/parts.bin"));
  auto body = client->get_object("parts/five.bin");
  REQUIRE_MESSAGE(body.has_value(), body.error().message());
  CHECK(*body == content);
}

TEST_CASE("listing follows continuation tokens") {
  SharedServer& shared = shared_server();
  auto client = make_client(shared.config());
  const std::vector<std::string> keys = {"list/a", "list/b", "list/c/d", "list/e", "list/f"};
  for (size_t i = 0; i < keys.size(); ++i) {
    REQUIRE_OK(client->put_object(keys[i], std::string(i * 10 + 1, 'x')));
  }
  REQUIRE_OK(client->put_object("listing-elsewhere", "not under the prefix"));
  client->set_max_keys_per_page(2);

  auto listed = client->list("list/");
  REQUIRE_MESSAGE(listed.has_value(), listed.error().message());
  REQUIRE(listed->size() == keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    CHECK((*listed)[i].key == keys[i]);
    CHECK((*listed)[i].size == i * 10 + 1);
    CHECK((*listed)[i].etag == md5_hex(std::string(i * 10 + 1, 'x')));
  }

  auto none = client->list("nothing-here/");
  REQUIRE_MESSAGE(none.has_value(), none.error().message());
  CHECK(none->empty());
}

TEST_CASE("head and delete") {
  SharedServer& shared = shared_server();
  auto client = make_client(shared.config());
  REQUIRE_OK(client->put_object("gone/soon", "short-lived"));
  auto info = client->head("gone/soon");
  REQUIRE_MESSAGE(info.has_value(), info.error().message());
  CHECK(info->size == 11);

  REQUIRE_OK(client->delete_object("gone/soon"));
  auto after = client->head("gone/soon");
  REQUIRE_FALSE(after.has_value());
  CHECK(after.error().message() == "s3 HEAD sluice-test/gone/soon: 404 Not Found");
  auto body = client->get_object("gone/soon");
  REQUIRE_FALSE(body.has_value());
  CHECK(body.error().message() ==
        "s3 GET sluice-test/gone/soon: 404 NoSuchKey: The specified key does not exist.");
  // As in S3, deleting what is not there succeeds.
  REQUIRE_OK(client->delete_object("gone/soon"));
  CHECK(client->retries() == 0);  // 4xx answers are final
}

TEST_CASE("keys with spaces, unicode, '=' and other reserved characters survive") {
  SharedServer& shared = shared_server();
  auto client = make_client(shared.config());
  const std::vector<std::string> keys = {"odd/a=b&c+d.txt",
                                         "odd/with space.txt",
                                         "odd/percent%20not-a-space",
                                         "odd/tilde~(x)!*'",
                                         "odd/\xC3\xBCml\xC3\xA4ut/\xE6\x97\xA5\xE6\x9C\xAC.log",
                                         "odd/semi;colon,comma:at@dollar$"};
  for (const std::string& key : keys) {
    REQUIRE_OK(client->put_object(key, "body of " + key));
    auto body = client->get_object(key);
    REQUIRE_MESSAGE(body.has_value(), body.error().message());
    CHECK(*body == "body of " + key);
    auto info = client->head(key);
    REQUIRE_MESSAGE(info.has_value(), info.error().message());
    CHECK(info->size == ("body of " + key).size());
  }
  auto listed = client->list("odd/");
  REQUIRE_MESSAGE(listed.has_value(), listed.error().message());
  std::vector<std::string> listed_keys;
  for (const ObjectInfo& object : *listed) listed_keys.push_back(object.key);
  std::vector<std::string> expected = keys;
  std::sort(expected.begin(), expected.end());
  CHECK(listed_keys == expected);
}

TEST_CASE("errors name the operation, the object and S3's code and message") {
  SharedServer& shared = shared_server();
  S3Config config = shared.config();
  config.credentials = {"NOT-A-KEY", "whatever", ""};
  auto stranger = make_client(config);
  Status refused = stranger->put_object("errors/x", "x");
  CHECK(refused.message() ==
        "s3 PUT sluice-test/errors/x: 403 InvalidAccessKeyId: The AWS Access Key Id you provided "
        "does not exist in our records.");
  CHECK(stranger->retries() == 0);

  config = shared.config();
  config.bucket = "no-such-bucket";
  auto lost = make_client(config);
  auto body = lost->get_object("x");
  REQUIRE_FALSE(body.has_value());
  CHECK(body.error().message() ==
        "s3 GET no-such-bucket/x: 404 NoSuchBucket: The specified bucket does not exist");

  // Creating the bucket again is fine: it exists and is reachable.
  REQUIRE_OK(make_client(shared.config())->create_bucket());
}

TEST_CASE("create validates the configuration") {
  auto message = [](S3Config config) {
    auto client = S3Client::create(std::move(config));
    return client.has_value() ? std::string("created") : client.error().message();
  };
  S3Config config = config_for(4568);
  CHECK(message(config) == "created");
  config.endpoint = "ftp://127.0.0.1";
  CHECK(message(config) ==
        "s3 config: endpoint \"ftp://127.0.0.1\": expected http://host[:port] or "
        "https://host[:port]");
  config.endpoint = "http://127.0.0.1:99999";
  CHECK(message(config) == "s3 config: endpoint \"http://127.0.0.1:99999\": port must be 1-65535");
  config.endpoint = "http://127.0.0.1/bucket";
  CHECK(message(config) ==
        "s3 config: endpoint \"http://127.0.0.1/bucket\": only a scheme, a host and a port are "
        "allowed");
  config = config_for(4568);
  config.bucket = "Bad_Bucket";
  CHECK(message(config) ==
        "s3 config: bucket \"Bad_Bucket\": must be 3-63 characters of a-z, 0-9, '.' and '-', "
        "starting and ending with a letter or digit");
  config = config_for(4568);
  config.credentials = {};
  const char* saved_key = std::getenv("AWS_ACCESS_KEY_ID");
  if (!saved_key) {
    CHECK(message(config) ==
          "s3 config: no credentials: none configured and AWS_ACCESS_KEY_ID / "
          "AWS_SECRET_ACCESS_KEY are not set");
  }
}

TEST_CASE("retries: nothing listening fails clearly after max_attempts") {
  const uint16_t port = free_loopback_port();
  S3Config config = config_for(port);
  config.max_attempts = 3;
  config.initial_backoff_ms = 10;
  config.max_backoff_ms = 40;
  auto client = make_client(config);
  Status status = client->put_object("k", "v");
  CHECK(status.message() == "s3 PUT sluice-test/k: connect 127.0.0.1:" + std::to_string(port) +
                                ": Couldn't connect to server (after 3 attempts)");
  CHECK(client->retries() == 2);
}

TEST_CASE("retries: a server that comes up during the backoff is reached") {
  require_tools();
  TempDir dir;
  S3rver server(dir.path + "/data", free_loopback_port());
  S3Config config = config_for(server.port());
  config.max_attempts = 30;
  config.initial_backoff_ms = 100;
  config.max_backoff_ms = 500;  // about 13 s of retrying in all
  {
    server.start();
    auto setup = make_client(config);
    REQUIRE_OK(setup->create_bucket());
    REQUIRE_OK(setup->put_object("waiting/k", "worth the wait"));
    server.stop();
  }
  REQUIRE_FALSE(port_answers(server.port()));

  auto client = make_client(config);
  std::optional<Expected<std::string>> result;
  {
    std::jthread request([&] { result.emplace(client->get_object("waiting/k")); });
    // The request has failed at least once, with the server down, before the
    // server comes back.
    REQUIRE(wait_for([&] { return client->retries() >= 1; }, 10 * kNanosPerSecond));
    server.start();
  }
  REQUIRE(result.has_value());
  REQUIRE_MESSAGE(result->has_value(), result->error().message());
  CHECK(result->value() == "worth the wait");
  CHECK(client->retries() >= 1);
}

TEST_CASE("the deadline stops retries and cuts a hanging attempt short") {
  SUBCASE("no new attempt after the deadline") {
    S3Config config = config_for(free_loopback_port());
    config.max_attempts = 1000;
    config.initial_backoff_ms = 50;
    config.max_backoff_ms = 100;
    auto client = make_client(config);
    const int64_t start = monotonic_now_ns();
    auto body = client->get_object("k", {start + 600 * 1'000'000});
    const int64_t elapsed = monotonic_now_ns() - start;
    REQUIRE_FALSE(body.has_value());
    CHECK(body.error().message().find("Couldn't connect to server (deadline reached after ") !=
          std::string::npos);
    CHECK(elapsed < 600 * 1'000'000);
    CHECK(client->retries() < 20);
  }
  SUBCASE("a deadline already past makes no attempt") {
    auto client = make_client(config_for(free_loopback_port()));
    Status status = client->delete_object("k", {monotonic_now_ns() - 1});
    CHECK(status.message() == "s3 DELETE sluice-test/k: deadline passed before the first attempt");
    CHECK(client->retries() == 0);
  }
  SUBCASE("a server that accepts and never answers times out at the deadline") {
    // The kernel completes connections into the backlog of a socket that
    // never accepts: the request goes out and nothing comes back.
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listener >= 0);
    sockaddr_in address = loopback(0);
    socklen_t length = sizeof address;
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(listener, 16) == 0);
    REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    S3Config config = config_for(ntohs(address.sin_port));
    config.request_timeout_ms = 60000;
    auto client = make_client(config);
    const int64_t start = monotonic_now_ns();
    auto body = client->get_object("k", {start + 500 * 1'000'000});
    const int64_t elapsed = monotonic_now_ns() - start;
    ::close(listener);
    REQUIRE_FALSE(body.has_value());
    CHECK(body.error().message().find("s3 GET sluice-test/k: Timeout was reached") == 0);
    CHECK(body.error().message().find("(deadline reached after 1 attempt)") != std::string::npos);
    CHECK(elapsed < 5 * kNanosPerSecond);
  }
}

TEST_CASE("the AWS CLI lists and downloads what the client wrote") {
  SharedServer& shared = shared_server();
  S3Config config = shared.config();
  config.multipart_threshold_bytes = 5ull << 20;
  config.part_size_bytes = 5ull << 20;
  auto client = make_client(config);
  TempDir dir;
  std::map<std::string, std::string> objects = {
      {"cli/plain.txt", "plain text\n"},
      {"cli/with space/and=equals.bin", random_bytes(4096, 31)},
      {"cli/\xC3\xA9t\xC3\xA9.log", random_bytes(100, 32)},
      {"cli/empty", ""},
  };
  for (const auto& [key, content] : objects) REQUIRE_OK(client->put_object(key, content));
  const std::string multipart = random_bytes((6ull << 20) + 1, 33);
  write_file(dir.path + "/multipart.bin", multipart);
  REQUIRE_OK(client->put_file("cli/multipart.bin", dir.path + "/multipart.bin"));
  objects["cli/multipart.bin"] = multipart;

  CommandResult ls =
      run_aws(shared.server.port(),
              {"s3", "ls", std::string("s3://") + kBucket + "/cli/", "--recursive"}, dir.path);
  REQUIRE_MESSAGE(ls.exit_code == 0, "aws s3 ls failed:\n" << ls.output);
  // "2025-03-01 12:00:00       4096 cli/with space/and=equals.bin"
  std::map<std::string, uint64_t> listed_by_cli;
  std::istringstream lines(ls.output);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string day, time;
    uint64_t size = 0;
    REQUIRE_MESSAGE(static_cast<bool>(fields >> day >> time >> size), "unexpected line: " << line);
    std::string key;
    std::getline(fields >> std::ws, key);
    listed_by_cli[key] = size;
  }
  std::map<std::string, uint64_t> expected;
  for (const auto& [key, content] : objects) expected[key] = content.size();
  CHECK(listed_by_cli == expected);

  auto listed = client->list("cli/");
  REQUIRE_MESSAGE(listed.has_value(), listed.error().message());
  std::map<std::string, uint64_t> listed_by_client;
  for (const ObjectInfo& object : *listed) listed_by_client[object.key] = object.size;
  CHECK(listed_by_client == listed_by_cli);

  for (const std::string key : {"cli/multipart.bin", "cli/with space/and=equals.bin"}) {
    const std::string target = dir.path + "/downloaded";
    CommandResult cp =
        run_aws(shared.server.port(),
                {"s3", "cp", std::string("s3://") + kBucket + "/" + key, target}, dir.path);
    REQUIRE_MESSAGE(cp.exit_code == 0, "aws s3 cp " << key << " failed:\n" << cp.output);
    CHECK_MESSAGE(read_file(target) == objects[key], key);
  }
}
