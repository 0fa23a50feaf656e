// Helpers shared by the node clients of `hearth serve`'s integration tests. Every script
// takes the server's base URL as its first argument, exits 0 when all its checks pass and
// prints what failed otherwise.
'use strict';
const assert = require('node:assert/strict');

const base = process.argv[2];
if (!base) {
  console.error('usage: node SCRIPT.cjs http://127.0.0.1:PORT [...]');
  process.exit(2);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// POSTs `body` as JSON; returns the fetch Response.
function post(path, body, headers = {}) {
  return fetch(base + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

// Reads an SSE response to its end: the parsed `data:` objects and whether [DONE] came last.
async function readSse(response) {
  const decoder = new TextDecoder();
  let buffered = '';
  const events = [];
  let done = false;
  for await (const bytes of response.body) {
    buffered += decoder.decode(bytes, { stream: true });
    let end;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      assert.ok(event.startsWith('data: '), `not an SSE data event: ${event}`);
      assert.ok(!done, 'event after [DONE]');
      if (event === 'data: [DONE]') done = true;
      else events.push(JSON.parse(event.slice(6)));
    }
  }
  assert.equal(buffered, '', 'stream ended inside an event');
  return { events, done };
}

// The text of a completions or chat stream.
function streamText(events) {
  let text = '';
  for (const e of events) {
    const c = e.choices && e.choices[0];
    if (!c) continue;
    if (typeof c.text === 'string') text += c.text;
    if (c.delta && typeof c.delta.content === 'string') text += c.delta.content;
  }
  return text;
}

function finishReason(events) {
  for (let i = events.length - 1; i >= 0; --i) {
    const c = events[i].choices && events[i].choices[0];
    if (c && c.finish_reason) return c.finish_reason;
  }
  return null;
}

// One /metrics series, e.g. metric('hearth_kv_blocks_used'); undefined when absent.
async function metric(series) {
  const text = await (await fetch(base + '/metrics')).text();
  for (const line of text.split('\n'))
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  return undefined;
}

// Runs the named checks in order; exits non-zero if any failed.
async function run(checks) {
  let failed = 0;
  for (const [name, check] of Object.entries(checks)) {
    const t0 = Date.now();
    try {
      await check();
      console.log(`ok   ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
    }
  }
  process.exit(failed ? 1 : 0);
}

module.exports = { assert, base, sleep, post, readSse, streamText, finishReason, metric, run };
