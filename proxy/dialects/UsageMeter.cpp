#include "dialects/UsageMeter.h"

#include "json/JsonScan.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace understudy {
namespace {

qint64 count(const QJsonObject& object, const char* key) {
    return object.value(QLatin1String(key)).toInteger();
}

}  // namespace

void UsageMeter::feed(const http::SseEvent& event) {
    if (!event.data.contains("usage"))
        return;  // most events: text deltas
    const QJsonObject data = QJsonDocument::fromJson(event.data).object();
    switch (m_dialect) {
    case Dialect::AnthropicMessages:
        readUsageObject(data.value(QLatin1String("type")) == QLatin1String("message_start")
                            ? data.value(QLatin1String("message")).toObject().value(QLatin1String("usage")).toObject()
                            : data.value(QLatin1String("usage")).toObject());
        break;
    case Dialect::OpenAIChat:
        readUsageObject(data.value(QLatin1String("usage")).toObject());
        break;
    case Dialect::OpenAIResponses:
        readUsageObject(data.value(QLatin1String("response")).toObject().value(QLatin1String("usage")).toObject());
        break;
    }
}

void UsageMeter::readBody(const QByteArray& body) {
    // Only the small top-level `usage` object is parsed into a DOM: a whole answer's DOM cost more than the rest
    // of serving it.
    const json::ObjectScan scan = json::scanObject(body);
    const json::Span usage = scan.find("usage");
    if (!usage.isValid())
        return;
    const QByteArray slice = QByteArray::fromRawData(body.constData() + usage.begin, usage.end - usage.begin);
    readUsageObject(QJsonDocument::fromJson(slice).object());
}

void UsageMeter::readUsageObject(const QJsonObject& usage) {
    if (usage.isEmpty())
        return;
    TokenUsage u = m_usage.value_or(TokenUsage{});
    switch (m_dialect) {
    case Dialect::AnthropicMessages:
        // Counts are cumulative across message_start and message_delta: later values replace earlier ones.
        if (usage.contains(QLatin1String("input_tokens")))
            u.input = count(usage, "input_tokens");
        if (usage.contains(QLatin1String("output_tokens")))
            u.output = count(usage, "output_tokens");
        if (usage.contains(QLatin1String("cache_read_input_tokens")))
            u.cacheRead = count(usage, "cache_read_input_tokens");
        if (usage.contains(QLatin1String("cache_creation_input_tokens")))
            u.cacheWrite = count(usage, "cache_creation_input_tokens");
        break;
    case Dialect::OpenAIChat: {
        // OpenAI's prompt count includes the cached part.
        u.cacheRead = usage.value(QLatin1String("prompt_tokens_details")).toObject().value(QLatin1String("cached_tokens")).toInteger();
        u.input = count(usage, "prompt_tokens") - u.cacheRead;
        u.output = count(usage, "completion_tokens");
        break;
    }
    case Dialect::OpenAIResponses:
        u.cacheRead = usage.value(QLatin1String("input_tokens_details")).toObject().value(QLatin1String("cached_tokens")).toInteger();
        u.input = count(usage, "input_tokens") - u.cacheRead;
        u.output = count(usage, "output_tokens");
        break;
    }
    m_usage = u;
}

}  // namespace understudy
