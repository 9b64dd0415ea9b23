#!/usr/bin/env python3
"""Writes bedrock-stream.bin: an InvokeModelWithResponseStream body as Bedrock sends it (framing per AWS's
event-stream encoding: prelude, string headers, payload, CRC32s), built with Python's struct and zlib only, so
the C++ decoder is checked against an encoder it shares no code with. Frames: the Anthropic stream events of a
short answer ("Hello" + " there"), each as {"bytes": base64, "p": padding}. Also throttling.bin: one
throttlingException exception frame."""
import base64, json, os, struct, zlib

def header(name, value):
    n, v = name.encode(), value.encode()
    return struct.pack(">B", len(n)) + n + b"\x07" + struct.pack(">H", len(v)) + v

def frame(headers, payload):
    hb = b"".join(header(k, v) for k, v in headers)
    total = 16 + len(hb) + len(payload)
    prelude = struct.pack(">II", total, len(hb))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + hb + payload
    return body + struct.pack(">I", zlib.crc32(body))

def chunk(event, pad):
    payload = json.dumps({"bytes": base64.b64encode(json.dumps(event, separators=(",", ":")).encode()).decode(),
                          "p": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"[:pad]}, separators=(",", ":")).encode()
    return frame([(":event-type", "chunk"), (":content-type", "application/json"), (":message-type", "event")], payload)

events = [
    {"type": "message_start", "message": {"id": "msg_bdrk_01", "type": "message", "role": "assistant",
     "model": "claude-sonnet-4-5-20250929", "content": [], "stop_reason": None, "stop_sequence": None,
     "usage": {"input_tokens": 12, "output_tokens": 1}}},
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": " there"}},
    {"type": "content_block_stop", "index": 0},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": 2}},
    {"type": "message_stop", "amazon-bedrock-invocationMetrics": {"inputTokenCount": 12, "outputTokenCount": 2,
     "invocationLatency": 321, "firstByteLatency": 123}},
]
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "bedrock-stream.bin"), "wb") as f:
    for i, e in enumerate(events):
        f.write(chunk(e, 3 + 5 * i))
with open(os.path.join(here, "throttling.bin"), "wb") as f:
    f.write(frame([(":exception-type", "throttlingException"), (":content-type", "application/json"),
                   (":message-type", "exception")],
                  b'{"message":"Too many requests, please wait before trying again."}'))
