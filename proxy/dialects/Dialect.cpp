#include "dialects/Dialect.h"

#include "json/JsonScan.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace understudy {
namespace {

QByteArray anthropicErrorType(int status) {
    switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 402: return "billing_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 504: return "timeout_error";
    case 503:
    case 529: return "overloaded_error";
    default: return status >= 500 ? "api_error" : "invalid_request_error";
    }
}

QByteArray openAIErrorType(int status) {
    if (status == 429)
        return "rate_limit_exceeded";
    if (status >= 500)
        return "server_error";
    return "invalid_request_error";
}

QByteArray compact(const QJsonObject& object) { return QJsonDocument(object).toJson(QJsonDocument::Compact); }

// The event's type: its SSE name, else the "type" member its data repeats. Nullopt when the data is not JSON.
std::optional<QByteArray> eventType(const http::SseEvent& event) {
    const json::ObjectScan scan = json::scanObject(event.data);
    if (!scan.ok)
        return std::nullopt;
    if (!event.event.isEmpty())
        return event.event;
    const auto name = json::stringAt(event.data, scan.find("type"));
    return name ? name->toUtf8() : QByteArray();
}

StreamEventKind classifyAnthropic(const http::SseEvent& event) {
    const std::optional<QByteArray> kind = eventType(event);
    if (!kind)
        return StreamEventKind::Malformed;
    const QByteArray& type = *kind;
    if (type == "content_block_delta" || type == "message_delta")
        return StreamEventKind::Content;
    if (type == "message_stop")
        return StreamEventKind::End;
    if (type == "error")
        return StreamEventKind::Error;
    return StreamEventKind::Preamble;  // message_start, ping, content_block_start/stop, and names we do not know
}

bool hasContentDelta(const QJsonObject& chunk) {
    for (const QJsonValue& choice : chunk.value(QLatin1String("choices")).toArray()) {
        const QJsonObject c = choice.toObject();
        if (!c.value(QLatin1String("finish_reason")).isNull() && c.contains(QLatin1String("finish_reason")))
            return true;
        const QJsonObject delta = c.value(QLatin1String("delta")).toObject();
        for (const char* key : {"content", "reasoning_content", "reasoning", "refusal"}) {
            if (!delta.value(QLatin1String(key)).toString().isEmpty())
                return true;
        }
        if (!delta.value(QLatin1String("tool_calls")).toArray().isEmpty())
            return true;
    }
    return chunk.value(QLatin1String("choices")).toArray().isEmpty() && chunk.contains(QLatin1String("usage"));
}

StreamEventKind classifyOpenAIChat(const http::SseEvent& event, bool committed) {
    if (event.data.trimmed() == "[DONE]")
        return StreamEventKind::End;
    if (event.event == "error")
        return StreamEventKind::Error;
    const json::ObjectScan scan = json::scanObject(event.data);
    if (!scan.ok)
        return StreamEventKind::Malformed;
    if (scan.find("error").isValid())
        return StreamEventKind::Error;
    if (committed)
        return StreamEventKind::Content;
    // Only chunks before the commit need a closer look; they are small.
    const QJsonObject chunk = QJsonDocument::fromJson(event.data).object();
    return hasContentDelta(chunk) ? StreamEventKind::Content : StreamEventKind::Preamble;
}

StreamEventKind classifyOpenAIResponses(const http::SseEvent& event) {
    const std::optional<QByteArray> kind = eventType(event);
    if (!kind)
        return StreamEventKind::Malformed;
    const QByteArray& type = *kind;
    if (type == "error" || type == "response.failed")
        return StreamEventKind::Error;
    if (type == "response.completed" || type == "response.incomplete")
        return StreamEventKind::End;
    if (type.endsWith(".delta") || type == "response.output_item.done")
        return StreamEventKind::Content;
    return StreamEventKind::Preamble;
}

}  // namespace

QString dialectName(Dialect dialect) {
    switch (dialect) {
    case Dialect::AnthropicMessages: return QStringLiteral("anthropic-messages");
    case Dialect::OpenAIChat: return QStringLiteral("openai-chat");
    case Dialect::OpenAIResponses: return QStringLiteral("openai-responses");
    }
    return {};
}

std::optional<Dialect> dialectOf(ProviderType type) {
    switch (type) {
    case ProviderType::Anthropic: return Dialect::AnthropicMessages;
    case ProviderType::OpenAIChat: return Dialect::OpenAIChat;
    case ProviderType::OpenAIResponses: return Dialect::OpenAIResponses;
    case ProviderType::Bedrock: return Dialect::AnthropicMessages;  // Anthropic models through InvokeModel
    case ProviderType::Vertex: return Dialect::AnthropicMessages;
    case ProviderType::AzureOpenAI: return Dialect::OpenAIChat;
    default: return std::nullopt;
    }
}

std::optional<Dialect> dialectForPath(QByteArrayView path) {
    if (path == "/v1/messages" || path == "/v1/messages/count_tokens")
        return Dialect::AnthropicMessages;
    if (path == "/v1/chat/completions")
        return Dialect::OpenAIChat;
    if (path == "/v1/responses")
        return Dialect::OpenAIResponses;
    return std::nullopt;
}

QByteArray upstreamPath(Dialect upstream, bool countTokens) {
    switch (upstream) {
    case Dialect::AnthropicMessages: return countTokens ? "/v1/messages/count_tokens" : "/v1/messages";
    case Dialect::OpenAIChat: return "/chat/completions";
    case Dialect::OpenAIResponses: return "/responses";
    }
    return {};
}

QByteArray errorBody(Dialect dialect, int status, const QString& message) {
    if (dialect == Dialect::AnthropicMessages) {
        return compact({{QStringLiteral("type"), QStringLiteral("error")},
                        {QStringLiteral("error"), QJsonObject{{QStringLiteral("type"), QString::fromLatin1(anthropicErrorType(status))},
                                                              {QStringLiteral("message"), message}}}});
    }
    return compact({{QStringLiteral("error"), QJsonObject{{QStringLiteral("message"), message},
                                                          {QStringLiteral("type"), QString::fromLatin1(openAIErrorType(status))},
                                                          {QStringLiteral("param"), QJsonValue::Null},
                                                          {QStringLiteral("code"), QJsonValue::Null}}}});
}

QByteArray streamErrorEvent(Dialect dialect, const QString& message) {
    switch (dialect) {
    case Dialect::AnthropicMessages:
        return http::formatSse("error", errorBody(dialect, 502, message));
    case Dialect::OpenAIChat:
        return http::formatSse({}, errorBody(dialect, 502, message));
    case Dialect::OpenAIResponses:
        return http::formatSse("error", compact({{QStringLiteral("type"), QStringLiteral("error")},
                                                 {QStringLiteral("code"), QStringLiteral("server_error")},
                                                 {QStringLiteral("message"), message},
                                                 {QStringLiteral("param"), QJsonValue::Null}}));
    }
    return {};
}

StreamEventKind classifyStreamEvent(Dialect dialect, const http::SseEvent& event, bool committed) {
    switch (dialect) {
    case Dialect::AnthropicMessages: return classifyAnthropic(event);
    case Dialect::OpenAIChat: return classifyOpenAIChat(event, committed);
    case Dialect::OpenAIResponses: return classifyOpenAIResponses(event);
    }
    return StreamEventKind::Malformed;
}

}  // namespace understudy
