#include "json/JsonWriter.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>

#include <cmath>

namespace understudy::json {
namespace {

// The escapes QJsonDocument writes: the short forms, \u00XX for other control characters, nothing else.
void appendEscapedAscii(QByteArray& out, char16_t c) {
    switch (c) {
    case '"': out.append("\\\"", 2); return;
    case '\\': out.append("\\\\", 2); return;
    case '\b': out.append("\\b", 2); return;
    case '\f': out.append("\\f", 2); return;
    case '\n': out.append("\\n", 2); return;
    case '\r': out.append("\\r", 2); return;
    case '\t': out.append("\\t", 2); return;
    default: break;
    }
    static const char hex[] = "0123456789abcdef";
    const char escape[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
    out.append(escape, 6);
}

bool needsEscape(char16_t c) { return c < 0x20 || c == '"' || c == '\\'; }

// UTF-16 to escaped UTF-8 in one pass; a lone surrogate is written as U+FFFD, as QString::toUtf8 does.
void appendEscaped(QByteArray& out, QStringView text) {
    const char16_t* p = text.utf16();
    const char16_t* end = p + text.size();
    while (p < end) {
        const char16_t* run = p;
        while (p < end && *p < 0x80 && !needsEscape(*p))
            ++p;
        if (p != run) {
            const qsizetype at = out.size();
            out.resize(at + (p - run));
            char* dst = out.data() + at;
            for (const char16_t* c = run; c < p; ++c)
                *dst++ = char(*c);
        }
        if (p == end)
            break;
        if (*p < 0x80) {
            appendEscapedAscii(out, *p++);
            continue;
        }
        const char16_t* start = p;
        while (p < end && *p >= 0x80)
            ++p;
        out.append(QStringView(start, p).toUtf8());
    }
}

}  // namespace

Writer::Writer(qsizetype reserve) {
    m_out.reserve(reserve);
    m_first.reserve(16);
}

void Writer::separate() {
    if (m_afterKey) {
        m_afterKey = false;
        return;
    }
    if (!m_first.empty()) {
        if (!m_first.back())
            m_out.append(',');
        m_first.back() = false;
    }
}

Writer& Writer::beginObject() {
    separate();
    m_out.append('{');
    m_first.push_back(true);
    return *this;
}

Writer& Writer::endObject() {
    m_out.append('}');
    m_first.pop_back();
    return *this;
}

Writer& Writer::beginArray() {
    separate();
    m_out.append('[');
    m_first.push_back(true);
    return *this;
}

Writer& Writer::endArray() {
    m_out.append(']');
    m_first.pop_back();
    return *this;
}

Writer& Writer::key(const char* name) {
    separate();
    m_out.append('"').append(name).append("\":", 2);
    m_afterKey = true;
    return *this;
}

Writer& Writer::string(QStringView text) {
    separate();
    m_out.append('"');
    appendEscaped(m_out, text);
    m_out.append('"');
    return *this;
}

Writer& Writer::string(QLatin1StringView text) { return string(QString(text)); }

Writer& Writer::escapedString(QByteArrayView inner) {
    separate();
    m_out.append('"').append(inner).append('"');
    return *this;
}

Writer& Writer::number(qint64 n) {
    separate();
    m_out.append(QByteArray::number(n));
    return *this;
}

// As QJsonDocument writes numbers: integral values without a fraction, others in the shortest exact form.
Writer& Writer::number(double d) {
    if (!std::isfinite(d))
        return null();
    if (d == std::trunc(d) && std::abs(d) < 0x1p53)
        return number(qint64(d));
    separate();
    m_out.append(QByteArray::number(d, 'g', QLocale::FloatingPointShortest));
    return *this;
}

Writer& Writer::boolean(bool b) { return raw(b ? "true" : "false"); }

Writer& Writer::null() { return raw("null"); }

Writer& Writer::json(const QJsonValue& value) {
    if (value.isObject())
        return raw(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
    if (value.isArray())
        return raw(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact));
    const QByteArray wrapped = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    return raw(QByteArrayView(wrapped).sliced(1, wrapped.size() - 2));
}

Writer& Writer::raw(QByteArrayView json) {
    separate();
    m_out.append(json);
    return *this;
}

}  // namespace understudy::json
