#!/usr/bin/env node
// Real-client end-to-end tests (issue 3, DESIGN.md §6): the official `@anthropic-ai/sdk` and `openai` packages call
// the real `understudy` binary in every inbound dialect × upstream dialect, streaming and not, with a tool-call
// round trip, plus one failover per inbound dialect, plus mid-stream continuation: the primary's stream is cut,
// stalls or carries an in-band error after some text, and the SDK still parses one complete message. The upstreams
// are the scripted mock of mock-upstream.mjs.
//
//   node run.mjs --binary path/to/understudy [--only REGEX] [--verbose] [--dump]
//
// --only runs the scenarios whose name matches; --verbose prints the upstream request bodies and more of the
// proxy's stderr for a failure; --dump prints every upstream request body.
//
// Exit 0 when every scenario passes, 1 when one fails, 77 (CTest SKIP_RETURN_CODE) when the npm packages are
// not installed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const SKIP = 77;

function parseArgs(argv) {
  const opts = { binary: null, only: null, verbose: false, dump: false };
  for (let i = 0; i < argv.length; ++i) {
    if (argv[i] === '--binary') opts.binary = argv[++i];
    else if (argv[i] === '--only') opts.only = new RegExp(argv[++i]);
    else if (argv[i] === '--verbose') opts.verbose = true;
    else if (argv[i] === '--dump') opts.dump = true;
    else throw new Error(`unknown argument ${argv[i]} (usage: run.mjs --binary FILE [--only REGEX] [--verbose] [--dump])`);
  }
  if (!opts.binary) throw new Error('--binary FILE is required');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
if (Number(process.versions.node.split('.')[0]) < 20) {
  // Both SDKs require node 20+; Debian 12's own nodejs is 18.
  console.log(`SKIP: the SDKs need node 20 or later, this is node ${process.version} (install node 20, e.g. from NodeSource)`);
  process.exit(SKIP);
}
for (const pkg of ['@anthropic-ai/sdk', 'openai']) {
  if (!existsSync(join(here, 'node_modules', pkg, 'package.json'))) {
    console.log(`SKIP: ${pkg} is not installed in tests/e2e/node_modules; run scripts/setup ` +
      '(or: cd tests/e2e && npm ci --no-audit --no-fund)');
    process.exit(SKIP);
  }
}
const { default: Anthropic } = await import('@anthropic-ai/sdk');
const { default: OpenAI } = await import('openai');
const { MockUpstream, toolInput, GREETING_DELTAS, REASONING, finalText } = await import('./mock-upstream.mjs');
const sdkVersions = ['@anthropic-ai/sdk', 'openai']
  .map((p) => `${p} ${JSON.parse(readFileSync(join(here, 'node_modules', p, 'package.json'), 'utf8')).version}`);

// ---------------------------------------------------------------------------------------------------------------
// The proxy under test: the real binary, headless, on an ephemeral port, with a config naming one chain per path.

const UPSTREAM_KEY = 'sk-e2e-upstream-key';
const CLIENT_KEY = 'sk-e2e-client-key-never-forwarded';
const DIALECTS = ['anthropic', 'openai-chat', 'openai-responses'];
const INBOUND = ['anthropic', 'openai-chat', 'openai-responses'];
const SHORT = { anthropic: 'anthropic', 'openai-chat': 'chat', 'openai-responses': 'responses' };
const MODEL_OF = (type) => `mock-${SHORT[type]}-model`;
// A model the mock always reasons with, whether the (translated) request asks for it or not.
const REASONER_OF = (type) => `mock-${SHORT[type]}-reasoner`;

// Failover: the primary speaks the client's dialect and fails; the fallback speaks another dialect.
const FAILOVER = {
  anthropic: { status: 529, fallback: 'openai-chat' },
  'openai-chat': { status: 429, fallback: 'openai-responses' },
  'openai-responses': { status: 529, fallback: 'anthropic' },
};

function buildConfig(mock) {
  const providers = {};
  const chains = {};
  for (const type of DIALECTS) {
    providers[`up-${SHORT[type]}`] = { type, baseUrl: mock.baseUrl(`ok-${SHORT[type]}`, type), apiKey: 'env:E2E_UPSTREAM_KEY' };
    chains[`to-${SHORT[type]}`] = { steps: [{ provider: `up-${SHORT[type]}`, model: MODEL_OF(type) }] };
    chains[`think-${SHORT[type]}`] = { steps: [{ provider: `up-${SHORT[type]}`, model: REASONER_OF(type) }] };
  }
  // One primary per failover scenario, so that the health board's cooldown of one does not affect another.
  for (const inbound of INBOUND) {
    for (const stream of [false, true]) {
      const { status, fallback } = FAILOVER[inbound];
      const name = failoverName(inbound, stream);
      providers[name] = { type: inbound, baseUrl: mock.baseUrl(`fail${status}-${name}`, inbound), apiKey: 'env:E2E_UPSTREAM_KEY' };
      chains[name] = { steps: [{ provider: name }, { provider: `up-${SHORT[fallback]}`, model: MODEL_OF(fallback) }] };
    }
  }
  addContinuationChains(mock, providers, chains);
  return {
    version: 1,
    listen: { host: '127.0.0.1', port: 8790 },
    providers,
    chains,
    activeChain: 'to-anthropic',
    failover: { connectTimeoutMs: 2000, firstTokenTimeoutMs: 5000, streamIdleTimeoutMs: 1500, totalBudgetMs: 15000 },
  };
}

const failoverName = (inbound, stream) => `fo-${SHORT[inbound]}-${stream ? 'stream' : 'json'}`;

// Continuation: a primary whose stream breaks after CUT_AFTER text events, in the client's dialect or another,
// and a fallback that continues it.
const BREAKS = ['cut', 'stall', 'inband'];
const CUT_AFTER = 2;
const CONTINUATIONS = [
  ...['anthropic', 'openai-chat'].flatMap((inbound) => BREAKS.map((fault) => ({ inbound, primary: inbound, fault }))),
  { inbound: 'anthropic', primary: 'anthropic', fault: 'cut', fallback: 'openai-chat' },
  { inbound: 'openai-chat', primary: 'openai-chat', fault: 'cut', fallback: 'anthropic' },
];
const continuationName = (c) => `co-${SHORT[c.inbound]}-${c.fault}-to-${SHORT[c.fallback ?? c.primary]}`;

function addContinuationChains(mock, providers, chains) {
  for (const c of CONTINUATIONS) {
    const name = continuationName(c);
    const fallback = c.fallback ?? c.primary;
    providers[name] = { type: c.primary, baseUrl: mock.baseUrl(`${c.fault}${CUT_AFTER}-${name}`, c.primary), apiKey: 'env:E2E_UPSTREAM_KEY' };
    chains[name] = { steps: [{ provider: name }, { provider: `up-${SHORT[fallback]}`, model: MODEL_OF(fallback) }] };
  }
}

class ProxyProcess {
  constructor(binary, configFile, home) {
    this.lines = [];
    this.exited = null;
    this.child = spawn(binary, ['--headless', '--config', configFile, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env, E2E_UPSTREAM_KEY: UPSTREAM_KEY, HOME: home, XDG_CONFIG_HOME: join(home, 'config'),
        XDG_DATA_HOME: join(home, 'data'), XDG_CACHE_HOME: join(home, 'cache'), QT_QPA_PLATFORM: 'offscreen',
      },
    });
    this.child.on('exit', (code, signal) => { this.exited = { code, signal }; });
    this.child.stdout.setEncoding('utf8').on('data', (d) => this.#log(d));
    this.port = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`understudy did not say where it listens within 10 s:\n${this.tail()}`)), 10000);
      this.child.stderr.setEncoding('utf8').on('data', (d) => {
        this.#log(d);
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(this.lines.join('\n'));
        if (m) { clearTimeout(timer); resolve(Number(m[1])); }
      });
      this.child.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`understudy exited (code ${code}, signal ${signal}) before listening:\n${this.tail()}`));
      });
      this.child.on('error', (e) => { clearTimeout(timer); reject(e); });
    });
  }

  #log(data) {
    this.lines.push(...data.split('\n').filter(Boolean));
    if (this.lines.length > 400) this.lines.splice(0, this.lines.length - 400);
  }

  tail(n = 25) { return this.lines.slice(-n).map((l) => `    | ${l}`).join('\n'); }

  async stop() {
    if (this.exited) return;
    const done = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await done;
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The conversation every scenario holds.

const SYSTEM = 'You are a terse weather assistant.';
const RESULTS = { Paris: 'sunny, 21 C in Paris', London: 'rainy, 14 C in London' };
const WEATHER_SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
  required: ['city'],
};
const WEATHER_DESCRIPTION = 'Current weather for a city';
const ANTHROPIC_ID = /^[a-zA-Z0-9_-]+$/;

// The two conversations every combination holds: one tool call; and two parallel calls, with thinking/reasoning
// asked for and served by a model that reasons, its output echoed back on the next turn the way each SDK's docs
// say to. (A translated request does not pass the reasoning controls on yet: TargetTraits.reasoning is off until
// the model catalog fills it, so the reasoning comes from a model that always reasons.)
const VARIANTS = [
  { name: 'tool round trip', cities: ['Paris'], reasoning: false, chain: (t) => `to-${SHORT[t]}`, model: MODEL_OF },
  { name: 'parallel tool calls + reasoning round trip', cities: ['Paris', 'London'], reasoning: true,
    chain: (t) => `think-${SHORT[t]}`, model: REASONER_OF },
];
const questionOf = (v) => `What's the weather in ${v.cities.join(' and ')}?`;
// The final answer the mock gives: it quotes the tool results in the order they came back.
const expectedFinal = (v) => finalText(v.cities.map((c) => RESULTS[c]));

function assertUsage(usage, inputKey, outputKey, where) {
  assert.ok(usage, `${where}: the SDK parsed no usage`);
  assert.ok(usage[inputKey] > 0, `${where}: usage.${inputKey} = ${usage[inputKey]}`);
  assert.ok(usage[outputKey] > 0, `${where}: usage.${outputKey} = ${usage[outputKey]}`);
}

function assertCalls(calls, v, where) {
  assert.equal(calls.length, v.cities.length, `${where}: ${calls.length} tool calls, expected ${v.cities.length}`);
  calls.forEach((c, i) => {
    assert.equal(c.name, 'get_weather', `${where}: call ${i} name`);
    assert.deepEqual(c.input, toolInput(v.cities[i]), `${where}: call ${i} input`);
    assert.ok(c.id, `${where}: call ${i} has an id`);
  });
  assert.equal(new Set(calls.map((c) => c.id)).size, calls.length, `${where}: tool call ids are unique`);
}

// Anthropic Messages through @anthropic-ai/sdk. Streaming goes through MessageStream, whose accumulator rejects
// out-of-order blocks and parses the tool input from the input_json_delta fragments.
async function anthropicTurn(client, params, stream) {
  if (!stream) return client.messages.create(params);
  const s = client.messages.stream(params);
  let streamed = '';
  s.on('text', (t) => { streamed += t; });
  const message = await s.finalMessage();
  assert.equal(streamed, message.content.filter((b) => b.type === 'text').map((b) => b.text).join(''),
    'the text events add up to the final message');
  return message;
}

async function anthropicToolRoundTrip(client, stream, model, v, upstream) {
  const tools = [{ name: 'get_weather', description: WEATHER_DESCRIPTION, input_schema: WEATHER_SCHEMA }];
  const messages = [{ role: 'user', content: questionOf(v) }];
  const base = { model: 'claude-sonnet-4-6', max_tokens: 2048, system: SYSTEM, tools };
  if (v.reasoning) base.thinking = { type: 'enabled', budget_tokens: 1024 };

  const first = await anthropicTurn(client, { ...base, messages }, stream);
  assert.equal(first.type, 'message');
  assert.equal(first.role, 'assistant');
  assert.equal(first.model, model, 'the model field names who answered');
  assert.equal(first.stop_reason, 'tool_use');
  const calls = first.content.filter((b) => b.type === 'tool_use');
  assertCalls(calls, v, 'turn 1');
  calls.forEach((c) => assert.match(c.id, ANTHROPIC_ID, 'a valid Anthropic tool id'));
  if (v.reasoning) {
    const thinking = first.content.filter((b) => b.type === 'thinking');
    assert.equal(thinking.length, 1, `one thinking block in ${JSON.stringify(first.content)}`);
    assert.equal(thinking[0].thinking, REASONING, 'the reasoning text reaches the client as thinking');
    assert.ok(thinking[0].signature, 'a thinking block carries a signature');
    assert.equal(first.content[0].type, 'thinking', 'thinking comes first');
  }
  assertUsage(first.usage, 'input_tokens', 'output_tokens', 'turn 1');

  messages.push({ role: 'assistant', content: first.content }, {
    role: 'user',
    content: calls.map((c) => ({ type: 'tool_result', tool_use_id: c.id, content: RESULTS[c.input.city] })),
  });
  const second = await anthropicTurn(client, { ...base, messages }, stream);
  assert.equal(second.stop_reason, 'end_turn');
  assert.equal(second.content.filter((b) => b.type === 'text').map((b) => b.text).join(''), expectedFinal(v));
  assert.ok(!second.content.some((b) => b.type === 'tool_use'), 'no tool call in the final answer');
  assertUsage(second.usage, 'input_tokens', 'output_tokens', 'turn 2');
}

async function anthropicText(client, stream) {
  const message = await anthropicTurn(client,
    { model: 'claude-sonnet-4-6', max_tokens: 256, messages: [{ role: 'user', content: 'Say hello.' }] }, stream);
  assert.equal(message.stop_reason, 'end_turn');
  assertUsage(message.usage, 'input_tokens', 'output_tokens', 'reply');
  return { text: message.content.map((b) => b.text ?? '').join(''), model: message.model };
}

// Chat Completions through openai. Streaming turn 1 uses the ChatCompletionStream helper (which validates the
// chunk sequence and merges tool-call fragments); turn 2 iterates the raw chunks.
async function chatToolRoundTrip(client, stream, model, v) {
  const tools = [{ type: 'function', function: { name: 'get_weather', description: WEATHER_DESCRIPTION, parameters: WEATHER_SCHEMA } }];
  const messages = [{ role: 'system', content: SYSTEM }, { role: 'user', content: questionOf(v) }];
  const base = { model: 'gpt-4.1', tools, max_completion_tokens: 2048 };
  if (v.reasoning) base.reasoning_effort = 'low';

  let first;
  if (stream) {
    const s = client.chat.completions.stream({ ...base, messages, stream_options: { include_usage: true } });
    first = await s.finalChatCompletion();
  } else {
    first = await client.chat.completions.create({ ...base, messages });
  }
  assert.equal(first.model, model, 'the model field names who answered');
  const choice = first.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.role, 'assistant');
  const toolCalls = choice.message.tool_calls ?? [];
  toolCalls.forEach((c) => assert.equal(c.type, 'function'));
  const calls = toolCalls.map((c) => ({ id: c.id, name: c.function.name, input: JSON.parse(c.function.arguments) }));
  assertCalls(calls, v, 'turn 1');
  assertUsage(first.usage, 'prompt_tokens', 'completion_tokens', 'turn 1');

  messages.push({
    role: 'assistant', content: choice.message.content ?? null,
    tool_calls: toolCalls.map(({ id, type, function: f }) => ({ id, type, function: { name: f.name, arguments: f.arguments } })),
  }, ...calls.map((c) => ({ role: 'tool', tool_call_id: c.id, content: RESULTS[c.input.city] })));
  let text = '';
  let finish = null;
  let usage = null;
  if (stream) {
    const chunks = await client.chat.completions.create({ ...base, messages, stream: true, stream_options: { include_usage: true } });
    for await (const chunk of chunks) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      for (const c of chunk.choices) {
        text += c.delta?.content ?? '';
        assert.ok(!c.delta?.tool_calls, 'no tool call in the final answer');
        finish = c.finish_reason ?? finish;
      }
      usage = chunk.usage ?? usage;
    }
  } else {
    const second = await client.chat.completions.create({ ...base, messages });
    text = second.choices[0].message.content;
    finish = second.choices[0].finish_reason;
    usage = second.usage;
    assert.ok(!second.choices[0].message.tool_calls?.length, 'no tool call in the final answer');
  }
  assert.equal(text, expectedFinal(v));
  assert.equal(finish, 'stop');
  assertUsage(usage, 'prompt_tokens', 'completion_tokens', 'turn 2');
}

async function chatText(client, stream) {
  const params = { model: 'gpt-4.1', messages: [{ role: 'user', content: 'Say hello.' }] };
  const completion = stream
    ? await client.chat.completions.stream({ ...params, stream_options: { include_usage: true } }).finalChatCompletion()
    : await client.chat.completions.create(params);
  assert.equal(completion.choices[0].finish_reason, 'stop');
  assertUsage(completion.usage, 'prompt_tokens', 'completion_tokens', 'reply');
  return { text: completion.choices[0].message.content, model: completion.model };
}

// Responses through openai. Streaming turn 1 uses the ResponseStream helper (which checks every event against the
// snapshot it builds); turn 2 iterates the raw events of create({stream: true}).
async function responsesToolRoundTrip(client, stream, model, v) {
  const tools = [{ type: 'function', name: 'get_weather', description: WEATHER_DESCRIPTION, parameters: WEATHER_SCHEMA, strict: false }];
  const input = [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: questionOf(v) }] }];
  const base = { model: 'gpt-5-codex', instructions: SYSTEM, tools, store: false, max_output_tokens: 2048 };
  if (v.reasoning) Object.assign(base, { reasoning: { effort: 'low', summary: 'auto' }, include: ['reasoning.encrypted_content'] });

  const first = stream
    ? await client.responses.stream({ ...base, input }).finalResponse()
    : await client.responses.create({ ...base, input });
  assert.equal(first.object, 'response');
  assert.equal(first.status, 'completed');
  assert.equal(first.model, model, 'the model field names who answered');
  const calls = first.output.filter((i) => i.type === 'function_call')
    .map((c) => ({ id: c.call_id, name: c.name, input: JSON.parse(c.arguments) }));
  assertCalls(calls, v, 'turn 1');
  if (v.reasoning) {
    const reasoning = first.output.filter((i) => i.type === 'reasoning');
    assert.equal(reasoning.length, 1, `one reasoning item in ${JSON.stringify(first.output)}`);
    const text = [...reasoning[0].summary ?? [], ...reasoning[0].content ?? []].map((p) => p.text).join('');
    assert.equal(text, REASONING, 'the reasoning text reaches the client');
    assert.equal(first.output[0].type, 'reasoning', 'reasoning comes first');
  }
  assertUsage(first.usage, 'input_tokens', 'output_tokens', 'turn 1');

  input.push(...first.output, ...calls.map((c) => ({ type: 'function_call_output', call_id: c.id, output: RESULTS[c.input.city] })));
  let second;
  if (stream) {
    const events = await client.responses.create({ ...base, input, stream: true });
    let text = '';
    let last = -1;
    for await (const event of events) {
      assert.ok(event.sequence_number > last, `sequence_number ${event.sequence_number} after ${last}`);
      last = event.sequence_number;
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed') second = event.response;
      assert.notEqual(event.type, 'response.failed', JSON.stringify(event));
      assert.notEqual(event.type, 'error', JSON.stringify(event));
    }
    assert.ok(second, 'the stream ended with response.completed');
    assert.equal(text, expectedFinal(v), 'the text deltas');
    const items = second.output.filter((i) => i.type === 'message');
    assert.equal(items.flatMap((i) => i.content).map((c) => c.text).join(''), expectedFinal(v), 'response.completed output');
  } else {
    second = await client.responses.create({ ...base, input });
    assert.equal(second.output_text, expectedFinal(v));
  }
  assert.equal(second.status, 'completed');
  assert.ok(!second.output.some((i) => i.type === 'function_call'), 'no tool call in the final answer');
  assertUsage(second.usage, 'input_tokens', 'output_tokens', 'turn 2');
}

async function responsesText(client, stream) {
  const params = { model: 'gpt-5-codex', input: 'Say hello.', store: false };
  const response = stream ? await client.responses.stream(params).finalResponse() : await client.responses.create(params);
  assert.equal(response.status, 'completed');
  assertUsage(response.usage, 'input_tokens', 'output_tokens', 'reply');
  return { text: response.output_text, model: response.model };
}

const ROUND_TRIP = { anthropic: anthropicToolRoundTrip, 'openai-chat': chatToolRoundTrip, 'openai-responses': responsesToolRoundTrip };
const TEXT = { anthropic: anthropicText, 'openai-chat': chatText, 'openai-responses': responsesText };
const SDK = { anthropic: '@anthropic-ai/sdk messages', 'openai-chat': 'openai chat.completions', 'openai-responses': 'openai responses' };

// ---------------------------------------------------------------------------------------------------------------
// What the upstream received: its own dialect, its own auth, the system prompt where that dialect keeps it.

function systemPromptOf(dialect, body) {
  if (dialect === 'anthropic')
    return typeof body.system === 'string' ? body.system : (body.system ?? []).map((b) => b.text).join('');
  if (dialect === 'openai-chat') {
    const m = body.messages.find((x) => x.role === 'system' || x.role === 'developer');
    return m ? (typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join('')) : '';
  }
  if (body.instructions) return body.instructions;
  const m = (Array.isArray(body.input) ? body.input : []).find((x) => x.role === 'system' || x.role === 'developer');
  return m ? (typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join('')) : '';
}

function checkUpstreamRequest(record, dialect, model) {
  const where = `upstream request ${record.method} ${record.path}`;
  assert.equal(record.dialect, dialect, `${where}: the upstream got its own dialect`);
  assert.equal(record.body?.model, model, `${where}: the step's model`);
  const sentHeaders = JSON.stringify(record.headers);
  assert.ok(!sentHeaders.includes(CLIENT_KEY), `${where}: the client's key reached a provider with its own key`);
  if (dialect === 'anthropic') {
    assert.equal(record.headers['x-api-key'], UPSTREAM_KEY, `${where}: x-api-key`);
    assert.ok(record.headers['anthropic-version'], `${where}: anthropic-version`);
  } else {
    assert.equal(record.headers.authorization, `Bearer ${UPSTREAM_KEY}`, `${where}: authorization`);
    assert.ok(!record.headers['anthropic-version'], `${where}: no anthropic-version to an OpenAI upstream`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Scenarios

function clientFor(inbound, port, chain) {
  const common = { apiKey: CLIENT_KEY, maxRetries: 0, timeout: 10000 };
  if (inbound === 'anthropic') return new Anthropic({ ...common, baseURL: `http://127.0.0.1:${port}/chains/${chain}` });
  return new OpenAI({ ...common, baseURL: `http://127.0.0.1:${port}/chains/${chain}/v1` });
}

function scenarios(ctx) {
  const list = [];
  for (const v of VARIANTS) {
    for (const inbound of INBOUND) {
      for (const upstream of DIALECTS) {
        for (const stream of [false, true]) {
          list.push({
            name: `${SDK[inbound]} → ${upstream} upstream, ${stream ? 'stream' : 'non-stream'}: ${v.name}`,
            run: async () => {
              const from = ctx.mock.requests.length;
              await ROUND_TRIP[inbound](clientFor(inbound, ctx.port, v.chain(upstream)), stream, v.model(upstream), v, upstream);
              const got = ctx.mock.requests.slice(from);
              assert.equal(got.length, 2, `the upstream got ${got.length} requests, expected 2`);
              got.forEach((r) => checkUpstreamRequest(r, upstream, v.model(upstream)));
              assert.deepEqual(got.map((r) => r.plan), ['tool', 'final'],
                'turn 1 offered the tool, turn 2 carried results matching the calls of turn 1');
              assert.equal(systemPromptOf(upstream, got[0].body), SYSTEM, 'the system prompt');
              assert.ok(got.every((r) => r.tag === `ok-${SHORT[upstream]}`));
            },
          });
        }
      }
    }
  }
  for (const inbound of INBOUND) {
    for (const stream of [false, true]) {
      const { status, fallback } = FAILOVER[inbound];
      list.push({
        name: `${SDK[inbound]}, ${stream ? 'stream' : 'non-stream'}: primary (${inbound}) answers ${status} → fallback (${fallback}) serves`,
        run: async () => {
          const chain = failoverName(inbound, stream);
          const from = ctx.mock.requests.length;
          const { text, model } = await TEXT[inbound](clientFor(inbound, ctx.port, chain), stream);
          assert.equal(text, GREETING_DELTAS.join(''));
          assert.equal(model, MODEL_OF(fallback), 'the model field names the fallback');
          const got = ctx.mock.requests.slice(from);
          const primary = got.filter((r) => r.tag === `fail${status}-${chain}`);
          const served = got.filter((r) => r.tag === `ok-${SHORT[fallback]}`);
          assert.ok(primary.length >= 1, 'the primary was tried');
          assert.ok(primary.every((r) => r.status === status && r.dialect === inbound));
          assert.equal(served.length, 1, 'the fallback served once');
          checkUpstreamRequest(served[0], fallback, MODEL_OF(fallback));
          assert.ok(got.indexOf(primary[0]) < got.indexOf(served[0]), 'primary first');
        },
      });
    }
  }
  for (const c of CONTINUATIONS) list.push(continuationScenario(ctx, c));
  return list;
}

// One streamed answer whose primary breaks mid-way: the SDK must parse one complete message equal to the text the
// model means to give, as if nothing had happened; the fallback is sent the partial answer as a prefill.
function continuationScenario(ctx, c) {
  const fallback = c.fallback ?? c.primary;
  const how = { cut: 'is cut', stall: 'stalls', inband: 'sends an in-band error' }[c.fault];
  return {
    name: `${SDK[c.inbound]}, stream: primary (${c.primary}) ${how} after ${CUT_AFTER} text events → continued on ${fallback}`,
    run: async () => {
      const chain = continuationName(c);
      const from = ctx.mock.requests.length;
      const client = clientFor(c.inbound, ctx.port, chain);
      const { text, messages } = await CONTINUED[c.inbound](client);
      assert.equal(text, GREETING_DELTAS.join(''), 'one whole answer: nothing lost, nothing repeated');
      assert.equal(messages, 1, 'one message, not two spliced together');
      const got = ctx.mock.requests.slice(from);
      assert.equal(got.filter((r) => r.tag.startsWith(`${c.fault}${CUT_AFTER}-`)).length, 1, 'the primary was asked once');
      const served = got.filter((r) => r.tag === `ok-${SHORT[fallback]}`);
      assert.equal(served.length, 1, 'the fallback continued once');
      const prefill = served[0].body.messages.at(-1);
      assert.equal(prefill.role, 'assistant', 'the fallback got the partial answer as a prefill');
      assert.equal(prefill.content.map ? prefill.content.map((b) => b.text).join('') : prefill.content,
        GREETING_DELTAS.slice(0, CUT_AFTER).join(''));
    },
  };
}

// The streamed answer as each SDK assembles it, and how many messages the stream held.
const CONTINUED = {
  anthropic: async (client) => {
    const s = client.messages.stream({ model: 'claude-sonnet-4-6', max_tokens: 256, messages: [{ role: 'user', content: 'Say hello.' }] });
    let messages = 0;
    s.on('streamEvent', (e) => { if (e.type === 'message_start') ++messages; });
    const message = await s.finalMessage();
    assert.equal(message.stop_reason, 'end_turn');
    assertUsage(message.usage, 'input_tokens', 'output_tokens', 'continued reply');
    return { text: message.content.map((b) => b.text ?? '').join(''), messages };
  },
  'openai-chat': async (client) => {
    const s = client.chat.completions.stream({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'Say hello.' }],
      stream_options: { include_usage: true } });
    let finishes = 0;  // a second message would finish twice
    s.on('chunk', (chunk) => { if (chunk.choices[0]?.finish_reason) ++finishes; });
    const completion = await s.finalChatCompletion();
    assert.equal(completion.choices.length, 1);
    assert.equal(completion.choices[0].finish_reason, 'stop');
    assertUsage(completion.usage, 'prompt_tokens', 'completion_tokens', 'continued reply');
    return { text: completion.choices[0].message.content, messages: finishes };
  },
};

// ---------------------------------------------------------------------------------------------------------------

async function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms); });
  try { return await Promise.race([promise, timeout]); } finally { clearTimeout(timer); }
}

async function main() {
  const started = Date.now();
  const home = mkdtempSync(join(tmpdir(), 'understudy-e2e-'));
  const mock = await new MockUpstream().start();
  const configFile = join(home, 'understudy.json');
  writeFileSync(configFile, JSON.stringify(buildConfig(mock), null, 2));
  const proxy = new ProxyProcess(opts.binary, configFile, home);
  let failed = 0;
  let passed = 0;
  try {
    const port = await proxy.port;
    console.log(`e2e: ${sdkVersions.join(', ')}; node ${process.version}; understudy on 127.0.0.1:${port}; mock upstreams on 127.0.0.1:${mock.port}`);
    const ctx = { mock, port };
    for (const t of scenarios(ctx)) {
      if (opts.only && !opts.only.test(t.name)) continue;
      const t0 = Date.now();
      const from = mock.requests.length;
      try {
        await withTimeout(t.run(), 15000, t.name);
        ++passed;
        console.log(`ok    ${t.name} (${Date.now() - t0} ms)`);
        if (opts.dump) for (const r of mock.requests.slice(from)) console.log(`      upstream got ${r.method} ${r.path}: ${JSON.stringify(r.body)}`);
      } catch (e) {
        ++failed;
        console.log(`FAIL  ${t.name} (${Date.now() - t0} ms)`);
        console.log(`      ${String(e?.stack ?? e).split('\n').slice(0, 6).join('\n      ')}`);
        if (e?.status) console.log(`      HTTP ${e.status}: ${JSON.stringify(e.error ?? e.message)}`);
        for (const r of mock.requests.slice(from))
          console.log(`      upstream got ${r.method} ${r.path} → ${r.status ?? '?'} ${opts.verbose ? JSON.stringify(r.body) : ''}`);
        console.log(`      proxy stderr (last lines):\n${proxy.tail(opts.verbose ? 12 : 3)}`);
      }
      if (proxy.exited) throw new Error(`understudy exited during the run: ${JSON.stringify(proxy.exited)}\n${proxy.tail()}`);
    }
  } catch (e) {
    ++failed;
    console.log(`FAIL  harness: ${e?.stack ?? e}`);
  } finally {
    await proxy.stop();
    await mock.stop();
    rmSync(home, { recursive: true, force: true });
  }
  console.log(`e2e: ${passed} passed, ${failed} failed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.exit(failed || passed === 0 ? 1 : 0);
}

await main();
