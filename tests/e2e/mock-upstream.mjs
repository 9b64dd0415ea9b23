// A scripted model provider on loopback for the real-client tests: one node:http server that answers all three
// wire dialects with canned, wire-correct JSON and SSE (shapes from /work/shared/notes/wire-formats.md §1–§3).
//
// The first path segment names the provider and scripts it: `/<tag>/v1/messages`, `/<tag>/v1/chat/completions`,
// `/<tag>/v1/responses`. A tag `fail529-…` answers 529 (overloaded), `fail429-…` answers 429 (rate limited,
// no retry-after), anything else answers normally. A stream of a tag `cut<N>-…`, `stall<N>-…` or `inband<N>-…`
// breaks after its N-th text event: the connection is cut, falls silent (left open), or carries the dialect's
// in-band error event and ends. A conversation ending in an assistant message (a prefill) is continued the way
// a provider does: the answer leaves out the text the prefill already holds. The answer is decided from the
// request body, like a model:
//   - the last turn holds tool results → a final text quoting them in order ("It is <result> and <result>.");
//   - tools are offered                → a short text plus one `get_weather` call {city, unit} per city the first
//                                        user message names (Paris, and London: parallel calls);
//   - otherwise                        → a plain text greeting.
// When the request asks for thinking/reasoning (Anthropic `thinking`, Responses `reasoning`, Chat
// `reasoning_effort`), or the model's name contains `reasoner` (a model that always reasons), the answer starts
// with reasoning: a signed thinking block, a reasoning item with a summary (and encrypted_content when `include`
// asks for it), or DeepSeek-style `reasoning_content`.
// Requests a real provider would reject get a 400 in the dialect's own error shape, so a translation mistake fails
// the test with the provider's wording: a tool result whose id matches no tool call of the turn before, a tool call
// left without a result, an Anthropic tool id outside ^[a-zA-Z0-9_-]+$, a thinking signature or reasoning
// encrypted_content this mock did not mint, a missing max_tokens. Every request is recorded in `requests`.
import http from 'node:http';

export const toolInput = (city) => ({ city, unit: 'celsius' });
// The arguments as a provider streams them: JSON text cut at arbitrary places.
const argumentFragments = (city) => ['{"city":', ` "${city}", "un`, 'it": "celsius"}'];
const argumentsOf = (city) => argumentFragments(city).join('');
export const PREAMBLE = 'Let me check the weather.';
export const GREETING_DELTAS = ['Hello', ' from', ' the mock', ' model.'];
export const REASONING = 'The user wants the weather, so I call get_weather.';
export const finalText = (results) => `It is ${results.join(' and ')}.`;
const SIGNATURE = 'E2eMockSignature0123456789abcdef==';
const ENCRYPTED = 'gAAAAE2eMockEncryptedReasoning==';
// The ids each dialect's mock mints. The Chat one is the Kimi style that is not a valid Anthropic id (DESIGN.md §2).
const callId = {
  anthropic: (i) => `toolu_01E2eMockWeather${i}`,
  'openai-chat': (i) => `functions.get_weather:${i}`,
  'openai-responses': (i) => `call_e2eMockWeather${i}`,
};
const pieces = (text) => text.match(/.{1,8}/gs);

const USAGE = { input: 42, output: 17 };

const dialectOf = (path) =>
  path.endsWith('/v1/messages') ? 'anthropic'
    : path.endsWith('/v1/chat/completions') ? 'openai-chat'
      : path.endsWith('/v1/responses') ? 'openai-responses' : null;

// ---------------------------------------------------------------------------------------------------------------
// What the conversation asks for, read the way each dialect spells it.

function textOf(content) {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content.map((p) => (typeof p === 'string' ? p : p.text ?? p.output ?? '')).join('');
  return '';
}

// The first user message's text, for the cities it names.
function firstUserText(dialect, body) {
  if (dialect === 'openai-responses') {
    if (typeof body.input === 'string') return body.input;
    const m = (body.input ?? []).find((i) => i.role === 'user');
    return m ? textOf(m.content) : '';
  }
  const m = (body.messages ?? []).find((x) => x.role === 'user');
  return m ? textOf(m.content) : '';
}

// Checks that the results of the last turn answer exactly the calls of the turn before. Returns an error or null.
function checkResults(calls, results, say) {
  for (const r of results) if (!calls.includes(r.id)) return say(r.id);
  const missing = calls.filter((id) => !results.some((r) => r.id === id));
  return missing.length ? `tool call(s) ${missing.join(', ')} have no result in the next turn` : null;
}

// Returns {kind: 'final'|'tool'|'text', cities, results?, reasoning} or {error}.
function decide(dialect, body) {
  const hasTools = Array.isArray(body.tools) && body.tools.length > 0;
  const text = firstUserText(dialect, body);
  const cities = ['Paris', 'London'].filter((c) => text.includes(c));
  const plan = { kind: hasTools && cities.length ? 'tool' : 'text', cities };
  if (dialect === 'anthropic') {
    if (typeof body.max_tokens !== 'number') return { error: 'max_tokens: Field required' };
    plan.reasoning = body.thinking != null && body.thinking.type !== 'disabled';
    const msgs = body.messages ?? [];
    for (const [i, m] of msgs.entries()) {
      if (m.role !== 'assistant' || !Array.isArray(m.content)) continue;
      for (const [j, b] of m.content.entries()) {
        if (b.type === 'tool_use' && !/^[a-zA-Z0-9_-]+$/.test(b.id ?? ''))
          return { error: `messages.${i}.content.${j}.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'` };
        if (b.type === 'thinking' && b.signature !== SIGNATURE)
          return { error: `messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block` };
      }
    }
    const last = msgs.at(-1);
    const results = last?.role === 'user' && Array.isArray(last.content) ? last.content.filter((b) => b.type === 'tool_result') : [];
    if (results.length) {
      const prev = msgs.at(-2);
      const calls = (Array.isArray(prev?.content) ? prev.content : []).filter((b) => b.type === 'tool_use').map((b) => b.id);
      const error = checkResults(calls, results.map((r) => ({ id: r.tool_use_id })),
        (id) => `messages.${msgs.length - 1}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${id}`);
      if (error) return { error };
      return { ...plan, kind: 'final', results: results.map((r) => textOf(r.content)) };
    }
  } else if (dialect === 'openai-chat') {
    plan.reasoning = typeof body.reasoning_effort === 'string';
    const msgs = body.messages ?? [];
    let k = msgs.length;
    while (k > 0 && msgs[k - 1].role === 'tool') --k;
    const results = msgs.slice(k);
    if (results.length) {
      const calls = (msgs[k - 1]?.tool_calls ?? []).map((c) => c.id);
      const error = checkResults(calls, results.map((r) => ({ id: r.tool_call_id })),
        (id) => `Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls' (tool_call_id ${id}).`);
      if (error) return { error };
      return { ...plan, kind: 'final', results: results.map((r) => textOf(r.content)) };
    }
  } else {
    plan.reasoning = body.reasoning != null;
    const input = typeof body.input === 'string' ? [] : body.input ?? [];
    for (const item of input)
      if (item.type === 'reasoning' && item.encrypted_content !== ENCRYPTED)
        return { error: `Item with id '${item.id}' not found. Items are not persisted when \`store\` is set to false.` };
    let k = input.length;
    while (k > 0 && input[k - 1].type === 'function_call_output') --k;
    const results = input.slice(k);
    if (results.length) {
      let c = k;
      while (c > 0 && (input[c - 1].role === undefined || input[c - 1].role === 'assistant')) --c;  // back to the user turn
      const calls = input.slice(c, k).filter((i) => i.type === 'function_call').map((i) => i.call_id);
      const error = checkResults(calls, results.map((r) => ({ id: r.call_id })),
        (id) => `No tool call found for function call output with call_id ${id}.`);
      if (error) return { error };
      return { ...plan, kind: 'final', results: results.map((r) => textOf(r.output)) };
    }
  }
  if (String(body.model).includes('reasoner')) plan.reasoning = true;
  plan.prefill = prefillOf(dialect, body);
  return plan;
}

// The text of a trailing assistant message (Anthropic and Chat), or ''.
function prefillOf(dialect, body) {
  if (dialect === 'openai-responses') return '';
  const last = (body.messages ?? []).at(-1);
  return last?.role === 'assistant' ? textOf(last.content) : '';
}

// The stream cut short as the tag says: {events, ending: 'end' | 'cut' | 'stall'}.
function faulted(events, dialect, fault, n) {
  const carriesText = (e) => {
    if (dialect === 'anthropic') return e.includes('"text_delta"');
    if (dialect === 'openai-responses') return e.includes('response.output_text.delta');
    const data = e.startsWith('data: {') ? JSON.parse(e.slice(6)) : null;
    return Boolean(data?.choices?.[0]?.delta?.content);
  };
  let seen = 0;
  const at = events.findIndex((e) => carriesText(e) && ++seen === n);
  const kept = events.slice(0, at + 1);
  if (fault !== 'inband') return { events: kept, ending: fault };
  const error = dialect === 'anthropic'
    ? `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}\n\n`
    : dialect === 'openai-chat'
      ? `data: ${JSON.stringify({ error: { message: 'The server had an error', type: 'server_error', param: null, code: null } })}\n\n`
      : `event: error\ndata: ${JSON.stringify({ type: 'error', code: 'server_error', message: 'The server had an error', param: null, sequence_number: 0 })}\n\n`;
  return { events: [...kept, error], ending: 'end' };
}

// ---------------------------------------------------------------------------------------------------------------
// Anthropic Messages

// What is left to say after a prefill: a provider continues the assistant's text, it does not repeat it.
const afterPrefill = (plan, text) => (plan.prefill && text.startsWith(plan.prefill) ? text.slice(plan.prefill.length) : text);
const answerText = (plan) => afterPrefill(plan, plan.kind === 'final' ? finalText(plan.results) : GREETING_DELTAS.join(''));
const textPieces = (plan) => (plan.kind === 'text' && !plan.prefill ? GREETING_DELTAS : pieces(answerText(plan)));

function anthropicBlocks(plan) {
  const blocks = plan.reasoning ? [{ type: 'thinking', thinking: REASONING, signature: SIGNATURE }] : [];
  if (plan.kind !== 'tool') return [...blocks, { type: 'text', text: answerText(plan) }];
  return [...blocks, { type: 'text', text: PREAMBLE },
    ...plan.cities.map((city, i) => ({ type: 'tool_use', id: callId.anthropic(i), name: 'get_weather', input: toolInput(city) }))];
}

function anthropicMessage(plan, model) {
  return {
    id: 'msg_01E2eMock', type: 'message', role: 'assistant', model,
    content: anthropicBlocks(plan),
    stop_reason: plan.kind === 'tool' ? 'tool_use' : 'end_turn', stop_sequence: null,
    usage: { input_tokens: USAGE.input, output_tokens: USAGE.output, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };
}

function anthropicStream(plan, model) {
  const ev = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const out = [];
  const msg = anthropicMessage(plan, model);
  out.push(ev('message_start', { message: { ...msg, content: [], stop_reason: null, usage: { ...msg.usage, output_tokens: 1 } } }));
  out.push(ev('ping', {}));
  msg.content.forEach((block, index) => {
    const delta = (d) => out.push(ev('content_block_delta', { index, delta: d }));
    if (block.type === 'thinking') {
      out.push(ev('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } }));
      for (const thinking of pieces(block.thinking)) delta({ type: 'thinking_delta', thinking });
      delta({ type: 'signature_delta', signature: block.signature });
    } else if (block.type === 'text') {
      out.push(ev('content_block_start', { index, content_block: { type: 'text', text: '' } }));
      for (const text of block.text === PREAMBLE ? pieces(PREAMBLE) : textPieces(plan)) delta({ type: 'text_delta', text });
    } else {
      out.push(ev('content_block_start', { index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } }));
      for (const partial_json of argumentFragments(block.input.city)) delta({ type: 'input_json_delta', partial_json });
    }
    out.push(ev('content_block_stop', { index }));
  });
  out.push(ev('message_delta', { delta: { stop_reason: msg.stop_reason, stop_sequence: null }, usage: { output_tokens: USAGE.output } }));
  out.push(ev('message_stop', {}));
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// OpenAI Chat Completions

const chatUsage = () => ({
  prompt_tokens: USAGE.input, completion_tokens: USAGE.output, total_tokens: USAGE.input + USAGE.output,
  prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 },
});

function chatCompletion(plan, model) {
  const message = { role: 'assistant', content: null, refusal: null };
  if (plan.reasoning) message.reasoning_content = REASONING;
  if (plan.kind === 'tool')
    message.tool_calls = plan.cities.map((city, i) => ({
      id: callId['openai-chat'](i), type: 'function', function: { name: 'get_weather', arguments: argumentsOf(city) },
    }));
  else message.content = answerText(plan);
  return {
    id: 'chatcmpl-e2eMock', object: 'chat.completion', created: Math.floor(Date.now() / 1000), model,
    choices: [{ index: 0, message, finish_reason: plan.kind === 'tool' ? 'tool_calls' : 'stop', logprobs: null }],
    usage: chatUsage(),
  };
}

function chatStream(plan, model, body) {
  const includeUsage = body.stream_options?.include_usage === true;
  const base = { id: 'chatcmpl-e2eMock', object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model };
  const chunk = (delta, finish_reason = null) =>
    `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason, logprobs: null }], ...(includeUsage ? { usage: null } : {}) })}\n\n`;
  const out = [chunk({ role: 'assistant', content: '', refusal: null })];
  if (plan.reasoning) for (const reasoning_content of pieces(REASONING)) out.push(chunk({ reasoning_content }));
  if (plan.kind === 'tool') {
    plan.cities.forEach((city, index) => {
      out.push(chunk({ tool_calls: [{ index, id: callId['openai-chat'](index), type: 'function', function: { name: 'get_weather', arguments: '' } }] }));
      for (const args of argumentFragments(city)) out.push(chunk({ tool_calls: [{ index, function: { arguments: args } }] }));
    });
    out.push(chunk({}, 'tool_calls'));
  } else {
    for (const content of textPieces(plan)) out.push(chunk({ content }));
    out.push(chunk({}, 'stop'));
  }
  if (includeUsage) out.push(`data: ${JSON.stringify({ ...base, choices: [], usage: chatUsage() })}\n\n`);
  out.push('data: [DONE]\n\n');
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// OpenAI Responses

function responsesItems(plan, body) {
  const items = [];
  if (plan.reasoning) {
    const encrypted = (body.include ?? []).includes('reasoning.encrypted_content');
    items.push({ type: 'reasoning', id: 'rs_e2eMock', summary: [{ type: 'summary_text', text: REASONING }],
      ...(encrypted ? { encrypted_content: ENCRYPTED } : {}) });
  }
  const message = (text) => ({
    type: 'message', id: 'msg_e2eMock', status: 'completed', role: 'assistant',
    content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
  });
  if (plan.kind !== 'tool') return [...items, message(answerText(plan))];
  return [...items, message(PREAMBLE), ...plan.cities.map((city, i) => ({
    type: 'function_call', id: `fc_e2eMock${i}`, call_id: callId['openai-responses'](i), name: 'get_weather',
    arguments: argumentsOf(city), status: 'completed',
  }))];
}

function responseObject(body, model, status, output) {
  return {
    id: 'resp_e2eMock', object: 'response', created_at: Math.floor(Date.now() / 1000), status,
    background: false, error: null, incomplete_details: null, instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null, model, output, parallel_tool_calls: true,
    previous_response_id: null, reasoning: { effort: body.reasoning?.effort ?? null, summary: body.reasoning?.summary ?? null },
    store: body.store ?? true, temperature: 1, text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: body.tool_choice ?? 'auto', tools: body.tools ?? [], top_p: 1, truncation: 'disabled',
    usage: status === 'completed' ? {
      input_tokens: USAGE.input, input_tokens_details: { cached_tokens: 0 }, output_tokens: USAGE.output,
      output_tokens_details: { reasoning_tokens: 0 }, total_tokens: USAGE.input + USAGE.output,
    } : null,
    user: null, metadata: {},
  };
}

function responsesStream(plan, model, body) {
  let seq = 0;
  const ev = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`;
  const items = responsesItems(plan, body);
  const out = [ev('response.created', { response: responseObject(body, model, 'in_progress', []) }),
    ev('response.in_progress', { response: responseObject(body, model, 'in_progress', []) })];
  items.forEach((item, output_index) => {
    const item_id = item.id;
    if (item.type === 'reasoning') {
      out.push(ev('response.output_item.added', { output_index, item: { ...item, summary: [] } }));
      const part = { type: 'summary_text', text: '' };
      out.push(ev('response.reasoning_summary_part.added', { item_id, output_index, summary_index: 0, part }));
      for (const delta of pieces(REASONING))
        out.push(ev('response.reasoning_summary_text.delta', { item_id, output_index, summary_index: 0, delta }));
      out.push(ev('response.reasoning_summary_text.done', { item_id, output_index, summary_index: 0, text: REASONING }));
      out.push(ev('response.reasoning_summary_part.done', { item_id, output_index, summary_index: 0, part: item.summary[0] }));
    } else if (item.type === 'message') {
      const text = item.content[0].text;
      out.push(ev('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', content: [] } }));
      const emptyPart = { type: 'output_text', text: '', annotations: [], logprobs: [] };
      out.push(ev('response.content_part.added', { item_id, output_index, content_index: 0, part: emptyPart }));
      for (const delta of text === PREAMBLE ? pieces(PREAMBLE) : textPieces(plan))
        out.push(ev('response.output_text.delta', { item_id, output_index, content_index: 0, delta, logprobs: [] }));
      out.push(ev('response.output_text.done', { item_id, output_index, content_index: 0, text, logprobs: [] }));
      out.push(ev('response.content_part.done', { item_id, output_index, content_index: 0, part: item.content[0] }));
    } else {
      out.push(ev('response.output_item.added', { output_index, item: { ...item, arguments: '', status: 'in_progress' } }));
      for (const delta of argumentFragments(JSON.parse(item.arguments).city))
        out.push(ev('response.function_call_arguments.delta', { item_id, output_index, delta }));
      out.push(ev('response.function_call_arguments.done', { item_id, output_index, name: item.name, arguments: item.arguments }));
    }
    out.push(ev('response.output_item.done', { output_index, item }));
  });
  out.push(ev('response.completed', { response: responseObject(body, model, 'completed', items) }));
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Errors in each dialect's shape

function errorBody(dialect, status, message) {
  if (dialect === 'anthropic') {
    const type = status === 529 ? 'overloaded_error' : status === 429 ? 'rate_limit_error' : 'invalid_request_error';
    return { type: 'error', error: { type, message }, request_id: 'req_e2eMock' };
  }
  const code = status === 429 ? 'rate_limit_exceeded' : status === 529 ? 'server_is_overloaded' : null;
  const type = status === 429 ? 'requests' : status >= 500 ? 'server_error' : 'invalid_request_error';
  return { error: { message, type, param: null, code } };
}

// ---------------------------------------------------------------------------------------------------------------

export class MockUpstream {
  constructor() {
    this.requests = [];
    this.server = http.createServer((req, res) => this.#handle(req, res));
  }

  async start() {
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = this.server.address().port;
    return this;
  }

  // The base URL a provider of `type` is configured with (OpenAI base URLs include /v1, Anthropic's does not).
  baseUrl(tag, type) { return `http://127.0.0.1:${this.port}/${tag}${type === 'anthropic' ? '' : '/v1'}`; }

  received(tag) { return this.requests.filter((r) => r.tag === tag); }

  stop() {
    this.server.closeAllConnections?.();
    return new Promise((resolve) => this.server.close(resolve));
  }

  #handle(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url, 'http://mock');
      const tag = url.pathname.split('/')[1] ?? '';
      const dialect = req.method === 'POST' ? dialectOf(url.pathname) : null;
      let body = null;
      try { body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'); } catch { /* recorded as null */ }
      const record = { tag, dialect, method: req.method, path: url.pathname, headers: req.headers, body };
      this.requests.push(record);
      const send = (status, json, extra = {}) => {
        record.status = status;
        res.writeHead(status, { 'content-type': 'application/json', ...extra });
        res.end(JSON.stringify(json));
      };
      if (!dialect) return send(404, { error: { message: `mock: no endpoint ${req.method} ${url.pathname}` } });
      if (body === null || typeof body !== 'object') return send(400, errorBody(dialect, 400, 'mock: body is not JSON'));
      if (tag.startsWith('fail529')) return send(529, errorBody(dialect, 529, 'Overloaded'));
      if (tag.startsWith('fail429'))
        return send(429, errorBody(dialect, 429, 'Rate limit reached for requests (mock)'));
      const plan = decide(dialect, body);
      if (plan.error) return send(400, errorBody(dialect, 400, plan.error));
      record.plan = plan.kind;
      const model = body.model ?? 'mock-model';
      if (!body.stream) {
        const json = dialect === 'anthropic' ? anthropicMessage(plan, model)
          : dialect === 'openai-chat' ? chatCompletion(plan, model) : responseObject(body, model, 'completed', responsesItems(plan, body));
        return send(200, json, dialect === 'anthropic' ? { 'request-id': 'req_e2eMock' } : { 'x-request-id': 'req_e2eMock' });
      }
      let events = dialect === 'anthropic' ? anthropicStream(plan, model)
        : dialect === 'openai-chat' ? chatStream(plan, model, body) : responsesStream(plan, model, body);
      let ending = 'end';
      const fault = /^(cut|stall|inband)(\d+)-/.exec(tag);
      if (fault) ({ events, ending } = faulted(events, dialect, fault[1], Number(fault[2])));
      record.status = 200;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      // One write per event, so the proxy sees a real incremental stream.
      let i = 0;
      const next = () => {
        if (i === events.length) {
          if (ending === 'cut') return res.destroy();
          if (ending === 'stall') return undefined;  // silent until the proxy gives up and closes
          return res.end();
        }
        res.write(events[i++]);
        setImmediate(next);
      };
      next();
    });
  }
}
