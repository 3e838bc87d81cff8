// sluice_loadgen: replays a deterministic, seeded stream of RFC 5424 syslog
// messages over TCP with RFC 6587 octet-counting framing ("LEN SP MSG").
//
// The stream mixes three sources a log server typically sees:
//   - nginx access lines (combined log format as MSG, app "nginx"),
//   - sshd auth lines (accepted keys, failed passwords, invalid users),
//   - JSON application lines (MSG is one JSON object, app "orders").
// Hosts, pids, IPs, users, paths, status codes and sizes come from one
// std::mt19937_64 seeded with --seed; timestamps start at a fixed base and
// strictly increase, so the same flags always produce the same bytes.
//
// All messages are generated into per-connection buffers before the clock
// starts: the figures measure the receiver, not our formatting. Message i goes
// to connection i % C, so the message set does not depend on --connections.
//
// Output: one JSON line on stdout,
//   {"events":N,"bytes":B,"payload_bytes":P,"seconds":S,"events_per_s":...,
//    "mib_per_s":...,"start_unix_ns":T0,"end_unix_ns":T1}
// where bytes counts framing too, payload_bytes only the syslog messages,
// seconds runs from the first write() to the last one returning, and
// start_unix_ns is CLOCK_REALTIME at the first write (bench/macro.py uses it
// as "first byte sent").
//
// Deliberately standalone: links only Threads, includes nothing of sluice.

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

// One write() per chunk: large enough that syscall cost is negligible next to
// the receiver's work, small enough not to starve other connections' threads.
constexpr size_t kWriteChunkBytes = 256 * 1024;

// 2025-03-01T00:00:00Z. Fixed so that runs are byte-identical across days.
constexpr int64_t kBaseUnixMicros = 1740787200LL * 1000000;

// Mean step 500 us: 1 M events span ~8 minutes of log time, i.e. one day
// partition, as a busy real source would.
constexpr uint64_t kMaxStepMicros = 1000;

struct Options {
  std::string host = "127.0.0.1";
  std::string port;
  uint64_t count = 100000;
  uint64_t seed = 42;
  unsigned connections = 1;
  long print_sample = -1;  // >= 0: print that many messages and exit
  std::string tag;
};

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "sluice_loadgen: %s\n", msg.c_str());
  std::exit(1);
}

void usage_and_exit(int code) {
  std::fprintf(code == 0 ? stdout : stderr,
               "usage: sluice_loadgen --port PORT [--host HOST] [--count N] [--seed S]\n"
               "                      [--connections C] [--tag STR] [--print-sample K]\n"
               "  --host HOST        target host (default 127.0.0.1)\n"
               "  --port PORT        target TCP port (required unless --print-sample)\n"
               "  --count N          messages to send (default 100000)\n"
               "  --seed S           PRNG seed (default 42)\n"
               "  --connections C    parallel TCP connections (default 1)\n"
               "  --tag STR          add structured data [bench run=\"STR\"] to every message\n"
               "  --print-sample K   print the first K messages, one per line, and exit\n");
  std::exit(code);
}

uint64_t parse_u64(std::string_view flag, std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    die(std::string(flag) + ": not a non-negative integer: '" + std::string(text) + "'");
  }
  return value;
}

Options parse_args(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") usage_and_exit(0);
    std::string_view value;
    // Accept both "--flag value" and "--flag=value".
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else {
      if (i + 1 >= argc) die(std::string(arg) + ": missing value (see --help)");
      value = argv[++i];
    }
    if (arg == "--host") {
      opt.host = value;
    } else if (arg == "--port") {
      opt.port = value;
    } else if (arg == "--count") {
      opt.count = parse_u64(arg, value);
    } else if (arg == "--seed") {
      opt.seed = parse_u64(arg, value);
    } else if (arg == "--connections") {
      uint64_t c = parse_u64(arg, value);
      if (c == 0 || c > 1024) die("--connections: must be 1..1024");
      opt.connections = static_cast<unsigned>(c);
    } else if (arg == "--print-sample") {
      opt.print_sample = static_cast<long>(parse_u64(arg, value));
    } else if (arg == "--tag") {
      opt.tag = value;
    } else {
      die("unknown flag '" + std::string(arg) + "' (see --help)");
    }
  }
  if (opt.print_sample < 0 && opt.port.empty()) die("--port is required (see --help)");
  return opt;
}

// ---------------------------------------------------------------------------
// Formatting helpers. Appends only: one std::string per message, reused.

void put(std::string& out, std::string_view s) { out.append(s); }

void put_uint(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void put_padded(std::string& out, uint64_t v, int width) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  for (int pad = width - static_cast<int>(end - buf); pad > 0; --pad) out.push_back('0');
  out.append(buf, end);
}

void put_hex(std::string& out, uint64_t v, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) out.push_back(kHex[(v >> (4 * i)) & 0xf]);
}

struct CivilTime {
  int64_t year;
  unsigned month, day, hour, minute, second, micros;
};

// Howard Hinnant's days-to-civil: exact for the proleptic Gregorian calendar.
CivilTime to_civil(int64_t unix_micros) {
  int64_t secs = unix_micros / 1000000;
  CivilTime t{};
  t.micros = static_cast<unsigned>(unix_micros % 1000000);
  int64_t days = secs / 86400;
  int64_t sod = secs % 86400;
  t.hour = static_cast<unsigned>(sod / 3600);
  t.minute = static_cast<unsigned>(sod % 3600 / 60);
  t.second = static_cast<unsigned>(sod % 60);
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  unsigned doe = static_cast<unsigned>(days - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  t.day = doy - (153 * mp + 2) / 5 + 1;
  t.month = mp < 10 ? mp + 3 : mp - 9;
  t.year = static_cast<int64_t>(yoe) + era * 400 + (t.month <= 2);
  return t;
}

// RFC 3339 with microseconds, UTC: 2025-03-01T00:00:00.000123Z
void put_rfc3339(std::string& out, const CivilTime& t) {
  put_padded(out, static_cast<uint64_t>(t.year), 4);
  out.push_back('-');
  put_padded(out, t.month, 2);
  out.push_back('-');
  put_padded(out, t.day, 2);
  out.push_back('T');
  put_padded(out, t.hour, 2);
  out.push_back(':');
  put_padded(out, t.minute, 2);
  out.push_back(':');
  put_padded(out, t.second, 2);
  out.push_back('.');
  put_padded(out, t.micros, 6);
  out.push_back('Z');
}

// nginx $time_local with a UTC server: 01/Mar/2025:00:00:00 +0000
void put_nginx_time(std::string& out, const CivilTime& t) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  put_padded(out, t.day, 2);
  out.push_back('/');
  put(out, kMonths[t.month - 1]);
  out.push_back('/');
  put_padded(out, static_cast<uint64_t>(t.year), 4);
  out.push_back(':');
  put_padded(out, t.hour, 2);
  out.push_back(':');
  put_padded(out, t.minute, 2);
  out.push_back(':');
  put_padded(out, t.second, 2);
  put(out, " +0000");
}

// ---------------------------------------------------------------------------
// Template vocabulary. Fixed tables: changing them changes every benchmark
// stream, so treat an edit like a corpus change.

constexpr std::array<std::string_view, 30> kUsers = {
    "alice", "bob",    "carol", "dave",  "erin",  "frank",  "grace", "heidi", "ivan",  "judy",
    "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "deploy",
    "ansible", "backup", "ci",   "jenkins", "git",  "ops",   "sre",   "dbadmin", "monitor", "root"};

constexpr std::array<std::string_view, 16> kInvalidUsers = {
    "admin", "test",  "oracle", "postgres", "ubuntu",  "guest", "ftpuser", "pi",
    "user",  "support", "mysql", "hadoop",  "minecraft", "steam", "tomcat", "vagrant"};

constexpr std::array<std::string_view, 8> kUserAgents = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.3 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.3 Mobile/15E148 Safari/604.1",
    "curl/7.88.1",
    "Go-http-client/1.1",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "python-requests/2.31.0"};

constexpr std::array<std::string_view, 5> kReferers = {
    "-", "-", "https://shop.example.com/", "https://shop.example.com/cart",
    "https://www.google.com/"};

constexpr std::array<std::string_view, 6> kCurrencies = {"EUR", "USD", "GBP", "CHF", "SEK", "JPY"};

constexpr std::array<std::string_view, 4> kKeyTypes = {"RSA", "ED25519", "ECDSA", "ED25519"};

// Status codes by weight (out of 100): mostly 200, a realistic tail.
int pick_status(uint64_t r) {
  uint64_t p = r % 100;
  if (p < 72) return 200;
  if (p < 80) return 304;
  if (p < 83) return 301;
  if (p < 85) return 201;
  if (p < 86) return 204;
  if (p < 93) return 404;
  if (p < 95) return 401;
  if (p < 96) return 403;
  if (p < 98) return 500;
  if (p < 99) return 502;
  return 503;
}

class Generator {
 public:
  Generator(uint64_t seed, std::string tag) : rng_(seed) {
    if (tag.empty()) {
      sd_ = "-";
    } else {
      // RFC 5424 §6.3.3: '"', '\' and ']' must be escaped in PARAM-VALUE.
      sd_ = "[bench run=\"";
      for (char c : tag) {
        if (c == '"' || c == '\\' || c == ']') sd_.push_back('\\');
        sd_.push_back(c);
      }
      sd_ += "\"]";
    }
  }

  // Replaces `out` with the next message (no framing, no newline).
  void next(std::string& out) {
    out.clear();
    now_micros_ += 1 + rng_() % kMaxStepMicros;
    time_ = to_civil(now_micros_);
    uint64_t kind = rng_() % 100;
    if (kind < 60) {
      nginx(out);
    } else if (kind < 75) {
      sshd(out);
    } else {
      orders(out);
    }
  }

 private:
  uint64_t below(uint64_t n) { return rng_() % n; }  // bias < n/2^64: irrelevant here
  template <typename Array>
  std::string_view pick(const Array& a) {
    return a[below(a.size())];
  }

  // <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD SP
  void header(std::string& out, unsigned pri, std::string_view host_prefix, uint64_t host_no,
              std::string_view app, uint64_t pid, std::string_view msgid) {
    out.push_back('<');
    put_uint(out, pri);
    put(out, ">1 ");
    put_rfc3339(out, time_);
    out.push_back(' ');
    put(out, host_prefix);
    put_padded(out, host_no, 2);
    out.push_back(' ');
    put(out, app);
    out.push_back(' ');
    put_uint(out, pid);
    out.push_back(' ');
    put(out, msgid);
    out.push_back(' ');
    put(out, sd_);
    out.push_back(' ');
  }

  void public_ip(std::string& out) {
    put_uint(out, 1 + below(223));
    out.push_back('.');
    put_uint(out, below(256));
    out.push_back('.');
    put_uint(out, below(256));
    out.push_back('.');
    put_uint(out, 1 + below(254));
  }

  void private_ip(std::string& out) {
    put(out, "10.");
    put_uint(out, below(256));
    out.push_back('.');
    put_uint(out, below(256));
    out.push_back('.');
    put_uint(out, 1 + below(254));
  }

  void request_path(std::string& out) {
    switch (below(12)) {
      case 0: put(out, "/"); break;
      case 1: put(out, "/index.html"); break;
      case 2: put(out, "/api/v1/orders"); break;
      case 3: put(out, "/api/v1/orders/"); put_uint(out, 100000 + below(900000)); break;
      case 4: put(out, "/api/v1/users/"); put_uint(out, 1 + below(50000)); break;
      case 5: put(out, "/static/js/app."); put_hex(out, rng_(), 8); put(out, ".js"); break;
      case 6: put(out, "/static/css/main.css"); break;
      case 7: put(out, "/favicon.ico"); break;
      case 8: put(out, "/login"); break;
      case 9: put(out, "/search?q=item"); put_uint(out, below(5000)); put(out, "&page="); put_uint(out, 1 + below(9)); break;
      case 10: put(out, "/products/"); put_uint(out, 1 + below(20000)); break;
      default: put(out, "/wp-login.php"); break;
    }
  }

  // web-01..web-20: nginx, facility local7 (23), severity info.
  void nginx(std::string& out) {
    uint64_t host = 1 + below(20);
    uint64_t pid = 1000 + host * 10 + below(4);  // a few workers per host
    header(out, 23 * 8 + 6, "web-", host, "nginx", pid, "access");
    public_ip(out);
    put(out, " - ");
    if (below(10) == 0) {
      put(out, pick(kUsers));
    } else {
      out.push_back('-');
    }
    put(out, " [");
    put_nginx_time(out, time_);
    put(out, "] \"");
    uint64_t m = below(20);
    put(out, m < 15 ? "GET" : m < 18 ? "POST" : m < 19 ? "PUT" : "DELETE");
    out.push_back(' ');
    request_path(out);
    put(out, below(4) == 0 ? " HTTP/2.0\" " : " HTTP/1.1\" ");
    int status = pick_status(rng_());
    put_uint(out, static_cast<uint64_t>(status));
    out.push_back(' ');
    put_uint(out, status == 304 || status == 204 ? 0 : 100 + below(250000));
    put(out, " \"");
    put(out, pick(kReferers));
    put(out, "\" \"");
    put(out, pick(kUserAgents));
    out.push_back('"');
  }

  // Any of the 50 hosts: sshd, facility auth (4).
  void sshd(std::string& out) {
    uint64_t host = below(50);
    std::string_view prefix = host < 20 ? "web-" : host < 40 ? "app-" : "db-";
    uint64_t host_no = host < 20 ? host + 1 : host < 40 ? host - 19 : host - 39;
    uint64_t pid = 2000 + below(60000);  // sshd forks per connection
    uint64_t kind = below(10);
    header(out, 4 * 8 + (kind < 4 ? 6 : 5), prefix, host_no, "sshd", pid, "-");
    if (kind < 4) {
      put(out, "Accepted publickey for ");
      put(out, pick(kUsers));
      put(out, " from ");
      private_ip(out);
      put(out, " port ");
      put_uint(out, 1024 + below(64511));
      put(out, " ssh2: ");
      put(out, pick(kKeyTypes));
      put(out, " SHA256:");
      static constexpr char kB64[] =
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
      for (int i = 0; i < 43; ++i) out.push_back(kB64[below(64)]);
    } else if (kind < 7) {
      put(out, "Failed password for invalid user ");
      put(out, pick(kInvalidUsers));
      put(out, " from ");
      private_ip(out);
      put(out, " port ");
      put_uint(out, 1024 + below(64511));
      put(out, " ssh2");
    } else if (kind < 9) {
      put(out, "Failed password for ");
      put(out, pick(kUsers));
      put(out, " from ");
      private_ip(out);
      put(out, " port ");
      put_uint(out, 1024 + below(64511));
      put(out, " ssh2");
    } else {
      put(out, "Invalid user ");
      put(out, pick(kInvalidUsers));
      put(out, " from ");
      private_ip(out);
      put(out, " port ");
      put_uint(out, 1024 + below(64511));
    }
  }

  // app-01..app-20: the "orders" service logging JSON, facility local0 (16).
  void orders(std::string& out) {
    uint64_t host = 1 + below(20);
    uint64_t pid = 3000 + host;  // one long-lived process per host
    uint64_t kind = below(20);
    std::string_view level = kind < 16 ? "info" : kind < 19 ? "warn" : "error";
    unsigned severity = kind < 16 ? 6 : kind < 19 ? 4 : 3;
    header(out, 16 * 8 + severity, "app-", host, "orders", pid, "-");
    put(out, "{\"ts\":\"");
    put_rfc3339(out, time_);
    put(out, "\",\"level\":\"");
    put(out, level);
    put(out, "\",\"msg\":\"");
    put(out, kind < 12   ? "order created"
             : kind < 16 ? "order shipped"
             : kind < 19 ? "payment retry"
                         : "payment declined");
    put(out, "\",\"order_id\":\"ord_");
    put_hex(out, rng_(), 12);
    put(out, "\",\"customer_id\":");
    put_uint(out, 1 + below(50000));
    put(out, ",\"user\":\"");
    put(out, pick(kUsers));
    put(out, "\",\"amount\":");
    put_uint(out, below(2000));
    out.push_back('.');
    put_padded(out, below(100), 2);
    put(out, ",\"currency\":\"");
    put(out, pick(kCurrencies));
    put(out, "\",\"items\":");
    put_uint(out, 1 + below(12));
    put(out, ",\"duration_ms\":");
    put_uint(out, 1 + below(kind < 16 ? 200 : 5000));
    put(out, ",\"trace_id\":\"");
    put_hex(out, rng_(), 16);
    put_hex(out, rng_(), 16);
    put(out, "\"}");
  }

  std::mt19937_64 rng_;
  std::string sd_;
  int64_t now_micros_ = kBaseUnixMicros;
  CivilTime time_{};
};

// ---------------------------------------------------------------------------
// Network.

int connect_to(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    die("resolve " + host + ":" + port + ": " + gai_strerror(rc));
  }
  int last_errno = 0;
  int fd = -1;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    int rc;
    do {
      rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    } while (rc != 0 && errno == EINTR);
    if (rc == 0) break;
    last_errno = errno;
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) die("connect " + host + ":" + port + ": " + std::strerror(last_errno));
  return fd;
}

// Writes all of `buf`, retrying partial writes and EINTR. Returns 0 or errno.
int write_all(int fd, const std::string& buf) {
  size_t off = 0;
  while (off < buf.size()) {
    size_t len = std::min(kWriteChunkBytes, buf.size() - off);
    ssize_t n = ::write(fd, buf.data() + off, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    off += static_cast<size_t>(n);
  }
  return 0;
}

int64_t realtime_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  Options opt = parse_args(argc, argv);
  Generator gen(opt.seed, opt.tag);
  std::string msg;
  msg.reserve(1024);

  if (opt.print_sample >= 0) {
    for (long i = 0; i < opt.print_sample; ++i) {
      gen.next(msg);
      msg.push_back('\n');
      std::fwrite(msg.data(), 1, msg.size(), stdout);
    }
    return std::fflush(stdout) == 0 ? 0 : 1;
  }

  // A closed peer must surface as EPIPE from write(), not kill us silently.
  ::signal(SIGPIPE, SIG_IGN);

  // Connect first: failing fast beats generating a gigabyte for nothing.
  std::vector<int> fds;
  for (unsigned c = 0; c < opt.connections; ++c) fds.push_back(connect_to(opt.host, opt.port));

  // Pre-generate. ~300 bytes per event: reserve to avoid regrowth copies.
  std::vector<std::string> buffers(opt.connections);
  for (auto& b : buffers) b.reserve(opt.count / opt.connections * 330 + 4096);
  uint64_t payload_bytes = 0;
  for (uint64_t i = 0; i < opt.count; ++i) {
    gen.next(msg);
    std::string& b = buffers[i % opt.connections];
    put_uint(b, msg.size());
    b.push_back(' ');
    b.append(msg);
    payload_bytes += msg.size();
  }
  uint64_t wire_bytes = 0;
  for (const auto& b : buffers) wire_bytes += b.size();

  std::vector<int> errors(opt.connections, 0);
  int64_t start_unix_ns = realtime_ns();
  auto start = std::chrono::steady_clock::now();
  {
    std::vector<std::jthread> writers;
    for (unsigned c = 0; c < opt.connections; ++c) {
      writers.emplace_back([&, c]() noexcept { errors[c] = write_all(fds[c], buffers[c]); });
    }
  }
  auto end = std::chrono::steady_clock::now();
  int64_t end_unix_ns = realtime_ns();

  for (unsigned c = 0; c < opt.connections; ++c) {
    // Half-close so the receiver sees EOF after the last frame, then close.
    ::shutdown(fds[c], SHUT_WR);
    ::close(fds[c]);
  }
  for (unsigned c = 0; c < opt.connections; ++c) {
    if (errors[c] != 0) {
      die("write to " + opt.host + ":" + opt.port + " (connection " + std::to_string(c) +
          "): " + std::strerror(errors[c]));
    }
  }

  double seconds = std::chrono::duration<double>(end - start).count();
  double safe = seconds > 0 ? seconds : 1e-9;
  std::printf(
      "{\"events\":%llu,\"bytes\":%llu,\"payload_bytes\":%llu,\"seconds\":%.6f,"
      "\"events_per_s\":%.1f,\"mib_per_s\":%.3f,\"connections\":%u,\"seed\":%llu,"
      "\"start_unix_ns\":%lld,\"end_unix_ns\":%lld}\n",
      static_cast<unsigned long long>(opt.count), static_cast<unsigned long long>(wire_bytes),
      static_cast<unsigned long long>(payload_bytes), seconds,
      static_cast<double>(opt.count) / safe,
      static_cast<double>(wire_bytes) / (1024.0 * 1024.0) / safe, opt.connections,
      static_cast<unsigned long long>(opt.seed), static_cast<long long>(start_unix_ns),
      static_cast<long long>(end_unix_ns));
  return std::fflush(stdout) == 0 ? 0 : 1;
}
