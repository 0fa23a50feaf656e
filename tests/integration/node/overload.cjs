// Overload against `hearth serve --max-running 4 --max-queue 4`: a burst of 32 requests gets
// 429s with Retry-After, and every request that was accepted completes in full.
// usage: node overload.cjs BASE_URL
'use strict';
const { assert, post, readSse, streamText, finishReason, metric, run } = require('./common.cjs');

run({
  async 'a burst of 32: some 429, every accepted request completes'() {
    const burst = Array.from({ length: 32 }, (_, i) => (async () => {
      const r = await post('/v1/completions', { prompt: `Story ${i}:`, max_tokens: 120, ignore_eos: true,
                                                 seed: i, stream: i % 2 === 0 });
      if (r.status === 429) {
        const body = await r.json();
        assert.equal(r.headers.get('retry-after'), '1');
        assert.equal(body.error.code, 'rate_limit_exceeded');
        return { status: 429 };
      }
      assert.equal(r.status, 200, await r.clone().text());
      if (i % 2 === 0) {
        const { events, done } = await readSse(r);
        assert.ok(done);
        return { status: 200, finish: finishReason(events), text: streamText(events) };
      }
      const j = await r.json();
      assert.equal(j.usage.completion_tokens, 120);
      return { status: 200, finish: j.choices[0].finish_reason, text: j.choices[0].text };
    })());
    const results = await Promise.all(burst);
    const accepted = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 429);
    assert.equal(accepted.length + refused.length, 32);
    assert.ok(refused.length > 0, 'no 429 in a burst of 32 with 4 running + 4 queued');
    // At least a full queue's worth is taken (the rest of the burst may arrive before the
    // engine moves the queued ones into the running batch).
    assert.ok(accepted.length >= 4, `only ${accepted.length} accepted`);
    for (const a of accepted) {
      assert.equal(a.finish, 'length');
      assert.ok(a.text.length > 0);
    }
    assert.ok((await metric('hearth_engine_requests_rejected_total')) >= refused.length);
    assert.ok((await metric('hearth_http_responses_total{endpoint="/v1/completions",status="429"}')) >= refused.length);
    console.log(`     ${accepted.length} accepted, ${refused.length} refused with 429`);
  },
});
