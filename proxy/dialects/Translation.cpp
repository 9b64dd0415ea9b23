#include "dialects/Translation.h"

#include "dialects/AnthropicMessages.h"
#include "dialects/Errors.h"
#include "dialects/OpenAIChat.h"
#include "dialects/OpenAIResponses.h"
#include "dialects/Wire.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace understudy {
namespace {

using canonical::Block;
using canonical::BlockKind;

// The three spokes behind one switch each, so adding a dialect touches only these functions.
canonical::Request decodeRequest(Dialect dialect, const json::Value& body) {
    switch (dialect) {
    case Dialect::AnthropicMessages: return anthropic::decodeRequest(body);
    case Dialect::OpenAIChat: return chat::decodeRequest(body);
    case Dialect::OpenAIResponses: return responses::decodeRequest(body);
    }
    return {};
}

QByteArray encodeRequest(Dialect dialect, const canonical::Request& request, const TargetTraits& traits,
                         qsizetype sizeHint) {
    switch (dialect) {
    case Dialect::AnthropicMessages: return anthropic::encodeRequest(request, traits, sizeHint);
    case Dialect::OpenAIChat: return chat::encodeRequest(request, traits, sizeHint);
    case Dialect::OpenAIResponses: return responses::encodeRequest(request, traits, sizeHint);
    }
    return {};
}

canonical::Response decodeResponse(Dialect dialect, const json::Value& body) {
    switch (dialect) {
    case Dialect::AnthropicMessages: return anthropic::decodeResponse(body);
    case Dialect::OpenAIChat: return chat::decodeResponse(body);
    case Dialect::OpenAIResponses: return responses::decodeResponse(body);
    }
    return {};
}

QByteArray encodeResponse(Dialect dialect, const canonical::Response& response) {
    switch (dialect) {
    case Dialect::AnthropicMessages: return anthropic::encodeResponse(response);
    case Dialect::OpenAIChat: return chat::encodeResponse(response);
    case Dialect::OpenAIResponses: return responses::encodeResponse(response);
    }
    return {};
}

QJsonObject encodeError(Dialect dialect, const canonical::Error& error) {
    switch (dialect) {
    case Dialect::AnthropicMessages: return anthropic::encodeError(error);
    case Dialect::OpenAIChat: return chat::encodeError(error);
    case Dialect::OpenAIResponses: return responses::encodeError(error);
    }
    return {};
}

class Transcoder final : public StreamTranscoder {
public:
    Transcoder(Dialect from, Dialect to) : m_decoder(makeStreamDecoder(from)), m_encoder(makeStreamEncoder(to)) {}

    QByteArray feed(const http::SseEvent& event) override {
        QList<canonical::StreamEvent> events;
        m_decoder->feed(event, events);
        return encoded(events);
    }

    QByteArray finish() override {
        QList<canonical::StreamEvent> events;
        m_decoder->finish(events);
        return encoded(events);
    }

private:
    QByteArray encoded(const QList<canonical::StreamEvent>& events) {
        QByteArray out;
        for (const canonical::StreamEvent& event : events)
            out += m_encoder->encode(event);
        return out;
    }

    std::unique_ptr<canonical::StreamDecoder> m_decoder;
    std::unique_ptr<canonical::StreamEncoder> m_encoder;
};

QString parseProblem(const QByteArray& body) {
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError)
        return QStringLiteral("the body is not valid JSON (%1 at byte %2)").arg(error.errorString()).arg(error.offset);
    return document.isObject() ? QString() : QStringLiteral("the body is not a JSON object");
}

// Qt's parser, which translation used before, lets raw control characters and unknown escapes through, and
// sloppy upstreams send them: such a body is normalised through QJsonDocument once rather than refused.
std::optional<json::Tree> parseBody(const QByteArray& body) {
    if (std::optional<json::Tree> tree = wire::parseTree(body))
        return tree;
    if (const std::optional<QJsonObject> object = wire::parseObject(body))
        return wire::parseTree(wire::compact(*object));
    return std::nullopt;
}

// Estimate of input tokens (see estimateInputTokens): UTF-8 bytes of text per 4.
constexpr qint64 kBytesPerToken = 4;
// Anthropic bills an image by its pixels (about 1,600 tokens at the largest size it keeps); the data's byte
// count says nothing about that, so every image counts as one large image.
constexpr qint64 kTokensPerImage = 1600;

qint64 textBytes(const Block& block) {
    switch (block.kind) {
    case BlockKind::Text:
    case BlockKind::Thinking: return block.text.toUtf8().size();
    case BlockKind::ToolCall: return (block.name + block.arguments).toUtf8().size();
    case BlockKind::ToolResult: {
        qint64 bytes = 0;
        for (const Block& part : block.content)
            bytes += textBytes(part);
        return bytes;
    }
    case BlockKind::Image: return 0;
    }
    return 0;
}

qint64 imageCount(const Block& block) {
    if (block.kind == BlockKind::Image)
        return 1;
    qint64 count = 0;
    for (const Block& part : block.content)
        count += imageCount(part);
    return count;
}

}  // namespace

Translated translateRequest(Dialect from, Dialect to, const QByteArray& body, const QString& model,
                            const TargetTraits& traits) {
    return translateRequestWithPrefill(from, to, body, model, {}, traits);
}

Translated translateRequestWithPrefill(Dialect from, Dialect to, const QByteArray& body, const QString& model,
                                       const QList<canonical::Block>& prefill, const TargetTraits& traits) {
    const std::optional<json::Tree> tree = parseBody(body);
    if (!tree)
        return {{}, QStringLiteral("cannot translate the request from %1: %2").arg(dialectName(from), parseProblem(body))};
    canonical::Request request = decodeRequest(from, tree->root());
    request.model = model;
    if (!prefill.isEmpty()) {
        if (request.messages.isEmpty() || request.messages.last().role != canonical::Role::Assistant)
            request.messages.append({canonical::Role::Assistant, {}});
        request.messages.last().content.append(prefill);
    }
    // The translation is about as long as the body: one allocation up front instead of a dozen doublings.
    return {encodeRequest(to, request, traits, body.size() + body.size() / 8), {}};
}

Translated translateResponse(Dialect from, Dialect to, const QByteArray& body) {
    const std::optional<json::Tree> tree = parseBody(body);
    if (!tree)
        return {{}, QStringLiteral("cannot translate the %1 response: %2").arg(dialectName(from), parseProblem(body))};
    return {encodeResponse(to, decodeResponse(from, tree->root())), {}};
}

QByteArray translateErrorBody(Dialect from, Dialect to, int status, const QByteArray& body) {
    Q_UNUSED(from);  // the shape is recognised from the body: gateways in front of a vendor use their own
    return wire::compact(encodeError(to, errors::fromBody(status, body)));
}

std::unique_ptr<canonical::StreamDecoder> makeStreamDecoder(Dialect dialect) {
    switch (dialect) {
    case Dialect::AnthropicMessages: return anthropic::makeStreamDecoder();
    case Dialect::OpenAIChat: return chat::makeStreamDecoder();
    case Dialect::OpenAIResponses: return responses::makeStreamDecoder();
    }
    return {};
}

std::unique_ptr<canonical::StreamEncoder> makeStreamEncoder(Dialect dialect) {
    switch (dialect) {
    case Dialect::AnthropicMessages: return anthropic::makeStreamEncoder();
    case Dialect::OpenAIChat: return chat::makeStreamEncoder();
    case Dialect::OpenAIResponses: return responses::makeStreamEncoder();
    }
    return {};
}

std::unique_ptr<StreamTranscoder> makeStreamTranscoder(Dialect from, Dialect to) {
    return std::make_unique<Transcoder>(from, to);
}

// An estimate, not a count: (UTF-8 bytes of the text in the system prompt, messages, tool calls and results,
// and tool names, descriptions and schemas) / 4, rounded up, plus 1,600 tokens per image. English prose and
// code run at about 4 bytes a token with Claude's tokenizer; JSON keys and syntax of the request are not counted.
int estimateInputTokens(const QByteArray& anthropicRequestBody) {
    const std::optional<json::Tree> tree = parseBody(anthropicRequestBody);
    if (!tree)
        return 0;
    const canonical::Request request = anthropic::decodeRequest(tree->root());
    qint64 bytes = 0;
    qint64 images = 0;
    for (const Block& block : request.system)
        bytes += textBytes(block);
    for (const canonical::Message& message : request.messages) {
        for (const Block& block : message.content) {
            bytes += textBytes(block);
            images += imageCount(block);
        }
    }
    for (const canonical::Tool& tool : request.tools)
        bytes += (tool.name + tool.description).toUtf8().size() + wire::compact(tool.parameters).size();
    const qint64 tokens = (bytes + kBytesPerToken - 1) / kBytesPerToken + images * kTokensPerImage;
    return int(std::min<qint64>(tokens, std::numeric_limits<int>::max()));
}

}  // namespace understudy
