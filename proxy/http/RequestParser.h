#pragma once

#include "http/Message.h"

namespace understudy::http {

// Incremental HTTP/1.1 request parser for the server side. Feed bytes as they arrive; it consumes what it
// used from the buffer, so pipelined requests stay in the buffer for the next parse.
//
// A partial head is never consumed (only searched, once): between calls the caller may only append to the
// buffer. Blank lines before a request line are dropped, as RFC 9112 asks. Lines may end in CRLF or a bare LF.
class RequestParser {
public:
    struct Limits {
        qsizetype maxHeaderBytes = 64 * 1024;          // request line + all header lines
        qsizetype maxBodyBytes = 32 * 1024 * 1024;     // enough for a 1M-token context
    };
    enum class Status { NeedMore, Complete, Error };
    struct Error {
        int httpStatus = 400;   // 400, 413, 414, 431, 501, 505
        QByteArray message;     // one sentence a user can act on
    };

    RequestParser() = default;
    explicit RequestParser(Limits limits) : m_limits(limits) {}

    // Consumes bytes from the front of `buffer`. On Complete, takeRequest() returns the request and the
    // parser is ready for the next one. After Error the connection must be answered and closed.
    Status parse(QByteArray& buffer);
    Request takeRequest();
    const Error& error() const { return m_error; }
    // True once any byte of a request has been seen and the request is not complete (for read timeouts).
    // parse() must have been called on every byte received for this to see them.
    bool inProgress() const;
    // True once the head of a request carrying "Expect: 100-continue" has been read and its body has not:
    // the server should then send "100 Continue" (once) or clients such as curl wait before sending it.
    bool expectsContinue() const;

private:
    enum class Phase { Head, Body, Chunked, Done, Failed };
    Status fail(int status, QByteArray message);
    Status parseHead(QByteArray& buffer);
    Status headTooLarge(const QByteArray& buffer);
    bool parseRequestLine(QByteArrayView line);
    bool badRequestLine(QByteArrayView line);
    Status startBody(QByteArray& buffer);
    Status readBody(QByteArray& buffer);
    Status readChunked(QByteArray& buffer);
    Status bodyTooLarge();

    Limits m_limits;
    Phase m_phase = Phase::Head;
    Request m_request;
    qsizetype m_scanned = 0;    // bytes of a partial head already searched for its end
    qsizetype m_remaining = 0;  // Content-Length bytes still to read
    bool m_expectContinue = false;
    framing::ChunkedDecoder m_chunked;
    Error m_error;
};

}  // namespace understudy::http
