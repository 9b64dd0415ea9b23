#pragma once

#include "http/Headers.h"

namespace understudy::http {

struct Request {
    QByteArray method;   // as sent, e.g. "POST"
    QByteArray target;   // request-target as sent, e.g. "/v1/messages?beta=true"
    QByteArray path;     // target up to '?', percent-encoding left as is
    QByteArray query;    // after '?', without it; empty when absent
    int versionMinor = 1;  // HTTP/1.<minor>
    Headers headers;
    QByteArray body;     // de-chunked

    bool keepAlive() const;  // HTTP/1.1 default on, HTTP/1.0 default off, "Connection" overrides
};

struct ResponseHead {
    int status = 0;
    QByteArray reason;
    Headers headers;
};

// Message framing (RFC 9112) shared by RequestParser and ResponseParser; other code should not need it.
namespace framing {

// Finds the blank line (CRLF or bare LF) that ends a head or a trailer section. `scanned` counts the bytes at
// the front of `buffer` already searched: start at 0 and keep it while the buffer only grows, so that a head
// arriving a byte at a time is still searched once. Returns the offset just past the blank line, or -1.
qsizetype findHeadEnd(QByteArrayView buffer, qsizetype& scanned);

// Splits the first LF-terminated line off `rest`; a CR before the LF is dropped.
QByteArrayView takeLine(QByteArrayView& rest);

// Whether `bytes` is a non-empty RFC 9110 token, the syntax of methods and field names.
bool isToken(QByteArrayView bytes);

// Parses field lines, up to the first empty line, into `headers`. Returns why a line is malformed, or empty.
QByteArray parseFields(QByteArrayView lines, Headers& headers);

// Whether any `name` field, read as a comma-separated list, holds `token` (case-insensitive).
bool hasToken(const Headers& headers, QByteArrayView name, QByteArrayView token);

// Whether Transfer-Encoding is exactly "chunked", the only transfer-coding we decode.
bool isChunkedOnly(const Headers& headers);

// Every Transfer-Encoding field's value, joined with ", " (for error messages).
QByteArray transferCodings(const Headers& headers);

// The Content-Length, or -1 when absent. Sets `error` (a clause, to be put in a sentence) when a value is not
// a decimal number or repeated values disagree: either would let two parsers frame the same bytes differently.
qint64 contentLength(const Headers& headers, QByteArray& error);

// Moves up to `n` bytes from the front of `from` to the end of `to`, stealing `from`'s storage instead of
// copying when that moves everything and `to` has no storage yet. Returns how many bytes moved.
qsizetype moveBytes(QByteArray& from, qsizetype n, QByteArray& to);

// Peer-supplied bytes made printable and short, in quotes, for an error message.
QByteArray quoted(QByteArrayView bytes);

// Decodes a chunked body incrementally. Chunk extensions and trailer fields are read and dropped.
class ChunkedDecoder {
public:
    enum class Status { NeedMore, Complete, Error };

    // Consumes from `buffer` and appends chunk data to `out`. Fails with 413 before the decoded body would
    // pass `maxBody`, with 400 on bad framing or when a chunk-size line or the trailers pass `maxLine` bytes.
    Status decode(QByteArray& buffer, QByteArray& out, qsizetype maxBody, qsizetype maxLine);
    int errorStatus() const { return m_errorStatus; }
    const QByteArray& errorMessage() const { return m_error; }

private:
    enum class Phase { Size, Data, DataEnd, Trailers, Done, Failed };
    bool step(QByteArray& buffer, QByteArray& out, qsizetype maxBody, qsizetype maxLine);
    bool readSize(QByteArray& buffer, qsizetype maxBody, qsizetype maxLine);
    bool readData(QByteArray& buffer, QByteArray& out);
    bool readDataEnd(QByteArray& buffer);
    bool readTrailers(QByteArray& buffer, qsizetype maxLine);
    bool fail(int status, QByteArray message);

    Phase m_phase = Phase::Size;
    qint64 m_remaining = 0;   // bytes left in the current chunk
    qint64 m_total = 0;       // decoded bytes so far
    qsizetype m_scanned = 0;  // bytes at the front of the buffer already searched for a line end
    int m_errorStatus = 400;
    QByteArray m_error;
};

}  // namespace framing

}  // namespace understudy::http
