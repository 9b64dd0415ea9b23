#pragma once

#include "dialects/Dialect.h"
#include "http/SseReader.h"
#include "json/JsonScan.h"

#include <optional>

namespace understudy {

struct TokenUsage {
    qint64 input = 0;       // not counting cache reads or writes
    qint64 output = 0;
    qint64 cacheRead = 0;
    qint64 cacheWrite = 0;
};

// Reads token usage from an upstream's answer in its own dialect without decoding the content: only the few
// events that carry usage are looked at (message_start / message_delta, the final Chat chunk, response.completed),
// with the JSON scanner: no DOM of an answer or an event is built.
class UsageMeter {
public:
    explicit UsageMeter(Dialect upstream) : m_dialect(upstream) {}
    void feed(const http::SseEvent& event);
    void readBody(const QByteArray& body);
    const std::optional<TokenUsage>& usage() const { return m_usage; }

private:
    void readUsage(QByteArrayView document, json::Span usage);

    Dialect m_dialect;
    std::optional<TokenUsage> m_usage;
};

}  // namespace understudy
