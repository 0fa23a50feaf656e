// SIGTERM while a stream runs: the stream finishes in full, and a new request on a kept-alive
// connection gets 503 (server_shutting_down). The test then checks that the server exits 0.
// usage: node drain.cjs BASE_URL SERVER_PID
'use strict';
const http = require('node:http');
const { assert, base, sleep, post, readSse, finishReason, metric, run } = require('./common.cjs');

const pid = Number(process.argv[3]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

// A request over the one kept-alive socket of `agent`.
function request(method, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(base + path, { method, agent, headers: { 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    });
    req.on('error', reject);
    if (body) req.write(JSON.stringify(body));
    req.end();
  });
}

run({
  async 'SIGTERM: running stream completes, new requests get 503'() {
    assert.equal((await request('GET', '/health')).status, 200);  // opens the kept-alive socket
    const streaming = post('/v1/completions', { prompt: '', max_tokens: 1200, ignore_eos: true, stream: true,
                                                stream_options: { include_usage: true } });
    const response = await streaming;
    assert.equal(response.status, 200);
    const reading = readSse(response);
    while ((await metric('hearth_running_sequences')) < 1) await sleep(5);
    process.kill(pid, 'SIGTERM');
    let refused;
    for (let i = 0; i < 200; i++) {
      refused = await request('POST', '/v1/completions', { prompt: '', max_tokens: 3 });
      if (refused.status !== 200) break;
      await sleep(5);  // the signal may not have been handled yet
    }
    assert.equal(refused.status, 503, refused.body);
    assert.equal(JSON.parse(refused.body).error.code, 'server_shutting_down');
    const { events, done } = await reading;
    assert.ok(done, 'the stream was cut off');
    assert.equal(finishReason(events), 'length');
    assert.equal(events[events.length - 1].usage.completion_tokens, 1200);
  },
});
