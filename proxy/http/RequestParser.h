#pragma once

#include "http/Message.h"

namespace understudy::http {

// Incremental HTTP/1.1 request parser for the server side. Feed bytes as they arrive; it consumes what it
// used from the buffer, so pipelined requests stay in the buffer for the next parse.
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
    bool inProgress() const;

private:
    // implementation-defined state
    enum class Phase { Head, Body, ChunkSize, ChunkData, ChunkDataEnd, Trailers, Done, Failed };
    Status fail(int status, const char* message);
    Status parseHead(QByteArray& buffer);

    Limits m_limits;
    Phase m_phase = Phase::Head;
    Request m_request;
    qsizetype m_remaining = 0;  // bytes left in the body or current chunk
    Error m_error;
};

}  // namespace understudy::http
