// `make bench` (capacity part): how many widgets can wait at once on one instance, and the memory
// it takes. Opens N waiting reads (`?wait=25`) on N sessions, samples the server's resident memory
// while they are held, and checks every one is answered.
//   node bench/waits.mjs [N]     (default 10000)
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { startServer } from '../tests/e2e/lib/harness.mjs';

const N = Number(process.argv[2] ?? 10_000);
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

function request(base, method, path, { body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, agent, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let data = '';
      res.on('data', (chunk) => { data += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function rssKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}

// The sessions return to the bench's "store" at http://127.0.0.1 (a return page must be a store origin).
const server = await startServer({ RUST_LOG: 'warn,wallet_checkout_server=info', WC_ALLOWED_ORIGINS: 'http://127.0.0.1' });
try {
  const pid = Number(readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).pop());
  const order = JSON.parse((await request(server.base, 'POST', '/store/orders')).body).id;
  const sessions = [];
  for (let i = 0; i < N; i += 200) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(200, N - i) }, (_, j) =>
        request(server.base, 'POST', '/api/checkout/sessions', {
          headers: { 'idempotency-key': `waits-${i + j}` },
          body: JSON.stringify({ order_id: order, wallet_id: 'wechat_pay', return_url: 'http://127.0.0.1/', device: 'desktop' }),
        })),
    );
    for (const answer of batch) sessions.push(JSON.parse(answer.body).id);
  }
  const idle = rssKiB(pid);
  const started = Date.now();
  const waits = [];
  for (let i = 0; i < N; i += 500) {
    for (const id of sessions.slice(i, i + 500)) waits.push(request(server.base, 'GET', `/api/checkout/sessions/${id}?wait=25`));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const opened = Date.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  const held = rssKiB(pid);
  const answers = await Promise.all(waits);
  const ok = answers.filter((a) => a.status === 200 && JSON.parse(a.body).status === 'pending').length;
  console.log(`## Held waits (node bench/waits.mjs ${N}), SQLite, ${new Date().toISOString().slice(0, 10)}\n`);
  console.log(`| waiting reads held at once | opened in | server memory idle | while holding | per wait | answered 200 |`);
  console.log(`|---:|---:|---:|---:|---:|---:|`);
  console.log(`| ${N} | ${(opened / 1000).toFixed(1)} s | ${(idle / 1024).toFixed(1)} MiB | ${(held / 1024).toFixed(1)} MiB | ${(((held - idle) * 1024) / N / 1024).toFixed(1)} KiB | ${ok} |`);
} finally {
  await server.stop();
}
