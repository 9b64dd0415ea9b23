#include "Connect.h"

#include "config/ConfigFile.h"

#include "LocalToken.h"

#include <QCommandLineParser>
#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSaveFile>
#include <QStandardPaths>

#include <functional>

#include <vector>

namespace understudy::connect {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// --- positions and formatting ------------------------------------------------------------------------------

// (lastIndexOf from -1 would search from the end.)
qsizetype lineStartOf(const QByteArray& text, qsizetype pos) { return pos > 0 ? text.lastIndexOf('\n', pos - 1) + 1 : 0; }

QString position(const QByteArray& text, qsizetype offset) {
    offset = std::clamp<qsizetype>(offset, 0, text.size());
    const qsizetype lineStart = lineStartOf(text, offset);
    const qsizetype line = text.left(lineStart).count('\n') + 1;
    const qsizetype column = QString::fromUtf8(text.mid(lineStart, offset - lineStart)).size() + 1;
    return QStringLiteral("line %1, column %2").arg(line).arg(column);
}

Edit failed(const QByteArray& text, qsizetype offset, const QString& message) {
    return Edit{text, false, position(text, offset) + QStringLiteral(": ") + message, {}};
}

QByteArray newlineOf(const QByteArray& text) { return text.contains("\r\n") ? QByteArrayLiteral("\r\n") : "\n"; }


QByteArray leadingSpaceOfLine(const QByteArray& text, qsizetype pos) {
    qsizetype p = lineStartOf(text, pos);
    const qsizetype start = p;
    while (p < text.size() && (text[p] == ' ' || text[p] == '\t'))
        ++p;
    return text.mid(start, p - start);
}

bool onOwnLine(const QByteArray& text, qsizetype pos) {
    for (qsizetype p = lineStartOf(text, pos); p < pos; ++p) {
        if (text[p] != ' ' && text[p] != '\t')
            return false;
    }
    return true;
}

QByteArray jsonQuoted(const QString& s) {
    QByteArray out = "\"";
    for (const char c : s.toUtf8()) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20)
                out += QByteArray("\\u00") + QByteArray::number(static_cast<int>(c), 16).rightJustified(2, '0');
            else
                out += c;
        }
    }
    return out + '"';
}

// --- JSON with comments and trailing commas (opencode.jsonc), located rather than parsed into a DOM ---------

struct JsonMember;
struct JsonNode {
    char kind = 0;  // 'o' object, 'a' array, 's' string, 'v' other scalar
    qsizetype begin = 0, end = 0;
    QString string;  // when kind == 's'
    std::vector<JsonMember> members;
};
struct JsonMember {
    QString key;
    qsizetype keyBegin = 0, keyEnd = 0;
    JsonNode value;
};

class JsonLocator {
public:
    explicit JsonLocator(const QByteArray& text) : m_t(text) {}

    bool parse(JsonNode& root) {
        if (!skip() || !value(root, 0) || !skip())
            return false;
        if (m_p < m_t.size())
            return fail(QStringLiteral("unexpected text after the end of the document"));
        if (root.kind != 'o')
            return fail(QStringLiteral("the document is not a JSON object"), root.begin);
        return true;
    }
    QString error() const { return m_error; }
    qsizetype errorOffset() const { return m_errorAt; }

private:
    bool fail(const QString& message, qsizetype at = -1) {
        m_error = message;
        m_errorAt = at >= 0 ? at : m_p;
        return false;
    }
    bool skip() {
        while (m_p < m_t.size()) {
            const char c = m_t[m_p];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                ++m_p;
            } else if (c == '/' && m_p + 1 < m_t.size() && m_t[m_p + 1] == '/') {
                while (m_p < m_t.size() && m_t[m_p] != '\n')
                    ++m_p;
            } else if (c == '/' && m_p + 1 < m_t.size() && m_t[m_p + 1] == '*') {
                const qsizetype close = m_t.indexOf("*/", m_p + 2);
                if (close < 0)
                    return fail(QStringLiteral("unterminated /* comment"));
                m_p = close + 2;
            } else {
                break;
            }
        }
        return true;
    }
    bool string(QString& out) {
        const qsizetype start = m_p++;
        QByteArray run;
        while (true) {
            if (m_p >= m_t.size())
                return fail(QStringLiteral("unterminated string"), start);
            const char c = m_t[m_p];
            if (c == '"') {
                out += QString::fromUtf8(run);
                ++m_p;
                return true;
            }
            if (static_cast<unsigned char>(c) < 0x20)
                return fail(QStringLiteral("control character in a string"));
            if (c != '\\') {
                run += c;
                ++m_p;
                continue;
            }
            out += QString::fromUtf8(run);
            run.clear();
            if (m_p + 1 >= m_t.size())
                return fail(QStringLiteral("unterminated string"), start);
            const char e = m_t[m_p + 1];
            m_p += 2;
            switch (e) {
            case '"': out += u'"'; break;
            case '\\': out += u'\\'; break;
            case '/': out += u'/'; break;
            case 'b': out += u'\b'; break;
            case 'f': out += u'\f'; break;
            case 'n': out += u'\n'; break;
            case 'r': out += u'\r'; break;
            case 't': out += u'\t'; break;
            case 'u': {
                bool ok = false;
                const ushort unit = m_t.mid(m_p, 4).toUShort(&ok, 16);
                if (!ok || m_t.mid(m_p, 4).size() != 4)
                    return fail(QStringLiteral("bad \\u escape"), m_p - 2);
                out += QChar(unit);
                m_p += 4;
                break;
            }
            default:
                return fail(QStringLiteral("bad escape \\%1").arg(QLatin1Char(e)), m_p - 2);
            }
        }
    }
    bool value(JsonNode& node, int depth) {
        if (depth > 200)
            return fail(QStringLiteral("nested too deeply"));
        if (m_p >= m_t.size())
            return fail(QStringLiteral("expected a value, found the end of the file"));
        node.begin = m_p;
        const char c = m_t[m_p];
        if (c == '{') {
            node.kind = 'o';
            ++m_p;
            while (true) {
                if (!skip())
                    return false;
                if (m_p < m_t.size() && m_t[m_p] == '}')
                    break;
                if (m_p >= m_t.size() || m_t[m_p] != '"')
                    return fail(QStringLiteral("expected a member name in quotes or '}'"));
                JsonMember member;
                member.keyBegin = m_p;
                if (!string(member.key))
                    return false;
                member.keyEnd = m_p;
                if (!skip())
                    return false;
                if (m_p >= m_t.size() || m_t[m_p] != ':')
                    return fail(QStringLiteral("expected ':' after \"%1\"").arg(member.key));
                ++m_p;
                if (!skip() || !value(member.value, depth + 1) || !skip())
                    return false;
                node.members.push_back(std::move(member));
                if (m_p < m_t.size() && m_t[m_p] == ',') {
                    ++m_p;
                    continue;
                }
                if (m_p < m_t.size() && m_t[m_p] == '}')
                    break;
                return fail(QStringLiteral("expected ',' or '}'"));
            }
            ++m_p;
        } else if (c == '[') {
            node.kind = 'a';
            ++m_p;
            while (true) {
                if (!skip())
                    return false;
                if (m_p < m_t.size() && m_t[m_p] == ']')
                    break;
                JsonNode item;
                if (!value(item, depth + 1) || !skip())
                    return false;
                if (m_p < m_t.size() && m_t[m_p] == ',') {
                    ++m_p;
                    continue;
                }
                if (m_p < m_t.size() && m_t[m_p] == ']')
                    break;
                return fail(QStringLiteral("expected ',' or ']'"));
            }
            ++m_p;
        } else if (c == '"') {
            node.kind = 's';
            if (!string(node.string))
                return false;
        } else {
            node.kind = 'v';
            for (const char* literal : {"true", "false", "null"}) {
                if (m_t.mid(m_p, qstrlen(literal)) == literal) {
                    m_p += qstrlen(literal);
                    node.end = m_p;
                    return true;
                }
            }
            if (c != '-' && (c < '0' || c > '9'))
                return fail(QStringLiteral("expected a value"));
            while (m_p < m_t.size() && QByteArrayView("+-.eE0123456789").contains(m_t[m_p]))
                ++m_p;
        }
        node.end = m_p;
        return true;
    }

    const QByteArray& m_t;
    qsizetype m_p = 0;
    QString m_error;
    qsizetype m_errorAt = -1;
};

const JsonMember* memberNamed(const JsonNode& object, const QString& key) {
    for (auto it = object.members.rbegin(); it != object.members.rend(); ++it) {  // the last one wins
        if (it->key == key)
            return &*it;
    }
    return nullptr;
}

// The document's own style, so that inserted members look like their neighbours.
struct JsonStyle {
    QByteArray newline = "\n";
    QByteArray indentUnit = "  ";
    QByteArray colon = ": ";
};

JsonStyle styleOf(const QByteArray& text, const JsonNode& root) {
    JsonStyle style;
    style.newline = newlineOf(text);
    if (root.members.empty())
        return style;
    const JsonMember& first = root.members.front();
    if (onOwnLine(text, first.keyBegin)) {
        const QByteArray indent = leadingSpaceOfLine(text, first.keyBegin);
        const QByteArray rootIndent = leadingSpaceOfLine(text, root.begin);
        if (indent.size() > rootIndent.size())
            style.indentUnit = indent.mid(rootIndent.size());
    }
    const QByteArray colon = text.mid(first.keyEnd, first.value.begin - first.keyEnd);
    if (colon.trimmed() == ":" && !colon.contains('\n'))
        style.colon = colon;
    return style;
}

// `{"k": … value}` for the keys not yet present, laid out like the surrounding object.
QByteArray nestedValue(const QStringList& keys, const QString& value, const QByteArray& indent, const JsonStyle& style,
                       bool multiline) {
    if (keys.isEmpty())
        return jsonQuoted(value);
    const QByteArray inner = indent + style.indentUnit;
    const QByteArray member = jsonQuoted(keys.first()) + style.colon + nestedValue(keys.mid(1), value, inner, style, multiline);
    if (!multiline)
        return "{ " + member + " }";
    return "{" + style.newline + inner + member + style.newline + indent + "}";
}

Edit setJsonValue(const QByteArray& text, const QStringList& path, const QString& value) {
    JsonLocator locator(text);
    JsonNode root;
    if (!locator.parse(root))
        return failed(text, locator.errorOffset(), locator.error());
    const JsonStyle style = styleOf(text, root);
    const JsonNode* object = &root;
    for (qsizetype depth = 0; depth < path.size(); ++depth) {
        const bool leaf = depth == path.size() - 1;
        const JsonMember* member = memberNamed(*object, path[depth]);
        if (member && leaf) {
            if (member->value.kind == 's' && member->value.string == value)
                return Edit{text, false, {}, {}};
            Change change{path, value, text.mid(member->value.begin, member->value.end - member->value.begin), {}, {}, -1};
            QByteArray edited = text;
            edited.replace(member->value.begin, member->value.end - member->value.begin, jsonQuoted(value));
            return Edit{edited, true, {}, {change}};
        }
        if (member && member->value.kind == 'o') {
            object = &member->value;
            continue;
        }
        if (member) {
            return failed(text, member->value.begin, QStringLiteral("\"%1\" is not an object; not changing it")
                                                         .arg(path.mid(0, depth + 1).join(u'.')));
        }
        Change change{path, value, std::nullopt, {}, std::nullopt, static_cast<int>(depth)};
        QByteArray edited = text;
        const QStringList rest = path.mid(depth + 1);
        if (object->members.empty()) {
            const QByteArray parentIndent = leadingSpaceOfLine(text, object->begin);
            const QByteArray indent = parentIndent + style.indentUnit;
            const qsizetype inside = object->begin + 1;
            change.interior = text.mid(inside, object->end - 1 - inside);
            const QByteArray member = jsonQuoted(path[depth]) + style.colon + nestedValue(rest, value, indent, style, true);
            edited.replace(inside, object->end - 1 - inside, style.newline + indent + member + style.newline + parentIndent);
        } else {
            const JsonMember& last = object->members.back();
            const bool multiline = onOwnLine(text, last.keyBegin);
            const QByteArray indent = leadingSpaceOfLine(text, last.keyBegin);
            QByteArray colon = text.mid(last.keyEnd, last.value.begin - last.keyEnd);
            if (colon.trimmed() != ":" || colon.contains('\n'))
                colon = style.colon;
            const QByteArray member = jsonQuoted(path[depth]) + colon + nestedValue(rest, value, indent, style, multiline);
            edited.insert(last.value.end, "," + (multiline ? style.newline + indent : QByteArray(" ")) + member);
        }
        return Edit{edited, true, {}, {change}};
    }
    return Edit{text, false, {}, {}};
}

// Removes a member so that the text reads as before connect inserted it after its predecessor.
void removeMember(QByteArray& text, const JsonNode& object, std::size_t index, const std::optional<QByteArray>& interior) {
    const auto& members = object.members;
    if (members.size() == 1) {
        text.replace(object.begin + 1, object.end - 1 - (object.begin + 1), interior.value_or(QByteArray()));
    } else if (index > 0) {
        const qsizetype from = members[index - 1].value.end;
        text.remove(from, members[index].value.end - from);
    } else {
        text.remove(members[0].keyBegin, members[1].keyBegin - members[0].keyBegin);
    }
}

QString changedSince(const Change& change) {
    const QString value = change.secret ? QStringLiteral("the access token") : u'"' + change.value + u'"';
    return QStringLiteral("%1 was changed since connect set it to %2; leaving the file as it is")
        .arg(change.path.join(u'.'), value);
}

QByteArray digestOf(const QString& value) {
    return QCryptographicHash::hash(value.toUtf8(), QCryptographicHash::Sha256).toHex();
}

// In the state file a secret line connect inserted is kept with this in place of the quoted value.
const QByteArray kSecretPlaceholder = QByteArrayLiteral("\"<the access token>\"");

// The header every client is told to send; AccessGate strips it before routing.
const QString kTokenHeader = QStringLiteral("x-understudy-token");

void markSecret(Change& change) {
    change.secret = true;
    change.valueDigest = digestOf(change.value);
}

// `next`, which sets a value carrying the token, applied after `edit`; an error leaves `original`.
Edit thenSecret(const QByteArray& original, Edit edit, Edit next) {
    if (!next.error.isEmpty())
        return Edit{original, false, next.error, {}};
    for (Change& change : next.changes)
        markSecret(change);
    edit.text = next.text;
    edit.changed = edit.changed || next.changed;
    edit.changes += next.changes;
    return edit;
}

Edit undoJson(const QByteArray& original, const QList<Change>& changes) {
    QByteArray text = original;
    for (auto it = changes.rbegin(); it != changes.rend(); ++it) {
        const Change& change = *it;
        JsonLocator locator(text);
        JsonNode root;
        if (!locator.parse(root))
            return failed(original, locator.errorOffset(), locator.error());
        std::vector<const JsonNode*> objects{&root};  // objects[d] holds path[d]
        const JsonMember* leaf = nullptr;
        for (qsizetype depth = 0; depth < change.path.size(); ++depth) {
            leaf = memberNamed(*objects.back(), change.path[depth]);
            if (!leaf || (depth < change.path.size() - 1 && leaf->value.kind != 'o')) {
                leaf = nullptr;
                break;
            }
            if (depth < change.path.size() - 1)
                objects.push_back(&leaf->value);
        }
        if (!leaf || leaf->value.kind != 's' || !change.holds(leaf->value.string))
            return Edit{original, false, changedSince(change), {}};
        if (change.previous) {
            text.replace(leaf->value.begin, leaf->value.end - leaf->value.begin, *change.previous);
            continue;
        }
        // Remove the outermost member connect created, unless the user has since put other members in it.
        qsizetype depth = std::max(0, change.createdDepth);
        for (qsizetype d = depth + 1; d < change.path.size(); ++d) {
            if (objects[d]->members.size() != 1)
                depth = change.path.size() - 1;
        }
        const JsonNode& parent = *objects[depth];
        std::size_t index = parent.members.size();
        while (index-- > 0 && parent.members[index].key != change.path[depth]) {
        }
        removeMember(text, parent, index, depth == change.createdDepth ? change.interior : std::nullopt);
    }
    return Edit{text, text != original, {}, {}};
}

// --- TOML, read line by line: enough to find tables and keys and to refuse a file that does not parse ----------

struct TomlLine {
    enum Kind { Blank, Comment, Header, KeyValue } kind = Blank;
    qsizetype begin = 0, end = 0;  // end: after the line's newline
    QStringList key;               // header name or dotted key
    qsizetype valueBegin = -1, valueEnd = -1;
    std::optional<QString> string;  // the value, when it is a one-line string
};

class TomlScanner {
public:
    explicit TomlScanner(const QByteArray& text) : m_t(text) {}

    bool scan(QList<TomlLine>& lines) {
        while (m_p < m_t.size()) {
            TomlLine line;
            line.begin = m_p;
            if (!statement(line))
                return false;
            line.end = m_p;
            lines.append(line);
        }
        return true;
    }
    QString error() const { return m_error; }
    qsizetype errorOffset() const { return m_errorAt; }

private:
    bool fail(const QString& message, qsizetype at = -1) {
        m_error = message;
        m_errorAt = at >= 0 ? at : m_p;
        return false;
    }
    char at(qsizetype p) const { return p < m_t.size() ? m_t[p] : '\0'; }
    void spaces() {
        while (at(m_p) == ' ' || at(m_p) == '\t')
            ++m_p;
    }
    bool endOfLine() {
        spaces();
        if (at(m_p) == '#') {
            while (m_p < m_t.size() && m_t[m_p] != '\n')
                ++m_p;
        }
        if (at(m_p) == '\r' && at(m_p + 1) == '\n')
            ++m_p;
        if (m_p >= m_t.size())
            return true;
        if (m_t[m_p] != '\n')
            return fail(QStringLiteral("expected the end of the line"));
        ++m_p;
        return true;
    }
    bool statement(TomlLine& line) {
        spaces();
        const char c = at(m_p);
        if (c == '#') {
            line.kind = TomlLine::Comment;
            return endOfLine();
        }
        if (c == '\n' || c == '\r' || c == '\0') {
            line.kind = TomlLine::Blank;
            return endOfLine();
        }
        if (c == '[') {
            line.kind = TomlLine::Header;
            const bool array = at(m_p + 1) == '[';
            m_p += array ? 2 : 1;
            if (!key(line.key, ']'))
                return false;
            if (at(m_p) != ']' || (array && at(m_p + 1) != ']'))
                return fail(QStringLiteral("expected ']' to close the table name"));
            m_p += array ? 2 : 1;
            if (array)
                line.key.prepend(QStringLiteral("[]"));  // never matches a plain table name
            return endOfLine();
        }
        line.kind = TomlLine::KeyValue;
        if (!key(line.key, '='))
            return false;
        if (at(m_p) != '=')
            return fail(QStringLiteral("expected '=' after the key"));
        ++m_p;
        spaces();
        line.valueBegin = m_p;
        if (!value(&line.string, 0))
            return false;
        line.valueEnd = m_p;
        return endOfLine();
    }
    bool key(QStringList& parts, char terminator) {
        while (true) {
            spaces();
            const char c = at(m_p);
            QString part;
            if (c == '"' || c == '\'') {
                std::optional<QString> s;
                if (!value(&s, 0) || !s)
                    return fail(QStringLiteral("bad quoted key"));
                part = *s;
            } else {
                const qsizetype start = m_p;
                while (std::isalnum(static_cast<unsigned char>(at(m_p))) || at(m_p) == '_' || at(m_p) == '-')
                    ++m_p;
                if (m_p == start)
                    return fail(QStringLiteral("expected a key"));
                part = QString::fromUtf8(m_t.mid(start, m_p - start));
            }
            parts.append(part);
            spaces();
            if (at(m_p) == '.') {
                ++m_p;
                continue;
            }
            return at(m_p) == terminator || fail(QStringLiteral("expected '%1'").arg(QLatin1Char(terminator)));
        }
    }
    // Inside arrays newlines and comments are allowed.
    bool gap() {
        while (true) {
            const char c = at(m_p);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                ++m_p;
            } else if (c == '#') {
                while (m_p < m_t.size() && m_t[m_p] != '\n')
                    ++m_p;
            } else {
                return true;
            }
        }
    }
    bool value(std::optional<QString>* string, int depth) {
        if (depth > 100)
            return fail(QStringLiteral("nested too deeply"));
        const qsizetype start = m_p;
        const char c = at(m_p);
        if (m_t.mid(m_p, 3) == "\"\"\"" || m_t.mid(m_p, 3) == "'''") {
            const QByteArray fence = m_t.mid(m_p, 3);
            qsizetype p = m_p + 3;
            while (p < m_t.size() && m_t.mid(p, 3) != fence)
                p += (fence[0] == '"' && m_t[p] == '\\') ? 2 : 1;
            if (p >= m_t.size())
                return fail(QStringLiteral("unterminated multi-line string"), start);
            m_p = p + 3;
            while (at(m_p) == fence[0] && m_p - p < 5)  // up to two quotes may end the content
                ++m_p;
            return true;
        }
        if (c == '"' || c == '\'') {
            QString s;
            QByteArray run;
            qsizetype p = m_p + 1;
            while (true) {
                const char d = at(p);
                if (p >= m_t.size() || d == '\n')
                    return fail(QStringLiteral("unterminated string"), start);
                if (d == c)
                    break;
                if (c == '"' && d == '\\') {
                    s += QString::fromUtf8(run);
                    run.clear();
                    const char e = at(p + 1);
                    switch (e) {
                    case '"': s += u'"'; break;
                    case '\\': s += u'\\'; break;
                    case 'n': s += u'\n'; break;
                    case 't': s += u'\t'; break;
                    case 'r': s += u'\r'; break;
                    case 'b': s += u'\b'; break;
                    case 'f': s += u'\f'; break;
                    case 'u':
                    case 'U': {
                        const int digits = e == 'u' ? 4 : 8;
                        bool ok = false;
                        const uint code = m_t.mid(p + 2, digits).toUInt(&ok, 16);
                        if (!ok)
                            return fail(QStringLiteral("bad \\%1 escape").arg(QLatin1Char(e)), p);
                        const char32_t ch = code;
                        s += QString::fromUcs4(&ch, 1);
                        p += digits;
                        break;
                    }
                    default:
                        return fail(QStringLiteral("bad escape \\%1").arg(QLatin1Char(e)), p);
                    }
                    p += 2;
                    continue;
                }
                run += d;
                ++p;
            }
            s += QString::fromUtf8(run);
            m_p = p + 1;
            if (string)
                *string = s;
            return true;
        }
        if (c == '[' || c == '{') {
            const char close = c == '[' ? ']' : '}';
            ++m_p;
            while (true) {
                if (c == '[' ? !gap() : (spaces(), false))
                    return false;
                if (at(m_p) == close)
                    break;
                if (c == '{') {
                    QStringList ignored;
                    if (!key(ignored, '='))
                        return false;
                    ++m_p;
                    spaces();
                }
                if (!value(nullptr, depth + 1))
                    return false;
                if (c == '[' ? !gap() : (spaces(), false))
                    return false;
                if (at(m_p) == ',') {
                    ++m_p;
                    continue;
                }
                if (at(m_p) == close)
                    break;
                return fail(QStringLiteral("expected ',' or '%1'").arg(QLatin1Char(close)));
            }
            ++m_p;
            return true;
        }
        while (m_p < m_t.size() && !QByteArrayView(" \t\r\n#,]}").contains(m_t[m_p]))
            ++m_p;
        if (m_p == start)
            return fail(QStringLiteral("expected a value"));
        return true;
    }

    const QByteArray& m_t;
    qsizetype m_p = 0;
    QString m_error;
    qsizetype m_errorAt = -1;
};

QByteArray tomlQuoted(const QString& s) { return jsonQuoted(s); }  // a JSON string is a TOML basic string

const QStringList kProviderTable{QStringLiteral("model_providers"), QStringLiteral("understudy")};
const QStringList kClaudeCodeKey{QStringLiteral("env"), QStringLiteral("ANTHROPIC_BASE_URL")};
const QStringList kOpenCodeKey{QStringLiteral("provider"), QStringLiteral("anthropic"), QStringLiteral("options"),
                               QStringLiteral("baseURL")};
const QStringList kClaudeCodeHeaders{QStringLiteral("env"), QStringLiteral("ANTHROPIC_CUSTOM_HEADERS")};
const QStringList kOpenCodeHeader{QStringLiteral("provider"), QStringLiteral("anthropic"), QStringLiteral("options"),
                                  QStringLiteral("headers"), QStringLiteral("x-understudy-token")};
const QString kModelProvider = QStringLiteral("model_provider");

struct TomlDocument {
    QList<TomlLine> lines;
    QString error;
    qsizetype errorOffset = -1;
};

TomlDocument scanToml(const QByteArray& text) {
    TomlDocument doc;
    TomlScanner scanner(text);
    if (!scanner.scan(doc.lines)) {
        doc.error = scanner.error();
        doc.errorOffset = scanner.errorOffset();
    }
    return doc;
}

// Lines [first, last) of the table named `table` (empty: the top level before any header); nullopt when absent.
std::optional<std::pair<qsizetype, qsizetype>> tableLines(const QList<TomlLine>& lines, const QStringList& table) {
    qsizetype first = 0;
    if (!table.isEmpty()) {
        first = -1;
        for (qsizetype i = 0; i < lines.size(); ++i) {
            if (lines[i].kind == TomlLine::Header && lines[i].key == table) {
                first = i + 1;
                break;
            }
        }
        if (first < 0)
            return std::nullopt;
    }
    qsizetype last = first;
    while (last < lines.size() && lines[last].kind != TomlLine::Header)
        ++last;
    return std::make_pair(first, last);
}

qsizetype keyLine(const QList<TomlLine>& lines, std::pair<qsizetype, qsizetype> range, const QStringList& key) {
    for (qsizetype i = range.first; i < range.second; ++i) {
        if (lines[i].kind == TomlLine::KeyValue && lines[i].key == key)
            return i;
    }
    return -1;
}
qsizetype keyLine(const QList<TomlLine>& lines, std::pair<qsizetype, qsizetype> range, const QString& key) {
    return keyLine(lines, range, QStringList{key});
}

// How many leading names of a TOML change's path name its table: connect sets keys at the top level and in
// [model_providers.understudy] only, some of them dotted (http_headers.x-understudy-token).
qsizetype tableDepthOf(const QStringList& path) {
    return path.size() > kProviderTable.size() && path.mid(0, kProviderTable.size()) == kProviderTable
        ? kProviderTable.size()
        : 0;
}

// Where the understudy provider is defined other than by its own [model_providers.understudy] header.
std::optional<qsizetype> providerDefinedElsewhere(const QList<TomlLine>& lines) {
    QStringList table;
    for (const TomlLine& line : lines) {
        if (line.kind == TomlLine::Header)
            table = line.key;
        if (line.kind == TomlLine::KeyValue && (table + line.key).mid(0, 2) == kProviderTable && table != kProviderTable)
            return line.begin;
        if (line.kind == TomlLine::Header && line.key.size() > 2 && line.key.mid(0, 2) == kProviderTable)
            return line.begin;
    }
    return std::nullopt;
}

// Sets `key` (dotted when it has several names) in a table that exists: replaces its value, or adds a line
// after the table's last key.
void setTomlKey(QByteArray& text, const QStringList& table, const QStringList& key, const QString& value,
                QList<Change>& changes) {
    const TomlDocument doc = scanToml(text);
    const auto range = tableLines(doc.lines, table);
    const qsizetype i = keyLine(doc.lines, *range, key);
    const QByteArray nl = newlineOf(text);
    if (i >= 0) {
        const TomlLine& line = doc.lines[i];
        if (line.string == value)
            return;
        Change change;
        change.path = table + key;
        change.value = value;
        change.previous = text.mid(line.valueBegin, line.valueEnd - line.valueBegin);
        changes.append(change);
        text.replace(line.valueBegin, line.valueEnd - line.valueBegin, tomlQuoted(value));
        return;
    }
    // After the table's last key, or after a commented-out `# model_provider = …` line, where the user looks for it.
    qsizetype at = table.isEmpty() ? 0 : doc.lines[range->first - 1].end;
    for (qsizetype j = range->first; j < range->second; ++j) {
        const TomlLine& line = doc.lines[j];
        const QByteArray comment = text.mid(line.begin, line.end - line.begin).trimmed();
        const QByteArray name = key.join(u'.').toUtf8();
        if (line.kind == TomlLine::Comment && comment.mid(1).trimmed().startsWith(name)
            && comment.mid(1).trimmed().mid(name.size()).trimmed().startsWith('=')) {
            at = line.end;
            break;
        }
        if (line.kind == TomlLine::KeyValue)
            at = line.end;
    }
    QByteArray inserted = key.join(u'.').toUtf8() + " = " + tomlQuoted(value) + nl;
    if (at > 0 && text[at - 1] != '\n')
        inserted.prepend(nl);
    text.insert(at, inserted);
    Change change;
    change.path = table + key;
    change.value = value;
    change.inserted = inserted;
    changes.append(change);
}
void setTomlKey(QByteArray& text, const QStringList& table, const QString& key, const QString& value,
                QList<Change>& changes) {
    setTomlKey(text, table, QStringList{key}, value, changes);
}

QString providerName() { return QStringLiteral("Understudy"); }

Edit undoToml(const QByteArray& original, const QList<Change>& changes) {
    QByteArray text = original;
    for (auto it = changes.rbegin(); it != changes.rend(); ++it) {
        const Change& change = *it;
        const TomlDocument doc = scanToml(text);
        if (!doc.error.isEmpty())
            return failed(original, doc.errorOffset, doc.error);
        if (change.path == kProviderTable) {  // a whole table connect appended
            const qsizetype at = text.lastIndexOf(change.inserted);
            if (at < 0)
                return Edit{original, false,
                            QStringLiteral("[model_providers.understudy] was changed since connect added it; leaving the "
                                           "file as it is"),
                            {}};
            text.remove(at, change.inserted.size());
            continue;
        }
        const qsizetype tableDepth = tableDepthOf(change.path);
        const auto range = tableLines(doc.lines, change.path.mid(0, tableDepth));
        const qsizetype i = range ? keyLine(doc.lines, *range, change.path.mid(tableDepth)) : -1;
        if (i < 0 || !change.holds(doc.lines[i].string))
            return Edit{original, false, changedSince(change), {}};
        const TomlLine& line = doc.lines[i];
        if (change.previous) {
            text.replace(line.valueBegin, line.valueEnd - line.valueBegin, *change.previous);
        } else {
            const QByteArray inserted = change.insertedWith(*line.string);
            const bool ledByNewline = inserted.startsWith('\n') || inserted.startsWith("\r\n");
            const qsizetype lead = ledByNewline ? (inserted.startsWith("\r\n") ? 2 : 1) : 0;
            if (text.mid(line.begin - lead, inserted.size()) != inserted)
                return Edit{original, false, changedSince(change), {}};
            text.remove(line.begin - lead, inserted.size());
        }
    }
    return Edit{text, text != original, {}, {}};
}

// --- files and the command ----------------------------------------------------------------------------------

QString statePath() {
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/connect-state.json");
}

QJsonObject readState() {
    QFile file(statePath());
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

QString writeFileAtomically(const QString& path, const QByteArray& content, QFileDevice::Permissions permissions = {}) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return file.errorString();
    file.write(content);
    if (permissions)
        file.setPermissions(permissions);
    if (!file.commit())
        return file.errorString();
    return {};
}

QString writeState(const QJsonObject& state) {
    return writeFileAtomically(statePath(), QJsonDocument(state).toJson(QJsonDocument::Indented),
                               QFileDevice::ReadOwner | QFileDevice::WriteOwner);
}

// The backup sits next to the file, with its permissions: settings.json may hold a key.
QString backUp(const QString& path, const QByteArray& content, QString& backupPath) {
    backupPath = path + QStringLiteral(".understudy-backup-")
        + QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss-zzz"));
    return writeFileAtomically(backupPath, content, QFileInfo(path).permissions());
}

// The proxy's address from the config's listen section, else the default.
QString defaultUrl(const QString& configPath) {
    QString host = QStringLiteral("127.0.0.1");
    int port = 8790;
    if (QFileInfo::exists(configPath)) {
        const ConfigResult result = ConfigFile::load(configPath, false);
        if (result.config) {
            host = result.config->listen.host;
            port = result.config->listen.port;
        }
    }
    return proxyUrl(host, port);
}

QByteArray readAll(const QString& path, bool& exists, QString& error) {
    QFile file(path);
    exists = file.exists();
    if (!exists)
        return {};
    if (!file.open(QIODevice::ReadOnly))
        error = QStringLiteral("%1: cannot read: %2").arg(path, file.errorString());
    return file.readAll();
}

QByteArray emptyDocument(Client client) {
    return client == Client::Codex ? QByteArray() : QByteArrayLiteral("{}\n");
}

// The string a raw JSON or TOML basic string (as connect writes them) stands for.
std::optional<QString> unquoted(const QByteArray& raw) {
    const QJsonArray wrapped = QJsonDocument::fromJson("[" + raw + "]").array();
    return wrapped.size() == 1 && wrapped.first().isString() ? std::optional<QString>(wrapped.first().toString())
                                                            : std::nullopt;
}

int connectFile(Client client, const QString& path, const QString& url, const QByteArray& token, QJsonObject& state,
                QTextStream& out, QTextStream& err) {
    bool exists = false;
    QString error;
    const QByteArray text = readAll(path, exists, error);
    if (!error.isEmpty()) {
        err << "understudy: " << error << Qt::endl;
        return kExitFailed;
    }
    const Edit edit = connectText(client, exists ? text : emptyDocument(client), url, token);
    if (!edit.error.isEmpty()) {
        err << "understudy: " << path << ": " << edit.error << Qt::endl << "understudy: " << path
            << " was left untouched; fix it and run connect again" << Qt::endl;
        return kExitFailed;
    }
    const char* const withToken = token.isEmpty() ? "" : " with the access token";
    if (!edit.changed) {
        out << clientTitle(client) << ": " << path << " already points at " << url << withToken << Qt::endl;
        return 0;
    }
    QJsonObject entry = state.value(path).toObject();
    QJsonArray recorded = entry.value(QStringLiteral("changes")).toArray();
    if (entry.isEmpty()) {
        entry.insert(QStringLiteral("client"), clientName(client));
        entry.insert(QStringLiteral("created"), !exists);
    }
    for (const Change& change : edit.changes) {
        bool merged = false;
        for (qsizetype i = 0; i < recorded.size(); ++i) {
            Change old = Change::fromJson(recorded[i].toObject());
            if (old.path != change.path)
                continue;
            // Replacing connect's own earlier value (another URL, a new token): undo still goes back to what was
            // there before.
            if (change.previous && old.holds(unquoted(*change.previous))) {
                old.value = change.value;
                old.secret = change.secret;
                old.valueDigest = change.valueDigest;
                recorded[i] = old.toJson();
            } else {
                recorded[i] = change.toJson();
            }
            merged = true;
        }
        if (!merged)
            recorded.append(change.toJson());
    }
    entry.insert(QStringLiteral("changes"), recorded);
    QString backupPath;
    if (exists) {
        if (const QString e = backUp(path, text, backupPath); !e.isEmpty()) {
            err << "understudy: " << path << ": cannot write the backup " << backupPath << ": " << e << Qt::endl;
            return kExitFailed;
        }
        entry.insert(QStringLiteral("backup"), backupPath);
    }
    state.insert(path, entry);
    if (const QString e = writeState(state); !e.isEmpty()) {
        err << "understudy: cannot write " << statePath() << ": " << e << Qt::endl;
        return kExitFailed;
    }
    if (const QString e = writeFileAtomically(path, edit.text, exists ? QFileInfo(path).permissions()
                                                                      : QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        !e.isEmpty()) {
        err << "understudy: cannot write " << path << ": " << e << Qt::endl;
        return kExitFailed;
    }
    out << clientTitle(client) << ": " << path << " now points at " << url << withToken;
    if (!backupPath.isEmpty())
        out << " (backup: " << backupPath << ")";
    out << Qt::endl;
    return 0;
}

int undoFile(Client client, const QString& path, QJsonObject& state, QTextStream& out, QTextStream& err) {
    const QJsonObject entry = state.value(path).toObject();
    QList<Change> changes;
    for (const QJsonValue& v : entry.value(QStringLiteral("changes")).toArray())
        changes.append(Change::fromJson(v.toObject()));
    bool exists = false;
    QString error;
    const QByteArray text = readAll(path, exists, error);
    if (!error.isEmpty() || !exists) {
        err << "understudy: " << (exists ? error : path + QStringLiteral(": no longer exists; nothing to undo")) << Qt::endl;
        state.remove(path);
        writeState(state);
        return exists ? kExitFailed : 0;
    }
    const Edit edit = undoText(client, text, changes);
    if (!edit.error.isEmpty()) {
        err << "understudy: " << path << ": " << edit.error << Qt::endl;
        return kExitFailed;
    }
    QString backupPath;
    if (const QString e = backUp(path, text, backupPath); !e.isEmpty()) {
        err << "understudy: " << path << ": cannot write the backup " << backupPath << ": " << e << Qt::endl;
        return kExitFailed;
    }
    // A file connect created and that now holds nothing else goes away again.
    const bool remove = entry.value(QStringLiteral("created")).toBool() && edit.text == emptyDocument(client);
    const QString e = remove ? (QFile::remove(path) ? QString() : QStringLiteral("cannot remove it"))
                             : writeFileAtomically(path, edit.text, QFileInfo(path).permissions());
    if (!e.isEmpty()) {
        err << "understudy: " << path << ": " << e << Qt::endl;
        return kExitFailed;
    }
    state.remove(path);
    writeState(state);
    out << clientTitle(client) << ": " << path << (remove ? " removed (connect had created it)" : " restored")
        << " (backup: " << backupPath << ")" << Qt::endl;
    return 0;
}

// Where a client keeps its settings; its existence is what "installed" means here.
QString settingsFolder(Client client, const QString& home) {
    switch (client) {
    case Client::ClaudeCode: return home + QStringLiteral("/.claude");
    case Client::Codex:
        return qEnvironmentVariableIsSet("CODEX_HOME") ? qEnvironmentVariable("CODEX_HOME") : home + QStringLiteral("/.codex");
    case Client::OpenCode:
        return (qEnvironmentVariableIsSet("XDG_CONFIG_HOME") ? qEnvironmentVariable("XDG_CONFIG_HOME")
                                                             : home + QStringLiteral("/.config"))
            + QStringLiteral("/opencode");
    }
    return {};
}

// The string at `path` of a JSON(C) document, when there is one.
std::optional<QString> jsonString(const QByteArray& text, const QStringList& path) {
    JsonLocator locator(text);
    JsonNode root;
    if (!locator.parse(root))
        return std::nullopt;
    const JsonNode* node = &root;
    for (const QString& key : path) {
        const JsonMember* member = node->kind == 'o' ? memberNamed(*node, key) : nullptr;
        if (!member)
            return std::nullopt;
        node = &member->value;
    }
    return node->kind == 's' ? std::optional<QString>(node->string) : std::nullopt;
}

std::optional<QString> tomlString(const QByteArray& text, const QStringList& table, const QString& key) {
    const TomlDocument doc = scanToml(text);
    const auto range = tableLines(doc.lines, table);
    const qsizetype i = range ? keyLine(doc.lines, *range, key) : -1;
    return i >= 0 ? doc.lines[i].string : std::nullopt;
}

// Why a settings file that parses does not point at the proxy: what it says instead.
QString notConnectedReason(Client client, const QString& path, const QByteArray& text) {
    const auto says = [&path](const QString& key, const std::optional<QString>& value) {
        return value ? QStringLiteral("%1: %2 is \"%3\"").arg(path, key, *value)
                     : QStringLiteral("%1 does not set %2").arg(path, key);
    };
    switch (client) {
    case Client::ClaudeCode: return says(kClaudeCodeKey.join(u'.'), jsonString(text, kClaudeCodeKey));
    case Client::OpenCode: return says(kOpenCodeKey.join(u'.'), jsonString(text, kOpenCodeKey));
    case Client::Codex:
        if (const auto provider = tomlString(text, {}, kModelProvider); provider != QStringLiteral("understudy"))
            return says(kModelProvider, provider);
        return says(QStringLiteral("model_providers.understudy.base_url"),
                    tomlString(text, kProviderTable, QStringLiteral("base_url")));
    }
    return {};
}

int connectAll(Client client, const QString& home, const QString& url, const QByteArray& token, QTextStream& out,
               QTextStream& err) {
    const QStringList files = clientFiles(client, home);
    if (files.isEmpty()) {
        err << "understudy connect: " << clientTitle(client) << " does not look installed (its settings folder "
            << settingsFolder(client, home) << " does not exist); run it once, then connect again" << Qt::endl;
        return kExitFailed;
    }
    QJsonObject state = readState();
    int code = 0;
    for (const QString& path : files)
        code = std::max(code, connectFile(client, path, url, token, state, out, err));
    return code;
}

int undoAll(Client client, QTextStream& out, QTextStream& err) {
    QJsonObject state = readState();
    int code = 0;
    bool any = false;
    for (const QString& path : state.keys()) {
        if (state.value(path).toObject().value(QStringLiteral("client")).toString() != clientName(client))
            continue;
        any = true;
        code = std::max(code, undoFile(client, path, state, out, err));
    }
    if (!any)
        out << clientTitle(client) << ": nothing to undo (connect has not changed its settings)" << Qt::endl;
    return code;
}

// What the command would print, without the "understudy: " the terminal needs to say who speaks.
Outcome outcomeOf(const std::function<int(QTextStream&, QTextStream&)>& command) {
    QString outText;
    QString errText;
    QTextStream out(&outText);
    QTextStream err(&errText);
    const bool ok = command(out, err) == 0;
    out.flush();
    err.flush();
    static const QRegularExpression speaker(QStringLiteral("^understudy( connect)?: "), QRegularExpression::MultilineOption);
    return {ok, (ok ? outText : errText).remove(speaker).trimmed()};
}

}  // namespace

QJsonObject Change::toJson() const {
    QJsonObject json{{QStringLiteral("path"), QJsonArray::fromStringList(path)}};
    if (secret)
        json.insert(QStringLiteral("valueSha256"), QString::fromLatin1(valueDigest));
    else
        json.insert(QStringLiteral("value"), value);
    if (previous)
        json.insert(QStringLiteral("previous"), QString::fromUtf8(*previous));
    if (!inserted.isEmpty()) {
        QByteArray text = inserted;
        if (secret && !value.isEmpty())
            text.replace(tomlQuoted(value), kSecretPlaceholder);
        json.insert(QStringLiteral("inserted"), QString::fromUtf8(text));
    }
    if (interior)
        json.insert(QStringLiteral("interior"), QString::fromUtf8(*interior));
    if (createdDepth >= 0)
        json.insert(QStringLiteral("createdDepth"), createdDepth);
    return json;
}

Change Change::fromJson(const QJsonObject& json) {
    Change change;
    for (const QJsonValue& v : json.value(QStringLiteral("path")).toArray())
        change.path.append(v.toString());
    change.value = json.value(QStringLiteral("value")).toString();
    change.valueDigest = json.value(QStringLiteral("valueSha256")).toString().toLatin1();
    change.secret = !change.valueDigest.isEmpty();
    if (json.contains(QStringLiteral("previous")))
        change.previous = json.value(QStringLiteral("previous")).toString().toUtf8();
    change.inserted = json.value(QStringLiteral("inserted")).toString().toUtf8();
    if (json.contains(QStringLiteral("interior")))
        change.interior = json.value(QStringLiteral("interior")).toString().toUtf8();
    change.createdDepth = json.value(QStringLiteral("createdDepth")).toInt(-1);
    return change;
}

QList<Client> allClients() { return {Client::ClaudeCode, Client::Codex, Client::OpenCode}; }

std::optional<Client> clientNamed(const QString& name) {
    for (const Client c : allClients()) {
        if (clientName(c) == name)
            return c;
    }
    return std::nullopt;
}

QString clientName(Client client) {
    switch (client) {
    case Client::ClaudeCode: return QStringLiteral("claude-code");
    case Client::Codex: return QStringLiteral("codex");
    case Client::OpenCode: return QStringLiteral("opencode");
    }
    return {};
}

QString clientTitle(Client client) {
    switch (client) {
    case Client::ClaudeCode: return QStringLiteral("Claude Code");
    case Client::Codex: return QStringLiteral("Codex");
    case Client::OpenCode: return QStringLiteral("OpenCode");
    }
    return {};
}

bool Change::holds(const std::optional<QString>& found) const {
    if (!found)
        return false;
    return secret ? digestOf(*found) == valueDigest : *found == value;
}

QByteArray Change::insertedWith(const QString& found) const {
    QByteArray text = inserted;
    return secret ? text.replace(kSecretPlaceholder, tomlQuoted(found)) : text;
}

Edit setJsonString(const QByteArray& text, const QStringList& path, const QString& value) {
    return setJsonValue(text, path, value);
}

Edit removeJsonMember(const QByteArray& text, const QStringList& path) {
    JsonLocator locator(text);
    JsonNode root;
    if (!locator.parse(root))
        return failed(text, locator.errorOffset(), locator.error());
    const JsonNode* object = &root;
    for (qsizetype depth = 0; depth < path.size(); ++depth) {
        const JsonMember* member = memberNamed(*object, path[depth]);
        if (!member)
            return Edit{text, false, {}, {}};
        if (depth == path.size() - 1) {
            QByteArray edited = text;
            removeMember(edited, *object, static_cast<std::size_t>(member - object->members.data()), std::nullopt);
            return Edit{edited, true, {}, {}};
        }
        if (member->value.kind != 'o')
            return Edit{text, false, {}, {}};
        object = &member->value;
    }
    return Edit{text, false, {}, {}};
}

Edit connectClaudeCode(const QByteArray& text, const QString& url, const QByteArray& token) {
    Edit edit = setJsonValue(text, kClaudeCodeKey, url);
    if (!edit.error.isEmpty() || token.isEmpty())
        return edit;
    // One "Name: Value" a line; the user's own headers stay, an older token's line goes.
    QStringList headers;
    for (const QString& line : jsonString(edit.text, kClaudeCodeHeaders).value_or(QString()).split(u'\n')) {
        const bool tokenLine = line.section(u':', 0, 0).trimmed().compare(kTokenHeader, Qt::CaseInsensitive) == 0;
        if (!line.trimmed().isEmpty() && !tokenLine)
            headers.append(line);
    }
    headers.append(kTokenHeader + QStringLiteral(": ") + QString::fromUtf8(token));
    return thenSecret(text, edit, setJsonValue(edit.text, kClaudeCodeHeaders, headers.join(u'\n')));
}

Edit connectOpenCode(const QByteArray& text, const QString& url, const QByteArray& token) {
    Edit edit = setJsonValue(text, kOpenCodeKey, url + QStringLiteral("/v1"));
    if (!edit.error.isEmpty() || token.isEmpty())
        return edit;
    return thenSecret(text, edit, setJsonValue(edit.text, kOpenCodeHeader, QString::fromUtf8(token)));
}

Edit connectCodex(const QByteArray& original, const QString& url, const QByteArray& token) {
    const TomlDocument doc = scanToml(original);
    if (!doc.error.isEmpty())
        return failed(original, doc.errorOffset, doc.error);
    if (const auto at = providerDefinedElsewhere(doc.lines))
        return failed(original, *at,
                      QStringLiteral("the understudy provider is defined here in a form connect does not edit; "
                                     "use a [model_providers.understudy] table"));
    if (const auto table = tableLines(doc.lines, kProviderTable); table && !token.isEmpty()) {
        if (const qsizetype i = keyLine(doc.lines, *table, QStringLiteral("http_headers")); i >= 0)
            return failed(original, doc.lines[i].begin,
                          QStringLiteral("model_providers.understudy.http_headers is set here in a form connect does "
                                         "not edit; add \"%1\" = \"<token>\" to it yourself (`understudy token` "
                                         "prints the token), or write it as a dotted key")
                              .arg(kTokenHeader));
    }
    const QString baseUrl = url + QStringLiteral("/v1");
    QByteArray text = original;
    QList<Change> changes;
    setTomlKey(text, {}, kModelProvider, QStringLiteral("understudy"), changes);
    if (tableLines(scanToml(text).lines, kProviderTable)) {
        for (const auto& [key, value] : {std::pair{QStringLiteral("name"), providerName()},
                                         std::pair{QStringLiteral("base_url"), baseUrl},
                                         std::pair{QStringLiteral("wire_api"), QStringLiteral("responses")}}) {
            setTomlKey(text, kProviderTable, key, value, changes);
        }
    } else {
        const QByteArray nl = newlineOf(text);
        QByteArray block;
        if (!text.isEmpty())
            block = (text.endsWith('\n') ? QByteArray() : nl) + nl;
        block += "[model_providers.understudy]" + nl + "name = " + tomlQuoted(providerName()) + nl
            + "base_url = " + tomlQuoted(baseUrl) + nl + "wire_api = \"responses\"" + nl;
        text += block;
        changes.append(Change{kProviderTable, baseUrl, std::nullopt, block, std::nullopt, -1});
    }
    if (!token.isEmpty()) {
        const qsizetype before = changes.size();
        setTomlKey(text, kProviderTable, {QStringLiteral("http_headers"), kTokenHeader}, QString::fromUtf8(token),
                   changes);
        for (qsizetype i = before; i < changes.size(); ++i)
            markSecret(changes[i]);
    }
    if (const TomlDocument check = scanToml(text); !check.error.isEmpty())
        return Edit{original, false, QStringLiteral("internal: the edit would not parse: ") + check.error, {}};
    return Edit{text, text != original, {}, text != original ? changes : QList<Change>{}};
}

Edit connectText(Client client, const QByteArray& text, const QString& url, const QByteArray& token) {
    switch (client) {
    case Client::ClaudeCode: return connectClaudeCode(text, url, token);
    case Client::Codex: return connectCodex(text, url, token);
    case Client::OpenCode: return connectOpenCode(text, url, token);
    }
    return {};
}

Edit undoText(Client client, const QByteArray& text, const QList<Change>& changes) {
    return client == Client::Codex ? undoToml(text, changes) : undoJson(text, changes);
}

QStringList clientFiles(Client client, const QString& home) {
    const QString folder = settingsFolder(client, home);
    const QStringList names = client == Client::ClaudeCode ? QStringList{QStringLiteral("settings.json")}
        : client == Client::Codex                          ? QStringList{QStringLiteral("config.toml")}
                                  : QStringList{QStringLiteral("opencode.json"), QStringLiteral("opencode.jsonc")};
    if (!QFileInfo(folder).isDir())
        return {};
    QStringList files;
    for (const QString& name : names) {
        if (QFileInfo::exists(folder + u'/' + name))
            files.append(folder + u'/' + name);
    }
    if (files.isEmpty())
        files.append(folder + u'/' + names.first());
    return files;
}

QString proxyUrl(QString host, int port) {
    if (host == QStringLiteral("0.0.0.0") || host == QStringLiteral("::") || host.isEmpty())
        host = QStringLiteral("127.0.0.1");
    if (host.contains(u':'))
        host = u'[' + host + u']';
    return QStringLiteral("http://%1:%2").arg(host).arg(port);
}

Connection connectionState(Client client, const QString& home, const QString& url, const QByteArray& token) {
    using State = Connection::State;
    const QStringList files = clientFiles(client, home);
    if (files.isEmpty()) {
        return {State::NotInstalled, {},
                QStringLiteral("%1 does not exist: run %2 once").arg(settingsFolder(client, home), clientTitle(client))};
    }
    for (const QString& path : files) {
        bool exists = false;
        QString error;
        const QByteArray text = readAll(path, exists, error);
        if (!error.isEmpty())
            return {State::Unreadable, path, error};
        if (!exists)
            return {State::NotConnected, path, QStringLiteral("%1 does not exist yet").arg(path)};
        const Edit edit = connectText(client, text, url, token);
        if (!edit.error.isEmpty())
            return {State::Unreadable, path, QStringLiteral("%1: %2").arg(path, edit.error)};
        if (edit.changed && !token.isEmpty() && !connectText(client, text, url).changed)
            return {State::NotConnected, path,
                    QStringLiteral("%1 does not send the access token this Understudy requires").arg(path)};
        if (edit.changed)
            return {State::NotConnected, path, notConnectedReason(client, path, text)};
    }
    return {State::Connected, files.first(), {}};
}

Outcome connectClient(Client client, const QString& home, const QString& url, const QByteArray& token) {
    return outcomeOf(
        [&](QTextStream& out, QTextStream& err) { return connectAll(client, home, url, token, out, err); });
}

QList<Client> connectedClients() {
    const QJsonObject state = readState();
    QList<Client> clients;
    for (const Client client : allClients()) {
        for (const QJsonValue& entry : state) {
            if (entry.toObject().value(QStringLiteral("client")).toString() == clientName(client)) {
                clients.append(client);
                break;
            }
        }
    }
    return clients;
}

Outcome undoClient(Client client) {
    return outcomeOf([&](QTextStream& out, QTextStream& err) { return undoAll(client, out, err); });
}

int runConnectCommand(const QStringList& arguments, QTextStream& out, QTextStream& err) {
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Points a coding agent at the Understudy proxy, or back (--undo)."));
    parser.addPositionalArgument(QStringLiteral("client"), QStringLiteral("claude-code, codex or opencode"));
    const QCommandLineOption undo(QStringLiteral("undo"), QStringLiteral("Restore what connect changed."));
    const QCommandLineOption url(QStringLiteral("url"), QStringLiteral("Proxy URL (default: from the config's listen)."),
                                 QStringLiteral("URL"));
    const QCommandLineOption config(QStringLiteral("config"),
                                    QStringLiteral("Understudy config file for the default URL and the access token."),
                                    QStringLiteral("FILE"));
    parser.addOptions({undo, url, config});
    if (!parser.parse(QStringList{QStringLiteral("understudy connect")} + arguments)) {
        err << "understudy connect: " << parser.errorText() << Qt::endl;
        return kExitUsage;
    }
    const QStringList positional = parser.positionalArguments();
    const std::optional<Client> client = positional.size() == 1 ? clientNamed(positional.first()) : std::nullopt;
    if (!client) {
        err << "usage: understudy connect claude-code|codex|opencode [--undo] [--url URL] [--config FILE]" << Qt::endl;
        return kExitUsage;
    }
    const QString configPath = parser.isSet(config) ? parser.value(config) : ConfigFile::defaultPath();
    QString baseUrl = parser.isSet(url) ? parser.value(url) : defaultUrl(configPath);
    while (baseUrl.endsWith(u'/'))
        baseUrl.chop(1);
    if (!baseUrl.startsWith(QStringLiteral("http://")) && !baseUrl.startsWith(QStringLiteral("https://"))) {
        err << "understudy connect: --url takes an http:// or https:// URL, not '" << baseUrl << "'" << Qt::endl;
        return kExitUsage;
    }
    if (parser.isSet(undo))
        return undoAll(*client, out, err);
    // A client connected without the token the proxy requires would only get 401s.
    const local_token::Required token = local_token::required(configPath);
    if (!token.error.isEmpty()) {
        err << "understudy connect: " << token.error << Qt::endl
            << "understudy connect: " << clientTitle(*client) << " was not changed: the proxy requires this access "
            << "token, and a client without it is refused" << Qt::endl;
        return kExitFailed;
    }
    return connectAll(*client, QDir::homePath(), baseUrl, token.value, out, err);
}

int runConnectCommand(const QStringList& arguments) {
    QTextStream out(stdout);
    QTextStream err(stderr);
    return runConnectCommand(arguments, out, err);
}

}  // namespace understudy::connect
