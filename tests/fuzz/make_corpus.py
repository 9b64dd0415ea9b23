#!/usr/bin/env python3
"""Regenerates the seed corpora in tests/fuzz/corpus/<target>/ from the captured client requests
(/work/shared/fixtures/requests, or tests/data/fixtures) plus small hand-written inputs. The output is checked in;
run this only to refresh it."""
import glob, json, os, sys

here = os.path.dirname(os.path.abspath(__file__))
src = sys.argv[1] if len(sys.argv) > 1 else '/work/shared/fixtures/requests'
if not os.path.isdir(src):
    src = os.path.join(here, '..', 'data', 'fixtures')

def put(target, name, data):
    d = os.path.join(here, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data if isinstance(data, bytes) else data.encode())

bodies = {}
for path in sorted(glob.glob(os.path.join(src, '*.json'))):
    fx = json.load(open(path))
    name = os.path.basename(path)[:-5]
    body = fx.get('body')
    raw = b'' if body is None else (body if isinstance(body, str) else json.dumps(body, separators=(',', ':'))).encode()
    if raw:
        bodies[name] = raw
        put('json_scan', name, raw)
        put('translate_request', name, raw)
    target = fx.get('path', '/') + ('?' + fx['query'] if fx.get('query') else '')
    head = f"{fx.get('method', 'POST')} {target} HTTP/1.1\r\n"
    for k, v in (fx.get('headers') or {}).items():
        if k.lower() not in ('content-length', 'transfer-encoding'):
            head += f'{k}: {v}\r\n'
    if raw:
        head += f'Content-Length: {len(raw)}\r\n'
    put('request_parser', name, head.encode() + b'\r\n' + raw)

# Small hand-written requests: pipelining, chunked with extensions and trailers, Expect, bare LF, errors.
put('request_parser', 'get', 'GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n')
put('request_parser', 'pipelined', 'HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\nPOST /v1/messages HTTP/1.1\r\nHost: localhost\r\n'
    'Content-Length: 2\r\n\r\n{}GET /x?y=1 HTTP/1.0\r\n\r\n')
put('request_parser', 'chunked', 'POST /v1/chat/completions HTTP/1.1\r\nHost: [::1]\r\nTransfer-Encoding: chunked\r\n\r\n'
    '4;ext=1\r\n{"a"\r\n3\r\n:1}\r\n0\r\nTrailer: x\r\n\r\n')
put('request_parser', 'expect', 'POST /v1/responses HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n'
    'Content-Length: 5\r\nConnection: close\r\n\r\nhello')
put('request_parser', 'bare_lf', '\r\n\nPUT /a HTTP/1.1\nHost: x\nContent-Length: 0\n\n')
put('request_parser', 'conflict', 'POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\nTransfer-Encoding: gzip, chunked\r\n\r\nabcd')
put('request_parser', 'bad_version', 'GET / HTTP/2.0\r\n\r\n')

# Responses.
put('response_parser', 'length', 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}')
put('response_parser', 'chunked_sse', 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n'
    '1a\r\nevent: ping\ndata: {"a":1}\n\n\r\n0\r\n\r\n')
put('response_parser', 'continue_then_until_close', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 500 Internal\r\n\r\nbody until close')
put('response_parser', 'no_content', 'HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\nHTTP/1.1 304\r\n\r\n')
put('response_parser', 'keepalive_two', 'HTTP/1.1 429 Too Many\r\nretry-after: 1\r\ncontent-length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\n'
    'transfer-encoding: chunked\r\n\r\n0\r\n\r\n')

# SSE streams in each dialect (for the reader and the transcoders).
def sse(events, eol='\n'):
    out = ''
    for ev, data in events:
        if ev:
            out += f'event: {ev}{eol}'
        out += f'data: {json.dumps(data, separators=(",", ":")) if not isinstance(data, str) else data}{eol}{eol}'
    return out

anthropic = [
    ('message_start', {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude",
                       "content": [], "stop_reason": None, "usage": {"input_tokens": 10, "output_tokens": 1}}}),
    ('ping', {"type": "ping"}),
    ('content_block_start', {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
    ('content_block_delta', {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hm"}}),
    ('content_block_delta', {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "sig"}}),
    ('content_block_stop', {"type": "content_block_stop", "index": 0}),
    ('content_block_start', {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}),
    ('content_block_delta', {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Hi"}}),
    ('content_block_stop', {"type": "content_block_stop", "index": 1}),
    ('content_block_start', {"type": "content_block_start", "index": 2, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {}}}),
    ('content_block_delta', {"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": "{\"cmd\":"}}),
    ('content_block_delta', {"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": "\"ls\"}"}}),
    ('content_block_stop', {"type": "content_block_stop", "index": 2}),
    ('message_delta', {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 5}}),
    ('message_stop', {"type": "message_stop"}),
]
anthropic_error = anthropic[:2] + [('error', {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})]
chat = [(None, {"id": "c1", "object": "chat.completion.chunk", "model": "gpt", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}),
        (None, {"id": "c1", "choices": [{"index": 0, "delta": {"reasoning_content": "think"}}]}),
        (None, {"id": "c1", "choices": [{"index": 0, "delta": {"content": "Hi"}}]}),
        (None, {"id": "c1", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                "function": {"name": "Bash", "arguments": "{\"cmd\""}}]}}]}),
        (None, {"id": "c1", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": ":\"ls\"}"}}]}}]}),
        (None, {"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
        (None, {"id": "c1", "choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}),
        (None, '[DONE]')]
responses = [
    ('response.created', {"type": "response.created", "response": {"id": "resp_1", "model": "gpt-5", "status": "in_progress", "output": []}}),
    ('response.output_item.added', {"type": "response.output_item.added", "output_index": 0, "item": {"type": "reasoning", "id": "rs_1", "summary": []}}),
    ('response.reasoning_summary_text.delta', {"type": "response.reasoning_summary_text.delta", "item_id": "rs_1", "output_index": 0, "summary_index": 0, "delta": "hm"}),
    ('response.output_item.done', {"type": "response.output_item.done", "output_index": 0, "item": {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "hm"}], "encrypted_content": "enc"}}),
    ('response.output_item.added', {"type": "response.output_item.added", "output_index": 1, "item": {"type": "message", "id": "msg_1", "role": "assistant", "content": []}}),
    ('response.output_text.delta', {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 1, "content_index": 0, "delta": "Hi"}),
    ('response.output_item.done', {"type": "response.output_item.done", "output_index": 1, "item": {"type": "message", "id": "msg_1", "role": "assistant", "content": [{"type": "output_text", "text": "Hi"}]}}),
    ('response.output_item.added', {"type": "response.output_item.added", "output_index": 2, "item": {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "Bash", "arguments": ""}}),
    ('response.function_call_arguments.delta', {"type": "response.function_call_arguments.delta", "item_id": "fc_1", "output_index": 2, "delta": "{\"cmd\":\"ls\"}"}),
    ('response.output_item.done', {"type": "response.output_item.done", "output_index": 2, "item": {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "Bash", "arguments": "{\"cmd\":\"ls\"}"}}),
    ('response.completed', {"type": "response.completed", "response": {"id": "resp_1", "status": "completed", "usage": {"input_tokens": 10, "output_tokens": 5}}}),
]
for target in ('sse_reader', 'stream_transcoder'):
    put(target, 'anthropic', sse(anthropic))
    put(target, 'anthropic_error', sse(anthropic_error))
    put(target, 'chat', sse(chat))
    put(target, 'responses', sse(responses))
put('sse_reader', 'crlf', sse(anthropic[:3], '\r\n'))
put('sse_reader', 'cr', ': comment\r' + sse(chat[:2], '\r'))
put('sse_reader', 'fields', 'id: 1\nretry: 10\nevent:x\ndata\ndata:  two spaces\nfoo: bar\n\n:only comment\n\n')

# Non-streaming responses and error bodies, each dialect.
put('translate_response', 'anthropic', json.dumps({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude",
    "content": [{"type": "thinking", "thinking": "hm", "signature": "s"}, {"type": "text", "text": "Hi"},
                {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"cmd": "ls"}}],
    "stop_reason": "tool_use", "usage": {"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 3}}))
put('translate_response', 'chat', json.dumps({"id": "c1", "object": "chat.completion", "model": "gpt", "choices": [{"index": 0,
    "message": {"role": "assistant", "content": "Hi", "reasoning_content": "hm", "tool_calls": [{"id": "call_1", "type": "function",
    "function": {"name": "Bash", "arguments": "{\"cmd\":\"ls\"}"}}]}, "finish_reason": "tool_calls"}],
    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "prompt_tokens_details": {"cached_tokens": 2}}}))
put('translate_response', 'responses', json.dumps({"id": "resp_1", "object": "response", "model": "gpt-5", "status": "completed",
    "output": [{"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "hm"}]},
               {"type": "message", "id": "m1", "role": "assistant", "content": [{"type": "output_text", "text": "Hi"}]},
               {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "Bash", "arguments": "{}"}],
    "usage": {"input_tokens": 10, "output_tokens": 5}}))
put('translate_response', 'error_anthropic', '{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}')
put('translate_response', 'error_openai', '{"error":{"message":"bad","type":"invalid_request_error","code":"x"}}')
put('translate_response', 'not_json', '<html>502 Bad Gateway</html>')

# JSON edge cases.
for i, doc in enumerate(['{}', '{"a":[1,-2.5e+3,true,false,null,{"b":"\\u00e9\\ud83d\\ude00\\n"}],"a":"x"}', ' {"model" : "m", "stream":true} ',
                         '{"n":1E400}', '{"s":"\\ud800"}', '[1]', '{"a":1,}']):
    put('json_scan', f'edge{i}', doc)

# Configs.
cfgdir = os.path.join(here, '..', 'data', 'config')
for path in glob.glob(os.path.join(cfgdir, '*.json')):
    put('config', os.path.basename(path)[:-5], open(path, 'rb').read())
put('config', 'minimal', '{"version":1,"providers":{"a":{"type":"anthropic","baseUrl":"https://api.anthropic.com","apiKey":"env:ANTHROPIC_API_KEY"}},'
    '"chains":{"main":{"steps":[{"provider":"a","model":"*"}]}},"activeChain":"main"}')
put('config', 'empty', '{}')

# AWS event streams (Bedrock's InvokeModelWithResponseStream bodies), from tests/data/eventstream.
esdir = os.path.join(here, '..', 'data', 'eventstream')
stream, throttling = (open(os.path.join(esdir, n), 'rb').read() for n in ('bedrock-stream.bin', 'throttling.bin'))
put('event_stream', 'bedrock_stream', stream)
put('event_stream', 'throttling', throttling)
put('event_stream', 'chunk_then_throttling', stream[:int.from_bytes(stream[:4], 'big')] + throttling)
put('event_stream', 'truncated', stream[:100])
put('event_stream', 'bad_crc', stream[:-1] + bytes([stream[-1] ^ 1]))
