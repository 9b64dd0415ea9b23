#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

#include <optional>

namespace understudy::json {

// Byte range [begin, end) of a value inside a document.
struct Span {
    qsizetype begin = -1;
    qsizetype end = -1;
    bool isValid() const { return begin >= 0; }
};

struct Member {
    Span key;    // the raw key bytes, between the quotes (top-level request keys never need unescaping)
    Span value;
};

// The result of validating a JSON document whose root is an object. Request bodies are 50 KB–2 MB and on the
// hot path: this validates the full syntax in one pass without building a DOM, and remembers where each
// top-level value lies, so the proxy can read `model`/`stream` and rewrite `model` without a parse+serialise.
// Keys are spans of the document, which the scan shares (implicitly, not copied), so it allocates once per scan
// rather than once per member: every SSE event is scanned too.
struct ObjectScan {
    bool ok = false;
    QString error;            // when !ok: what is wrong, e.g. "unterminated string"
    qsizetype errorOffset = -1;
    QList<Member> members;    // top-level members in document order

    Span find(QByteArrayView key) const;  // last occurrence wins, as in most JSON parsers
    const Member* findMember(QByteArrayView key) const;  // the same, with its key's span; null when absent
    QByteArrayView keyOf(const Member& member) const;
    QByteArrayView document() const { return m_document; }  // what was scanned; empty when !ok

private:
    friend ObjectScan scanObject(const QByteArray& document);
    QByteArray m_document;
};

ObjectScan scanObject(const QByteArray& document);
inline ObjectScan scanObject(QByteArrayView document) { return scanObject(document.toByteArray()); }

// Readers for small values located by a scan. They return nullopt when the value has another type.
std::optional<QString> stringAt(QByteArrayView document, Span span);
std::optional<bool> boolAt(QByteArrayView document, Span span);
std::optional<double> numberAt(QByteArrayView document, Span span);

// A copy of `document` with the bytes of `span` replaced by `replacement` (already-encoded JSON).
QByteArray replaced(QByteArrayView document, Span span, QByteArrayView replacement);

// `text` as a JSON string literal, quotes included.
QByteArray quoted(const QString& text);

}  // namespace understudy::json
