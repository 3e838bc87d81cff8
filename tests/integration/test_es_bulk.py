#!/usr/bin/env python3
"""End to end: the Elasticsearch bulk API (POST /_bulk, /<index>/_bulk) and the
handshakes shippers make before it.

  - the official JavaScript client (@elastic/elasticsearch from
    .tools/node, scripts/install_node_tools.sh) runs tests/es/bulk_helper.js:
    info, cluster health, index creation, then client.helpers.bulk with
    thousands of distinct documents; each is then found via /api/search with
    its fields, including _index;
  - curl posts a raw bulk body with an invalid document, a delete and an
    update: per-item errors, the valid documents kept;
  - the handshake endpoints (GET /, HEAD /, /_cluster/health, /_license,
    /_xpack, index templates, ILM policies, PUT/HEAD /<index>), ES's 404 for
    unknown ES paths, and the viewer still at GET / for browsers.

    python3 test_es_bulk.py PATH-TO-SLUICE [TEST-NAME...]

node, curl and the npm client are required: a missing one fails the test.
"""

import gzip
import json
import os
import secrets
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import harness  # noqa: E402
from harness import check, check_eq  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLIENT = os.path.join(REPO, ".tools", "node", "node_modules", "@elastic", "elasticsearch")
SCRIPT = os.path.join(REPO, "tests", "es", "bulk_helper.js")
JSON_ACCEPT = {"Accept": "application/json"}
DOCUMENTS = 3000


def es_request(method, url, body=None, headers=None):
    merged = dict(JSON_ACCEPT)
    merged.update(headers or {})
    if body is not None and "Content-Type" not in merged:
        merged["Content-Type"] = "application/json"
    return harness.http_request(method, url, body=body, headers=merged, timeout=30)


def check_product_header(response, what):
    check_eq(response.headers.get("X-Elastic-Product"), "Elasticsearch", f"{what}: X-Elastic-Product header")


def search_all(server, q, expected):
    """Every event matching q (paged by cursor)."""
    events, cursor = [], None
    while True:
        body = server.search(q, limit=5000, cursor=cursor)
        events += body["events"]
        cursor = body.get("next_cursor")
        if not cursor or not body["events"] or len(events) >= expected + 10:
            return events


def test_js_client_bulk_helper(ctx):
    node = harness.require_tool("node", "apt-get install nodejs (scripts/install_deps.sh --test)")
    if not os.path.isfile(os.path.join(CLIENT, "package.json")):
        raise harness.ToolMissing(f"{CLIENT} is missing; run scripts/install_node_tools.sh")
    server = ctx.start_server()
    marker = "es" + secrets.token_hex(5)
    index = "logs-" + marker
    result = harness.run_cmd([node, SCRIPT, server.base_url, marker, str(DOCUMENTS), index], timeout=180)
    try:
        report = json.loads(result.stdout.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise harness.CheckFailed(f"bulk_helper.js printed no JSON: {result.stdout!r} {result.stderr!r}") from None
    check_eq(report["info"]["version"]["number"], "8.11.0", "client.info(): version.number")
    check_eq(report["info"]["tagline"], "You Know, for Search", "client.info(): tagline")
    check_eq(report["health"]["status"], "green", "client.cluster.health(): status")
    check_eq(report["exists"], True, "client.indices.exists() after create")
    stats = report["stats"]
    check_eq(stats["total"], DOCUMENTS, "helpers.bulk total")
    check_eq(stats["successful"], DOCUMENTS, "helpers.bulk successful")
    check_eq(stats["failed"], 0, f"helpers.bulk failed (dropped: {report['dropped'][:3]})")

    server.wait_for_events(marker, DOCUMENTS, timeout=30, limit=5000)
    events = search_all(server, marker, DOCUMENTS)
    by_seq = {}
    for event in events:
        by_seq[event["fields"].get("seq")] = event
    check_eq(len(events), DOCUMENTS, "each document stored once")
    check_eq(sorted(k for k in by_seq if isinstance(k, int)), list(range(DOCUMENTS)),
             "every document found by its seq field")
    for seq, event in sorted(by_seq.items()):
        fields = event["fields"]
        what = f"document {seq}"
        if fields.get("_index") != index:
            raise harness.CheckFailed(f"{what}: _index {fields.get('_index')!r}, expected {index!r}: {event}")
        if event["message"] != f"es doc {marker} n{seq}":
            raise harness.CheckFailed(f"{what}: message {event['message']!r}")
        if event["input"] != "es_bulk":
            raise harness.CheckFailed(f"{what}: input {event['input']!r}")
        host = event["host"] if event["host"] == "es-host" else fields.get("host.name")
        if host != "es-host":
            raise harness.CheckFailed(f"{what}: host.name not kept: {event}")
        if fields.get("labels.marker") != marker or fields.get("labels.parity") != ("even" if seq % 2 == 0 else "odd"):
            raise harness.CheckFailed(f"{what}: nested labels not kept as dotted fields: {fields}")
    check(True, f"all {DOCUMENTS} documents carry _index, message, host.name and labels.*")
    check(server.search_events(f"_index:{index} AND seq:42")[0]["fields"]["seq"] == 42,
          "search by _index and a field")
    metrics = server.metrics()
    check((metrics.value("sluice_events_received_total", input="es_bulk") or 0) >= DOCUMENTS,
          "sluice_events_received_total{input=es_bulk} counts the documents")


def test_raw_bulk_with_errors(ctx):
    curl = harness.require_tool("curl", "apt-get install curl")
    server = ctx.start_server()
    marker = "eb" + secrets.token_hex(5)
    lines = [
        {"index": {"_index": "raw-a", "_id": "id-1"}},
        {"message": f"first {marker}", "@timestamp": "2025-03-01T10:00:00.123Z", "host": "web1", "status": 200},
        {"create": {}},
        "{\"message\": \"broken " + marker + "\", ",  # invalid JSON document
        {"delete": {"_index": "raw-a", "_id": "id-1"}},
        {"update": {"_index": "raw-a", "_id": "id-1"}},
        {"doc": {"status": 500}},
        {"index": {}},
        {"message": f"third {marker}", "nested": {"deep": {"key": "v"}}},
    ]
    body = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    path = os.path.join(ctx.workdir, "bulk.ndjson")
    with open(path, "w") as f:
        f.write(body)
    result = harness.run_cmd([curl, "-sS", "-D", "-", "-H", "Content-Type: application/x-ndjson",
                              "--data-binary", f"@{path}", server.url("/path-idx/_bulk")], timeout=30)
    head, _, payload = result.stdout.decode().partition("\r\n\r\n")
    check(head.startswith("HTTP/1.1 200"), "curl POST /path-idx/_bulk: 200", head)
    check("x-elastic-product: elasticsearch" in head.lower(), "bulk answer has X-Elastic-Product")
    answer = json.loads(payload)
    check_eq(answer["errors"], True, "errors is true")
    items = answer["items"]
    check_eq([next(iter(item)) for item in items], ["index", "create", "delete", "update", "index"],
             "one item per action, in order")
    statuses = [next(iter(item.values()))["status"] for item in items]
    check_eq(statuses, [201, 400, 400, 400, 201], "per-item statuses")
    check_eq(items[0]["index"]["_id"], "id-1", "the client's _id is answered")
    check_eq(items[0]["index"]["_index"], "raw-a", "_index from the action")
    check_eq(items[4]["index"]["_index"], "path-idx", "_index from the path")
    check_eq(items[1]["create"]["error"]["type"], "mapper_parsing_exception", "invalid document: mapper_parsing_exception")
    check_eq(items[0]["index"]["result"], "created", "result created")
    check(isinstance(items[0]["index"]["_seq_no"], int), "_seq_no is a number")

    events = server.wait_for_events(marker, 2)
    check_eq(len(server.search_events(marker)), 2, "the two valid documents kept, the invalid one not")
    first = [e for e in events if e["message"].startswith("first")][0]
    third = [e for e in events if e["message"].startswith("third")][0]
    check_eq(first["fields"].get("_index"), "raw-a", "first: _index field")
    check_eq(first["fields"].get("_id"), "id-1", "first: _id field")
    check_eq(first["host"], "web1", "first: host")
    check_eq(first["timestamp"][:23], "2025-03-01T10:00:00.123", "first: @timestamp is the event time")
    check_eq(first["fields"].get("status"), 200, "first: status is a number")
    check_eq(third["fields"].get("_index"), "path-idx", "third: _index field from the path")
    check_eq(third["fields"].get("nested.deep.key"), "v", "third: nested objects become dotted fields")

    metrics = server.metrics()
    check_eq(metrics.value("sluice_es_bulk_item_errors_total", reason="unsupported_action"), 2.0,
             "item errors counted: unsupported_action")
    check_eq(metrics.value("sluice_es_bulk_item_errors_total", reason="invalid_document"), 1.0,
             "item errors counted: invalid_document")

    # gzip, as Filebeat (compression_level) and the clients (compression) send.
    gz_body = ('{"index":{"_index":"gz-idx"}}\n' + json.dumps({"message": f"gzipped {marker}"}) + "\n").encode()
    response = es_request("POST", server.url("/_bulk"), body=gzip.compress(gz_body),
                          headers={"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"})
    check_eq(response.status, 200, "gzip bulk body: 200")
    check_eq(response.json()["errors"], False, "gzip bulk body: no errors")
    check_eq(server.wait_for_events(f"gzipped AND {marker}", 1)[0]["fields"].get("_index"), "gz-idx",
             "gzip bulk body: document stored")

    # A malformed action line fails the whole request, in ES's error format.
    response = es_request("POST", server.url("/_bulk"), body=b"not json\n{}\n",
                          headers={"Content-Type": "application/x-ndjson"})
    check_eq(response.status, 400, "malformed action line: 400")
    check_eq(response.json()["error"]["type"], "illegal_argument_exception", "malformed action line: ES error")


def test_handshakes(ctx):
    curl = harness.require_tool("curl", "apt-get install curl")
    server = ctx.start_server()
    url = server.url

    root = es_request("GET", url("/"))
    check_eq(root.status, 200, "GET / (Accept: application/json)")
    check_product_header(root, "GET /")
    info = root.json()
    check_eq(info["version"]["number"], "8.11.0", "GET /: version.number")
    check_eq(info["tagline"], "You Know, for Search", "GET /: tagline")
    check("cluster_name" in info and "name" in info, "GET /: cluster_name and name")
    check_eq(es_request("HEAD", url("/")).status, 200, "HEAD / for an ES client")
    meta = harness.http_request("GET", url("/"), headers={"x-elastic-client-meta": "es=8.19.1,js=20"})
    check_eq(meta.json()["version"]["number"], "8.11.0", "GET / with x-elastic-client-meta")
    filebeat = harness.http_request("GET", url("/"), headers={"User-Agent": "Elastic-Filebeat/8.11.0 (linux; amd64)"})
    check(filebeat.text.startswith("{"), "GET / from Filebeat's user agent is the ES root")

    # The viewer stays where browsers and people look for it.
    page = harness.http_get(url("/"))
    check(page.status == 200 and "html" in page.content_type(), "GET / without Accept: the viewer", page.content_type())
    browser = harness.http_request("GET", url("/"), headers={
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "User-Agent": "Mozilla/5.0"})
    check("html" in browser.content_type(), "GET / from a browser: the viewer")
    result = harness.run_cmd([curl, "-sS", url("/")])
    check(b"<html" in result.stdout.lower() or b"<!doctype" in result.stdout.lower(), "curl GET /: the viewer")
    check_eq(harness.http_get(url("/healthz")).status, 200, "/healthz untouched")
    check_eq(es_request("GET", url("/api/search")).status, 200, "/api/search untouched for JSON clients")

    health = es_request("GET", url("/_cluster/health"))
    check_eq(health.json()["status"], "green", "GET /_cluster/health: green")
    check_product_header(health, "/_cluster/health")
    check_eq(es_request("GET", url("/_license")).json()["license"]["status"], "active", "GET /_license")
    check(es_request("GET", url("/_xpack")).json()["features"]["ilm"]["available"], "GET /_xpack: ilm")

    check_eq(es_request("HEAD", url("/_index_template/tpl")).status, 404, "HEAD unknown index template: 404")
    template = {"index_patterns": ["logs-*"], "template": {"settings": {"number_of_shards": 1}}}
    put = es_request("PUT", url("/_index_template/tpl"), body=json.dumps(template).encode())
    check_eq(put.json(), {"acknowledged": True}, "PUT /_index_template/tpl: acknowledged")
    check_eq(es_request("HEAD", url("/_index_template/tpl")).status, 200, "HEAD index template after PUT: 200")
    got = es_request("GET", url("/_index_template/tpl")).json()
    check_eq(got["index_templates"][0]["index_template"]["index_patterns"], ["logs-*"], "GET the template back")

    check_eq(es_request("GET", url("/_ilm/policy/pol")).status, 404, "GET unknown ILM policy: 404")
    policy = {"policy": {"phases": {"hot": {"actions": {}}}}}
    check_eq(es_request("PUT", url("/_ilm/policy/pol"), body=json.dumps(policy).encode()).json()["acknowledged"],
             True, "PUT /_ilm/policy/pol")
    check("hot" in es_request("GET", url("/_ilm/policy/pol")).json()["pol"]["policy"]["phases"],
          "GET /_ilm/policy/pol returns the policy")

    check_eq(es_request("HEAD", url("/idx-one")).status, 404, "HEAD /<index> before creation: 404")
    created = es_request("PUT", url("/idx-one"))
    check_eq(created.json()["acknowledged"], True, "PUT /<index>: acknowledged")
    check_eq(es_request("HEAD", url("/idx-one")).status, 200, "HEAD /<index> after creation: 200")

    unknown = es_request("GET", url("/_search"))
    check_eq(unknown.status, 404, "unknown ES path: 404")
    check_product_header(unknown, "unknown ES path")
    error = unknown.json()
    check(isinstance(error.get("error"), dict) and error["error"].get("type") and error.get("status") == 404,
          "unknown ES path: ES error format", error)
    check_eq(es_request("GET", url("/idx-one/_mapping")).status, 404, "GET /<index>/_mapping: ES 404")
    sluice_404 = harness.http_get(url("/api/nope"))
    check(sluice_404.status == 404 and isinstance(sluice_404.json().get("error"), str),
          "sluice's own 404 under /api unchanged")


if __name__ == "__main__":
    harness.main([test_js_client_bulk_helper, test_raw_bulk_with_errors, test_handshakes])
