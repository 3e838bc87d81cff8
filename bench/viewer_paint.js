// The web viewer's first meaningful paint against a running sluice: for
// each query, cold navigations (a fresh browser context each: no cache, no
// cookies) to BASE/?q=QUERY&range=all, timed from navigation start to the
// frame after the first result rows were appended (the viewer's own
// performance marks 'sluice-first-results' and 'sluice-first-results-frame').
//
//   node bench/viewer_paint.js BASE-URL RUNS QUERY [QUERY...]
//
// Prints one JSON object per query on stdout:
//   {"query": Q, "frame_ms": [...], "mark_ms": [...], "rows": N}
// and exits non-zero if a navigation shows no results. Needs Debian's
// chromium (SLUICE_CHROMIUM overrides /usr/bin/chromium) and playwright-core
// in .tools/node (scripts/install_node_tools.sh).
'use strict';

const path = require('path');

function loadPlaywright() {
  const local = path.join(__dirname, '..', '.tools', 'node', 'node_modules', 'playwright-core');
  try {
    return require(local);
  } catch (_) {
    console.error(`viewer_paint: playwright-core is not installed (${local}); run scripts/install_node_tools.sh`);
    process.exit(1);
  }
}

async function main() {
  const [baseArg, runsArg, ...queries] = process.argv.slice(2);
  const runs = Number(runsArg);
  if (!baseArg || !(runs >= 1) || queries.length === 0) {
    console.error('usage: node bench/viewer_paint.js BASE-URL RUNS QUERY [QUERY...]');
    process.exit(2);
  }
  const base = baseArg.replace(/\/+$/, '');
  const { chromium } = loadPlaywright();
  const browser = await chromium.launch({
    executablePath: process.env.SLUICE_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    for (const query of queries) {
      const frames = [];
      const marks = [];
      let rows = 0;
      // One untimed navigation first: chromium's own start-up costs (the
      // first renderer process) are not the viewer's.
      for (let run = -1; run < runs; run++) {
        const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
        const page = await context.newPage();
        await page.goto(`${base}/?q=${encodeURIComponent(query)}&range=all`);
        await page.waitForFunction(() => performance.getEntriesByName('sluice-first-results-frame').length > 0,
          null, { timeout: 60000 });
        const t = await page.evaluate(() => ({
          mark: performance.getEntriesByName('sluice-first-results')[0].startTime,
          frame: performance.getEntriesByName('sluice-first-results-frame')[0].startTime,
        }));
        rows = await page.$$eval('#results .event', (r) => r.length);
        await context.close();
        if (run < 0) continue;
        frames.push(Math.round(t.frame * 10) / 10);
        marks.push(Math.round(t.mark * 10) / 10);
      }
      if (rows === 0) {
        console.error(`viewer_paint: no result rows for ${JSON.stringify(query)}`);
        process.exitCode = 1;
      }
      console.log(JSON.stringify({ query, frame_ms: frames, mark_ms: marks, rows }));
    }
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(`viewer_paint: ${err && err.stack || err}`);
  process.exit(1);
});
