#pragma once

#include "http/Headers.h"

namespace understudy::http {

// Writes a message head (start line, fields, blank line) into one buffer sized up front. Appending a head's
// ~30 pieces to a QByteArray one by one paid a growth check and an insert() each: a visible share of the
// proxy's cost for a small request, which writes two heads (upstream request, client response).
class HeadWriter {
public:
    explicit HeadWriter(const Headers& headers, qsizetype startLineBytes = 64);

    HeadWriter& operator<<(QByteArrayView bytes);
    HeadWriter& operator<<(char c) { return *this << QByteArrayView(&c, 1); }
    HeadWriter& decimal(qint64 number);
    HeadWriter& field(QByteArrayView name, QByteArrayView value);
    HeadWriter& fields(const Headers& headers);
    QByteArray finish();  // adds the blank line; the writer is empty afterwards

    static qsizetype fieldBytes(const Headers& headers);  // what fields(headers) writes

private:
    void grow(qsizetype needed);

    QByteArray m_bytes;
    qsizetype m_used = 0;
};

// The chunked transfer coding's frame around `data`: size in hex, CRLF, data, CRLF.
QByteArray chunkFrame(QByteArrayView data);

}  // namespace understudy::http
