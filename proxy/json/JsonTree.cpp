#include "json/JsonTree.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace understudy::json {
namespace {

int hexDigit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    return (c | 0x20) - 'a' + 10;  // validated by the scan: a-f or A-F
}

char32_t hex4(const char* p) {
    return char32_t(hexDigit(p[0]) << 12 | hexDigit(p[1]) << 8 | hexDigit(p[2]) << 4 | hexDigit(p[3]));
}

void appendUtf8(QByteArray& out, char32_t c) {
    if (c < 0x80) {
        out.append(char(c));
    } else if (c < 0x800) {
        out.append(char(0xC0 | c >> 6)).append(char(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
        out.append(char(0xE0 | c >> 12)).append(char(0x80 | (c >> 6 & 0x3F))).append(char(0x80 | (c & 0x3F)));
    } else {
        out.append(char(0xF0 | c >> 18)).append(char(0x80 | (c >> 12 & 0x3F)));
        out.append(char(0x80 | (c >> 6 & 0x3F))).append(char(0x80 | (c & 0x3F)));
    }
}

// One escape at p (just past the backslash); returns the bytes it used, or 0 for a lone surrogate, which UTF-8
// cannot hold.
qsizetype appendEscape(QByteArray& out, const char* p, const char* end) {
    switch (*p) {
    case 'b': out.append('\b'); return 1;
    case 'f': out.append('\f'); return 1;
    case 'n': out.append('\n'); return 1;
    case 'r': out.append('\r'); return 1;
    case 't': out.append('\t'); return 1;
    case 'u': break;
    default: out.append(*p); return 1;  // " \ /
    }
    char32_t c = hex4(p + 1);
    qsizetype used = 5;
    const bool high = c >= 0xD800 && c <= 0xDBFF;
    if (high && end - p >= 11 && p[5] == '\\' && p[6] == 'u') {
        const char32_t low = hex4(p + 7);
        if (low >= 0xDC00 && low <= 0xDFFF) {
            c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
            used = 11;
        }
    }
    if (c >= 0xD800 && c <= 0xDFFF)
        return 0;
    appendUtf8(out, c);
    return used;
}

// Keys are compared as decoded text only when one side is not plain ASCII; member names the decoders ask for
// always are, so the usual comparison allocates nothing.
bool keyEquals(QByteArrayView rawKey, bool escaped, QStringView key) {
    const bool asciiKey = std::all_of(key.begin(), key.end(), [](QChar c) { return c.unicode() < 0x80; });
    if (escaped || !asciiKey)
        return unescaped(rawKey) == key;
    if (rawKey.size() != key.size())
        return false;  // an ASCII key's UTF-8 is as long as its UTF-16
    for (qsizetype i = 0; i < key.size(); ++i) {
        if (char16_t(static_cast<unsigned char>(rawKey[i])) != key[i].unicode())
            return false;
    }
    return true;
}

// Qt keeps a lone surrogate escape (\ud800) in the string; a string holding one is rare enough to let Qt read it.
QString qtUnescaped(QByteArrayView inner) {
    QByteArray wrapped;
    wrapped.reserve(inner.size() + 4);
    wrapped.append("[\"").append(inner).append("\"]");
    return QJsonDocument::fromJson(wrapped).array().at(0).toString();
}

}  // namespace

QString unescaped(QByteArrayView inner) {
    QByteArray utf8;
    utf8.reserve(inner.size());
    const char* p = inner.data();
    const char* end = p + inner.size();
    while (p < end) {
        const char* slash = static_cast<const char*>(std::memchr(p, '\\', size_t(end - p)));
        if (!slash) {
            utf8.append(p, end - p);
            break;
        }
        utf8.append(p, slash - p);
        const qsizetype used = appendEscape(utf8, slash + 1, end);
        if (used == 0)
            return qtUnescaped(inner);
        p = slash + 1 + used;
    }
    return QString::fromUtf8(utf8);
}

const Node* Value::node() const { return m_tree ? &m_tree->m_nodes[size_t(m_index)] : nullptr; }

Value::Type Value::type() const { return m_tree ? node()->type : Type::Undefined; }

QByteArrayView Value::raw() const {
    if (!m_tree)
        return {};
    const Node* n = node();
    return QByteArrayView(m_tree->m_document).sliced(n->begin, n->end - n->begin);
}

QByteArrayView Value::rawString() const { return isString() ? raw().sliced(1).chopped(1) : QByteArrayView(); }

bool Value::hasEscapes() const { return isString() && node()->escaped; }

QString Value::toString() const {
    if (!isString())
        return {};
    return hasEscapes() ? unescaped(rawString()) : QString::fromUtf8(rawString());
}

bool Value::toBool() const { return isBool() && raw() == "true"; }

double Value::toDouble() const { return isDouble() ? raw().toDouble() : 0; }

qint64 Value::toInteger(qint64 defaultValue) const {
    if (!isDouble())
        return defaultValue;
    bool ok = false;
    const qint64 exact = raw().toLongLong(&ok);  // integers past 2^53 stay exact, as QJsonValue keeps them
    if (ok)
        return exact;
    const double d = toDouble();
    if (d != std::trunc(d) || d < double(std::numeric_limits<qint64>::min()) || d >= 0x1p63)
        return defaultValue;
    return qint64(d);
}

int Value::toInt(int defaultValue) const {
    const qint64 integer = toInteger(std::numeric_limits<qint64>::min());
    if (integer < std::numeric_limits<int>::min() || integer > std::numeric_limits<int>::max())
        return defaultValue;
    return int(integer);
}

Value Value::value(QStringView key) const {
    if (!isObject())
        return {};
    const std::vector<Node>& nodes = m_tree->m_nodes;
    const QByteArrayView document(m_tree->m_document);
    int found = -1;
    for (int k = m_index + 1; k < node()->next; k = nodes[size_t(k + 1)].next) {
        const Node& name = nodes[size_t(k)];
        if (keyEquals(document.sliced(name.begin + 1, name.end - name.begin - 2), name.escaped, key))
            found = k + 1;
    }
    return found < 0 ? Value() : Value(m_tree, found);
}

qsizetype Value::size() const {
    if (!isObject() && !isArray())
        return 0;
    qsizetype count = 0;
    for (int i = m_index + 1; i < node()->next; i = m_tree->m_nodes[size_t(i)].next)
        ++count;
    return isObject() ? count / 2 : count;
}

Value Value::first() const { return isArray() && size() > 0 ? Value(m_tree, m_index + 1) : Value(); }

Value::Iterator& Value::Iterator::operator++() {
    m_index = m_tree->m_nodes[size_t(m_index)].next;
    return *this;
}

Value::Iterator Value::begin() const { return isArray() ? Iterator(m_tree, m_index + 1) : Iterator(nullptr, -1); }

Value::Iterator Value::end() const { return isArray() ? Iterator(m_tree, node()->next) : Iterator(nullptr, -1); }

QJsonValue Value::toJsonValue() const {
    if (isUndefined())
        return QJsonValue(QJsonValue::Undefined);
    QByteArray wrapped;
    wrapped.reserve(raw().size() + 2);
    wrapped.append('[').append(raw()).append(']');
    return QJsonDocument::fromJson(wrapped).array().at(0);
}

QJsonObject Value::toJsonObject() const { return isObject() ? QJsonDocument::fromJson(raw().toByteArray()).object() : QJsonObject(); }

}  // namespace understudy::json
