// The official `openai` npm package against `hearth serve` (started with --api-key test-key):
// chat.completions.create with and without stream, usage, completions, models, and the
// client's error classes for 400/401/404.
// usage: node openai_client.cjs BASE_URL REFERENCE_JSON
'use strict';
const fs = require('node:fs');
const { OpenAI } = require('openai');
const { assert, base, run } = require('./common.cjs');

const reference = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const client = new OpenAI({ baseURL: base + '/v1', apiKey: 'test-key', maxRetries: 0 });
const messages = [
  { role: 'system', content: 'You tell short stories.' },
  { role: 'user', content: 'Tell me about a cat.' },
];

async function expectApiError(promise, status, check = () => {}) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof OpenAI.APIError, `not an APIError: ${e}`);
    assert.equal(e.status, status, e.message);
    check(e);
    return;
  }
  assert.fail(`expected HTTP ${status}`);
}

run({
  async 'models.list'() {
    const models = [];
    for await (const m of client.models.list()) models.push(m);
    assert.equal(models.length, 1);
    assert.equal(models[0].id, 'stories260K');
    assert.equal(models[0].object, 'model');
  },

  async 'chat.completions.create without stream: message and usage'() {
    const r = await client.chat.completions.create({ model: 'stories260K', messages, max_tokens: 40, seed: 3 });
    assert.equal(r.object, 'chat.completion');
    assert.match(r.id, /^chatcmpl-/);
    assert.equal(r.model, 'stories260K');
    assert.equal(r.choices.length, 1);
    assert.equal(r.choices[0].index, 0);
    assert.equal(r.choices[0].message.role, 'assistant');
    assert.equal(typeof r.choices[0].message.content, 'string');
    assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
    assert.ok(r.usage.prompt_tokens > 0);
    assert.ok(r.usage.completion_tokens > 0 && r.usage.completion_tokens <= 40);
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
    assert.equal(typeof r.usage.prompt_tokens_details.cached_tokens, 'number');
  },

  async 'chat.completions.create with stream: same answer, usage last'() {
    const params = { model: 'stories260K', messages, max_tokens: 40, temperature: 0.7, seed: 99 };
    const whole = await client.chat.completions.create(params);
    const stream = await client.chat.completions.create({
      ...params, stream: true, stream_options: { include_usage: true },
    });
    let text = '';
    let role = null;
    let finish = null;
    let usage = null;
    let n = 0;
    for await (const chunk of stream) {
      n++;
      assert.equal(chunk.object, 'chat.completion.chunk');
      assert.equal(usage, null, 'a chunk after the usage chunk');
      if (chunk.usage) {
        usage = chunk.usage;
        assert.deepEqual(chunk.choices, []);
        continue;
      }
      const c = chunk.choices[0];
      if (c.delta.role) role = c.delta.role;
      if (c.delta.content) text += c.delta.content;
      if (c.finish_reason) finish = c.finish_reason;
    }
    assert.ok(n >= 3);
    assert.equal(role, 'assistant');
    assert.equal(text, whole.choices[0].message.content);
    assert.equal(finish, whole.choices[0].finish_reason);
    assert.deepEqual(usage, whole.usage);
  },

  async 'completions.create: greedy text equals the reference'() {
    const r = await client.completions.create({ model: 'stories260K', prompt: '', max_tokens: 256, temperature: 0 });
    assert.equal(r.object, 'text_completion');
    assert.equal(r.choices[0].text, reference.generated_text);
    assert.equal(r.usage.completion_tokens, 256);
  },

  async 'completions.create with stream'() {
    const stream = await client.completions.create({
      model: 'stories260K', prompt: '', max_tokens: 64, temperature: 0, stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0].text;
    assert.ok(reference.generated_text.startsWith(text) && text.length > 20, text);
  },

  async 'errors come back as the client library error classes'() {
    await expectApiError(client.chat.completions.create({ model: 'gpt-4o', messages }), 404, (e) => {
      assert.ok(e instanceof OpenAI.NotFoundError);
      assert.equal(e.code, 'model_not_found');
    });
    await expectApiError(client.chat.completions.create({ model: 'stories260K', messages, n: 2 }), 400, (e) => {
      assert.ok(e instanceof OpenAI.BadRequestError);
      assert.equal(e.param, 'n');
    });
    const stranger = new OpenAI({ baseURL: base + '/v1', apiKey: 'wrong', maxRetries: 0 });
    await expectApiError(stranger.chat.completions.create({ model: 'stories260K', messages }), 401, (e) => {
      assert.ok(e instanceof OpenAI.AuthenticationError);
      assert.equal(e.code, 'invalid_api_key');
    });
  },
});
