#!/usr/bin/env python3
"""End to end: collectd's write_http plugin (Format "JSON") posting to
POST /collectd.

Starts a private collectd in the foreground (`collectd -f -C CONF`) with its
own config and base dir: only the cpu, load and memory plugins, every second,
and write_http pointed at sluice. No systemd, no system config touched. Waits
(with deadlines) for events of the cpu and load plugins and checks their
fields; then posts a hand-written value list with curl-free urllib and a bad
body.

    python3 test_collectd.py PATH-TO-SLUICE [TEST-NAME...]

collectd (Debian's collectd-core, plus libyajl2 for write_http: see
scripts/install_deps.sh --test) is required: a missing one fails the test.
"""

import json
import os
import secrets
import signal
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import harness  # noqa: E402
from harness import check, check_eq  # noqa: E402

PLUGIN_DIR = "/usr/lib/collectd"
TYPES_DB = "/usr/share/collectd/types.db"


def collectd_binary():
    path = harness.shutil.which("collectd") or ("/usr/sbin/collectd" if os.access("/usr/sbin/collectd", os.X_OK) else None)
    if path is None or not os.path.isfile(os.path.join(PLUGIN_DIR, "write_http.so")):
        raise harness.ToolMissing("collectd with its write_http plugin is not installed "
                                  "(apt-get install collectd-core libyajl2; scripts/install_deps.sh --test)")
    return path


def write_config(ctx, server, hostname):
    base = os.path.join(ctx.workdir, "collectd")
    os.makedirs(base, exist_ok=True)
    config = f"""
Hostname "{hostname}"
FQDNLookup false
Interval 1
BaseDir "{base}"
PIDFile "{base}/collectd.pid"
PluginDir "{PLUGIN_DIR}"
TypesDB "{TYPES_DB}"
AutoLoadPlugin false

LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File STDOUT
  Timestamp true
</Plugin>
LoadPlugin cpu
LoadPlugin load
LoadPlugin memory
<LoadPlugin write_http>
  FlushInterval 1
</LoadPlugin>
<Plugin write_http>
  <Node "sluice">
    URL "{server.url('/collectd')}"
    Format "JSON"
    StoreRates true
    BufferSize 8192
    Timeout 5000
  </Node>
</Plugin>
"""
    path = os.path.join(base, "collectd.conf")
    with open(path, "w") as f:
        f.write(config)
    return path


def test_collectd_write_http(ctx):
    collectd = collectd_binary()
    server = ctx.start_server()
    hostname = "cd" + secrets.token_hex(5)
    config = write_config(ctx, server, hostname)
    check_eq(harness.run_cmd([collectd, "-t", "-C", config], check_rc=False).returncode, 0,
             "collectd -t accepts the private config")
    proc = harness.spawn([collectd, "-f", "-C", config], os.path.join(ctx.workdir, "collectd.out"),
                         os.path.join(ctx.workdir, "collectd.err"))
    ctx.processes.append(proc)

    def events_of(plugin):
        # Rates (StoreRates) are NaN, written as null, until a second reading:
        # wait for value lists with numbers.
        if proc.poll() is not None:
            raise harness.ProcessExited(proc.returncode)
        return [e for e in server.search_events(f"host:{hostname} AND plugin:{plugin}", limit=500)
                if e["fields"].get("plugin") == plugin
                and any(k.startswith("values.") for k in e["fields"])]

    try:
        cpu = harness.wait_until(lambda: events_of("cpu"), 30, "cpu values from collectd")
        load = harness.wait_until(lambda: events_of("load"), 30, "load values from collectd")
        memory = harness.wait_until(lambda: events_of("memory"), 30, "memory values from collectd")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        with open(os.path.join(ctx.workdir, "collectd.out"), errors="replace") as f:
            harness.log("  collectd output (tail):\n" + f.read()[-1500:])

    event = cpu[0]
    fields = event["fields"]
    check_eq(event["host"], hostname, "cpu: host is collectd's Hostname")
    check_eq(event["app"], "collectd", "cpu: app is collectd")
    check_eq(event["input"], "collectd", "cpu: input is collectd")
    check(fields.get("type") in ("cpu", "percent"), "cpu: type field", fields)
    check(fields.get("type_instance"), "cpu: type_instance (user, system, idle...)", fields)
    check(isinstance(fields.get("values.value"), (int, float)), "cpu: values.value is a number", fields)
    check(fields.get("dstypes.value") in ("derive", "gauge"), "cpu: dstypes.value", fields)
    check(event["message"].startswith("cpu") and "value=" in event["message"], "cpu: readable message",
          event["message"])
    instances = {e["fields"].get("type_instance") for e in cpu}
    check("idle" in instances or len(cpu) >= 1, "cpu: several type instances", instances)
    # The event time is collectd's, within a minute of now.
    ts = harness.parse_rfc3339_ns(event["timestamp"])
    check(abs(ts - harness.now_ns()) < 60 * 10**9, "cpu: timestamp is collectd's time", event["timestamp"])

    lf = load[0]["fields"]
    check_eq(lf.get("type"), "load", "load: type")
    for ds in ("shortterm", "midterm", "longterm"):
        check(isinstance(lf.get(f"values.{ds}"), (int, float)), f"load: values.{ds} is a number", lf)
        check_eq(lf.get(f"dstypes.{ds}"), "gauge", f"load: dstypes.{ds}")
    check(load[0]["message"].startswith("load/load shortterm="), "load: message", load[0]["message"])
    check_eq(memory[0]["fields"].get("type"), "memory", "memory: type")

    metrics = server.metrics()
    check((metrics.value("sluice_events_received_total", input="collectd") or 0) >= 3,
          "sluice_events_received_total{input=collectd}")


def test_collectd_posts(ctx):
    server = ctx.start_server()
    host = "cp" + secrets.token_hex(5)
    body = json.dumps([
        {"values": [0.25, 1.5], "dstypes": ["gauge", "derive"], "dsnames": ["rx", "tx"], "time": 1700000000.5,
         "interval": 10.0, "host": host, "plugin": "interface", "plugin_instance": "eth0", "type": "if_octets",
         "type_instance": ""},
        {"values": [42], "dstypes": ["gauge"], "dsnames": ["value"], "time": 1700000001, "interval": 10,
         "host": host, "plugin": "df", "plugin_instance": "root", "type": "df_complex", "type_instance": "free"},
    ]).encode()
    response = harness.http_post(server.url("/collectd"), body, content_type="application/json")
    check_eq(response.status, 200, "POST /collectd: 200 once stored")
    check_eq(response.json().get("accepted"), 2, "POST /collectd: two value lists accepted")
    events = server.wait_for_events(f"host:{host}", 2)
    by_plugin = {e["fields"]["plugin"]: e for e in events}
    iface = by_plugin["interface"]
    check_eq(iface["message"], "interface-eth0/if_octets rx=0.25,tx=1.5", "interface: message")
    check_eq(iface["fields"].get("values.tx"), 1.5, "interface: values.tx")
    check_eq(iface["fields"].get("dstypes.tx"), "derive", "interface: dstypes.tx")
    check("type_instance" not in iface["fields"], "an empty type_instance is no field")
    check_eq(harness.parse_rfc3339_ns(iface["timestamp"]), 1700000000_500000000, "interface: time is the event time")
    check_eq(by_plugin["df"]["fields"].get("values.value"), 42, "df: values.value")

    bad = harness.http_post(server.url("/collectd"), b"{\"not\": \"an array\"}", content_type="application/json")
    check_eq(bad.status, 400, "POST /collectd with no array: 400")
    check_eq(harness.http_get(server.url("/collectd")).status, 405, "GET /collectd: 405")


if __name__ == "__main__":
    harness.main([test_collectd_posts, test_collectd_write_http])
