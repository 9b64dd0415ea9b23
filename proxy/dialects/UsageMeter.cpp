#include "dialects/UsageMeter.h"

#include "json/JsonScan.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace understudy {
namespace {

// The object at `span` of `document`, scanned; not ok when it is not an object (absent, null, a number...).
json::ObjectScan objectAt(QByteArrayView document, json::Span span) {
    if (!span.isValid())
        return {};
    return json::scanObject(QByteArray::fromRawData(document.data() + span.begin, span.end - span.begin));
}

// A count as QJsonValue::toInteger read it: 0 when the member is not a number.
qint64 count(const json::ObjectScan& object, QByteArrayView key) {
    const json::Span span = object.find(key);
    if (!span.isValid())
        return 0;
    return static_cast<qint64>(json::numberAt(object.document(), span).value_or(0));
}

qint64 nestedCount(const json::ObjectScan& object, QByteArrayView key, QByteArrayView inner) {
    return count(objectAt(object.document(), object.find(key)), inner);
}

}  // namespace

void UsageMeter::feed(const http::SseEvent& event) {
    if (!event.data.contains("usage"))
        return;  // most events: text deltas
    const json::ObjectScan data = json::scanObject(event.data);
    if (!data.ok)
        return;
    switch (m_dialect) {
    case Dialect::AnthropicMessages:
        if (json::stringAt(event.data, data.find("type")) == QLatin1String("message_start")) {
            const json::ObjectScan message = objectAt(event.data, data.find("message"));
            readUsage(message.document(), message.find("usage"));
        } else {
            readUsage(event.data, data.find("usage"));
        }
        break;
    case Dialect::OpenAIChat:
        readUsage(event.data, data.find("usage"));
        break;
    case Dialect::OpenAIResponses: {
        const json::ObjectScan response = objectAt(event.data, data.find("response"));
        readUsage(response.document(), response.find("usage"));
        break;
    }
    }
}

void UsageMeter::readBody(const QByteArray& body) {
    const json::ObjectScan scan = json::scanObject(body);
    readUsage(body, scan.find("usage"));
}

void UsageMeter::readUsage(QByteArrayView document, json::Span span) {
    const json::ObjectScan usage = objectAt(document, span);
    if (!usage.ok || usage.members.isEmpty())
        return;
    TokenUsage u = m_usage.value_or(TokenUsage{});
    switch (m_dialect) {
    case Dialect::AnthropicMessages:
        // Counts are cumulative across message_start and message_delta: later values replace earlier ones.
        if (usage.find("input_tokens").isValid())
            u.input = count(usage, "input_tokens");
        if (usage.find("output_tokens").isValid())
            u.output = count(usage, "output_tokens");
        if (usage.find("cache_read_input_tokens").isValid())
            u.cacheRead = count(usage, "cache_read_input_tokens");
        if (usage.find("cache_creation_input_tokens").isValid())
            u.cacheWrite = count(usage, "cache_creation_input_tokens");
        break;
    case Dialect::OpenAIChat:
        // OpenAI's prompt count includes the cached part.
        u.cacheRead = nestedCount(usage, "prompt_tokens_details", "cached_tokens");
        u.input = count(usage, "prompt_tokens") - u.cacheRead;
        u.output = count(usage, "completion_tokens");
        break;
    case Dialect::OpenAIResponses:
        u.cacheRead = nestedCount(usage, "input_tokens_details", "cached_tokens");
        u.input = count(usage, "input_tokens") - u.cacheRead;
        u.output = count(usage, "output_tokens");
        break;
    }
    m_usage = u;
}

}  // namespace understudy
