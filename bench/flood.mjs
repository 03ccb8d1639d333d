// `make bench` (flood part): what anonymous traffic costs everyone else. A shopper's session read
// and `/healthz`, timed quiet, then under the floods of the report that found them costing
// seconds (160 anonymous console sign-ins from as many client addresses, and 32 Alipay
// notifications of 10,000 parameters in 58 KB, at once, wave after wave), then under a flood
// without pause.
//   node bench/flood.mjs [SECONDS]     (default 10 s of flood; SQLite)
import http from 'node:http';
import { startMocks, startServer } from '../tests/e2e/lib/harness.mjs';

const SECONDS = Number(process.argv[2] ?? 10);
const FLOOD_WORKERS = 32;
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

function request(base, method, path, { body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, agent, headers }, (res) => {
      let data = '';
      res.on('data', (chunk) => { data += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Times `/healthz` and the session read one after the other until `until()` says stop. */
async function probe(base, session, until) {
  const health = [];
  const reads = [];
  while (!until()) {
    let started = performance.now();
    const h = await request(base, 'GET', '/healthz');
    if (h.status !== 200) throw new Error(`/healthz answered ${h.status}`);
    health.push(performance.now() - started);
    started = performance.now();
    const r = await request(base, 'GET', `/api/checkout/sessions/${session}`);
    if (r.status !== 200) throw new Error(`the session read answered ${r.status}`);
    reads.push(performance.now() - started);
  }
  return { health, reads };
}

const mocks = await startMocks();
const server = await startServer({
  RUST_LOG: 'warn,wallet_checkout_server=info',
  WC_CONFIG: mocks.config,
  WC_TRUST_PROXY: 'true',
  WC_ALLOWED_ORIGINS: 'http://127.0.0.1',
});
try {
  const base = server.base;
  const made = await request(base, 'GET', '/');
  const order = made.headers.location.split('/').pop();
  const session = JSON.parse((await request(base, 'POST', '/api/checkout/sessions', {
    headers: { 'content-type': 'application/json', 'idempotency-key': 'flood-bench' },
    body: JSON.stringify({ order_id: order, wallet_id: 'alipay', return_url: 'http://127.0.0.1/', device: 'desktop' }),
  })).body).id;

  // Quiet: as many probes as the flood will take, give or take.
  const quietUntil = performance.now() + SECONDS * 1000;
  const quiet = await probe(base, session, () => performance.now() > quietUntil);

  const page = await request(base, 'GET', '/console/login');
  // (A server from before the sign-in form's token has neither: its sign-ins are sent without.)
  const cookie = (page.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).find((c) => c.startsWith('__Host-wc_sign_in=')) ?? '';
  const token = /name="sign_in_token" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  // 10,000 distinct parameters in about 58 KB, as in the report.
  const huge = Array.from({ length: 10_000 }, (_, i) => `${i.toString(36)}=x`).join('&');
  const answers = new Map();
  const count = (what, status) => answers.set(`${what} ${status}`, (answers.get(`${what} ${status}`) ?? 0) + 1);
  let sent = 0;
  const signIn = async () => {
    sent += 1;
    const from = `198.51.${(sent >> 8) & 255}.${sent & 255}`;
    const body = new URLSearchParams({ sign_in_token: token, email: `nobody${sent}@shop.example`, password: 'a guess at the password' }).toString();
    const r = await request(base, 'POST', '/console/login', {
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from },
      body,
    });
    count('sign-in', r.status);
  };
  const notify = async () => {
    sent += 1;
    const from = `203.0.${(sent >> 8) & 255}.${sent & 255}`;
    const r = await request(base, 'POST', '/api/providers/alipay/notify', {
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from },
      body: huge,
    });
    count('notification', r.status);
  };

  // The report's floods, again and again: 160 sign-ins and 32 such notifications at once, the next
  // wave a quarter of a second after the last answer.
  let flooding = true;
  let waves = 0;
  const report = (async () => {
    while (flooding) {
      waves += 1;
      await Promise.all([...Array.from({ length: 160 }, signIn), ...Array.from({ length: 32 }, notify)]);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  const waveUntil = performance.now() + SECONDS * 1000;
  const underWaves = await probe(base, session, () => performance.now() > waveUntil);
  flooding = false;
  await report;

  // A flood without pause: 32 connections, each sending the next as soon as the last is answered.
  flooding = true;
  const worker = async (n) => {
    while (flooding) await (n % 2 === 0 ? signIn() : notify());
  };
  const workers = Array.from({ length: FLOOD_WORKERS }, (_, n) => worker(n));
  const floodUntil = performance.now() + SECONDS * 1000;
  const saturated = await probe(base, session, () => performance.now() > floodUntil);
  flooding = false;
  await Promise.all(workers);

  const cell = (values) =>
    `${percentile(values, 50).toFixed(1)} / ${percentile(values, 99).toFixed(1)} / ${Math.max(...values).toFixed(1)}`;
  const ratio = (values, quietValues) => (percentile(values, 99) / percentile(quietValues, 99)).toFixed(1);
  console.log(`## Under floods (node bench/flood.mjs ${SECONDS}), SQLite, ${new Date().toISOString().slice(0, 10)}\n`);
  console.log('Probes one after another: `GET /healthz`, then a shopper\'s session read. Milliseconds, p50 / p99 / max.\n');
  console.log('| | quiet | the report\'s floods, repeated | p99 ÷ quiet | a flood without pause (32 connections) | p99 ÷ quiet |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [name, key] of [['`GET /healthz`', 'health'], ['a shopper\'s session read', 'reads']]) {
    console.log(`| ${name} | ${cell(quiet[key])} | ${cell(underWaves[key])} | ${ratio(underWaves[key], quiet[key])} | ${cell(saturated[key])} | ${ratio(saturated[key], quiet[key])} |`);
  }
  console.log(`\n${waves} waves of 160 sign-ins and 32 notifications of 10,000 parameters (${huge.length} B). Probes: ${quiet.health.length} quiet, ${underWaves.health.length} under the waves, ${saturated.health.length} under the flood without pause. Answers: ${[...answers].map(([k, v]) => `${k}: ${v}`).join(', ')}.`);
} finally {
  await server.stop();
  await mocks.stop();
}
