#include "json/JsonWriter.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>

#include <cmath>
#include <cstring>

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

// Steps over bytes that need no escape, eight at a time: none may be a quote, a backslash or a control character.
const char* skipPlain(const char* p, const char* end) {
    constexpr quint64 ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    auto hasZeroByte = [](quint64 v) { return (v - ones) & ~v & highs; };
    while (end - p >= 8) {
        quint64 v;
        std::memcpy(&v, p, 8);
        if (hasZeroByte(v ^ (ones * '"')) | hasZeroByte(v ^ (ones * '\\')) | ((v - ones * 0x20) & ~v & highs))
            break;
        p += 8;
    }
    while (p < end && static_cast<unsigned char>(*p) >= 0x20 && *p != '"' && *p != '\\')
        ++p;
    return p;
}

// UTF-8 text as the inside of a JSON string literal.
void appendEscaped(QByteArray& out, const char* p, const char* end) {
    while (p < end) {
        const char* run = p;
        p = skipPlain(p, end);
        out.append(run, p - run);
        if (p == end)
            break;
        appendEscapedAscii(out, char16_t(*p++));
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
    appendText(text);
    m_out.append('"');
    return *this;
}

// Two fast passes, Qt's vectorised UTF-16 to UTF-8 conversion and then a word-at-a-time escape, beat one
// pass character by character several times over on megabytes of prompt text.
void Writer::appendText(QStringView text) {
    m_utf8.resize(m_encoder.requiredSpace(text.size()));
    const char* end = m_encoder.appendToBuffer(m_utf8.data(), text);
    if (!m_encoder.hasError()) {
        appendEscaped(m_out, m_utf8.constData(), end);
        return;
    }
    m_encoder.resetState();
    appendWithLoneSurrogates(text);
}

// Qt writes a lone surrogate (not UTF-8 text, but a string JSON can carry) as a \uXXXX escape; so does this.
void Writer::appendWithLoneSurrogates(QStringView text) {
    qsizetype start = 0;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const char16_t c = text[i].unicode();
        if (QChar::isHighSurrogate(c) && i + 1 < text.size() && QChar::isLowSurrogate(text[i + 1].unicode())) {
            ++i;
            continue;
        }
        if (!QChar::isSurrogate(c))
            continue;
        appendText(text.sliced(start, i - start));
        static const char hex[] = "0123456789abcdef";
        const char escape[] = {'\\', 'u', hex[c >> 12], hex[c >> 8 & 0xF], hex[c >> 4 & 0xF], hex[c & 0xF]};
        m_out.append(escape, 6);
        start = i + 1;
    }
    appendText(text.sliced(start));
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
