#!/usr/bin/env node
// Sends numbered GELF events to sluice with the gelf-pro client (npm,
// pinned in scripts/install_node_tools.sh), for tests/integration/test_gelf.py.
//
//   node send.js TRANSPORT HOST PORT MARKER COUNT BASE_TS [BIG_EVERY] [GELF_PRO_DIR]
//
// TRANSPORT: udp (gelf-pro: zlib, always chunked), tcp (gelf-pro: NUL
// framed), http, httpgzip or httpdeflate (the GELF text gelf-pro builds,
// POSTed to /gelf by node's http module). Event i has short_message
// "MARKER TRANSPORT event i", level i % 8, timestamp BASE_TS + i/1000,
// host "gelf-host-(i % 3)" and the additional fields _seq, _user, _status
// (a number), _ratio (a float) and _transport; every BIG_EVERY-th event also
// carries _blob, 8000 random hex characters, so over UDP it needs several
// chunks even compressed. Prints {"sent":N,"errors":[...]} and exits 1 on
// any error.
'use strict';

const path = require('path');
const crypto = require('crypto');
const http = require('http');
const zlib = require('zlib');

const [transport, host, portText, marker, countText, baseText, bigText, gelfDir] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const baseTs = Number(baseText);
const bigEvery = Number(bigText || 0);
const gelf = require(gelfDir || path.join(__dirname, '..', '..', '.tools', 'node', 'node_modules', 'gelf-pro'));

const kind = transport.startsWith('http') ? 'http' : transport;
gelf.setConfig({
  adapterName: kind === 'tcp' ? 'tcp' : 'udp',
  adapterOptions: kind === 'tcp' ? { host, port, timeout: 10000 } : { host, port, protocol: 'udp4' },
});

function event(i) {
  const extra = {
    host: `gelf-host-${i % 3}`,
    timestamp: Number((baseTs + i / 1000).toFixed(3)),
    seq: i,
    user: `u${i}`,
    status: 200 + (i % 5),
    ratio: 0.5,
    transport,
  };
  if (bigEvery && i % bigEvery === 0) extra.blob = crypto.randomBytes(4000).toString('hex');
  return extra;
}

function sendGelfPro(i) {
  return new Promise((resolve) => {
    gelf.message(`${marker} ${transport} event ${i}`, i % 8, event(i), (err) => resolve(err));
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
function sendHttp(i) {
  const extra = event(i);
  extra.short_message = `${marker} ${transport} event ${i}`;
  extra.level = i % 8;
  let body = Buffer.from(gelf.getStringFromObject(extra));
  const headers = { 'Content-Type': 'application/json' };
  if (transport === 'httpgzip') {
    body = zlib.gzipSync(body);
    headers['Content-Encoding'] = 'gzip';
  } else if (transport === 'httpdeflate') {
    body = zlib.deflateSync(body);
    headers['Content-Encoding'] = 'deflate';
  }
  headers['Content-Length'] = body.length;
  return new Promise((resolve) => {
    const request = http.request({ host, port, path: '/gelf', method: 'POST', headers, agent }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode === 202 ? null : new Error(`event ${i}: HTTP ${response.statusCode}`)));
    });
    request.on('error', resolve);
    request.end(body);
  });
}

async function main() {
  const errors = [];
  let next = 0;
  // A few in flight at once: fast, and no UDP burst large enough to overrun
  // the socket buffer.
  async function worker() {
    while (next < count) {
      const i = next++;
      const err = kind === 'http' ? await sendHttp(i) : await sendGelfPro(i);
      if (err) errors.push(String(err));
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker));
  agent.destroy();
  process.stdout.write(JSON.stringify({ sent: count, errors: errors.slice(0, 20) }) + '\n');
  process.exit(errors.length ? 1 : 0);
}

main();
