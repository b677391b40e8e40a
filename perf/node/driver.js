#!/usr/bin/env node
// The Node side of perf/compare.py: N signed requests through
// wechatpay-axios-plugin (pinned in package.json), C in flight, each answer
// verified by the library, and one JSON line with the figures `wxpay bench
// --json` prints.
//
//   node driver.js --requests N --concurrency C [--warmup W] METHOD TARGET...
//
// The client is configured exactly as interop/seed-flow.js configures it
// (public key mode: certs maps the public key id to the public key), from
// the WXPAY_* variables `wxpay sandbox --state DIR` writes to
// DIR/sandbox.env. `{mchid}` in a TARGET is replaced by the merchant id;
// several TARGETs are used in turn. CPU is process.cpuUsage() (user + system,
// the whole process) over the measured requests, warm-up excluded.

'use strict';

const { Wechatpay, Rsa } = require('wechatpay-axios-plugin');

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`error: ${name} is not set; load a sandbox.env first`);
    process.exit(2);
  }
  return value;
}

function parseArgs(argv) {
  const options = { requests: 1000, concurrency: 16, warmup: 20, positional: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--requests' || arg === '--concurrency' || arg === '--warmup') {
      options[arg.slice(2)] = Number(argv[i + 1]);
      i += 1;
    } else {
      options.positional.push(arg);
    }
  }
  const [method, ...targets] = options.positional;
  if (!method || targets.length === 0) {
    console.error('usage: node driver.js --requests N --concurrency C [--warmup W] METHOD TARGET...');
    process.exit(2);
  }
  return { ...options, method: method.toLowerCase(), targets };
}

const mchid = required('WXPAY_MCHID');
const wxpay = new Wechatpay({
  baseURL: required('WXPAY_BASE_URL'),
  mchid,
  serial: required('WXPAY_SERIAL'),
  privateKey: Rsa.from(`file://${required('WXPAY_PRIVATE_KEY_FILE')}`, Rsa.KEY_TYPE_PRIVATE),
  certs: {
    [required('WXPAY_PUBLIC_KEY_ID')]: Rsa.from(`file://${required('WXPAY_PUBLIC_KEY_FILE')}`, Rsa.KEY_TYPE_PUBLIC),
  },
});

// A target as the library's chain takes it: the path, and the query as
// params (the library signs the URL it sends, query included).
function split(target) {
  const url = new URL(target.replace(/\{mchid\}/g, mchid), 'http://x');
  return { path: url.pathname, params: Object.fromEntries(url.searchParams) };
}

function kindOf(error) {
  const status = error.response && error.response.status;
  if (error.code && error.code.startsWith('EV3_RES_')) return 'verification';
  if (status) return `api ${status} ${(error.response.data && error.response.data.code) || ''}`.trim();
  return error.code || 'other';
}

async function drive(plan, count, concurrency) {
  let next = 0;
  const latencies = [];
  const errors = {};
  async function worker() {
    for (;;) {
      const index = next;
      next += 1;
      if (index >= count) return;
      const { path, params } = plan.targets[index % plan.targets.length];
      const started = process.hrtime.bigint();
      try {
        // The chain: wxpay.v3.marketing.favor.stocks['{stock_id}'].get(…)
        // ends in this call with the path filled in.
        await wxpay[path][plan.method]({ params });
      } catch (error) {
        const kind = kindOf(error);
        errors[kind] = (errors[kind] || 0) + 1;
      }
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { latencies, errors };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1];
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const plan = { method: options.method, targets: options.targets.map(split) };
  if (options.warmup > 0) await drive(plan, options.warmup, options.concurrency);
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const { latencies, errors } = await drive(plan, options.requests, options.concurrency);
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((a, b) => a - b);
  const failed = Object.values(errors).reduce((a, b) => a + b, 0);
  console.log(JSON.stringify({
    client: 'wechatpay-axios-plugin',
    version: require('wechatpay-axios-plugin/package.json').version,
    node: process.version,
    requests: options.requests,
    concurrency: options.concurrency,
    ok: options.requests - failed,
    errors,
    elapsed_s: elapsed,
    requests_per_s: options.requests / elapsed,
    latency_ms: {
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
      max: percentile(latencies, 100),
      mean: latencies.reduce((a, b) => a + b, 0) / Math.max(latencies.length, 1),
    },
    cpu_user_s: cpu.user / 1e6,
    cpu_sys_s: cpu.system / 1e6,
    cpu_ms_per_request: (cpu.user + cpu.system) / 1e3 / options.requests,
    peak_rss_kib: Math.round(process.resourceUsage().maxRSS),
  }));
}

main().catch((error) => {
  console.error(`error: ${error.stack || error}`);
  process.exitCode = 1;
});
