#pragma once

#include "dialects/Canonical.h"
#include "dialects/Dialect.h"
#include "dialects/Stream.h"
#include "http/SseReader.h"

#include <QByteArray>
#include <QString>

#include <memory>
#include <optional>

namespace understudy {

// Translation between dialects through one canonical model (DESIGN.md §2): N dialects need 2N converters.
// Used only when the client's dialect differs from the upstream's; same-dialect requests pass bytes through.

struct TargetTraits {
    std::optional<int> maxOutputTokens;  // clamp the client's max_tokens to this (the catalog will fill it)
    bool acceptsPrefill = true;          // a trailing assistant message is allowed
    // The target reasons and takes reasoning controls (thinking, reasoning_effort, reasoning.effort). Off by
    // default: non-reasoning models reject those fields with a 400, and a missing control only costs the
    // model's default effort.
    bool reasoning = false;
    // A Chat target that reads unsigned reasoning text back as `reasoning_content` on assistant messages
    // (DeepSeek, Qwen, vLLM style). OpenAI itself rejects unknown message fields, so it is off by default.
    bool reasoningContent = false;
};

// The signature this proxy gives the thinking it passes to an Anthropic client from another family's reasoning
// (an Anthropic client needs one). No upstream can verify it, so it never reaches one as signed thinking.
inline constexpr char kUnsignedThinkingSignature[] = "understudy-unsigned";

// The id prefix of reasoning items this proxy builds for a Responses client from another family's reasoning.
// No OpenAI upstream can resolve them (there is no encrypted content), so they must not reach one.
inline constexpr char kMintedReasoningPrefix[] = "rs_understudy";

struct Translated {
    QByteArray body;
    QString error;  // set when the input cannot be translated; says why, never echoes prompt text
};

// A request body from the client's dialect to the upstream's, asking for `model`.
Translated translateRequest(Dialect from, Dialect to, const QByteArray& body, const QString& model,
                            const TargetTraits& traits = {});

// The same with `prefill` appended to the assistant's turn (a new trailing assistant message, or the end of the
// client's own): the target continues that partial answer instead of starting afresh.
Translated translateRequestWithPrefill(Dialect from, Dialect to, const QByteArray& body, const QString& model,
                                       const QList<canonical::Block>& prefill, const TargetTraits& traits = {});

// A complete (non-streaming) response body from the upstream's dialect to the client's.
Translated translateResponse(Dialect from, Dialect to, const QByteArray& body);

// An upstream error body in the client's dialect, keeping the upstream's message verbatim.
QByteArray translateErrorBody(Dialect from, Dialect to, int status, const QByteArray& body);

// Incremental stream translation: one upstream SSE event in, the client-dialect SSE bytes out. Never buffers
// the whole stream; keeps only the state a dialect needs (open content blocks, tool-call indexes, usage).
class StreamTranscoder {
public:
    virtual ~StreamTranscoder() = default;
    // Client bytes for this upstream event; empty when the event has no counterpart.
    virtual QByteArray feed(const http::SseEvent& event) = 0;
    // The upstream stream ended properly: whatever closing events the client's dialect still needs.
    virtual QByteArray finish() = 0;
};
std::unique_ptr<StreamTranscoder> makeStreamTranscoder(Dialect from, Dialect to);

// One dialect's canonical stream codecs, for work on canonical events (splicing a continued stream).
std::unique_ptr<canonical::StreamDecoder> makeStreamDecoder(Dialect dialect);
std::unique_ptr<canonical::StreamEncoder> makeStreamEncoder(Dialect dialect);

// Input tokens of an Anthropic count_tokens request, estimated locally for upstreams with no such endpoint.
int estimateInputTokens(const QByteArray& anthropicRequestBody);

}  // namespace understudy
