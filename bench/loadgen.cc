// sluice_loadgen: replays a deterministic, seeded stream of RFC 5424 syslog
// messages over one of the syslog transports:
//
//   tcp     RFC 6587 octet counting over TCP ("LEN SP MSG"), the default
//   tcp-lf  RFC 6587 non-transparent framing over TCP ("MSG LF")
//   udp     RFC 5426: one datagram per message, paced (--udp-rate)
//   tls     RFC 5425: octet counting inside TLS (OpenSSL, server verified
//           against --tls-ca)
//   relp    RELP (rsyslog's omrelp protocol): "TXNR syslog LEN MSG LF" frames
//           with a window of unacknowledged messages; ends when all are acked
//
// The stream mixes three sources a log server typically sees:
//   - nginx access lines (combined log format as MSG, app "nginx"),
//   - sshd auth lines (accepted keys, failed passwords, invalid users),
//   - JSON application lines (MSG is one JSON object, app "orders").
// Hosts, pids, IPs, users, paths, status codes and sizes come from one
// std::mt19937_64 seeded with --seed; timestamps start at a fixed base and
// strictly increase, so the same flags always produce the same messages,
// whatever the transport.
//
// All messages are generated (and framed) into per-connection buffers before
// the clock starts: the figures measure the receiver, not our formatting.
// Message i goes to connection i % C, so the message set does not depend on
// --connections. Connections, TLS handshakes and RELP "open" exchanges happen
// before the clock starts too.
//
// Output: one JSON line on stdout,
//   {"transport":T,"events":N,"bytes":B,"payload_bytes":P,"seconds":S,
//    "events_per_s":...,"mib_per_s":...,"start_unix_ns":T0,"end_unix_ns":T1,...}
// where bytes counts framing too (TLS: before encryption), payload_bytes only
// the syslog messages, seconds runs from the first write to the last one
// returning (RELP: to the last acknowledgement), and start_unix_ns is
// CLOCK_REALTIME at the first write (bench/macro.py uses it as "first byte
// sent").
//
// Deliberately standalone: links only Threads and OpenSSL, includes nothing of
// sluice, so it measures the server rather than sharing its code.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
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

// RELP: what we offer on "open" (librelp's order; the spec's only version).
constexpr std::string_view kRelpOffers =
    "relp_version=0\nrelp_software=sluice-loadgen\ncommands=syslog";
// How long to wait for the answer to "open" and to "close" (not timed).
constexpr int kRelpHandshakeTimeoutMs = 30000;
// A response frame's DATA is "200 OK" plus, for "open", the offers; the RELP
// spec bounds nothing, librelp's servers send under 200 bytes.
constexpr size_t kRelpMaxResponseData = 64 * 1024;
// After the last byte (or ack): how long to wait for the server to close.
constexpr int kCloseTimeoutMs = 30000;

enum class Transport { kTcp, kTcpLf, kUdp, kTls, kRelp };

std::string_view transport_name(Transport t) {
  switch (t) {
    case Transport::kTcp: return "tcp";
    case Transport::kTcpLf: return "tcp-lf";
    case Transport::kUdp: return "udp";
    case Transport::kTls: return "tls";
    case Transport::kRelp: return "relp";
  }
  return "?";
}

struct Options {
  std::string host = "127.0.0.1";
  std::string port;
  uint64_t count = 100000;
  uint64_t seed = 42;
  unsigned connections = 1;
  long print_sample = -1;  // >= 0: print that many messages and exit
  std::string tag;
  Transport transport = Transport::kTcp;
  uint64_t udp_rate = 150000;  // events/s over all connections; 0: unpaced
  std::string tls_ca;
  std::string tls_name;  // name or IP to verify; default: --host
  uint64_t relp_window = 1024;
};

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "sluice_loadgen: %s\n", msg.c_str());
  std::exit(1);
}

void usage_and_exit(int code) {
  std::fprintf(code == 0 ? stdout : stderr,
               "usage: sluice_loadgen --port PORT [--host HOST] [--transport T] [--count N]\n"
               "                      [--seed S] [--connections C] [--tag STR] [--print-sample K]\n"
               "  --host HOST        target host (default 127.0.0.1)\n"
               "  --port PORT        target port (required unless --print-sample)\n"
               "  --transport T      tcp (octet counting, default), tcp-lf (LF-terminated),\n"
               "                     udp (one datagram per message), tls (octet counting in\n"
               "                     TLS, RFC 5425), relp (RELP, waits for every ack)\n"
               "  --count N          messages to send (default 100000)\n"
               "  --seed S           PRNG seed (default 42)\n"
               "  --connections C    parallel connections / UDP sockets (default 1)\n"
               "  --tag STR          add structured data [bench run=\"STR\"] to every message\n"
               "  --udp-rate R       udp: send R events/s in total, 0 = as fast as possible\n"
               "                     (default 150000)\n"
               "  --tls-ca FILE      tls: PEM CA certificate(s) the server must chain to\n"
               "                     (required for tls)\n"
               "  --tls-name NAME    tls: DNS name or IP the certificate must match\n"
               "                     (default --host)\n"
               "  --relp-window W    relp: unacknowledged messages in flight per connection\n"
               "                     (default 1024)\n"
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
    } else if (arg == "--transport") {
      if (value == "tcp") {
        opt.transport = Transport::kTcp;
      } else if (value == "tcp-lf") {
        opt.transport = Transport::kTcpLf;
      } else if (value == "udp") {
        opt.transport = Transport::kUdp;
      } else if (value == "tls") {
        opt.transport = Transport::kTls;
      } else if (value == "relp") {
        opt.transport = Transport::kRelp;
      } else {
        die("--transport: one of tcp, tcp-lf, udp, tls, relp, not '" + std::string(value) + "'");
      }
    } else if (arg == "--udp-rate") {
      opt.udp_rate = parse_u64(arg, value);
    } else if (arg == "--tls-ca") {
      opt.tls_ca = value;
    } else if (arg == "--tls-name") {
      opt.tls_name = value;
    } else if (arg == "--relp-window") {
      opt.relp_window = parse_u64(arg, value);
      if (opt.relp_window == 0 || opt.relp_window > 1000000) die("--relp-window: must be 1..1000000");
    } else {
      die("unknown flag '" + std::string(arg) + "' (see --help)");
    }
  }
  if (opt.print_sample < 0 && opt.port.empty()) die("--port is required (see --help)");
  if (opt.print_sample < 0 && opt.transport == Transport::kTls && opt.tls_ca.empty()) {
    die("--transport tls needs --tls-ca FILE (see --help)");
  }
  // RELP transaction numbers have 9 digits and wrap to 1 after 999999999; one
  // connection never comes close in a benchmark, so we simply refuse.
  if (opt.transport == Transport::kRelp && opt.count / opt.connections + 3 > 999999999) {
    die("--transport relp: at most 999999996 messages per connection");
  }
  if (opt.tls_name.empty()) opt.tls_name = opt.host;
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

int connect_to(const std::string& host, const std::string& port, int socktype) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = socktype;
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

int64_t realtime_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string errno_text(int err) { return std::strerror(err); }

// The OpenSSL error queue of this thread as one line (and emptied).
std::string ssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown error" : out;
}

// One connection (for UDP: one connected socket), prepared before the clock.
struct Connection {
  int fd = -1;
  SSL* ssl = nullptr;
  std::string bytes;           // everything to send, framed
  std::vector<uint32_t> ends;  // udp: end of each datagram; relp: end of each frame
  uint64_t messages = 0;
  std::string error;           // set by the sending thread on failure
  int64_t last_ack_unix_ns = 0;  // relp
};

// Writes all of `buf`, retrying partial writes and EINTR. Returns 0 or errno.
int write_all(int fd, std::string_view buf) {
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

void send_stream(Connection& c) {
  if (int err = write_all(c.fd, c.bytes); err != 0) c.error = "write: " + errno_text(err);
}

// Blocking SSL_write of everything (no partial-write mode: each call returns
// only when its whole chunk is in TLS records on the socket).
void send_tls(Connection& c) {
  size_t off = 0;
  while (off < c.bytes.size()) {
    int len = static_cast<int>(std::min<size_t>(kWriteChunkBytes, c.bytes.size() - off));
    int n = SSL_write(c.ssl, c.bytes.data() + off, len);
    if (n <= 0) {
      int err = SSL_get_error(c.ssl, n);
      if (err == SSL_ERROR_SYSCALL && errno == EINTR) continue;
      c.error = err == SSL_ERROR_SYSCALL ? "SSL_write: " + errno_text(errno)
                                         : "SSL_write: " + ssl_errors();
      return;
    }
    off += static_cast<size_t>(n);
  }
}

// One datagram per message, paced to `rate` datagrams/s (0: unpaced). When
// behind schedule it sends without sleeping, so short stalls become bursts and
// the average rate holds.
void send_udp(Connection& c, double rate) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const double interval_ns = rate > 0 ? 1e9 / rate : 0;
  size_t begin = 0;
  for (size_t i = 0; i < c.ends.size(); ++i) {
    if (interval_ns > 0) {
      auto target = t0 + std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(i) * interval_ns));
      // Sleeping costs ~60 us of scheduler latency: only worth it when ahead by more.
      if (target - clock::now() > std::chrono::microseconds(100)) std::this_thread::sleep_until(target);
    }
    const size_t end = c.ends[i];
    for (;;) {
      ssize_t n = ::send(c.fd, c.bytes.data() + begin, end - begin, 0);
      if (n >= 0) break;
      if (errno == EINTR) continue;
      if (errno == ENOBUFS || errno == EAGAIN) {  // our own queue is full: wait, do not drop
        std::this_thread::sleep_for(std::chrono::microseconds(50));
        continue;
      }
      c.error = "send (datagram " + std::to_string(i) + "): " + errno_text(errno);
      return;
    }
    begin = end;
  }
}

// ---------------------------------------------------------------------------
// RELP client.
//
//   FRAME = TXNR SP COMMAND SP DATALEN [SP DATA] LF   (no SP, no DATA when DATALEN is 0)
//
// We send "1 open LEN offers", then "TXNR syslog LEN MSG" for TXNR 2, 3, ...,
// keep at most --relp-window frames unacknowledged, and count every
// "TXNR rsp LEN 200 OK" (acks may come in any order; each TXNR exactly once).
// After the last ack, "close" and wait for its response (not timed).

struct RelpFrame {
  uint64_t txnr = 0;
  std::string_view command;
  std::string_view data;
};

class RelpReader {
 public:
  void append(const char* p, size_t n) {
    if (pos_ > (1u << 16) && pos_ * 2 > in_.size()) {
      in_.erase(0, pos_);
      pos_ = 0;
    }
    in_.append(p, n);
  }

  // 1: a frame in `f` (views valid until the next append), 0: need more bytes,
  // -1: malformed (message in `error`).
  int next(RelpFrame& f, std::string& error) {
    std::string_view s(in_);
    size_t i = pos_;
    auto number = [&](uint64_t& v) -> int {
      size_t digits = 0;
      v = 0;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        if (++digits > 9) return -1;
        v = v * 10 + static_cast<uint64_t>(s[i] - '0');
        ++i;
      }
      if (i == s.size()) return 0;
      return digits == 0 ? -1 : 1;
    };
    auto bad = [&](const char* what) {
      error = std::string("malformed RELP frame (") + what + "): '" +
              std::string(s.substr(pos_, std::min<size_t>(80, s.size() - pos_))) + "'";
      return -1;
    };
    int r = number(f.txnr);
    if (r <= 0) return r < 0 ? bad("TXNR") : 0;
    if (s[i++] != ' ') return bad("no SP after TXNR");
    size_t cmd = i;
    while (i < s.size() && i - cmd <= 32 && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))) ++i;
    if (i == s.size()) return 0;
    if (i == cmd || s[i] != ' ') return bad("COMMAND");
    f.command = s.substr(cmd, i - cmd);
    ++i;
    uint64_t len = 0;
    r = number(len);
    if (r <= 0) return r < 0 ? bad("DATALEN") : 0;
    if (len > kRelpMaxResponseData) return bad("DATALEN too large");
    if (s[i] == '\n' && len == 0) {
      f.data = {};
      pos_ = i + 1;
      return 1;
    }
    if (s[i] != ' ') return bad("no SP after DATALEN");
    ++i;
    if (s.size() - i < len + 1) return 0;
    f.data = s.substr(i, len);
    if (s[i + len] != '\n') return bad("no LF after DATA");
    pos_ = i + len + 1;
    return 1;
  }

 private:
  std::string in_;
  size_t pos_ = 0;
};

void put_relp_frame(std::string& out, uint64_t txnr, std::string_view command, std::string_view data) {
  put_uint(out, txnr);
  out.push_back(' ');
  put(out, command);
  out.push_back(' ');
  put_uint(out, data.size());
  if (!data.empty()) {
    out.push_back(' ');
    put(out, data);
  }
  out.push_back('\n');
}

// Reads until a frame answering `txnr` arrives (blocking fd, poll timeout).
// Returns "" and its DATA in `data`, or an error.
std::string relp_await(int fd, RelpReader& reader, uint64_t txnr, std::string& data, bool eof_ok) {
  for (;;) {
    RelpFrame f;
    std::string error;
    int r;
    while ((r = reader.next(f, error)) == 1) {
      if (f.command == "serverclose") return "server sent serverclose";
      if (f.command == "rsp" && f.txnr == txnr) {
        data = f.data;
        return "";
      }
    }
    if (r < 0) return error;
    pollfd p{fd, POLLIN, 0};
    int pr = ::poll(&p, 1, kRelpHandshakeTimeoutMs);
    if (pr < 0 && errno == EINTR) continue;
    if (pr == 0) return "no response to TXNR " + std::to_string(txnr) + " within " +
                        std::to_string(kRelpHandshakeTimeoutMs / 1000) + " s";
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return "read: " + errno_text(errno);
    if (n == 0) return eof_ok ? "" : "server closed the connection";
    reader.append(buf, static_cast<size_t>(n));
  }
}

// The timed part: frames out within the window, acks in.
void send_relp(Connection& c, uint64_t window, RelpReader& reader) {
  const size_t n = c.ends.size();
  std::vector<bool> acked(n, false);
  size_t acked_count = 0;
  size_t off = 0;
  char buf[64 * 1024];
  while (acked_count < n) {
    const size_t limit = c.ends[std::min<size_t>(n, acked_count + window) - 1];
    const bool want_write = off < limit;
    pollfd p{c.fd, static_cast<short>(POLLIN | (want_write ? POLLOUT : 0)), 0};
    int pr = ::poll(&p, 1, 60000);
    if (pr < 0) {
      if (errno == EINTR) continue;
      c.error = "poll: " + errno_text(errno);
      return;
    }
    if (pr == 0) {
      c.error = "no progress for 60 s (" + std::to_string(acked_count) + " of " + std::to_string(n) +
                " acked, " + std::to_string(off) + " bytes sent)";
      return;
    }
    if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
      ssize_t got = ::read(c.fd, buf, sizeof buf);
      if (got < 0 && errno != EAGAIN && errno != EINTR) {
        c.error = "read: " + errno_text(errno);
        return;
      }
      if (got == 0) {
        c.error = "server closed the connection after " + std::to_string(acked_count) + " of " +
                  std::to_string(n) + " acks";
        return;
      }
      if (got > 0) {
        reader.append(buf, static_cast<size_t>(got));
        RelpFrame f;
        std::string error;
        int r;
        while ((r = reader.next(f, error)) == 1) {
          if (f.command != "rsp") {
            c.error = "unexpected RELP command '" + std::string(f.command) + "' (TXNR " +
                      std::to_string(f.txnr) + ")";
            return;
          }
          // Syslog frames carry TXNR 2 .. n+1.
          if (f.txnr < 2 || f.txnr - 2 >= n || acked[f.txnr - 2]) {
            c.error = "response to unknown or already acknowledged TXNR " + std::to_string(f.txnr);
            return;
          }
          if (!f.data.starts_with("200")) {
            c.error = "TXNR " + std::to_string(f.txnr) + " not accepted: '" + std::string(f.data) + "'";
            return;
          }
          acked[f.txnr - 2] = true;
          ++acked_count;
        }
        if (r < 0) {
          c.error = error;
          return;
        }
      }
    }
    if (want_write && (p.revents & POLLOUT)) {
      ssize_t w = ::write(c.fd, c.bytes.data() + off, limit - off);
      if (w < 0 && errno != EAGAIN && errno != EINTR) {
        c.error = "write: " + errno_text(errno);
        return;
      }
      if (w > 0) off += static_cast<size_t>(w);
    }
  }
  c.last_ack_unix_ns = realtime_ns();
}

// Reads and discards until the peer closes (EOF, or its close_notify) or
// kCloseTimeoutMs pass. Blocking or not, the fd is polled first.
bool drain_until_eof(int fd, SSL* ssl) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kCloseTimeoutMs);
  char buf[16 * 1024];
  for (;;) {
    ssize_t n;
    if (ssl != nullptr) {
      int r = SSL_read(ssl, buf, sizeof buf);
      if (r > 0) continue;
      int err = SSL_get_error(ssl, r);
      if (err != SSL_ERROR_WANT_READ) {
        ERR_clear_error();
        return true;  // close_notify, EOF or an error: the peer is done either way
      }
      n = -1;
      errno = EAGAIN;
    } else {
      n = ::read(fd, buf, sizeof buf);
      if (n > 0) continue;
      if (n == 0) return true;
    }
    if (errno != EAGAIN && errno != EINTR) return true;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(left.count()));
  }
}

SSL_CTX* make_tls_client_context(const Options& opt) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) die("SSL_CTX_new: " + ssl_errors());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_load_verify_locations(ctx, opt.tls_ca.c_str(), nullptr) != 1) {
    die("--tls-ca " + opt.tls_ca + ": " + ssl_errors());
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  return ctx;
}

SSL* tls_connect(SSL_CTX* ctx, int fd, const Options& opt) {
  SSL* ssl = SSL_new(ctx);
  if (ssl == nullptr) die("SSL_new: " + ssl_errors());
  in6_addr ip6;
  in_addr ip4;
  bool is_ip = inet_pton(AF_INET, opt.tls_name.c_str(), &ip4) == 1 ||
               inet_pton(AF_INET6, opt.tls_name.c_str(), &ip6) == 1;
  if (is_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), opt.tls_name.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, opt.tls_name.c_str());
    SSL_set1_host(ssl, opt.tls_name.c_str());
  }
  SSL_set_fd(ssl, fd);
  if (int rc = SSL_connect(ssl); rc != 1) {
    int err = SSL_get_error(ssl, rc);
    std::string why = err == SSL_ERROR_SYSCALL ? (errno != 0 ? errno_text(errno) : "connection closed")
                                               : ssl_errors();
    long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) why += std::string(" (certificate: ") + X509_verify_cert_error_string(verify) + ")";
    die("TLS handshake with " + opt.host + ":" + opt.port + ": " + why);
  }
  return ssl;
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
  const Transport transport = opt.transport;
  const bool udp = transport == Transport::kUdp;

  // Connect (and handshake) first: failing fast beats generating a gigabyte
  // for nothing.
  std::vector<Connection> conns(opt.connections);
  SSL_CTX* tls_ctx = transport == Transport::kTls ? make_tls_client_context(opt) : nullptr;
  for (auto& c : conns) {
    c.fd = connect_to(opt.host, opt.port, udp ? SOCK_DGRAM : SOCK_STREAM);
    if (tls_ctx != nullptr) c.ssl = tls_connect(tls_ctx, c.fd, opt);
  }
  std::vector<RelpReader> relp_readers(transport == Transport::kRelp ? opt.connections : 0);
  if (transport == Transport::kRelp) {
    for (unsigned i = 0; i < opt.connections; ++i) {
      std::string open;
      put_relp_frame(open, 1, "open", kRelpOffers);
      if (int err = write_all(conns[i].fd, open); err != 0) die("RELP open: write: " + errno_text(err));
      std::string data;
      if (std::string e = relp_await(conns[i].fd, relp_readers[i], 1, data, false); !e.empty()) {
        die("RELP open with " + opt.host + ":" + opt.port + ": " + e);
      }
      if (!data.starts_with("200")) die("RELP open refused: '" + data + "'");
      ::fcntl(conns[i].fd, F_SETFL, ::fcntl(conns[i].fd, F_GETFL) | O_NONBLOCK);
    }
  }

  // Pre-generate. ~300 bytes per event: reserve to avoid regrowth copies.
  for (auto& c : conns) {
    c.bytes.reserve(opt.count / opt.connections * 340 + 4096);
    if (udp || transport == Transport::kRelp) c.ends.reserve(opt.count / opt.connections + 1);
  }
  uint64_t payload_bytes = 0;
  for (uint64_t i = 0; i < opt.count; ++i) {
    gen.next(msg);
    Connection& c = conns[i % opt.connections];
    std::string& b = c.bytes;
    switch (transport) {
      case Transport::kTcp:
      case Transport::kTls:
        put_uint(b, msg.size());
        b.push_back(' ');
        b.append(msg);
        break;
      case Transport::kTcpLf:
        b.append(msg);
        b.push_back('\n');
        break;
      case Transport::kUdp:
        b.append(msg);
        break;
      case Transport::kRelp:
        put_relp_frame(b, c.messages + 2, "syslog", msg);  // TXNR 1 was "open"
        break;
    }
    if (udp || transport == Transport::kRelp) {
      if (b.size() > UINT32_MAX) die("more than 4 GiB for one connection: use more --connections");
      c.ends.push_back(static_cast<uint32_t>(b.size()));
    }
    ++c.messages;
    payload_bytes += msg.size();
  }
  uint64_t wire_bytes = 0;
  for (const auto& c : conns) wire_bytes += c.bytes.size();

  const double udp_rate_per_conn = static_cast<double>(opt.udp_rate) / opt.connections;
  int64_t start_unix_ns = realtime_ns();
  auto start = std::chrono::steady_clock::now();
  {
    std::vector<std::jthread> senders;
    for (unsigned i = 0; i < opt.connections; ++i) {
      senders.emplace_back([&, i]() noexcept {
        Connection& c = conns[i];
        switch (transport) {
          case Transport::kTcp:
          case Transport::kTcpLf: send_stream(c); break;
          case Transport::kUdp: send_udp(c, udp_rate_per_conn); break;
          case Transport::kTls: send_tls(c); break;
          case Transport::kRelp: send_relp(c, opt.relp_window, relp_readers[i]); break;
        }
      });
    }
  }
  auto end = std::chrono::steady_clock::now();
  int64_t end_unix_ns = realtime_ns();
  if (transport == Transport::kRelp) {
    // Timed up to the last acknowledgement, not the close exchange below.
    int64_t last_ack = 0;
    for (const auto& c : conns) last_ack = std::max(last_ack, c.last_ack_unix_ns);
    if (last_ack != 0) {
      end -= std::chrono::nanoseconds(end_unix_ns - last_ack);
      end_unix_ns = last_ack;
    }
  }

  std::string first_error;
  for (unsigned i = 0; i < opt.connections; ++i) {
    Connection& c = conns[i];
    if (!c.error.empty() && first_error.empty()) {
      first_error = std::string(transport_name(transport)) + " to " + opt.host + ":" + opt.port +
                    " (connection " + std::to_string(i) + "): " + c.error;
    }
    if (c.error.empty() && transport == Transport::kRelp) {
      // Orderly close: the server answers once everything before it is acked.
      ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) & ~O_NONBLOCK);
      std::string close_frame, data;
      put_relp_frame(close_frame, c.messages + 2, "close", "");
      if (int err = write_all(c.fd, close_frame); err != 0) {
        std::fprintf(stderr, "sluice_loadgen: RELP close: write: %s\n", std::strerror(err));
      } else if (std::string e = relp_await(c.fd, relp_readers[i], c.messages + 2, data, true); !e.empty()) {
        std::fprintf(stderr, "sluice_loadgen: RELP close: %s\n", e.c_str());
      }
    }
    if (!udp) {
      // Half-close so the receiver sees EOF after the last frame, then wait
      // for its close (not timed). Closing with unread bytes in our receive
      // buffer (TLS 1.3 session tickets, a late RELP "serverclose") would
      // send a RST, and a RST makes the server's kernel discard whatever it
      // has not read yet: the last messages would be lost.
      if (c.ssl != nullptr) SSL_shutdown(c.ssl);  // our close_notify
      ::shutdown(c.fd, SHUT_WR);
      if (!drain_until_eof(c.fd, c.ssl)) {
        std::fprintf(stderr, "sluice_loadgen: connection %u: server did not close within %d s\n", i,
                     kCloseTimeoutMs / 1000);
      }
    }
    if (c.ssl != nullptr) SSL_free(c.ssl);
    ::close(c.fd);
  }
  if (tls_ctx != nullptr) SSL_CTX_free(tls_ctx);
  if (!first_error.empty()) die(first_error);

  double seconds = std::chrono::duration<double>(end - start).count();
  double safe = seconds > 0 ? seconds : 1e-9;
  std::printf(
      "{\"transport\":\"%s\",\"events\":%llu,\"bytes\":%llu,\"payload_bytes\":%llu,\"seconds\":%.6f,"
      "\"events_per_s\":%.1f,\"mib_per_s\":%.3f,\"connections\":%u,\"seed\":%llu,"
      "\"udp_rate\":%llu,\"relp_window\":%llu,\"start_unix_ns\":%lld,\"end_unix_ns\":%lld}\n",
      std::string(transport_name(transport)).c_str(), static_cast<unsigned long long>(opt.count),
      static_cast<unsigned long long>(wire_bytes), static_cast<unsigned long long>(payload_bytes),
      seconds, static_cast<double>(opt.count) / safe,
      static_cast<double>(wire_bytes) / (1024.0 * 1024.0) / safe, opt.connections,
      static_cast<unsigned long long>(opt.seed),
      static_cast<unsigned long long>(udp ? opt.udp_rate : 0),
      static_cast<unsigned long long>(transport == Transport::kRelp ? opt.relp_window : 0),
      static_cast<long long>(start_unix_ns), static_cast<long long>(end_unix_ns));
  return std::fflush(stdout) == 0 ? 0 : 1;
}
