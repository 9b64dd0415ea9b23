#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

namespace understudy::http {

struct Header {
    QByteArray name;
    QByteArray value;
};

// Header fields in arrival order. Names compare case-insensitively; the original spelling is kept so
// that what we forward looks like what we received.
class Headers {
public:
    QByteArray value(QByteArrayView name) const;  // first match, or empty
    bool contains(QByteArrayView name) const;
    void set(QByteArrayView name, QByteArrayView value);  // replaces every field of that name
    void add(QByteArrayView name, QByteArrayView value);
    void add(const Header& header) { m_fields.append(header); }  // shares the bytes: no copy
    void reserve(qsizetype fields) { m_fields.reserve(fields); }
    void remove(QByteArrayView name);
    const QList<Header>& fields() const { return m_fields; }
    bool isEmpty() const { return m_fields.isEmpty(); }

private:
    QList<Header> m_fields;
};

}  // namespace understudy::http
