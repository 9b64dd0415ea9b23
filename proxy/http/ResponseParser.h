#pragma once

#include "http/Message.h"

namespace understudy::http {

// Incremental HTTP/1.1 response parser for the upstream side. Body bytes are handed out as they arrive
// (de-chunked) so streams are never buffered whole. Interim 1xx responses (100 Continue) are skipped.
// Between calls the caller may only append to the buffer.
class ResponseParser {
public:
    enum class Status { NeedMore, Complete, Error };

    // A response to HEAD carries no body whatever its headers say.
    void setRequestWasHead(bool head) { m_head = head; }

    // Consumes bytes from the front of `buffer`; appends body bytes to `bodyOut`. Returns Complete when the
    // whole message has been read (then reset() before reusing for the next response on the connection).
    Status parse(QByteArray& buffer, QByteArray& bodyOut);
    // The peer closed the connection: completes a read-until-close body, otherwise is an Error.
    Status finishOnEof();

    bool headComplete() const { return m_headDone; }
    const ResponseHead& head() const { return m_response; }
    // Whether the connection may carry another request after this response.
    bool keepAlive() const;
    QByteArray errorMessage() const { return m_error; }
    // Back to the initial state, including setRequestWasHead(false).
    void reset();

private:
    enum class Phase { Head, Body, UntilClose, Chunked, Done, Failed };
    Status fail(QByteArray message);
    bool readHead(QByteArray& buffer);
    bool parseStatusLine(QByteArrayView line);
    void startBody();
    Status readBody(QByteArray& buffer, QByteArray& bodyOut);
    Status readChunked(QByteArray& buffer, QByteArray& bodyOut);

    bool m_head = false;
    bool m_headDone = false;
    bool m_http10 = false;
    bool m_keepAlive = false;  // as the final head allows
    Phase m_phase = Phase::Head;
    ResponseHead m_response;
    qsizetype m_scanned = 0;    // bytes of a partial head already searched for its end
    qsizetype m_remaining = 0;  // Content-Length bytes still to read
    framing::ChunkedDecoder m_chunked;
    QByteArray m_error;
};

}  // namespace understudy::http
