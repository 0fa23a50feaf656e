// Load benchmark for `hearth serve` (not a test): N concurrent clients stream completions and
// the script reports aggregate generated tokens per second, time to first token (p50, p99)
// and inter-token latency (p50) at each concurrency level.
//
//   node bench/serve_load.cjs http://127.0.0.1:8080 [--levels 1,4,16] [--tokens 128]
//        [--requests-per-client 2] [--api-key KEY] [--json]
//
// Every request has its own prompt and seed and ignores end-of-generation, so each produces
// exactly --tokens tokens. Node >= 18 (built-in fetch), no packages.
'use strict';

function options(argv) {
  const o = { base: argv[2], levels: [1, 4, 16], tokens: 128, perClient: 2, apiKey: '', json: false };
  for (let i = 3; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--levels') o.levels = argv[++i].split(',').map(Number);
    else if (a === '--tokens') o.tokens = Number(argv[++i]);
    else if (a === '--requests-per-client') o.perClient = Number(argv[++i]);
    else if (a === '--api-key') o.apiKey = argv[++i];
    else if (a === '--json') o.json = true;
    else throw new Error(`unknown option ${a}`);
  }
  if (!o.base || o.levels.some((n) => !(n > 0)) || !(o.tokens > 0) || !(o.perClient > 0)) {
    console.error('usage: node bench/serve_load.cjs BASE_URL [--levels 1,4,16] [--tokens N] ' +
                  '[--requests-per-client N] [--api-key KEY] [--json]');
    process.exit(2);
  }
  return o;
}

const percentile = (sorted, p) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN;

// One streamed completion: time to first token, gaps between chunks, tokens generated.
async function one(o, id) {
  const t0 = performance.now();
  const r = await fetch(o.base + '/v1/completions', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(o.apiKey ? { Authorization: `Bearer ${o.apiKey}` } : {}) },
    body: JSON.stringify({ prompt: `Story number ${id}: once upon a time`, max_tokens: o.tokens, seed: id,
                           ignore_eos: true, stream: true, stream_options: { include_usage: true } }),
  });
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${await r.text()}`);
  const decoder = new TextDecoder();
  let buffered = '';
  let first = null;
  let last = null;
  const gaps = [];
  let tokens = 0;
  for await (const bytes of r.body) {
    buffered += decoder.decode(bytes, { stream: true });
    let end;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const event = buffered.slice(6, end);
      buffered = buffered.slice(end + 2);
      if (event === '[DONE]') continue;
      const chunk = JSON.parse(event);
      if (chunk.usage) tokens = chunk.usage.completion_tokens;
      if (!chunk.choices.length || !chunk.choices[0].text) continue;
      const now = performance.now();
      if (first === null) first = now;
      else gaps.push(now - last);
      last = now;
    }
  }
  return { ttft: (first - t0) / 1000, gaps: gaps.map((g) => g / 1000), tokens };
}

async function level(o, clients) {
  const results = [];
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    for (let k = 0; k < o.perClient; k++) results.push(await one(o, c * 1000 + k));
  }));
  const seconds = (performance.now() - t0) / 1000;
  const tokens = results.reduce((s, r) => s + r.tokens, 0);
  const ttft = results.map((r) => r.ttft).sort((a, b) => a - b);
  const gaps = results.flatMap((r) => r.gaps).sort((a, b) => a - b);
  return { clients, requests: results.length, tokens, seconds, tok_s: tokens / seconds,
           ttft_p50_s: percentile(ttft, 50), ttft_p99_s: percentile(ttft, 99), itl_p50_s: percentile(gaps, 50) };
}

(async () => {
  const o = options(process.argv);
  await one({ ...o, tokens: 4 }, 999999);  // warm-up
  const rows = [];
  for (const n of o.levels) rows.push(await level(o, n));
  if (o.json) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  console.log('| concurrent streams | requests | generated tok/s (all streams) | TTFT p50 | TTFT p99 | inter-token p50 |');
  console.log('|---:|---:|---:|---:|---:|---:|');
  const ms = (s) => `${(s * 1000).toFixed(s < 0.1 ? 1 : 0)} ms`;
  for (const r of rows)
    console.log(`| ${r.clients} | ${r.requests} | ${r.tok_s.toFixed(1)} | ${ms(r.ttft_p50_s)} | ${ms(r.ttft_p99_s)} | ${ms(r.itl_p50_s)} |`);
})().catch((e) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
