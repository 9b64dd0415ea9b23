#include "json/JsonScan.h"

#include "json/JsonTree.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>
#include <cstring>

namespace understudy::json {
namespace {

constexpr int kMaxDepth = 512;  // deeper documents are refused rather than risking the stack

class Scanner {
public:
    explicit Scanner(QByteArrayView doc) : m_p(doc.data()), m_begin(doc.data()), m_end(doc.data() + doc.size()) {}

    ObjectScan run() {
        ObjectScan scan;
        skipSpace();
        if (m_p == m_end || *m_p != '{') {
            fail(m_p == m_end ? "the body is empty, expected a JSON object" : "expected a JSON object");
        } else {
            scan.members.reserve(16);
            scanRootObject(scan.members);
            skipSpace();
            if (!m_error && m_p != m_end)
                fail("unexpected data after the JSON object");
        }
        scan.ok = !m_error;
        if (m_error) {
            scan.error = QString::fromLatin1(m_error);
            scan.errorOffset = m_errorAt - m_begin;
            scan.members.clear();
        }
        return scan;
    }

    // The whole document as a tree: the same validation, recording a node per value.
    bool runTree(std::vector<Node>& nodes) {
        m_nodes = &nodes;
        skipSpace();
        if (scanValue(0)) {
            skipSpace();
            if (m_p != m_end)
                fail("unexpected data after the JSON value");
        }
        return !m_error;
    }

private:
    bool fail(const char* message) {
        if (!m_error) {
            m_error = message;
            m_errorAt = m_p;
        }
        return false;
    }

    void skipSpace() {
        while (m_p != m_end && (*m_p == ' ' || *m_p == '\n' || *m_p == '\r' || *m_p == '\t'))
            ++m_p;
    }

    bool expect(char c, const char* message) {
        skipSpace();
        if (m_p == m_end || *m_p != c)
            return fail(message);
        ++m_p;
        return true;
    }

    void scanRootObject(QList<Member>& members) {
        ++m_p;  // '{'
        skipSpace();
        if (m_p != m_end && *m_p == '}') {
            ++m_p;
            return;
        }
        while (!m_error) {
            skipSpace();
            if (m_p == m_end || *m_p != '"') {
                fail("expected a member name in quotes");
                return;
            }
            const char* keyStart = m_p + 1;
            if (!scanString())
                return;
            const Span key{keyStart - m_begin, m_p - 1 - m_begin};
            if (!expect(':', "expected ':' after a member name"))
                return;
            skipSpace();
            const char* valueStart = m_p;
            if (!scanValue(1))
                return;
            members.append({key, {valueStart - m_begin, m_p - m_begin}});
            skipSpace();
            if (m_p != m_end && *m_p == ',') {
                ++m_p;
                continue;
            }
            expect('}', "expected ',' or '}' in an object");
            return;
        }
    }

    bool scanValue(int depth) {
        skipSpace();
        if (m_p == m_end)
            return fail("unexpected end of the document");
        if (!m_nodes)
            return scanBareValue(depth);
        const size_t index = openNode(typeAt(*m_p));
        if (!scanBareValue(depth))
            return false;
        closeNode(index);
        return true;
    }

    static Value::Type typeAt(char c) {
        switch (c) {
        case '"': return Value::Type::String;
        case '{': return Value::Type::Object;
        case '[': return Value::Type::Array;
        case 't': case 'f': return Value::Type::Bool;
        case 'n': return Value::Type::Null;
        default: return Value::Type::Number;
        }
    }

    size_t openNode(Value::Type type) {
        m_nodes->push_back({m_p - m_begin, 0, 0, type, false});
        m_escaped = false;
        return m_nodes->size() - 1;
    }

    void closeNode(size_t index) {
        Node& node = (*m_nodes)[index];
        node.end = m_p - m_begin;
        node.next = int(m_nodes->size());
        node.escaped = node.type == Value::Type::String && m_escaped;
    }

    bool scanBareValue(int depth) {
        switch (*m_p) {
        case '"': return scanString();
        case '{': return scanContainer(depth, '}', true);
        case '[': return scanContainer(depth, ']', false);
        case 't': return scanLiteral("true");
        case 'f': return scanLiteral("false");
        case 'n': return scanLiteral("null");
        default: return scanNumber();
        }
    }

    bool scanContainer(int depth, char close, bool isObject) {
        if (depth >= kMaxDepth)
            return fail("the document nests deeper than 512 levels");
        ++m_p;
        skipSpace();
        if (m_p != m_end && *m_p == close) {
            ++m_p;
            return true;
        }
        for (;;) {
            if (isObject) {
                skipSpace();
                if (m_p == m_end || *m_p != '"')
                    return fail("expected a member name in quotes");
                const size_t key = m_nodes ? openNode(Value::Type::String) : 0;
                if (!scanString())
                    return false;
                if (m_nodes)
                    closeNode(key);
                if (!expect(':', "expected ':' after a member name"))
                    return false;
            }
            if (!scanValue(depth + 1))
                return false;
            skipSpace();
            if (m_p != m_end && *m_p == ',') {
                ++m_p;
                continue;
            }
            return expect(close, isObject ? "expected ',' or '}' in an object" : "expected ',' or ']' in an array");
        }
    }

    // Skips plain string bytes eight at a time: no byte may be a quote, a backslash or a control character.
    void skipPlainRun() {
        constexpr quint64 ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
        auto hasZeroByte = [](quint64 v) { return (v - ones) & ~v & highs; };
        while (m_end - m_p >= 8) {
            quint64 v;
            std::memcpy(&v, m_p, 8);
            const quint64 special = hasZeroByte(v ^ (ones * '"')) | hasZeroByte(v ^ (ones * '\\'))
                                  | ((v - ones * 0x20) & ~v & highs) | (v & highs);  // non-ASCII: validated below
            if (special)
                return;
            m_p += 8;
        }
    }

    // Steps over one well-formed UTF-8 sequence of 2-4 bytes (RFC 3629: no overlong forms, no surrogates, nothing
    // above U+10FFFF), as QJsonDocument requires; false, not moving, when the bytes at m_p are not one.
    bool skipUtf8Sequence() {
        const auto byte = [this](qsizetype i) { return static_cast<unsigned char>(m_p[i]); };
        const unsigned char b0 = byte(0);
        int length = 0;
        unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
        if (b0 >= 0xC2 && b0 <= 0xDF) length = 2;
        else if (b0 == 0xE0) { length = 3; lo = 0xA0; }
        else if (b0 == 0xED) { length = 3; hi = 0x9F; }
        else if (b0 >= 0xE1 && b0 <= 0xEF) length = 3;
        else if (b0 == 0xF0) { length = 4; lo = 0x90; }
        else if (b0 == 0xF4) { length = 4; hi = 0x8F; }
        else if (b0 >= 0xF1 && b0 <= 0xF3) length = 4;
        else return false;
        if (m_end - m_p < length || byte(1) < lo || byte(1) > hi)
            return false;
        for (int i = 2; i < length; ++i)
            if (byte(i) < 0x80 || byte(i) > 0xBF)
                return false;
        m_p += length;
        return true;
    }

    // On entry *m_p is the opening quote; on success m_p is just past the closing quote.
    bool scanString() {
        ++m_p;
        for (;;) {
            // Strings are most of a request's bytes (prompts, tool descriptions): keep this loop tight.
            skipPlainRun();
            while (m_p != m_end && static_cast<unsigned char>(*m_p) >= 0x20 && *m_p != '"' && *m_p != '\\') {
                if (static_cast<unsigned char>(*m_p) < 0x80)
                    ++m_p;
                else if (!skipUtf8Sequence())
                    return fail("invalid UTF-8 in a string");
            }
            if (m_p == m_end)
                return fail("unterminated string");
            if (*m_p == '"') {
                ++m_p;
                return true;
            }
            if (*m_p != '\\')
                return fail("control character inside a string (escape it, e.g. \\n)");
            m_escaped = true;
            ++m_p;
            if (m_p == m_end)
                return fail("unterminated string");
            switch (*m_p) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                ++m_p;
                break;
            case 'u':
                ++m_p;
                for (int i = 0; i < 4; ++i, ++m_p) {
                    if (m_p == m_end || !isxdigit(static_cast<unsigned char>(*m_p)))
                        return fail("invalid \\u escape in a string");
                }
                break;
            default:
                return fail("invalid escape in a string");
            }
        }
    }

    bool scanLiteral(const char* word) {
        for (const char* w = word; *w; ++w, ++m_p) {
            if (m_p == m_end || *m_p != *w)
                return fail("invalid literal (expected true, false or null)");
        }
        return true;
    }

    bool digits() {
        const char* start = m_p;
        while (m_p != m_end && *m_p >= '0' && *m_p <= '9')
            ++m_p;
        return m_p != start;
    }

    bool scanNumber() {
        const char* start = m_p;
        if (*m_p == '-')
            ++m_p;
        if (m_p != m_end && *m_p == '0')
            ++m_p;
        else if (!digits())
            return fail("invalid value (expected a string, number, object, array, true, false or null)");
        if (m_p != m_end && *m_p == '.') {
            ++m_p;
            if (!digits())
                return fail("invalid number: digits expected after '.'");
        }
        if (m_p != m_end && (*m_p == 'e' || *m_p == 'E')) {
            ++m_p;
            if (m_p != m_end && (*m_p == '+' || *m_p == '-'))
                ++m_p;
            if (!digits())
                return fail("invalid number: digits expected in the exponent");
        }
        // Out-of-range numbers (1e400) are refused, as QJsonDocument refuses them: a document this scan accepts
        // must also parse when it is translated.
        bool ok = false;
        QByteArray::fromRawData(start, m_p - start).toDouble(&ok);
        if (!ok) {
            m_p = start;
            return fail("invalid number: out of range");
        }
        return true;
    }

    const char* m_p;
    const char* m_begin;
    const char* m_end;
    const char* m_error = nullptr;
    const char* m_errorAt = nullptr;
    std::vector<Node>* m_nodes = nullptr;  // recording a tree
    bool m_escaped = false;                // the string being scanned holds an escape
};

// Parses one small value through QJsonDocument by wrapping it in an array.
QJsonValue smallValue(QByteArrayView document, Span span) {
    if (!span.isValid())
        return QJsonValue(QJsonValue::Undefined);
    QByteArray wrapped;
    wrapped.reserve(span.end - span.begin + 2);
    wrapped.append('[').append(document.sliced(span.begin, span.end - span.begin)).append(']');
    return QJsonDocument::fromJson(wrapped).array().at(0);
}

}  // namespace

const Member* ObjectScan::findMember(QByteArrayView key) const {
    for (auto it = members.crbegin(); it != members.crend(); ++it) {
        if (keyOf(*it) == key)
            return &*it;
    }
    return nullptr;
}

Span ObjectScan::find(QByteArrayView key) const {
    const Member* member = findMember(key);
    return member ? member->value : Span{};
}

QByteArrayView ObjectScan::keyOf(const Member& member) const {
    return QByteArrayView(m_document).sliced(member.key.begin, member.key.end - member.key.begin);
}

std::optional<Tree> Tree::parse(const QByteArray& document) {
    Tree tree;
    tree.m_nodes.reserve(size_t(document.size() / 64) + 16);
    if (!Scanner(document).runTree(tree.m_nodes))
        return std::nullopt;
    tree.m_document = document;
    return tree;
}

ObjectScan scanObject(const QByteArray& document) {
    ObjectScan scan = Scanner(document).run();
    if (scan.ok)
        scan.m_document = document;
    return scan;
}

std::optional<QString> stringAt(QByteArrayView document, Span span) {
    if (!span.isValid() || document[span.begin] != '"')
        return std::nullopt;
    const QByteArrayView inner = document.sliced(span.begin + 1, span.end - span.begin - 2);
    if (!inner.contains('\\'))  // the usual model name: no escapes to decode
        return QString::fromUtf8(inner);
    const QJsonValue v = smallValue(document, span);
    return v.isString() ? std::optional(v.toString()) : std::nullopt;
}

std::optional<bool> boolAt(QByteArrayView document, Span span) {
    if (!span.isValid())
        return std::nullopt;
    const QByteArrayView value = document.sliced(span.begin, span.end - span.begin);  // validated by the scan
    if (value == "true")
        return true;
    if (value == "false")
        return false;
    return std::nullopt;
}

std::optional<double> numberAt(QByteArrayView document, Span span) {
    if (!span.isValid())
        return std::nullopt;
    // The usual number here, a token count, is a plain integer: read its digits (15 of them stay exact).
    const QByteArrayView value = document.sliced(span.begin, span.end - span.begin);  // validated by the scan
    const QByteArrayView digits = value.startsWith('-') ? value.sliced(1) : value;
    if (!digits.isEmpty() && digits.size() <= 15
        && std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        qint64 number = 0;
        for (char c : digits)
            number = number * 10 + (c - '0');
        return static_cast<double>(value.startsWith('-') ? -number : number);
    }
    const QJsonValue v = smallValue(document, span);
    return v.isDouble() ? std::optional(v.toDouble()) : std::nullopt;
}

QByteArray replaced(QByteArrayView document, Span span, QByteArrayView replacement) {
    QByteArray out;
    out.reserve(document.size() - (span.end - span.begin) + replacement.size());
    out.append(document.first(span.begin)).append(replacement).append(document.sliced(span.end));
    return out;
}

QByteArray quoted(const QString& text) {
    const QByteArray array = QJsonDocument(QJsonArray{text}).toJson(QJsonDocument::Compact);
    return array.sliced(1, array.size() - 2);
}

}  // namespace understudy::json
