// Many users at once against `hearth serve`:
//  - 16 concurrent streams with different prompts and seeds each give exactly what the same
//    request gives alone, and no chunk of one stream shows up in another;
//  - a client killed mid-stream (a curl process, SIGKILL) has its sequence and KV blocks back
//    in the pool within one second, and streams running beside it are unaffected.
// usage: node concurrency.cjs BASE_URL
'use strict';
const { spawn } = require('node:child_process');
const { assert, base, sleep, post, readSse, streamText, finishReason, metric, run } = require('./common.cjs');

const names = ['Tom', 'Lily', 'Ben', 'Sue', 'Max', 'Anna', 'Sam', 'Mia',
               'Tim', 'Lucy', 'Jack', 'Zoe', 'Bob', 'Kim', 'Leo', 'Amy'];

// Request i: completions and chat alternate; every one has its own prompt and seed.
function request(i, maxTokens = 48) {
  const common = { max_tokens: maxTokens, temperature: 0.9, top_p: 0.95, seed: 1000 + i, stream: true,
                   stream_options: { include_usage: true } };
  if (i % 2 === 0) return ['/v1/completions', { ...common, prompt: `Once upon a time, ${names[i]} went to the park.` }];
  return ['/v1/chat/completions', { ...common, messages: [{ role: 'user', content: `${names[i]} finds a red ball.` }] }];
}

async function stream(i, maxTokens) {
  const [path, body] = request(i, maxTokens);
  const r = await post(path, body);
  assert.equal(r.status, 200, await r.clone().text());
  const { events, done } = await readSse(r);
  assert.ok(done, `stream ${i} did not end with [DONE]`);
  const ids = new Set(events.map((e) => e.id));
  assert.equal(ids.size, 1, `stream ${i} carries chunks of several responses: ${[...ids]}`);
  return { id: events[0].id, text: streamText(events), finish: finishReason(events),
           usage: events[events.length - 1].usage };
}

// Samples hearth_running_sequences until stop() is called; returns the largest value seen.
function watchRunning() {
  let max = 0;
  let on = true;
  const loop = (async () => {
    while (on) {
      max = Math.max(max, (await metric('hearth_running_sequences')) || 0);
      await sleep(5);
    }
  })();
  return async () => { on = false; await loop; return max; };
}

// A curl process streaming a long answer; resolves once its first bytes arrived.
function startDoomedClient() {
  const body = JSON.stringify({ prompt: 'The end', max_tokens: 1900, ignore_eos: true, stream: true });
  const child = spawn('curl', ['-sN', '-H', 'Content-Type: application/json', '--data-binary', body, base + '/v1/completions']);
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () => resolve(child));
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`curl exited early (${code})`)));
  });
}

async function untilKvFree(withinMs) {
  const t0 = Date.now();
  while (Date.now() - t0 < withinMs) {
    if ((await metric('hearth_running_sequences')) === 0 && (await metric('hearth_kv_blocks_used')) === 0)
      return Date.now() - t0;
    await sleep(5);
  }
  assert.fail(`sequence or KV blocks still in use ${withinMs} ms after the client was killed`);
}

run({
  async '16 concurrent streams equal the same requests alone'() {
    const alone = [];
    for (let i = 0; i < 16; i++) alone.push(await stream(i));
    const stop = watchRunning();
    const together = await Promise.all(names.map((_, i) => stream(i)));
    const maxRunning = await stop();
    for (let i = 0; i < 16; i++) {
      assert.equal(together[i].text, alone[i].text, `stream ${i} differs when batched`);
      assert.equal(together[i].finish, alone[i].finish);
      assert.equal(together[i].usage.completion_tokens, alone[i].usage.completion_tokens);
      assert.equal(together[i].usage.prompt_tokens, alone[i].usage.prompt_tokens);
    }
    assert.equal(new Set(together.map((s) => s.id)).size, 16, 'response ids repeat');
    assert.equal(new Set(alone.map((s) => s.text)).size, 16, 'prompts/seeds should give 16 different texts');
    assert.ok(maxRunning >= 2, `never more than ${maxRunning} sequence(s) running: nothing was batched`);
    console.log(`     up to ${maxRunning} sequences ran in one batch`);
  },

  async 'a client killed mid-stream frees its KV blocks within one second'() {
    const cancelled = await metric('hearth_engine_requests_cancelled_total');
    const child = await startDoomedClient();
    assert.equal(await metric('hearth_running_sequences'), 1);
    assert.ok((await metric('hearth_kv_blocks_used')) > 0);
    child.kill('SIGKILL');
    const ms = await untilKvFree(1000);
    assert.equal(await metric('hearth_engine_requests_cancelled_total'), cancelled + 1);
    console.log(`     blocks back in the pool ${ms} ms after the kill`);
  },

  async 'streams beside a killed client are unaffected'() {
    const others = [3, 4, 5];
    const alone = [];
    for (const i of others) alone.push(await stream(i, 200));
    const cancelled = await metric('hearth_engine_requests_cancelled_total');
    const running = others.map((i) => stream(i, 200));
    const child = await startDoomedClient();
    child.kill('SIGKILL');
    const together = await Promise.all(running);
    for (let k = 0; k < others.length; k++) {
      assert.equal(together[k].text, alone[k].text, `stream ${others[k]} changed`);
      assert.equal(together[k].finish, alone[k].finish);
    }
    await untilKvFree(1000);
    assert.equal(await metric('hearth_engine_requests_cancelled_total'), cancelled + 1);
  },
});
