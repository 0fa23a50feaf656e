// A WebSocket client (the `ws` package) against /v1/ws of `hearth serve` (--api-key test-key):
// streams a chat, cancels one mid-answer, and closes one mid-answer; the cancelled
// sequences' KV blocks go back to the pool.
// usage: node websocket.cjs BASE_URL
'use strict';
const WebSocket = require('ws');
const { assert, base, sleep, metric, run } = require('./common.cjs');

const url = base.replace(/^http/, 'ws') + '/v1/ws';
const auth = { headers: { Authorization: 'Bearer test-key' } };

// A connection whose incoming frames are read in order with next().
function connect(options = auth) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    const frames = [];
    const waiting = [];
    ws.on('message', (data, isBinary) => {
      assert.ok(!isBinary, 'binary frame');
      const frame = JSON.parse(data.toString());
      if (waiting.length) waiting.shift()(frame);
      else frames.push(frame);
    });
    ws.next = () => (frames.length ? Promise.resolve(frames.shift()) : new Promise((r) => waiting.push(r)));
    ws.sendJson = (obj) => ws.send(JSON.stringify(obj));
    ws.on('open', () => resolve(ws));
    ws.on('unexpected-response', (req, res) => reject(Object.assign(new Error('refused'), { status: res.statusCode })));
    ws.on('error', reject);
  });
}

// Frames up to and including {"type":"done"}.
async function untilDone(ws) {
  const frames = [];
  for (;;) {
    const f = await ws.next();
    frames.push(f);
    if (f.type === 'done') return frames;
    assert.notEqual(f.type, 'error', JSON.stringify(f));
  }
}

const textOf = (frames) => frames.map((f) => (f.choices && f.choices[0] && f.choices[0].delta && f.choices[0].delta.content) || '').join('');
const finishOf = (frames) => frames.map((f) => f.choices && f.choices[0] && f.choices[0].finish_reason).filter(Boolean).pop();

async function kvDrained(withinMs) {
  const t0 = Date.now();
  while (Date.now() - t0 < withinMs) {
    if ((await metric('hearth_running_sequences')) === 0 && (await metric('hearth_kv_blocks_used')) === 0) return Date.now() - t0;
    await sleep(10);
  }
  assert.fail(`KV blocks still in use after ${withinMs} ms`);
}

const chat = (extra) => ({ model: 'stories260K', messages: [{ role: 'user', content: 'Tell me a story.' }], ...extra });

run({
  async 'upgrade without the key is refused with 401'() {
    await assert.rejects(connect({}), (e) => e.status === 401);
  },

  async 'streams a chat as chunk frames, then done; the socket takes the next request'() {
    const ws = await connect();
    for (let round = 0; round < 2; round++) {
      ws.sendJson(chat({ max_tokens: 30, seed: 5, stream_options: { include_usage: true } }));
      const frames = await untilDone(ws);
      assert.equal(frames[0].choices[0].delta.role, 'assistant');
      const chunks = frames.filter((f) => f.object === 'chat.completion.chunk');
      assert.equal(chunks.length, frames.length - 1);
      for (const f of chunks) assert.equal(f.id, frames[0].id);
      assert.equal(frames[frames.length - 1].id, frames[0].id);
      assert.ok(textOf(frames).length > 0);
      assert.ok(['stop', 'length'].includes(finishOf(frames)));
      const usage = chunks[chunks.length - 1].usage;
      assert.ok(usage && usage.completion_tokens > 0 && usage.completion_tokens <= 30);
    }
    ws.close();
  },

  async 'cancel mid-answer: finish_reason cancelled, KV blocks freed'() {
    const cancelledBefore = await metric('hearth_engine_requests_cancelled_total');
    const ws = await connect();
    ws.sendJson(chat({ max_tokens: 1800, ignore_eos: true }));
    let content = 0;
    const frames = [];
    while (content < 3) {
      const f = await ws.next();
      frames.push(f);
      if (f.choices && f.choices[0].delta.content) content++;
    }
    ws.sendJson({ type: 'cancel' });
    frames.push(...(await untilDone(ws)));
    assert.equal(finishOf(frames), 'cancelled');
    assert.ok(frames.length < 1800, `${frames.length} frames: the cancel came too late`);
    assert.equal(await metric('hearth_engine_requests_cancelled_total'), cancelledBefore + 1);
    await kvDrained(1000);
    // The connection is still good for another request.
    ws.sendJson(chat({ max_tokens: 5 }));
    assert.ok(['stop', 'length'].includes(finishOf(await untilDone(ws))));
    ws.close();
  },

  async 'closing the socket mid-answer cancels the request'() {
    const cancelledBefore = await metric('hearth_engine_requests_cancelled_total');
    const ws = await connect();
    ws.sendJson(chat({ max_tokens: 1800, ignore_eos: true }));
    await ws.next();
    await ws.next();
    ws.terminate();
    const ms = await kvDrained(1000);
    assert.equal(await metric('hearth_engine_requests_cancelled_total'), cancelledBefore + 1);
    console.log(`     KV blocks back ${ms} ms after the close`);
  },

  async 'bad frames get error frames, the socket stays open'() {
    const ws = await connect();
    ws.send('not json');
    let f = await ws.next();
    assert.equal(f.type, 'error');
    assert.equal(f.status, 400);
    ws.sendJson(chat({ temperature: 'hot' }));
    f = await ws.next();
    assert.equal(f.error.param, 'temperature');
    ws.sendJson(chat({ model: 'gpt-4o' }));
    f = await ws.next();
    assert.equal(f.status, 404);
    ws.sendJson({ endpoint: '/v1/completions', prompt: '', max_tokens: 3 });
    const frames = await untilDone(ws);
    assert.equal(frames[0].object, 'text_completion');
    ws.close();
  },
});
