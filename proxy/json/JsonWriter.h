#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QStringEncoder>

#include <vector>

namespace understudy::json {

// Writes compact JSON straight into one growing buffer, the way a request encoder emits it: no QJsonObject
// per block and no serialising pass at the end. Members come out in the order they are written. The writer
// puts the commas; the caller keeps objects and arrays balanced and writes a key before each member value.
class Writer {
public:
    explicit Writer(qsizetype reserve = 0);

    Writer& beginObject();
    Writer& endObject();
    Writer& beginArray();
    Writer& endArray();
    Writer& key(const char* name);  // member names are ASCII literals: written as they are

    Writer& string(QStringView text);
    Writer& string(QLatin1StringView text);
    // A string whose JSON-escaped inner bytes are already at hand (copied from another document).
    Writer& escapedString(QByteArrayView inner);
    Writer& number(qint64 n);
    Writer& number(double d);
    Writer& boolean(bool b);
    Writer& null();
    Writer& json(const QJsonValue& value);  // small values kept as Qt JSON (schemas, cache_control)
    Writer& raw(QByteArrayView json);       // an already-encoded, valid JSON value

    // key + value in one call, for the common flat members.
    template <typename T>
    Writer& member(const char* name, T&& v) {
        key(name);
        return write(std::forward<T>(v));
    }

    QByteArray take() { return std::move(m_out); }

private:
    Writer& write(const QString& v) { return string(QStringView(v)); }
    Writer& write(QStringView v) { return string(v); }
    Writer& write(QLatin1StringView v) { return string(v); }
    Writer& write(const char* v) { return string(QLatin1StringView(v)); }
    Writer& write(bool v) { return boolean(v); }
    Writer& write(int v) { return number(qint64(v)); }
    Writer& write(qint64 v) { return number(v); }
    Writer& write(double v) { return number(v); }
    Writer& write(const QJsonObject& v) { return json(v); }
    Writer& write(const QJsonValue& v) { return json(v); }

    void separate();  // the comma before a value that is not its container's first
    void appendText(QStringView text);  // escaped, without quotes
    void appendWithLoneSurrogates(QStringView text);

    QByteArray m_out;
    QByteArray m_utf8;  // a string being written, in UTF-8 before escaping
    QStringEncoder m_encoder{QStringConverter::Utf8, QStringConverter::Flag::Stateless};
    std::vector<bool> m_first;  // per open container: nothing written in it yet
    bool m_afterKey = false;
};

}  // namespace understudy::json
