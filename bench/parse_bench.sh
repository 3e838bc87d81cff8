#!/usr/bin/env bash
# Parse-stage end to end, with backpressure: nginx access lines through a grok
# pipeline (%{COMBINEDAPACHELOG}) in the real server, with 1 and 2 parse
# workers. See bench/README.md, "Parse workers end to end".
#
#   bench/parse_bench.sh                         # 500,000 events, 3 runs, W=1 and W=2
#   bench/parse_bench.sh --events 100000 --runs 1 --workers 1,2
#   bench/parse_bench.sh --queue-max-bytes 4194304 --build-dir build-release
#   bench/parse_bench.sh --syslog-ng             # also syslog-ng 3.38 on the same lines
#   bench/parse_bench.sh --rsyslog               # also rsyslog + mmnormalize on the same lines
#
# Prints a markdown table on stdout (progress on stderr) and writes JSON with
# every run to --out (default bench/results/parse/latest.json). --syslog-ng
# unpacks syslog-ng with scripts/install_syslog_ng.sh into $SLUICE_SYSLOG_NG_DIR
# (default /opt/sluice-test/syslog-ng) if it is not there yet. --rsyslog runs
# $SLUICE_RSYSLOGD (default rsyslogd on PATH, else /usr/sbin/rsyslogd) and
# installs Debian's rsyslog with apt (as root) if it or mmnormalize is missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
build_dir="$root/build"
syslog_ng=0
rsyslog=0
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir="$2"; shift 2 ;;
    --syslog-ng) syslog_ng=1; args+=("$1"); shift ;;
    --rsyslog) rsyslog=1; args+=("$1"); shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
[[ "$build_dir" = /* ]] || build_dir="$root/$build_dir"

if [[ ! -x "$build_dir/sluice" ]]; then
  echo "parse_bench: $build_dir/sluice is missing; build it (Release): cmake --build $build_dir --target sluice" >&2
  exit 1
fi
cache="$build_dir/CMakeCache.txt"
if [[ -f "$cache" ]] && { grep -q '^CMAKE_BUILD_TYPE:STRING=Debug' "$cache" || grep -q '^SLUICE_SANITIZE:BOOL=ON' "$cache"; }; then
  echo "parse_bench: $build_dir is a Debug or sanitizer build; pass --build-dir of a Release tree" >&2
  exit 1
fi

export SLUICE_SYSLOG_NG_DIR="${SLUICE_SYSLOG_NG_DIR:-/opt/sluice-test/syslog-ng}"
if [[ $syslog_ng -eq 1 && ! -x "$SLUICE_SYSLOG_NG_DIR/usr/sbin/syslog-ng" ]]; then
  echo "parse_bench: syslog-ng is missing; running scripts/install_syslog_ng.sh" >&2
  "$root/scripts/install_syslog_ng.sh" "$SLUICE_SYSLOG_NG_DIR"
fi

export SLUICE_RSYSLOGD="${SLUICE_RSYSLOGD:-$(command -v rsyslogd || echo /usr/sbin/rsyslogd)}"
has_mmnormalize() { compgen -G '/usr/lib/*/rsyslog/mmnormalize.so' >/dev/null; }
if [[ $rsyslog -eq 1 ]] && { [[ ! -x "$SLUICE_RSYSLOGD" ]] || ! has_mmnormalize; }; then
  # Debian's rsyslog ships imfile and mmnormalize (liblognorm). Only the
  # binaries are wanted: keep the package from starting the system rsyslog.
  [[ $(id -u) -eq 0 ]] || { echo "parse_bench: rsyslog is missing (run as root, or: sudo apt-get install rsyslog)" >&2; exit 1; }
  echo "parse_bench: installing rsyslog" >&2
  policy_added=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy_added=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get -qq install -y --no-install-recommends rsyslog >/dev/null 2>&1 ||
    { apt-get -qq update >/dev/null && apt-get -qq install -y --no-install-recommends rsyslog >/dev/null; } || true
  if [[ $policy_added -eq 1 ]]; then rm -f /usr/sbin/policy-rc.d; fi
  SLUICE_RSYSLOGD="$(command -v rsyslogd || echo /usr/sbin/rsyslogd)"
  [[ -x "$SLUICE_RSYSLOGD" ]] && has_mmnormalize || { echo "parse_bench: installing rsyslog failed" >&2; exit 1; }
fi

# A copy, so a rebuild of the tree during the run cannot change the binary.
work="$(mktemp -d /tmp/sluice-parse-bench.XXXXXX)"
cp "$build_dir/sluice" "$work/sluice"
exec python3 - --root "$root" --binary "$work/sluice" --work "$work" ${args[@]+"${args[@]}"} <<'PY'
"""parse_bench: nginx lines through sluice's grok pipeline, W=1 and W=2 (and syslog-ng, rsyslog)."""
import argparse, datetime, filecmp, http.client, json, os, platform, random, re, resource
import signal, socket, statistics, subprocess, sys, time

CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1 << 20


def log(*a):
    print("parse_bench:", *a, file=sys.stderr, flush=True)


# --------------------------------------------------------------- the stream
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.3 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
    "curl/7.88.1", "Go-http-client/1.1",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"]
REFERERS = ["-", "-", "https://shop.example.com/", "https://shop.example.com/cart",
            "https://www.google.com/"]
USERS = ["alice", "bob", "carol", "deploy", "ops"]
STATUS = [200] * 7 + [304, 301, 404, 500]
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def nginx_lines(n, seed):
    """n nginx access lines (combined log format), the MSG only; seeded."""
    rng = random.Random(seed)
    r = rng.randrange
    base = datetime.datetime(2025, 3, 1, tzinfo=datetime.timezone.utc)
    micros = 0
    for _ in range(n):
        micros += 1 + r(999)
        t = base + datetime.timedelta(microseconds=micros)
        user = USERS[r(len(USERS))] if r(10) == 0 else "-"
        m = r(20)
        method = "GET" if m < 15 else "POST" if m < 18 else "PUT" if m < 19 else "DELETE"
        k = r(8)
        path = ["/", f"/api/v1/orders/{100000 + r(900000)}", f"/api/v1/users/{1 + r(50000)}",
                f"/static/js/app.{r(1 << 30)}.js", "/static/css/main.css",
                f"/search?q=item{r(5000)}&page={1 + r(9)}", f"/products/{1 + r(20000)}",
                "/wp-login.php"][k]
        version = "HTTP/2.0" if r(4) == 0 else "HTTP/1.1"
        status = STATUS[r(len(STATUS))]
        size = 0 if status == 304 else 100 + r(250000)
        host = 1 + r(20)
        ip = f"{1 + r(223)}.{r(256)}.{r(256)}.{1 + r(254)}"
        msg = (f'{ip} - {user} [{t.day:02d}/{MONTHS[t.month - 1]}/{t.year}:{t:%H:%M:%S} +0000] '
               f'"{method} {path} {version}" {status} {size} "{REFERERS[r(len(REFERERS))]}" '
               f'"{AGENTS[r(len(AGENTS))]}"')
        yield (f"<190>1 {t:%Y-%m-%dT%H:%M:%S}.{t.microsecond:06d}Z web-{host:02d} nginx "
               f"{1000 + host * 10 + r(4)} access - {msg}")


def write_stream(path, n, seed):
    """RFC 6587 octet counting (LEN SP MSG), as sluice_loadgen's tcp transport."""
    payload = 0
    with open(path, "wb") as f:
        chunk = []
        for line in nginx_lines(n, seed):
            b = line.encode()
            payload += len(b)
            chunk.append(b"%d %s" % (len(b), b))
            if len(chunk) == 10000:
                f.write(b"".join(chunk))
                chunk = []
        f.write(b"".join(chunk))
    return payload


def write_lines(path, n, seed):
    """The same frames, one per line (MSG LF): what syslog-ng's file() source
    with flags(syslog-protocol) reads (RFC 5424 without the octet count)."""
    with open(path, "wb") as f:
        chunk = []
        for line in nginx_lines(n, seed):
            chunk.append(line.encode() + b"\n")
            if len(chunk) == 10000:
                f.write(b"".join(chunk))
                chunk = []
        f.write(b"".join(chunk))


# syslog-ng's parse: a PCRE regexp-parser() with the combined-log fields, the
# events written by a file() destination with seven of them; anything the
# regexp does not match goes to fail.txt. Same regexp as the output check.
APACHE_RE = (r'''^(?<clientip>\S+) (?<ident>\S+) (?<auth>\S+) \[(?<timestamp>[^\]]+)\] '''
             r'''"(?:(?<verb>\w+) (?<request>\S+)(?: HTTP/(?<httpversion>[0-9.]+))?|(?<rawrequest>[^"]*))" '''
             r'''(?<response>\d+|-) (?<bytes>\d+|-) "(?<referrer>[^"]*)" "(?<agent>[^"]*)"''')
SNG_FIELDS = ("clientip", "verb", "request", "httpversion", "response", "bytes", "agent")
SNG_CONFIG = """\
@version: {version}
options {{ use_dns(no); dns_cache(no); keep_hostname(yes); stats_freq(0); }};
source s_file {{ file("{lines}" flags(syslog-protocol) follow-freq(1) log-fetch-limit(1000)
                     log-iw-size(100000) keep-timestamp(yes)); }};
parser p_apache {{ regexp-parser(prefix(".apache.") patterns('{regexp}')); }};
destination d_out {{ file("{out}" template("{template}\\n") flush-lines(1000)); }};
destination d_fail {{ file("{fail}"); }};
log {{ source(s_file); parser(p_apache); destination(d_out); flags(final); }};
log {{ source(s_file); destination(d_fail); }};
"""


def write_expected(path, n, seed):
    """What syslog-ng must write for the lines: the template, filled by Python's re."""
    rx = re.compile(APACHE_RE.replace("(?<", "(?P<"))
    with open(path, "w") as f:
        for line in nginx_lines(n, seed):
            m = rx.match(line.split(" ", 7)[7])
            if m is None:
                raise RuntimeError(f"the regexp does not match a generated line: {line}")
            f.write(" ".join(m.group(k) or "" for k in SNG_FIELDS) + "\n")


# rsyslog's parse: imfile reads the same lines.txt as syslog-ng, needParse="on"
# runs the RFC 5424 parser on each line (as syslog-ng's flags(syslog-protocol)),
# mmnormalize (liblognorm, rulebase v2) extracts the same fields from MSG as
# APACHE_RE, and an omfile template writes the same seven as syslog-ng's, so
# the output must hold expected.txt's lines (in any order). One rule per form of APACHE_RE's
# request ("VERB URI HTTP/V", "VERB URI", anything else as rawrequest);
# response and bytes take a number or "-"; anything after the agent's closing
# quote is skipped (the regexp is not anchored at the end). Lines no rule
# matches ($parsesuccess != "OK") go to fail.txt with $!unparsed-data.
_RB_HEAD = r'%clientip:word% %ident:word% %auth:word% [%timestamp:char-to{"extradata":"]"}%] "'
_RB_NUM_OR_DASH = (r'%{{"type":"alternative","parser":[{{"name":"{0}","type":"number"}},'
                   r'{{"name":"{0}","type":"literal","text":"-"}}]}}%')
_RB_TAIL = ('" ' + _RB_NUM_OR_DASH.format("response") + " " + _RB_NUM_OR_DASH.format("bytes")
            + r' "%referrer:char-sep{"extradata":"\""}%" "%agent:char-sep{"extradata":"\""}%"%-:rest%')
_RB_REQUESTS = (r'%verb:word% %request:word% HTTP/%httpversion:char-to{"extradata":"\""}%',
                r'%verb:word% %request:char-sep{"extradata":" \""}%',
                r'%rawrequest:char-sep{"extradata":"\""}%')
RSYSLOG_RULEBASE = "version=2\n" + "".join(f"rule=:{_RB_HEAD}{r}{_RB_TAIL}\n" for r in _RB_REQUESTS)
RSYSLOG_CONFIG = """\
# Private benchmark instance: no /dev/log, no kernel log, no system rules.
global(workDirectory="{work}" maxMessageSize="64k" net.enableDNS="off")
module(load="imfile")
module(load="mmnormalize")
template(name="fields" type="string" string="{template}\\n")
template(name="failed" type="string" string="%rawmsg% | unparsed: %$!unparsed-data%\\n")
ruleset(name="bench") {{
  action(type="mmnormalize" ruleBase="{rulebase}")
  if $parsesuccess == "OK" then {{
    action(type="omfile" file="{out}" template="fields")
  }} else {{
    action(type="omfile" file="{fail}" template="failed")
  }}
}}
input(type="imfile" file="{lines}" tag="nginx" addMetadata="off" needParse="on" ruleset="bench")
# rsyslog's own messages (the default ruleset).
action(type="omfile" file="{internal}")
"""


def first_difference(path_a, path_b):
    with open(path_a, "rb") as fa, open(path_b, "rb") as fb:
        for i, (x, y) in enumerate(zip(fa, fb), 1):
            if x != y:
                return f"line {i}: {x[:200]!r} != {y[:200]!r}"
    return "one file is a prefix of the other"


def multiset_difference(path_out, path_expected):
    """None if both files hold the same lines in any order, else what differs."""
    import collections
    with open(path_out, "rb") as f:
        got = collections.Counter(f)
    with open(path_expected, "rb") as f:
        want = collections.Counter(f)
    if got == want:
        return None
    extra, missing = got - want, want - got
    return (f"{sum(extra.values())} unexpected lines (e.g. {next(iter(extra), b'')[:200]!r}), "
            f"{sum(missing.values())} expected lines missing (e.g. {next(iter(missing), b'')[:200]!r})")


# The sender: its own process (no GIL shared with the poller). Connects, then
# prints the wall clock at the first write and sends the file in 256 KiB
# writes; half-closes and reads until the server closes, so it never closes
# with unread bytes (a RST would make the kernel discard unread data).
SENDER = r'''
import json, socket, sys, time
path, port = sys.argv[1], int(sys.argv[2])
data = memoryview(open(path, "rb").read())
s = socket.create_connection(("127.0.0.1", port))
start = time.time_ns()
for i in range(0, len(data), 262144):
    s.sendall(data[i:i + 262144])
end = time.time_ns()
s.shutdown(socket.SHUT_WR)
s.settimeout(600)
while s.recv(65536):
    pass
print(json.dumps({"start_unix_ns": start, "end_unix_ns": end, "bytes": len(data)}), flush=True)
'''


# --------------------------------------------------------------- helpers
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine_busy_s():
    with open("/proc/stat") as f:
        fields = f.readline().split()
    user, nice, system, _idle, _iowait, _irq, _softirq, steal = (int(x) for x in fields[1:9])
    return (user + nice + system + steal) / CLK_TCK


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def own_and_children_cpu():
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Http:
    def __init__(self, port):
        self.port = port
        self.conn = None

    def get(self, path):
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                self.conn.request("GET", path)
                r = self.conn.getresponse()
                return r.status, r.read()
            except (OSError, http.client.HTTPException):
                self.conn = None
                if attempt:
                    raise


def metrics(client):
    _, body = client.get("/metrics")
    out = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


CONFIG = """\
ingest:
  queue_max_bytes: {queue}
pipelines:
  - name: nginx
    inputs: [syslog_tcp]
    if: app == "nginx"
    processors:
      - grok:
          source: message
          patterns: ['%{{COMBINEDAPACHELOG}}']
"""


# --------------------------------------------------------------- one run
def one_run(a, workers, run, stream, n, payload):
    d = os.path.join(a.work, f"run{run}-w{workers}")
    os.makedirs(d)
    cfg = os.path.join(d, "sluice.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(queue=a.queue_max_bytes))
    sport, hport = free_port(), free_port()
    cmd = [a.binary, "serve", "--config", cfg, "--data", os.path.join(d, "data"),
           "--syslog", f"127.0.0.1:{sport}", "--http", f"127.0.0.1:{hport}",
           "--workers", str(workers)]
    out = open(os.path.join(d, "server.log"), "wb")
    server = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    client = Http(hport)
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"sluice exited with {server.returncode}; see {d}/server.log")
            try:
                if client.get("/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("sluice /healthz never answered 200")
            time.sleep(0.02)

        cpu0 = cpu_seconds(server.pid)
        busy0, ours0, t0 = machine_busy_s(), own_and_children_cpu(), time.monotonic()
        sender = subprocess.Popen([sys.executable, "-c", SENDER, stream, str(sport)],
                                  stdout=subprocess.PIPE, text=True)
        key_stored = 'sluice_events_stored_total{input="syslog_tcp"}'
        max_queue, samples, done_ns, stored = 0.0, 0, None, 0
        deadline = time.monotonic() + a.timeout
        while True:
            m = metrics(client)
            now = time.time_ns()
            samples += 1
            max_queue = max(max_queue, m.get("sluice_queue_bytes", 0.0))
            stored = int(m.get(key_stored, 0))
            if stored >= n:
                done_ns = now
                break
            if server.poll() is not None:
                raise RuntimeError(f"sluice exited with {server.returncode} during the run")
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {stored} of {n} events stored after {a.timeout} s")
            time.sleep(a.poll_ms / 1000)
        sent = json.loads(sender.communicate(timeout=60)[0])
        if sender.returncode != 0:
            raise RuntimeError("the sender failed")
        cpu = cpu_seconds(server.pid) - cpu0
        # Others' CPU: the machine's busy time minus the server's, this
        # script's and the sender's (reaped above).
        others = (machine_busy_s() - busy0) - cpu - (own_and_children_cpu() - ours0)
        others_pct = 100 * max(0.0, others) / ((time.monotonic() - t0) * os.cpu_count())
        rss = peak_rss_mib(server.pid)
        m = metrics(client)
        # The output check: every event received, stored, parsed by the pipeline.
        received = int(m['sluice_events_received_total{input="syslog_tcp"}'])
        failures = int(m['sluice_parse_failures_total{input="syslog_tcp"}'])
        dropped = sum(int(v) for k, v in m.items()
                      if k.startswith('sluice_events_dropped_total{input="syslog_tcp"'))
        status, body = client.get("/api/search?limit=3")
        hits = json.loads(body)
        text = json.dumps(hits)
        problems = []
        if received != n or stored != n:
            problems.append(f"received {received}, stored {stored}, sent {n}")
        if failures or dropped:
            problems.append(f"{failures} parse failures, {dropped} dropped")
        if status != 200 or not all(f in text for f in ('"clientip"', '"verb"', '"agent"')):
            problems.append(f"a search does not show the grok fields: {status} {text[:300]}")
        if problems:
            raise RuntimeError("; ".join(problems))
        wall = (done_ns - sent["start_unix_ns"]) / 1e9
        return {
            "workers": workers, "run": run, "events": n, "wall_s": round(wall, 3),
            "events_per_s": round(n / wall), "mib_per_s": round(payload / MIB / wall, 2),
            "cpu_s": round(cpu, 2), "cpu_s_per_1m": round(cpu * 1e6 / n, 2),
            "max_queue_bytes": int(max_queue), "queue_samples": samples,
            "sender_s": round((sent["end_unix_ns"] - sent["start_unix_ns"]) / 1e9, 3),
            "peak_rss_mib": round(rss, 1), "others_cpu_pct": round(others_pct, 1)}
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                rc = server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                rc = server.wait()
            if rc != 0:
                log(f"sluice exited with {rc} on SIGTERM; see {d}/server.log")
        out.close()


# --------------------------------------------------------------- syslog-ng
def sng_version(sng_dir):
    with open(os.path.join(sng_dir, "VERSION")) as f:
        return f.read().strip()  # e.g. 3.38.1-5+deb12u1


def count_lines(path, state):
    """Lines in a growing file, read incrementally; state = [offset, count]."""
    try:
        with open(path, "rb") as f:
            f.seek(state[0])
            data = f.read()
    except FileNotFoundError:
        return state[1]
    state[0] += len(data)
    state[1] += data.count(b"\n")
    return state[1]


def run_peer(a, n, name, cmd, log_path, accounted, env=None):
    """Runs a peer from file to file: starts `cmd` (the clock starts before the
    process does: its file input reads at once, so start-up is inside the wall
    time and the CPU), polls until accounted() reaches the events, measures,
    and stops it with SIGTERM. Returns what was measured and its exit code."""
    log_f = open(log_path, "wb")
    busy0, ours0, t0 = machine_busy_s(), own_and_children_cpu(), time.monotonic()
    start_ns = time.time_ns()
    server = subprocess.Popen(cmd, stdout=log_f, stderr=subprocess.STDOUT, env=env)
    try:
        samples = 0
        deadline = time.monotonic() + a.timeout
        while True:
            got = accounted()
            now = time.time_ns()
            samples += 1
            if got >= n:
                break
            if server.poll() is not None:
                raise RuntimeError(f"{name} exited with {server.returncode}; see {log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} wrote only {got} of {n} lines after {a.timeout} s")
            time.sleep(a.poll_ms / 1000)
        cpu = cpu_seconds(server.pid)
        rss = peak_rss_mib(server.pid)
        others = (machine_busy_s() - busy0) - cpu - (own_and_children_cpu() - ours0)
        others_pct = 100 * max(0.0, others) / ((time.monotonic() - t0) * os.cpu_count())
        server.send_signal(signal.SIGTERM)
        try:
            rc = server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            rc = server.wait()
        return {"wall_s": (now - start_ns) / 1e9, "cpu_s": cpu, "peak_rss_mib": rss,
                "others_cpu_pct": others_pct, "queue_samples": samples}, rc
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        log_f.close()


def peer_result(name, run, n, payload, m, failures):
    wall, cpu = m["wall_s"], m["cpu_s"]
    return {
        "workers": name, "run": run, "events": n, "wall_s": round(wall, 3),
        "events_per_s": round(n / wall), "mib_per_s": round(payload / MIB / wall, 2),
        "cpu_s": round(cpu, 2), "cpu_s_per_1m": round(cpu * 1e6 / n, 2),
        "max_queue_bytes": 0, "queue_samples": m["queue_samples"], "sender_s": 0.0,
        "peak_rss_mib": round(m["peak_rss_mib"], 1), "others_cpu_pct": round(m["others_cpu_pct"], 1),
        "failures": failures}


def one_run_sng(a, run, lines, expected, n, payload):
    d = os.path.join(a.work, f"run{run}-sng")
    os.makedirs(d)
    full = sng_version(a.sng_dir)
    minor = ".".join(full.split(".")[:2])
    libs = os.path.join(a.sng_dir, "usr", "lib", "syslog-ng")
    out_txt, fail_txt = os.path.join(d, "out.txt"), os.path.join(d, "fail.txt")
    cfg = os.path.join(d, "syslog-ng.conf")
    with open(cfg, "w") as f:
        f.write(SNG_CONFIG.format(
            version=minor, lines=lines, out=out_txt, fail=fail_txt, regexp=APACHE_RE,
            template=" ".join("${.apache.%s}" % k for k in SNG_FIELDS)))
    cmd = [os.path.join(a.sng_dir, "usr", "sbin", "syslog-ng"), "--foreground", "--stderr",
           "--no-caps", "--cfgfile", cfg, "--module-path", os.path.join(libs, minor),
           "--pidfile", os.path.join(d, "syslog-ng.pid"), "--control", os.path.join(d, "syslog-ng.ctl"),
           "--persist-file", os.path.join(d, "syslog-ng.persist")]
    state = [0, 0]
    m, rc = run_peer(a, n, "syslog-ng", cmd, os.path.join(d, "syslog-ng.log"),
                     lambda: count_lines(out_txt, state), env=dict(os.environ, LD_LIBRARY_PATH=libs))
    # The output check, after the stop (everything flushed): exactly N
    # lines, byte for byte the template filled from the generated lines,
    # and nothing in fail.txt.
    written = count_lines(out_txt, state)
    failures = count_lines(fail_txt, [0, 0])
    problems = []
    if rc != 0:
        problems.append(f"syslog-ng exited with {rc} on SIGTERM")
    if written != n or failures:
        problems.append(f"{written} lines written of {n}, {failures} failures")
    elif not filecmp.cmp(out_txt, expected, shallow=False):
        problems.append(f"the output differs from the expected fields, "
                        f"{first_difference(out_txt, expected)}")
    if problems:
        raise RuntimeError("; ".join(problems) + f"; see {d}")
    return peer_result("syslog-ng", run, n, payload, m, failures)


# --------------------------------------------------------------- rsyslog
def rsyslog_version(rsyslogd):
    """e.g. 8.2302.0 (rsyslog 8.2302.0-1+deb12u2, liblognorm5 2.0.6-4)."""
    out = subprocess.run([rsyslogd, "-v"], capture_output=True, text=True).stdout
    m = re.search(r"rsyslogd\s+(\S+)", out)
    version = m.group(1) if m else "?"
    pkgs = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\n", "rsyslog", "liblognorm5"],
                          capture_output=True, text=True).stdout.split("\n")
    pkgs = ", ".join(p for p in pkgs if p.strip())
    return f"{version} ({pkgs})" if pkgs else version


def one_run_rs(a, run, lines, expected, n, payload):
    d = os.path.join(a.work, f"run{run}-rs")
    work = os.path.join(d, "work")
    os.makedirs(work)
    out_txt, fail_txt = os.path.join(d, "out.txt"), os.path.join(d, "fail.txt")
    rulebase, cfg = os.path.join(d, "apache.rulebase"), os.path.join(d, "rsyslog.conf")
    with open(rulebase, "w") as f:
        f.write(RSYSLOG_RULEBASE)
    with open(cfg, "w") as f:
        f.write(RSYSLOG_CONFIG.format(
            work=work, lines=lines, out=out_txt, fail=fail_txt, rulebase=rulebase,
            internal=os.path.join(d, "rsyslog-internal.log"),
            template=" ".join("%$!" + k + "%" for k in SNG_FIELDS)))
    cmd = [a.rsyslogd, "-n", "-f", cfg, "-i", os.path.join(d, "rsyslog.pid")]
    # Done when every line is accounted for: written, or failed to parse.
    state, fstate = [0, 0], [0, 0]
    m, rc = run_peer(a, n, "rsyslogd", cmd, os.path.join(d, "rsyslog.log"),
                     lambda: count_lines(out_txt, state) + count_lines(fail_txt, fstate))
    # The output check, after the stop: exactly N lines, byte for byte the
    # template filled from the generated lines (the same expected.txt as
    # syslog-ng's) but in any order (the main queue's worker threads write
    # batches out of order), and no line mmnormalize did not parse.
    written = count_lines(out_txt, state)
    failures = count_lines(fail_txt, fstate)
    problems = []
    if rc != 0:
        problems.append(f"rsyslogd exited with {rc} on SIGTERM")
    if failures:
        with open(fail_txt, errors="replace") as f:
            first = f.readline().rstrip("\n")
        problems.append(f"mmnormalize did not parse {failures} of {n} lines "
                        f"($parsesuccess != OK), first: {first[:400]}")
    if written != n:
        problems.append(f"{written} lines written of {n}")
    elif not filecmp.cmp(out_txt, expected, shallow=False):
        diff = multiset_difference(out_txt, expected)
        if diff:
            problems.append(f"the output differs from the expected fields: {diff}")
    if problems:
        raise RuntimeError("rsyslog: " + "; ".join(problems) + f"; see {d}")
    return peer_result("rsyslog", run, n, payload, m, failures)


# --------------------------------------------------------------- main
def main():
    p = argparse.ArgumentParser(prog="parse_bench.sh")
    p.add_argument("--root", required=True)
    p.add_argument("--binary", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--events", type=int, default=500000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--workers", default="1,2")
    p.add_argument("--queue-max-bytes", type=int, default=16 << 20)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--poll-ms", type=float, default=5)
    p.add_argument("--timeout", type=float, default=300)
    p.add_argument("--out", default=None)
    p.add_argument("--keep", action="store_true")
    p.add_argument("--syslog-ng", action="store_true")
    p.add_argument("--rsyslog", action="store_true")
    a = p.parse_args()
    a.sng_dir = os.environ.get("SLUICE_SYSLOG_NG_DIR", "/opt/sluice-test/syslog-ng")
    a.rsyslogd = os.environ.get("SLUICE_RSYSLOGD", "/usr/sbin/rsyslogd")
    a.rs_version = rsyslog_version(a.rsyslogd) if a.rsyslog else None
    workers = [int(w) for w in a.workers.split(",")]
    out_path = a.out or os.path.join(a.root, "bench", "results", "parse", "latest.json")
    ok = False
    try:
        stream = os.path.join(a.work, "stream.bin")
        log(f"generating {a.events} nginx lines (seed {a.seed})")
        payload = write_stream(stream, a.events, a.seed)
        systems = list(workers)
        if a.syslog_ng or a.rsyslog:
            lines, expected = os.path.join(a.work, "lines.txt"), os.path.join(a.work, "expected.txt")
            write_lines(lines, a.events, a.seed)
            write_expected(expected, a.events, a.seed)
        if a.syslog_ng:
            systems.append("syslog-ng")
        if a.rsyslog:
            systems.append("rsyslog")
        results = []
        for run in range(1, a.runs + 1):
            # Alternate the order from run to run: neither W always goes first.
            for w in (systems if run % 2 else systems[::-1]):
                if w in ("syslog-ng", "rsyslog"):
                    one = one_run_sng if w == "syslog-ng" else one_run_rs
                    r = one(a, run, lines, expected, a.events, payload)
                    log(f"run {run} {w}: {r['events_per_s']} events/s, "
                        f"others' CPU {r['others_cpu_pct']} %")
                else:
                    r = one_run(a, w, run, stream, a.events, payload)
                    log(f"run {run} W={w}: {r['events_per_s']} events/s, max queue "
                        f"{r['max_queue_bytes'] / MIB:.2f} MiB, others' CPU {r['others_cpu_pct']} %")
                results.append(r)
        report(a, workers, results, payload, out_path)
        ok = True
    finally:
        if ok and not a.keep:
            subprocess.run(["rm", "-rf", a.work])
        else:
            log(f"kept {a.work}")


def report(a, workers, results, payload, out_path):
    med = {}
    peers = (["syslog-ng"] if a.syslog_ng else []) + (["rsyslog"] if a.rsyslog else [])
    systems = workers + peers
    for w in systems:
        rs = [r for r in results if r["workers"] == w]
        med[w] = {k: statistics.median(r[k] for r in rs)
                  for k in ("events_per_s", "mib_per_s", "wall_s", "cpu_s_per_1m", "peak_rss_mib")}
        med[w]["max_queue_bytes"] = max(r["max_queue_bytes"] for r in rs)
        med[w]["others_cpu_pct"] = max(r["others_cpu_pct"] for r in rs)
    commit = subprocess.run(["git", "-C", a.root, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "-C", a.root, "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True).stdout.strip())
    cpu_model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                      if l.startswith("model name")), platform.processor())
    limit = a.queue_max_bytes
    print(f"## Parse workers end to end: nginx lines through grok %{{COMBINEDAPACHELOG}}\n")
    print(f"commit {commit}{' (dirty)' if dirty else ''}, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
          f"{os.cpu_count()} x {cpu_model}; {a.events} events ({payload / MIB:.1f} MiB payload, "
          f"{payload / a.events:.0f} bytes/event) over one TCP connection, median of {a.runs} runs; "
          f"ingest.queue_max_bytes {limit} ({limit / MIB:.0f} MiB)\n")
    print(f"command: `{' '.join(['bench/parse_bench.sh'] + sys.argv[7:])}`\n")
    print("| workers | events/s | MiB/s | wall s | CPU s per 1M events | max sluice_queue_bytes | "
          "of queue_max_bytes | peak RSS MiB | others' CPU % (worst) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for w in workers:
        m = med[w]
        print(f"| {w} | {m['events_per_s']:.0f} | {m['mib_per_s']:.1f} | {m['wall_s']:.2f} | "
              f"{m['cpu_s_per_1m']:.2f} | {m['max_queue_bytes'] / MIB:.2f} MiB | "
              f"{100 * m['max_queue_bytes'] / limit:.0f} % | {m['peak_rss_mib']:.0f} | {m['others_cpu_pct']:.1f} |")
    for peer in peers:
        m = med[peer]
        print(f"| {peer} | {m['events_per_s']:.0f} | {m['mib_per_s']:.1f} | {m['wall_s']:.2f} | "
              f"{m['cpu_s_per_1m']:.2f} | – | – | {m['peak_rss_mib']:.0f} | {m['others_cpu_pct']:.1f} |")
    if len(workers) >= 2:
        w1, w2 = workers[0], workers[-1]
        print(f"\nratio W={w2} / W={w1}: events/s {med[w2]['events_per_s'] / med[w1]['events_per_s']:.2f}, "
              f"CPU per event {med[w2]['cpu_s_per_1m'] / med[w1]['cpu_s_per_1m']:.2f}")
    # sluice at its most parse workers against each peer (W=2 by default).
    ws = max(workers)
    ratios = {peer: {"workers": ws,
                     "events_per_s": round(med[ws]["events_per_s"] / med[peer]["events_per_s"], 3),
                     "cpu_s_per_1m": round(med[ws]["cpu_s_per_1m"] / med[peer]["cpu_s_per_1m"], 3)}
              for peer in peers}
    versions = {"syslog-ng": sng_version(a.sng_dir) if a.syslog_ng else None,
                "rsyslog": a.rs_version}
    what = {"syslog-ng": "regexp-parser()", "rsyslog": "imfile + mmnormalize"}
    for peer in peers:
        r = ratios[peer]
        print(f"\nratio sluice (W={ws}) / {peer} {versions[peer]}: events/s "
              f"{r['events_per_s']:.2f}, CPU per event {r['cpu_s_per_1m']:.2f} "
              f"({peer} {what[peer]} reads a file and writes seven fields to a file: "
              f"no TCP, no index, no store)")
    # One batch (ingest.batch_max_bytes, 1 MiB by default) over the bound is
    # the expected overshoot: a reader's batch is admitted whole.
    worst = max(r["max_queue_bytes"] for r in results if r["workers"] not in peers)
    bounded = worst <= limit + (1 << 20) + 65536
    print(f"\nqueue bounded: {'yes' if bounded else 'NO'} (highest sample {worst} bytes, "
          f"limit {limit} + one 1 MiB batch)\n")
    print("| run | workers | events/s | MiB/s | wall s | sender s | CPU s | max queue MiB | samples | others' CPU % |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        sl = r["workers"] not in peers
        sender = r["sender_s"] if sl else "–"
        queue = f"{r['max_queue_bytes'] / MIB:.2f}" if sl else "–"
        print(f"| {r['run']} | {r['workers']} | {r['events_per_s']} | {r['mib_per_s']} | {r['wall_s']} | "
              f"{sender} | {r['cpu_s']} | {queue} | {r['queue_samples']} | "
              f"{r['others_cpu_pct']} |")
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "w") as f:
        json.dump({"schema": 1, "commit": commit, "dirty": dirty, "events": a.events,
                   "payload_bytes": payload, "queue_max_bytes": limit, "seed": a.seed,
                   "machine": {"nproc": os.cpu_count(), "cpu": cpu_model, "kernel": platform.release()},
                   "command": "bench/parse_bench.sh " + " ".join(sys.argv[7:]),
                   "medians": {str(w): med[w] for w in systems}, "queue_bounded": bounded,
                   "syslog_ng": ({"version": versions["syslog-ng"], "ratio_sluice": ratios["syslog-ng"]}
                                 if a.syslog_ng else None),
                   "rsyslog": ({"version": a.rs_version, "ratio_sluice": ratios["rsyslog"],
                                "parser": "imfile (needParse) + mmnormalize, rulebase v2"}
                               if a.rsyslog else None),
                   "runs": results}, f, indent=1)
    log(f"wrote {out_path}")
    if not bounded:
        sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    except RuntimeError as e:
        log(f"error: {e}")
        sys.exit(1)
PY
