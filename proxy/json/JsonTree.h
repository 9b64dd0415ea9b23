#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>

#include <optional>
#include <vector>

namespace understudy::json {

class Tree;

// A read-only view of one value in a Tree, with the reading API of QJsonValue/QJsonObject/QJsonArray (value,
// toString, toArray, ... with the same defaults), so the dialect decoders read either the same way. A
// translated request is mostly long strings: a Value reads them from the document's bytes when asked and keeps
// nothing else, where QJsonDocument converts every string to UTF-16 up front.
class Value {
public:
    enum class Type : char { Undefined, Null, Bool, Number, String, Array, Object };

    Value() = default;

    Type type() const;
    bool isUndefined() const { return type() == Type::Undefined; }
    bool isNull() const { return type() == Type::Null; }
    bool isBool() const { return type() == Type::Bool; }
    bool isDouble() const { return type() == Type::Number; }
    bool isString() const { return type() == Type::String; }
    bool isArray() const { return type() == Type::Array; }
    bool isObject() const { return type() == Type::Object; }

    QString toString() const;  // a null QString for other types
    bool toBool() const;
    double toDouble() const;
    int toInt(int defaultValue = 0) const;           // as QJsonValue: the default unless an integral in range
    qint64 toInteger(qint64 defaultValue = 0) const;

    // Containers. toObject()/toArray() return the value itself when it has that type, else an empty one, so
    // `v.toObject().value(u"k")` and `for (Value item : v.toArray())` read like their QJson counterparts.
    Value toObject() const { return isObject() ? *this : Value(); }
    Value toArray() const { return isArray() ? *this : Value(); }
    Value value(QStringView key) const;  // Undefined when absent; the last of duplicate keys wins
    bool contains(QStringView key) const { return !value(key).isUndefined(); }
    qsizetype size() const;              // members or elements; 0 for other types
    bool isEmpty() const { return size() == 0; }
    Value first() const;                 // the first element; Undefined when there is none

    class Iterator {
    public:
        Value operator*() const { return {m_tree, m_index}; }
        Iterator& operator++();
        bool operator!=(const Iterator& other) const { return m_index != other.m_index; }

    private:
        friend class Value;
        Iterator(const Tree* tree, int index) : m_tree(tree), m_index(index) {}
        const Tree* m_tree;
        int m_index;
    };
    Iterator begin() const;  // array elements; nothing for other types
    Iterator end() const;

    // The value's bytes exactly as the document has them (a string with its quotes and escapes).
    QByteArrayView raw() const;
    // A string's raw inner bytes, still escaped, and whether they hold any escape: JSON text that can be copied
    // into another document unchanged.
    QByteArrayView rawString() const;
    bool hasEscapes() const;

    // Conversions for the few small values the canonical model keeps as Qt JSON (schemas, cache_control).
    QJsonObject toJsonObject() const;
    QJsonValue toJsonValue() const;

private:
    friend class Tree;
    Value(const Tree* tree, int index) : m_tree(tree), m_index(index) {}
    const struct Node* node() const;

    const Tree* m_tree = nullptr;
    int m_index = -1;
};

struct Node {
    qsizetype begin = 0;  // the value's bytes in the document: [begin, end)
    qsizetype end = 0;
    int next = 0;         // the index after this node's subtree: its next sibling, or its parent's end
    Value::Type type = Value::Type::Undefined;
    bool escaped = false;  // strings: the bytes hold a backslash escape
};

// A JSON document parsed into a flat list of nodes in document order (an object's members follow it as key,
// value, key, value...). Parsing (in JsonScan.cpp, by the scanner itself) validates exactly what json::scanObject
// validates: what QJsonDocument accepts, less raw control characters in strings and unknown escapes, which
// Qt 6.4 lets through and RFC 8259 does not. The tree shares the document's bytes; its Values point into it, so
// they must neither outlive it nor be kept across a move of it.
class Tree {
public:
    static std::optional<Tree> parse(const QByteArray& document);  // nullopt unless valid JSON
    Value root() const { return {this, 0}; }

    Tree(const Tree&) = delete;
    Tree& operator=(const Tree&) = delete;
    Tree(Tree&&) = default;
    Tree& operator=(Tree&&) = default;

private:
    friend class Value;
    Tree() = default;
    QByteArray m_document;
    std::vector<Node> m_nodes;
};

// The decoded text of a JSON string literal's inner bytes (escapes resolved).
QString unescaped(QByteArrayView inner);

}  // namespace understudy::json
