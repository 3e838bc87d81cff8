// Drives sluice's Elasticsearch bulk API with the official JavaScript client
// (@elastic/elasticsearch, pinned in scripts/install_node_tools.sh), as an
// application would: info, cluster health, index creation, then
// client.helpers.bulk with COUNT distinct documents.
//
//   node tests/es/bulk_helper.js BASE-URL MARKER COUNT INDEX
//
// Prints one JSON line: {"info":..., "health":..., "exists":..., "stats":..., "dropped":[...]}.
'use strict';

const path = require('path');
const modules = path.join(__dirname, '..', '..', '.tools', 'node', 'node_modules');
const { Client } = require(path.join(modules, '@elastic', 'elasticsearch'));

async function main() {
  const [base, marker, countText, index] = process.argv.slice(2);
  const count = Number(countText);
  // compression: request bodies gzipped, as Filebeat's compression_level does.
  const client = new Client({ node: base, requestTimeout: 60000, maxRetries: 0, compression: true });
  const info = await client.info();
  const health = await client.cluster.health();
  await client.indices.create({ index });
  const exists = await client.indices.exists({ index });
  const dropped = [];
  const documents = [];
  for (let i = 0; i < count; i++) {
    documents.push({
      '@timestamp': new Date(Date.now() - (count - i) * 10).toISOString(),
      message: `es doc ${marker} n${i}`,
      host: { name: 'es-host' },
      service: { name: 'es-app' },
      seq: i,
      labels: { marker, parity: i % 2 === 0 ? 'even' : 'odd' },
    });
  }
  const stats = await client.helpers.bulk({
    datasource: documents,
    // Small flushes so that one run makes many bulk requests.
    flushBytes: 64 * 1024,
    concurrency: 3,
    retries: 0,
    onDocument: (doc) => (doc.seq % 3 === 0 ? { create: { _index: index } } : { index: { _index: index } }),
    onDrop: (item) => dropped.push({ status: item.status, error: item.error }),
  });
  await client.close();
  process.stdout.write(JSON.stringify({ info, health, exists, stats, dropped }) + '\n');
}

main().catch((error) => {
  process.stderr.write(`bulk_helper.js: ${error && error.stack ? error.stack : error}\n`);
  if (error && error.meta) process.stderr.write(`meta: ${JSON.stringify(error.meta.body)}\n`);
  process.exit(1);
});
