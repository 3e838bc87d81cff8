// sluice_gen_logs: writes a deterministic, seeded stream of RFC 5424 syslog
// messages to stdout, the mix a log server of a small web shop receives:
//
//   ~52 %  nginx access lines (combined log format as MSG, app "nginx") from
//          60 web hosts: ~3,000 client IPs (a few of them very busy), page,
//          API, static and image paths, status codes, sizes, referers and
//          user agents (one per client, mostly)
//   ~36 %  application lines from twelve services on 240 app hosts, half of
//          them JSON objects, half key=value (logfmt): time, level, message,
//          request id, route, status, latency, user id, sometimes an error
//   ~12 %  auth lines on every host: sshd (accepted keys and passwords,
//          failed passwords from scanners, invalid users, disconnects),
//          pam_unix sessions, sudo commands and cron sessions
//
// 314 hosts and 15 apps in all. Timestamps (RFC 3339, microseconds, UTC)
// never decrease and spread evenly over --days days ending at --end (default:
// now), so a stream of any size covers the same span of day partitions.
//
// Deterministic: the same --count, --seed, --days and --end give the same
// bytes on any platform (one xoshiro256** generator seeded by splitmix64,
// integer arithmetic only).
//
// Framing (--framing): "lf" (default) ends each message with LF, RFC 6587
// non-transparent framing; "octet" writes RFC 6587 octet counting
// ("LEN SP MSG"). No message contains an LF.
//
// On stderr, one JSON line when done: events, bytes written (framing
// included), payload bytes (the messages only), first and last timestamp,
// events per UTC day, and a "needle": a request id that occurs in exactly one
// message (for a rare-token search), with that message's time.
//
// Standalone: includes nothing of sluice, like sluice_loadgen.

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kSecondsPerDay = 86'400;
constexpr size_t kFlushBytes = size_t{1} << 20;

// ------------------------------------------------------------------ random
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& word : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      word = z ^ (z >> 31);
    }
  }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n), n > 0 (multiply-shift; the bias is below 2^-40).
  uint64_t below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64); }
  uint64_t range(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }  // inclusive
  bool percent(uint64_t p) { return below(100) < p; }
  // Skewed towards 0: the minimum of k uniform draws in [0, n). k = 3 gives
  // the first 10 % of the range ~27 % of the picks.
  uint64_t skewed(uint64_t n, int k) {
    uint64_t best = below(n);
    for (int i = 1; i < k; ++i) best = std::min(best, below(n));
    return best;
  }
  template <typename T, size_t N>
  const T& pick(const std::array<T, N>& items) {
    return items[below(N)];
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> s_{};
};

// Picks from weighted choices: {weight, value}.
template <typename T>
struct Weighted {
  std::vector<std::pair<uint32_t, T>> items;
  uint32_t total = 0;
  Weighted(std::initializer_list<std::pair<uint32_t, T>> list) : items(list) {
    for (const auto& item : items) total += item.first;
  }
  const T& operator()(Rng& rng) const {
    uint64_t r = rng.below(total);
    for (const auto& item : items) {
      if (r < item.first) return item.second;
      r -= item.first;
    }
    return items.back().second;
  }
};

// ------------------------------------------------------------------ text
class Out {
 public:
  void put(std::string_view s) { buf_.append(s); }
  void put(char c) { buf_.push_back(c); }
  void num(uint64_t v) {
    char tmp[24];
    auto [end, ec] = std::to_chars(tmp, tmp + sizeof tmp, v);
    buf_.append(tmp, end);
  }
  // v with `width` digits, zero-padded.
  void num0(uint64_t v, int width) {
    char tmp[24];
    for (int i = width - 1; i >= 0; --i) {
      tmp[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    buf_.append(tmp, width);
  }
  // hundredths as "I.FF"
  void fixed2(uint64_t hundredths) {
    num(hundredths / 100);
    put('.');
    num0(hundredths % 100, 2);
  }
  void hex(Rng& rng, int digits) {
    static constexpr char kHex[] = "0123456789abcdef";
    uint64_t bits = rng.next();
    for (int i = 0; i < digits; ++i) {
      if (i == 16) bits = rng.next();
      buf_.push_back(kHex[bits & 15]);
      bits >>= 4;
    }
  }
  void ip(uint32_t v) {
    num(v >> 24);
    put('.');
    num((v >> 16) & 255);
    put('.');
    num((v >> 8) & 255);
    put('.');
    num(v & 255);
  }
  std::string& str() { return buf_; }

 private:
  std::string buf_;
};

// days since 1970-01-01 to y/m/d (proleptic Gregorian).
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
}

// "YYYY-MM-DD" of a day number.
std::string day_name(int64_t day) {
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(day, y, m, d);
  char out[16];
  std::snprintf(out, sizeof out, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return out;
}

// Renders times, reusing the date part while the second stays the same.
class Clock {
 public:
  void set(int64_t micros) {
    micros_ = micros;
    const int64_t second = micros / kMicrosPerSecond;
    if (second == second_) return;
    second_ = second;
    const int64_t day = second / kSecondsPerDay;
    const int64_t sod = second % kSecondsPerDay;
    int64_t y = 0;
    unsigned m = 0, d = 0;
    civil_from_days(day, y, m, d);
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld", static_cast<long long>(y), m, d,
                  static_cast<long long>(sod / 3600), static_cast<long long>(sod / 60 % 60),
                  static_cast<long long>(sod % 60));
    rfc3339_seconds_ = buf;
    std::snprintf(buf, sizeof buf, "%02u/%s/%04lld:%02lld:%02lld:%02lld +0000", d, kMonths[m - 1],
                  static_cast<long long>(y), static_cast<long long>(sod / 3600),
                  static_cast<long long>(sod / 60 % 60), static_cast<long long>(sod % 60));
    nginx_ = buf;
  }
  int64_t micros() const { return micros_; }
  // 2026-03-01T12:00:00.123456Z
  void rfc3339_micros(Out& out) const {
    out.put(rfc3339_seconds_);
    out.put('.');
    out.num0(static_cast<uint64_t>(micros_ % kMicrosPerSecond), 6);
    out.put('Z');
  }
  // 2026-03-01T12:00:00.123Z
  void rfc3339_millis(Out& out) const {
    out.put(rfc3339_seconds_);
    out.put('.');
    out.num0(static_cast<uint64_t>(micros_ % kMicrosPerSecond / 1000), 3);
    out.put('Z');
  }
  const std::string& nginx() const { return nginx_; }  // 01/Mar/2026:12:00:00 +0000

 private:
  int64_t micros_ = 0;
  int64_t second_ = -1;
  std::string rfc3339_seconds_, nginx_;
};

// ------------------------------------------------------------------ vocabulary
constexpr std::array<std::string_view, 24> kAgents = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
    "Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 "
    "Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
    "Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
    "Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
    "Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 "
    "Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile "
    "Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.107 "
    "Mobile Safari/537.36",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Go-http-client/1.1",
    "okhttp/4.12.0",
    "ShopApp/5.12.1 (iPhone; iOS 18.1; Scale/3.00)",
    "ShopApp/5.12.0 (Android 14; Pixel 8)",
};
constexpr std::string_view kHealthAgent = "ELB-HealthChecker/2.0";

constexpr std::array<std::string_view, 24> kWords = {
    "shoes",  "jacket",   "backpack", "socks",  "sneakers", "boots",  "hoodie", "tent",
    "lamp",   "mug",      "charger",  "laptop", "headphones", "watch", "scarf", "gloves",
    "bottle", "umbrella", "desk",     "chair",  "pillow",   "kettle", "blender", "camera"};

constexpr std::array<std::string_view, 8> kPages = {"/",        "/cart",   "/checkout", "/account",
                                                    "/products", "/search", "/deals",   "/help"};

// Static assets: fixed paths (one build) with fixed sizes.
struct Asset {
  std::string_view path;
  uint32_t bytes;
};
constexpr std::array<Asset, 10> kAssets = {{
    {"/static/js/app.4f9c2e1b.js", 284113},
    {"/static/js/vendor.9a0d77c3.js", 812554},
    {"/static/js/checkout.1be0f5aa.js", 61872},
    {"/static/css/app.e3b0c442.css", 48211},
    {"/static/css/print.77aa01d9.css", 3120},
    {"/static/fonts/inter-var.woff2", 97811},
    {"/static/img/logo.svg", 5823},
    {"/static/img/sprite.png", 41230},
    {"/favicon.ico", 15086},
    {"/robots.txt", 312},
}};

constexpr std::array<std::string_view, 12> kScannerPaths = {
    "/wp-login.php", "/.env", "/xmlrpc.php", "/phpmyadmin/index.php", "/.git/config", "/admin/config.php",
    "/cgi-bin/luci", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "/actuator/health",
    "/boaform/admin/formLogin", "/wp-content/plugins/wp-file-manager/readme.txt", "/server-status"};

constexpr std::array<std::string_view, 20> kUsers = {
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
    "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "deploy"};

constexpr std::array<std::string_view, 16> kInvalidUsers = {
    "admin", "test", "oracle", "postgres", "ubuntu", "user", "guest", "ftpuser",
    "git",   "pi",   "support", "minecraft", "hadoop", "jenkins", "tomcat", "ansible"};

constexpr std::array<std::string_view, 10> kSudoCommands = {
    "/usr/bin/systemctl restart nginx",
    "/usr/bin/systemctl status checkout",
    "/usr/bin/journalctl -u payments --since today",
    "/usr/bin/apt-get update",
    "/usr/bin/apt-get -y upgrade",
    "/usr/bin/tail -n 200 /var/log/nginx/error.log",
    "/usr/sbin/nginx -t",
    "/usr/bin/docker ps",
    "/bin/cat /etc/ssl/private/shop.key",
    "/usr/bin/du -sh /var/lib/postgresql"};

constexpr std::array<std::string_view, 6> kKeyTypes = {"ED25519", "ED25519", "ED25519", "RSA", "ECDSA", "ED25519"};

// The twelve services: name, JSON or logfmt, their routes and messages.
struct Service {
  std::string_view name;
  bool json;
  std::array<std::string_view, 6> routes;
  std::array<std::string_view, 6> infos;   // info-level messages
  std::array<std::string_view, 3> warns;
  std::array<std::string_view, 3> errors;
};
constexpr std::array<Service, 12> kServices = {{
    {"checkout", true,
     {"POST /v1/checkout", "GET /v1/checkout/{id}", "POST /v1/checkout/{id}/confirm", "GET /v1/cart",
      "PUT /v1/cart/items/{id}", "DELETE /v1/cart/items/{id}"},
     {"request completed", "order created", "cart updated", "checkout confirmed", "shipping quote received",
      "coupon applied"},
     {"slow upstream response", "retrying payment authorization", "cart total mismatch, recomputed"},
     {"payment authorization failed", "order insert failed: deadlock detected", "upstream timeout"}},
    {"payments", true,
     {"POST /v1/payments", "POST /v1/payments/{id}/capture", "POST /v1/payments/{id}/refund",
      "GET /v1/payments/{id}", "POST /v1/webhooks/psp", "GET /v1/payment-methods"},
     {"request completed", "payment authorized", "payment captured", "refund issued", "webhook processed",
      "3ds challenge completed"},
     {"psp latency above threshold", "duplicate webhook ignored", "card expiring soon"},
     {"psp returned 502", "capture failed: insufficient funds", "signature verification failed"}},
    {"inventory", false,
     {"GET /v1/stock/{id}", "POST /v1/reservations", "DELETE /v1/reservations/{id}", "GET /v1/warehouses",
      "PUT /v1/stock/{id}", "POST /v1/stock/bulk"},
     {"request completed", "stock reserved", "reservation released", "stock level updated", "sync finished",
      "cache refreshed"},
     {"low stock", "reservation expired", "sync lagging"},
     {"stock went negative", "warehouse api unreachable", "lock wait timeout exceeded"}},
    {"catalog", false,
     {"GET /v1/products/{id}", "GET /v1/products", "GET /v1/categories/{id}", "PUT /v1/products/{id}",
      "GET /v1/products/{id}/variants", "GET /v1/brands"},
     {"request completed", "cache hit", "cache miss", "product updated", "price list loaded",
      "image urls signed"},
     {"cache miss storm", "slow query", "stale price list"},
     {"product not found in index", "db connection reset", "render failed"}},
    {"search", false,
     {"GET /v1/search", "GET /v1/suggest", "POST /v1/reindex", "GET /v1/search/facets", "GET /v1/trending",
      "GET /v1/search/similar/{id}"},
     {"request completed", "query executed", "suggestions served", "index segment merged", "synonyms reloaded",
      "facets computed"},
     {"query took long", "shard slow to answer", "result window truncated"},
     {"shard unavailable", "query parse error", "circuit breaker open"}},
    {"accounts", true,
     {"POST /v1/login", "POST /v1/logout", "GET /v1/me", "PUT /v1/me", "POST /v1/password/reset",
      "POST /v1/signup"},
     {"request completed", "login succeeded", "session refreshed", "profile updated", "password reset mailed",
      "account created"},
     {"login failed: bad password", "rate limit close", "mfa code expired"},
     {"token signing key missing", "ldap bind failed", "session store unavailable"}},
    {"notifications", false,
     {"POST /v1/notify", "POST /v1/email", "POST /v1/sms", "POST /v1/push", "GET /v1/templates",
      "POST /v1/digest"},
     {"request completed", "email queued", "email sent", "push delivered", "sms sent", "digest built"},
     {"smtp slow", "push token invalid", "template fallback used"},
     {"smtp connection refused", "sms provider error 503", "queue publish failed"}},
    {"shipping", false,
     {"GET /v1/rates", "POST /v1/labels", "GET /v1/tracking/{id}", "POST /v1/pickups", "GET /v1/zones",
      "POST /v1/returns"},
     {"request completed", "rate quoted", "label created", "tracking updated", "pickup scheduled",
      "return authorized"},
     {"carrier api slow", "address normalized", "rate cache stale"},
     {"carrier api error", "label pdf render failed", "invalid postal code"}},
    {"pricing", true,
     {"GET /v1/prices/{id}", "POST /v1/prices/quote", "GET /v1/promotions", "POST /v1/promotions/evaluate",
      "PUT /v1/prices/{id}", "GET /v1/currencies"},
     {"request completed", "quote computed", "promotion applied", "price updated", "fx rates loaded",
      "rules compiled"},
     {"fx rates stale", "promotion conflict resolved", "slow rule evaluation"},
     {"fx provider unreachable", "rule compile error", "negative price computed"}},
    {"recommendations", true,
     {"GET /v1/recs/home", "GET /v1/recs/product/{id}", "GET /v1/recs/cart", "POST /v1/events",
      "GET /v1/recs/email", "GET /v1/recs/similar/{id}"},
     {"request completed", "model scored", "candidates fetched", "event ingested", "features loaded",
      "fallback list served"},
     {"feature store slow", "model version mismatch", "cold start user"},
     {"model server unavailable", "feature store timeout", "embedding lookup failed"}},
    {"gateway", true,
     {"GET /api/v1/products/{id}", "POST /api/v1/cart", "GET /api/v1/search", "POST /api/v1/checkout",
      "GET /api/v1/me", "GET /api/v1/recs"},
     {"request completed", "request proxied", "jwt verified", "route matched", "upstream selected",
      "response cached"},
     {"upstream retry", "rate limited client", "slow upstream"},
     {"upstream connect error", "no healthy upstream", "jwt verification failed"}},
    {"scheduler", false,
     {"RUN job/cleanup-carts", "RUN job/reindex", "RUN job/send-digests", "RUN job/expire-reservations",
      "RUN job/rotate-keys", "RUN job/export-orders"},
     {"job started", "job finished", "lease acquired", "lease renewed", "next run scheduled", "batch done"},
     {"job overran its slot", "lease lost, retrying", "skipped: previous run active"},
     {"job failed", "lease store unreachable", "export upload failed"}},
}};

// ------------------------------------------------------------------ hosts
constexpr int kWebHosts = 60;
constexpr int kAppHosts = 240;  // 20 per service
constexpr int kDbHosts = 12;
constexpr int kBastions = 2;
constexpr int kHosts = kWebHosts + kAppHosts + kDbHosts + kBastions;  // 314

std::string host_name(int i) {
  char out[32];
  if (i < kWebHosts) {
    std::snprintf(out, sizeof out, "web-%03d", i + 1);
  } else if (i < kWebHosts + kAppHosts) {
    const int k = i - kWebHosts;
    std::snprintf(out, sizeof out, "%.*s-%02d", static_cast<int>(kServices[k / 20].name.size()),
                  kServices[k / 20].name.data(), k % 20 + 1);
  } else if (i < kWebHosts + kAppHosts + kDbHosts) {
    std::snprintf(out, sizeof out, "db-%02d", i - kWebHosts - kAppHosts + 1);
  } else {
    std::snprintf(out, sizeof out, "bastion-%02d", i - kWebHosts - kAppHosts - kDbHosts + 1);
  }
  return out;
}

// ------------------------------------------------------------------ the stream
class Generator {
 public:
  Generator(uint64_t seed, int64_t start_micros, int64_t span_micros, uint64_t count)
      : rng_(seed), start_(start_micros), span_(span_micros), count_(count) {
    for (int i = 0; i < kHosts; ++i) hosts_.push_back(host_name(i));
    for (int i = 0; i < kHosts; ++i) pids_.push_back(static_cast<uint32_t>(rng_.range(300, 4'000'000)));
    // Clients: mostly public addresses, a tenth from one mobile carrier's
    // CGNAT range, and a few office addresses; each keeps one user agent
    // most of the time.
    for (int i = 0; i < 3000; ++i) {
      uint32_t ip = 0;
      if (i % 10 == 3) {
        ip = (100u << 24) | (64u << 16) | static_cast<uint32_t>(rng_.below(1u << 16));
      } else {
        ip = static_cast<uint32_t>((rng_.range(1, 223) << 24) | rng_.below(1u << 24));
        if ((ip >> 24) == 10 || (ip >> 24) == 127) ip ^= 0x40000000;
      }
      clients_.push_back(ip);
      client_agents_.push_back(static_cast<uint8_t>(rng_.skewed(kAgents.size(), 2)));
    }
    for (int i = 0; i < 400; ++i) {
      scanners_.push_back(static_cast<uint32_t>((rng_.range(1, 223) << 24) | rng_.below(1u << 24)));
    }
    for (size_t i = 0; i < kUsers.size(); ++i) {
      // SHA256 key fingerprints: 43 base64 characters, one per user.
      static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
      std::string fp;
      for (int j = 0; j < 43; ++j) fp.push_back(kB64[rng_.below(64)]);
      fingerprints_.push_back(fp);
    }
  }

  // Appends message i (without framing) to `out`.
  void message(uint64_t i, Out& out) {
    // Event i lies in its own slot of the span: never decreasing, evenly spread.
    const int64_t slot = span_ / static_cast<int64_t>(count_);
    const int64_t t = start_ + static_cast<int64_t>((static_cast<unsigned __int128>(i) * span_) / count_) +
                      (slot > 1 ? static_cast<int64_t>(rng_.below(static_cast<uint64_t>(slot))) : 0);
    clock_.set(t);
    const uint64_t kind = rng_.below(100);
    if (kind < 52) {
      web(out);
    } else if (kind < 88) {
      app(out);
    } else {
      auth(out);
    }
  }

  const Clock& clock() const { return clock_; }
  std::string_view last_request_id() const { return last_request_id_; }

 private:
  void header(Out& out, unsigned pri, int host, std::string_view app, uint32_t pid) {
    out.put('<');
    out.num(pri);
    out.put(">1 ");
    clock_.rfc3339_micros(out);
    out.put(' ');
    out.put(hosts_[host]);
    out.put(' ');
    out.put(app);
    out.put(' ');
    out.num(pid);
    out.put(" - - ");
  }

  // nginx combined: $remote_addr - $remote_user [$time_local] "$request"
  // $status $body_bytes_sent "$http_referer" "$http_user_agent"
  void web(Out& out) {
    const int host = static_cast<int>(rng_.below(kWebHosts));
    // local7.info; four workers per host.
    header(out, 23 * 8 + 6, host, "nginx", pids_[host] + static_cast<uint32_t>(rng_.below(4)));
    const uint64_t what = rng_.below(1000);
    if (what < 30) {  // the load balancer's health check
      out.ip((10u << 24) | (0u << 16) | (static_cast<uint32_t>(host % 4) << 8) | 10u);
      out.put(" - - [");
      out.put(clock_.nginx());
      out.put("] \"GET /healthz HTTP/1.1\" 200 2 \"-\" \"");
      out.put(kHealthAgent);
      out.put("\"");
      return;
    }
    if (what < 45) {  // scanners
      out.ip(scanners_[rng_.skewed(scanners_.size(), 2)]);
      out.put(" - - [");
      out.put(clock_.nginx());
      out.put("] \"");
      out.put(rng_.percent(80) ? "GET " : "POST ");
      out.put(rng_.pick(kScannerPaths));
      out.put(" HTTP/1.1\" ");
      const bool forbidden = rng_.percent(20);
      out.put(forbidden ? "403 " : "404 ");
      out.num(forbidden ? 153 : 162);
      out.put(" \"-\" \"");
      out.put(rng_.percent(50) ? std::string_view("curl/8.5.0") : kAgents[rng_.below(kAgents.size())]);
      out.put("\"");
      return;
    }
    const size_t client = rng_.skewed(clients_.size(), 3);
    out.ip(clients_[client]);
    out.put(" - ");
    if (rng_.percent(3)) {
      out.put(rng_.pick(kUsers));
    } else {
      out.put('-');
    }
    out.put(" [");
    out.put(clock_.nginx());
    out.put("] \"");
    uint32_t status = 200;
    uint64_t bytes = 0;
    if (what < 380) {  // static assets, often revalidated
      const Asset& asset = rng_.pick(kAssets);
      out.put("GET ");
      out.put(asset.path);
      const uint64_t r = rng_.below(100);
      status = r < 62 ? 200 : r < 97 ? 304 : 404;
      bytes = status == 200 ? asset.bytes : status == 304 ? 0 : 162;
    } else if (what < 520) {  // product images
      out.put("GET /images/products/");
      out.num(rng_.skewed(40000, 2) + 1000);
      out.put(rng_.percent(70) ? "/640w.webp" : "/1280w.webp");
      status = rng_.percent(90) ? 200 : 304;
      bytes = status == 200 ? rng_.range(9000, 180000) : 0;
    } else if (what < 700) {  // pages
      const std::string_view page = rng_.pick(kPages);
      out.put("GET ");
      if (page == "/products") {
        out.put("/products/");
        out.num(rng_.skewed(40000, 2) + 1000);
      } else if (page == "/search") {
        out.put("/search?q=");
        out.put(rng_.pick(kWords));
        if (rng_.percent(30)) {
          out.put("&page=");
          out.num(rng_.range(2, 9));
        }
      } else {
        out.put(page);
      }
      const uint64_t r = rng_.below(1000);
      status = r < 930 ? 200 : r < 960 ? 302 : r < 990 ? 404 : r < 997 ? 500 : 502;
      bytes = status == 200 ? rng_.range(18000, 95000) : status == 302 ? 0 : status == 404 ? 4120 : 587;
    } else {  // the API behind the single-page app
      // The services behind the gateway (not the scheduler, which has no API).
      const Service& service = kServices[rng_.below(kServices.size() - 1)];
      const std::string_view route = rng_.pick(service.routes);
      const size_t space = route.find(' ');
      const std::string_view method = route.substr(0, space);
      out.put(method);
      out.put(" /api");
      std::string_view path = route.substr(space + 1);
      if (path.starts_with("/api")) path.remove_prefix(4);
      const size_t id = path.find("{id}");
      if (id == std::string_view::npos) {
        out.put(path);
      } else {
        out.put(path.substr(0, id));
        out.num(rng_.range(1000, 999999));
        out.put(path.substr(id + 4));
      }
      const uint64_t r = rng_.below(1000);
      status = r < 900 ? (method == "POST" ? 201 : 200)
               : r < 940 ? 204
               : r < 965 ? 401
               : r < 980 ? 404
               : r < 988 ? 429
               : r < 992 ? 499
               : r < 997 ? 500
                         : 503;
      bytes = status == 204 || status == 499 ? 0 : rng_.range(60, 14000);
    }
    out.put(rng_.percent(78) ? " HTTP/2.0\" " : " HTTP/1.1\" ");
    out.num(status);
    out.put(' ');
    out.num(bytes);
    out.put(" \"");
    const uint64_t ref = rng_.below(100);
    if (ref < 35) {
      out.put('-');
    } else if (ref < 85) {
      out.put("https://shop.example.com");
      out.put(rng_.pick(kPages));
    } else if (ref < 95) {
      out.put("https://www.google.com/");
    } else {
      out.put("https://www.bing.com/");
    }
    out.put("\" \"");
    out.put(rng_.percent(92) ? kAgents[client_agents_[client]] : kAgents[rng_.below(kAgents.size())]);
    out.put("\"");
  }

  void app(Out& out) {
    const size_t s = rng_.skewed(kServices.size(), 2);  // gateway traffic is not the busiest
    const Service& service = kServices[s];
    const int host = kWebHosts + static_cast<int>(s) * 20 + static_cast<int>(rng_.below(20));
    const uint64_t lv = rng_.below(1000);
    const int severity = lv < 60 ? 7 : lv < 930 ? 6 : lv < 980 ? 4 : 3;
    const std::string_view level = severity == 7 ? "debug" : severity == 6 ? "info" : severity == 4 ? "warn" : "error";
    header(out, 16 * 8 + static_cast<unsigned>(severity), host, service.name, pids_[host]);
    std::string_view msg;
    if (severity >= 6) {
      msg = rng_.percent(55) ? service.infos[0] : rng_.pick(service.infos);
    } else if (severity == 4) {
      msg = rng_.pick(service.warns);
    } else {
      msg = rng_.pick(service.errors);
    }
    const std::string_view route = rng_.pick(service.routes);
    const size_t space = route.find(' ');
    const std::string_view method = route.substr(0, space);
    const std::string_view path = route.substr(space + 1);
    const uint64_t status = severity == 3 ? (rng_.percent(70) ? 500 : 503)
                            : severity == 4 ? (rng_.percent(50) ? 200 : 429)
                            : method == "POST" ? 201
                                               : 200;
    // Latency: mostly a few ms, a long tail (hundredths of a millisecond).
    uint64_t latency = rng_.range(40, 2500);
    if (rng_.percent(15)) latency += rng_.range(1000, 40000);
    if (rng_.percent(2) || severity <= 4) latency += rng_.range(50000, 900000);
    const uint64_t user = rng_.percent(25) ? 0 : rng_.skewed(200000, 2) + 1;
    if (service.json) {
      out.put("{\"ts\":\"");
      clock_.rfc3339_millis(out);
      out.put("\",\"level\":\"");
      out.put(level);
      out.put("\",\"logger\":\"");
      out.put(service.name);
      out.put(".http\",\"msg\":\"");
      out.put(msg);
      out.put("\",\"request_id\":\"");
      request_id(out);
      out.put("\",\"method\":\"");
      out.put(method);
      out.put("\",\"route\":\"");
      out.put(path);
      out.put("\",\"status\":");
      out.num(status);
      out.put(",\"duration_ms\":");
      out.fixed2(latency);
      if (user != 0) {
        out.put(",\"user_id\":");
        out.num(user);
      }
      if (severity == 3) {
        out.put(",\"error\":\"");
        out.put(rng_.percent(50) ? "context deadline exceeded" : "connection reset by peer");
        out.put("\"");
      }
      out.put('}');
    } else {
      out.put("ts=");
      clock_.rfc3339_millis(out);
      out.put(" level=");
      out.put(level);
      out.put(" msg=\"");
      out.put(msg);
      out.put("\" request_id=");
      request_id(out);
      out.put(" method=");
      out.put(method);
      out.put(" route=");
      out.put(path);
      out.put(" status=");
      out.num(status);
      out.put(" duration_ms=");
      out.fixed2(latency);
      if (user != 0) {
        out.put(" user_id=");
        out.num(user);
      }
      if (severity == 3) {
        out.put(" err=\"");
        out.put(rng_.percent(50) ? "context deadline exceeded" : "connection reset by peer");
        out.put('"');
      }
    }
  }

  void request_id(Out& out) {
    const size_t at = out.str().size();
    out.hex(rng_, 32);
    last_request_id_.assign(out.str(), at, 32);
  }

  void auth(Out& out) {
    const uint64_t what = rng_.below(100);
    // sshd on every host; scanners hit the bastions and the web hosts hardest.
    int host = 0;
    if (what < 45 && rng_.percent(60)) {
      host = kWebHosts + kAppHosts + kDbHosts + static_cast<int>(rng_.below(kBastions));
    } else {
      host = static_cast<int>(rng_.below(kHosts));
    }
    const uint32_t sshd_pid = static_cast<uint32_t>(rng_.range(1000, 4'000'000));
    const uint64_t port = rng_.range(1024, 65535);
    const std::string_view user = kUsers[rng_.skewed(kUsers.size(), 2)];
    const uint32_t office = (10u << 24) | (20u << 16) | static_cast<uint32_t>(rng_.range(1, 40));
    const uint32_t scanner = scanners_[rng_.skewed(scanners_.size(), 3)];
    auto from = [&](uint32_t ip) {
      out.put(" from ");
      out.ip(ip);
      out.put(" port ");
      out.num(port);
    };
    if (what < 20) {  // <38>: auth.info
      header(out, 4 * 8 + 6, host, "sshd", sshd_pid);
      out.put("Failed password for ");
      if (rng_.percent(60)) {
        out.put("invalid user ");
        out.put(rng_.pick(kInvalidUsers));
      } else {
        out.put("root");
      }
      from(scanner);
      out.put(" ssh2");
    } else if (what < 30) {
      header(out, 4 * 8 + 6, host, "sshd", sshd_pid);
      out.put("Invalid user ");
      out.put(rng_.pick(kInvalidUsers));
      from(scanner);
    } else if (what < 38) {
      header(out, 4 * 8 + 6, host, "sshd", sshd_pid);
      out.put("Connection closed by authenticating user root");
      out.put(' ');
      out.ip(scanner);
      out.put(" port ");
      out.num(port);
      out.put(" [preauth]");
    } else if (what < 45) {
      header(out, 4 * 8 + 6, host, "sshd", sshd_pid);
      out.put("Received disconnect from ");
      out.ip(scanner);
      out.put(" port ");
      out.num(port);
      out.put(":11: Bye Bye [preauth]");
    } else if (what < 55) {
      header(out, 4 * 8 + 6, host, "sshd", sshd_pid);
      const size_t u = rng_.skewed(kUsers.size(), 2);
      if (rng_.percent(85)) {
        out.put("Accepted publickey for ");
        out.put(kUsers[u]);
        from(office);
        out.put(" ssh2: ");
        out.put(kKeyTypes[u % kKeyTypes.size()]);
        out.put(" SHA256:");
        out.put(fingerprints_[u]);
      } else {
        out.put("Accepted password for ");
        out.put(kUsers[u]);
        from(office);
        out.put(" ssh2");
      }
    } else if (what < 63) {  // <86>: authpriv.info
      header(out, 10 * 8 + 6, host, "sshd", sshd_pid);
      out.put("pam_unix(sshd:session): session opened for user ");
      out.put(user);
      out.put("(uid=");
      out.num(1000 + (user.size() * 7 + static_cast<uint8_t>(user[0])) % 40);
      out.put(") by (uid=0)");
    } else if (what < 71) {
      header(out, 10 * 8 + 6, host, "sshd", sshd_pid);
      out.put("pam_unix(sshd:session): session closed for user ");
      out.put(user);
    } else if (what < 76) {
      header(out, 4 * 8 + 6, host, "sshd", sshd_pid);
      out.put("Disconnected from user ");
      out.put(user);
      out.put(' ');
      out.ip(office);
      out.put(" port ");
      out.num(port);
    } else if (what < 82) {  // <85>: authpriv.notice, as sudo logs commands
      header(out, 10 * 8 + 5, host, "sudo", sshd_pid);
      out.put("    ");
      out.put(user);
      out.put(" : TTY=pts/");
      out.num(rng_.below(4));
      out.put(" ; PWD=/home/");
      out.put(user);
      out.put(" ; USER=root ; COMMAND=");
      out.put(rng_.pick(kSudoCommands));
    } else if (what < 88) {
      header(out, 10 * 8 + 6, host, "sudo", sshd_pid);
      if (rng_.percent(50)) {
        out.put("pam_unix(sudo:session): session opened for user root(uid=0) by ");
        out.put(user);
        out.put("(uid=");
        out.num(1000 + (user.size() * 7 + static_cast<uint8_t>(user[0])) % 40);
        out.put(')');
      } else {
        out.put("pam_unix(sudo:session): session closed for user root");
      }
    } else {  // <86>: cron sessions, every host
      header(out, 10 * 8 + 6, host, "CRON", sshd_pid);
      if (rng_.percent(50)) {
        out.put("pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)");
      } else {
        out.put("pam_unix(cron:session): session closed for user root");
      }
    }
  }

  Rng rng_;
  int64_t start_, span_;
  uint64_t count_;
  Clock clock_;
  std::vector<std::string> hosts_;
  std::vector<uint32_t> pids_;
  std::vector<uint32_t> clients_;
  std::vector<uint8_t> client_agents_;
  std::vector<uint32_t> scanners_;
  std::vector<std::string> fingerprints_;
  std::string last_request_id_;
};

void usage(FILE* to) {
  std::fputs(
      "usage: sluice_gen_logs [--count N] [--seed S] [--days D] [--end UNIX_SECONDS] [--framing lf|octet]\n"
      "\n"
      "Writes N (default 1000000) RFC 5424 syslog messages to stdout: nginx access lines,\n"
      "JSON and key=value application lines and sshd/sudo/pam auth lines from 314 hosts,\n"
      "timestamps spread over D days (default 4) ending at --end (default: now).\n"
      "Same flags, same bytes. A JSON summary goes to stderr.\n",
      to);
}

bool parse_u64(const char* text, uint64_t& out) {
  const char* end = text + std::strlen(text);
  auto [p, ec] = std::from_chars(text, end, out);
  return ec == std::errc() && p == end;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t count = 1'000'000, seed = 42, days = 4;
  uint64_t end = static_cast<uint64_t>(std::time(nullptr));
  bool octet = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "-h" || flag == "--help") {
      usage(stdout);
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "sluice_gen_logs: %s needs a value\n", argv[i]);
      return 2;
    }
    const char* value = argv[++i];
    bool ok = true;
    if (flag == "--count") {
      ok = parse_u64(value, count) && count > 0;
    } else if (flag == "--seed") {
      ok = parse_u64(value, seed);
    } else if (flag == "--days") {
      ok = parse_u64(value, days) && days > 0 && days <= 3650;
    } else if (flag == "--end") {
      ok = parse_u64(value, end) && end > days * kSecondsPerDay;
    } else if (flag == "--framing") {
      ok = std::string_view(value) == "lf" || std::string_view(value) == "octet";
      octet = std::string_view(value) == "octet";
    } else {
      std::fprintf(stderr, "sluice_gen_logs: unknown flag %s\n", argv[i - 1]);
      usage(stderr);
      return 2;
    }
    if (!ok) {
      std::fprintf(stderr, "sluice_gen_logs: bad value for %s: '%s'\n", argv[i - 1], value);
      return 2;
    }
  }

  const int64_t span = static_cast<int64_t>(days) * kSecondsPerDay * kMicrosPerSecond;
  const int64_t end_micros = static_cast<int64_t>(end) * kMicrosPerSecond;
  Generator gen(seed, end_micros - span, span, count);
  Out out, msg;
  out.str().reserve(kFlushBytes + 65536);
  uint64_t bytes = 0, payload = 0;
  int64_t first = 0, last = 0;
  std::map<int64_t, uint64_t> per_day;
  int64_t day = std::numeric_limits<int64_t>::min();
  uint64_t day_count = 0;
  std::string needle;
  int64_t needle_micros = 0;
  const uint64_t needle_at = count / 2;
  auto flush = [&]() {
    const std::string& s = out.str();
    size_t done = 0;
    while (done < s.size()) {
      const ssize_t n = ::write(STDOUT_FILENO, s.data() + done, s.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        std::perror("sluice_gen_logs: write");
        std::exit(1);
      }
      done += static_cast<size_t>(n);
    }
    bytes += s.size();
    out.str().clear();
  };
  for (uint64_t i = 0; i < count; ++i) {
    msg.str().clear();
    gen.message(i, msg);
    const int64_t t = gen.clock().micros();
    if (i == 0) first = t;
    last = t;
    const int64_t d = t / (kSecondsPerDay * kMicrosPerSecond);
    if (d != day) {
      if (day_count != 0) per_day[day] += day_count;
      day = d;
      day_count = 0;
    }
    ++day_count;
    // The needle: a request id in the middle of the stream (the first app
    // line from there on); 128 random bits, so it occurs once.
    if (i >= needle_at && needle.empty() && !gen.last_request_id().empty() &&
        msg.str().find(gen.last_request_id()) != std::string::npos) {
      needle = gen.last_request_id();
      needle_micros = t;
    }
    payload += msg.str().size();
    if (octet) {
      out.num(msg.str().size());
      out.put(' ');
      out.put(msg.str());
    } else {
      out.put(msg.str());
      out.put('\n');
    }
    if (out.str().size() >= kFlushBytes) flush();
  }
  if (day_count != 0) per_day[day] += day_count;
  flush();

  std::string days_json;
  for (const auto& [d, n] : per_day) {
    if (!days_json.empty()) days_json.push_back(',');
    days_json.push_back('"');
    days_json.append(day_name(d));
    days_json.append("\":");
    days_json.append(std::to_string(n));
  }
  std::fprintf(stderr,
               "{\"events\":%llu,\"bytes\":%llu,\"payload_bytes\":%llu,\"seed\":%llu,\"days\":%llu,"
               "\"end\":%llu,\"framing\":\"%s\",\"first_unix_us\":%lld,\"last_unix_us\":%lld,"
               "\"needle\":\"%s\",\"needle_unix_us\":%lld,\"per_day\":{%s}}\n",
               static_cast<unsigned long long>(count), static_cast<unsigned long long>(bytes),
               static_cast<unsigned long long>(payload), static_cast<unsigned long long>(seed),
               static_cast<unsigned long long>(days), static_cast<unsigned long long>(end), octet ? "octet" : "lf",
               static_cast<long long>(first), static_cast<long long>(last), needle.c_str(), static_cast<long long>(needle_micros),
               days_json.c_str());
  return 0;
}
