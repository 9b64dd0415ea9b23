// A scripted model provider for the real coding-agent CLIs: one node:http server on loopback that plays a model
// which uses the agent's own tools. It answers the three wire dialects (Anthropic Messages, Chat Completions,
// Responses), streaming or not, in the shapes of /work/shared/notes/wire-formats.md, and records every request.
//
// The first path segment names the provider: `/<tag>/v1/messages`, `/<tag>/v1/chat/completions`,
// `/<tag>/v1/responses`. What a tag does is scripted with `script(tag, behaviour)`:
//   { fail: 429 | 529 | … }                 answer that status, with an error body in the dialect's own shape;
//   { agent: { tools: { Name: input } } }   play the agent's model (the default for a tag not scripted):
//     - the request carries a result of the call this mock made → a final text: `${MARKER} <canary>`, where the
//       canary is the first `canary-<hex>` found in the tool result (`${MARKER} without canary` if none);
//     - the request offers one of the scripted tools, and no result yet → a call to that tool with its input;
//     - otherwise (a title request, a tool-less side request) → a short plain text.
import http from 'node:http';

export const MARKER = 'UNDERSTUDY-E2E-DONE';
const CANARY = /canary-[0-9a-f]+/;
const USAGE = { input: 321, output: 12 };
const CALL_ID = { anthropic: 'toolu_01E2eAgentCall', 'openai-chat': 'call_e2eAgentCall', 'openai-responses': 'call_e2eAgentCall' };

const dialectOf = (path) =>
  path.endsWith('/v1/messages') ? 'anthropic'
    : path.endsWith('/v1/chat/completions') ? 'openai-chat'
      : path.endsWith('/v1/responses') ? 'openai-responses' : null;

const textOf = (content) =>
  typeof content === 'string' ? content
    : Array.isArray(content) ? content.map((p) => (typeof p === 'string' ? p : p.text ?? p.output ?? '')).join('') : '';

const toolNamesOf = (body) => (body.tools ?? []).map((t) => t.name ?? t.function?.name).filter(Boolean);

// The results in the request of the call this mock made, in each dialect's spelling.
function resultsOf(dialect, body) {
  if (dialect === 'anthropic')
    return (body.messages ?? []).flatMap((m) => (Array.isArray(m.content) ? m.content : []))
      .filter((b) => b.type === 'tool_result').map((b) => ({ id: b.tool_use_id, text: textOf(b.content) }));
  if (dialect === 'openai-chat')
    return (body.messages ?? []).filter((m) => m.role === 'tool').map((m) => ({ id: m.tool_call_id, text: textOf(m.content) }));
  return (Array.isArray(body.input) ? body.input : [])
    .filter((i) => i.type === 'function_call_output' || i.type === 'custom_tool_call_output')
    .map((i) => ({ id: i.call_id, text: textOf(i.output) }));
}

// What the model does with this request: {kind: 'call', name, input} | {kind: 'final'|'text', text, result?}.
function decide(dialect, body, agent) {
  const results = resultsOf(dialect, body);
  if (results.length) {
    const text = results.map((r) => r.text).join('\n');
    const canary = CANARY.exec(text)?.[0];
    return { kind: 'final', result: text, text: canary ? `${MARKER} ${canary}` : `${MARKER} without canary` };
  }
  const name = Object.keys(agent.tools ?? {}).find((n) => toolNamesOf(body).includes(n));
  if (name) return { kind: 'call', name, input: agent.tools[name] };
  return { kind: 'text', text: 'Understudy e2e' };
}

const pieces = (text) => text.match(/.{1,7}/gs) ?? [''];

// ---------------------------------------------------------------------------------------------------------------
// Anthropic Messages

function anthropicMessage(plan, model) {
  const content = plan.kind === 'call'
    ? [{ type: 'tool_use', id: CALL_ID.anthropic, name: plan.name, input: plan.input }]
    : [{ type: 'text', text: plan.text }];
  return {
    id: 'msg_01E2eAgent', type: 'message', role: 'assistant', model, content,
    stop_reason: plan.kind === 'call' ? 'tool_use' : 'end_turn', stop_sequence: null,
    usage: { input_tokens: USAGE.input, output_tokens: USAGE.output, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };
}

function anthropicStream(plan, model) {
  const ev = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const msg = anthropicMessage(plan, model);
  const out = [ev('message_start', { message: { ...msg, content: [], stop_reason: null, usage: { ...msg.usage, output_tokens: 1 } } })];
  const block = msg.content[0];
  if (block.type === 'text') {
    out.push(ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }));
    for (const text of pieces(block.text)) out.push(ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text } }));
  } else {
    out.push(ev('content_block_start', { index: 0, content_block: { ...block, input: {} } }));
    for (const partial_json of pieces(JSON.stringify(block.input)))
      out.push(ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json } }));
  }
  out.push(ev('content_block_stop', { index: 0 }));
  out.push(ev('message_delta', { delta: { stop_reason: msg.stop_reason, stop_sequence: null }, usage: { output_tokens: USAGE.output } }));
  out.push(ev('message_stop', {}));
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// OpenAI Chat Completions

const chatUsage = () => ({ prompt_tokens: USAGE.input, completion_tokens: USAGE.output, total_tokens: USAGE.input + USAGE.output });

function chatCompletion(plan, model) {
  const message = { role: 'assistant', content: plan.kind === 'call' ? null : plan.text, refusal: null };
  if (plan.kind === 'call')
    message.tool_calls = [{ id: CALL_ID['openai-chat'], type: 'function', function: { name: plan.name, arguments: JSON.stringify(plan.input) } }];
  return {
    id: 'chatcmpl-e2eAgent', object: 'chat.completion', created: Math.floor(Date.now() / 1000), model,
    choices: [{ index: 0, message, finish_reason: plan.kind === 'call' ? 'tool_calls' : 'stop', logprobs: null }],
    usage: chatUsage(),
  };
}

function chatStream(plan, model, body) {
  const includeUsage = body.stream_options?.include_usage === true;
  const base = { id: 'chatcmpl-e2eAgent', object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model };
  const chunk = (delta, finish_reason = null) =>
    `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason, logprobs: null }] })}\n\n`;
  const out = [chunk({ role: 'assistant', content: '' })];
  if (plan.kind === 'call') {
    out.push(chunk({ tool_calls: [{ index: 0, id: CALL_ID['openai-chat'], type: 'function', function: { name: plan.name, arguments: '' } }] }));
    for (const args of pieces(JSON.stringify(plan.input))) out.push(chunk({ tool_calls: [{ index: 0, function: { arguments: args } }] }));
    out.push(chunk({}, 'tool_calls'));
  } else {
    for (const content of pieces(plan.text)) out.push(chunk({ content }));
    out.push(chunk({}, 'stop'));
  }
  if (includeUsage) out.push(`data: ${JSON.stringify({ ...base, choices: [], usage: chatUsage() })}\n\n`);
  out.push('data: [DONE]\n\n');
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// OpenAI Responses

function responsesItem(plan) {
  if (plan.kind === 'call')
    return { type: 'function_call', id: 'fc_e2eAgent', call_id: CALL_ID['openai-responses'], name: plan.name,
      arguments: JSON.stringify(plan.input), status: 'completed' };
  return { type: 'message', id: 'msg_e2eAgent', status: 'completed', role: 'assistant',
    content: [{ type: 'output_text', text: plan.text, annotations: [], logprobs: [] }] };
}

function responseObject(body, model, status, output) {
  return {
    id: 'resp_e2eAgent', object: 'response', created_at: Math.floor(Date.now() / 1000), status, error: null,
    incomplete_details: null, instructions: body.instructions ?? null, model, output, parallel_tool_calls: true,
    previous_response_id: null, store: body.store ?? true, tool_choice: body.tool_choice ?? 'auto', tools: body.tools ?? [],
    usage: status === 'completed' ? {
      input_tokens: USAGE.input, input_tokens_details: { cached_tokens: 0 }, output_tokens: USAGE.output,
      output_tokens_details: { reasoning_tokens: 0 }, total_tokens: USAGE.input + USAGE.output,
    } : null,
    metadata: {},
  };
}

function responsesStream(plan, model, body) {
  let seq = 0;
  const ev = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`;
  const item = responsesItem(plan);
  const at = { item_id: item.id, output_index: 0 };
  const out = [ev('response.created', { response: responseObject(body, model, 'in_progress', []) }),
    ev('response.in_progress', { response: responseObject(body, model, 'in_progress', []) })];
  if (item.type === 'message') {
    out.push(ev('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } }));
    out.push(ev('response.content_part.added', { ...at, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } }));
    for (const delta of pieces(plan.text)) out.push(ev('response.output_text.delta', { ...at, content_index: 0, delta, logprobs: [] }));
    out.push(ev('response.output_text.done', { ...at, content_index: 0, text: plan.text, logprobs: [] }));
    out.push(ev('response.content_part.done', { ...at, content_index: 0, part: item.content[0] }));
  } else {
    out.push(ev('response.output_item.added', { output_index: 0, item: { ...item, arguments: '', status: 'in_progress' } }));
    for (const delta of pieces(item.arguments)) out.push(ev('response.function_call_arguments.delta', { ...at, delta }));
    out.push(ev('response.function_call_arguments.done', { ...at, name: item.name, arguments: item.arguments }));
  }
  out.push(ev('response.output_item.done', { output_index: 0, item }));
  out.push(ev('response.completed', { response: responseObject(body, model, 'completed', [item]) }));
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

function errorBody(dialect, status, message) {
  if (dialect === 'anthropic') {
    const type = status === 529 ? 'overloaded_error' : status === 429 ? 'rate_limit_error' : 'api_error';
    return { type: 'error', error: { type, message } };
  }
  const code = status === 429 ? 'rate_limit_exceeded' : status === 529 ? 'server_is_overloaded' : null;
  return { error: { message, type: status === 429 ? 'requests' : 'server_error', param: null, code } };
}

const STATUS_TEXT = { 429: 'Rate limit reached (mock)', 529: 'Overloaded (mock)' };

export class AgentUpstream {
  constructor() {
    this.requests = [];
    this.scripts = new Map();
    this.server = http.createServer((req, res) => this.#handle(req, res));
  }

  script(tag, behaviour) { this.scripts.set(tag, behaviour); return this; }

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
      const send = (status, json) => {
        record.status = status;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      if (!dialect) return send(404, { error: { message: `mock: no endpoint ${req.method} ${url.pathname}` } });
      if (body === null || typeof body !== 'object') return send(400, errorBody(dialect, 400, 'mock: body is not JSON'));
      const behaviour = this.scripts.get(tag) ?? { agent: {} };
      if (behaviour.fail) return send(behaviour.fail, errorBody(dialect, behaviour.fail, STATUS_TEXT[behaviour.fail] ?? 'mock failure'));
      const plan = decide(dialect, body, behaviour.agent ?? {});
      Object.assign(record, { plan: plan.kind, toolResult: plan.result, tool: plan.name });
      const model = body.model ?? 'mock-model';
      if (!body.stream) {
        const json = dialect === 'anthropic' ? anthropicMessage(plan, model)
          : dialect === 'openai-chat' ? chatCompletion(plan, model) : responseObject(body, model, 'completed', [responsesItem(plan)]);
        return send(200, json);
      }
      const events = dialect === 'anthropic' ? anthropicStream(plan, model)
        : dialect === 'openai-chat' ? chatStream(plan, model, body) : responsesStream(plan, model, body);
      record.status = 200;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      let i = 0;  // one write per event: the proxy sees a real incremental stream
      const next = () => {
        if (i === events.length) return res.end();
        res.write(events[i++]);
        setImmediate(next);
      };
      next();
    });
  }
}
