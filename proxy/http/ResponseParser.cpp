#include "http/ResponseParser.h"

#include <limits>

namespace understudy::http {

namespace {

constexpr qsizetype kMaxHeadBytes = 64 * 1024;
constexpr qsizetype kNoBodyLimit = std::numeric_limits<qsizetype>::max();

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

}  // namespace

ResponseParser::Status ResponseParser::parse(QByteArray& buffer, QByteArray& bodyOut)
{
    if (m_phase == Phase::Head && !readHead(buffer))
        return m_phase == Phase::Failed ? Status::Error : Status::NeedMore;
    switch (m_phase) {
    case Phase::Head:
        break;
    case Phase::Body:
        return readBody(buffer, bodyOut);
    case Phase::UntilClose:
        framing::moveBytes(buffer, buffer.size(), bodyOut);
        return Status::NeedMore;
    case Phase::Chunked:
        return readChunked(buffer, bodyOut);
    case Phase::Done:
        return Status::Complete;
    case Phase::Failed:
        return Status::Error;
    }
    return Status::NeedMore;
}

ResponseParser::Status ResponseParser::finishOnEof()
{
    switch (m_phase) {
    case Phase::UntilClose:
        m_phase = Phase::Done;
        return Status::Complete;
    case Phase::Done:
        return Status::Complete;
    case Phase::Failed:
        return Status::Error;
    case Phase::Head:
        return fail(m_scanned == 0 ? "The upstream closed the connection without sending a response."
                                   : "The upstream closed the connection in the middle of the response head.");
    case Phase::Body:
        return fail("The upstream closed the connection " + QByteArray::number(m_remaining)
                    + " bytes before the end of the response body.");
    case Phase::Chunked:
        break;
    }
    return fail("The upstream closed the connection in the middle of a chunked response body.");
}

bool ResponseParser::keepAlive() const
{
    return m_keepAlive && m_phase != Phase::Failed;
}

void ResponseParser::reset()
{
    *this = ResponseParser();
}

ResponseParser::Status ResponseParser::fail(QByteArray message)
{
    m_phase = Phase::Failed;
    m_keepAlive = false;
    m_error = std::move(message);
    return Status::Error;
}

// Reads heads up to the final (non-1xx) one; false while more bytes are needed or after a failure.
bool ResponseParser::readHead(QByteArray& buffer)
{
    while (m_phase == Phase::Head) {
        const qsizetype end = framing::findHeadEnd(buffer, m_scanned);
        if ((end < 0 ? buffer.size() : end) > kMaxHeadBytes) {
            fail("The upstream response head exceeds " + QByteArray::number(kMaxHeadBytes) + " bytes.");
            return false;
        }
        if (end < 0)
            return false;
        QByteArrayView head = QByteArrayView(buffer).first(end);
        m_response = {};
        if (!parseStatusLine(framing::takeLine(head)))
            return false;
        const QByteArray fieldError = framing::parseFields(head, m_response.headers);
        if (!fieldError.isEmpty()) {
            fail("The upstream sent a malformed header: " + fieldError);
            return false;
        }
        buffer.remove(0, end);
        m_scanned = 0;
        if (m_response.status >= 200)
            startBody();
    }
    return m_phase != Phase::Failed;
}

// "HTTP/1.1 200 OK"; some servers leave out the reason phrase and even the space before it.
bool ResponseParser::parseStatusLine(QByteArrayView line)
{
    const bool wellFormed = line.size() >= 12 && line.startsWith("HTTP/1.") && (line[7] == '0' || line[7] == '1')
                            && line[8] == ' ' && isDigit(line[9]) && line[9] != '0' && isDigit(line[10])
                            && isDigit(line[11]) && (line.size() == 12 || line[12] == ' ');
    if (!wellFormed) {
        fail("The upstream sent a malformed status line " + framing::quoted(line) + ".");
        return false;
    }
    m_http10 = line[7] == '0';
    m_response.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    m_response.reason = line.size() > 13 ? line.sliced(13).toByteArray() : QByteArray();
    if (m_response.status == 101) {
        fail("The upstream switched protocols (101), which the proxy never asks for.");
        return false;
    }
    return true;
}

void ResponseParser::startBody()
{
    const Headers& headers = m_response.headers;
    m_headDone = true;
    m_keepAlive = !framing::hasToken(headers, "Connection", "close")
                  && (!m_http10 || framing::hasToken(headers, "Connection", "keep-alive"));
    if (m_head || m_response.status == 204 || m_response.status == 304) {
        m_phase = Phase::Done;
        return;
    }
    if (headers.contains("Transfer-Encoding")) {
        if (!framing::isChunkedOnly(headers)) {
            fail("The upstream used Transfer-Encoding " + framing::quoted(framing::transferCodings(headers))
                 + ", which the proxy cannot decode.");
            return;
        }
        m_phase = Phase::Chunked;
        return;
    }
    QByteArray lengthError;
    const qint64 length = framing::contentLength(headers, lengthError);
    if (!lengthError.isEmpty()) {
        fail("The upstream response is malformed: " + lengthError + ".");
    } else if (length < 0) {
        m_phase = Phase::UntilClose;
        m_keepAlive = false;  // only the close marks the end
    } else {
        m_remaining = length;
        m_phase = length == 0 ? Phase::Done : Phase::Body;
    }
}

ResponseParser::Status ResponseParser::readBody(QByteArray& buffer, QByteArray& bodyOut)
{
    m_remaining -= framing::moveBytes(buffer, m_remaining, bodyOut);
    if (m_remaining > 0)
        return Status::NeedMore;
    m_phase = Phase::Done;
    return Status::Complete;
}

ResponseParser::Status ResponseParser::readChunked(QByteArray& buffer, QByteArray& bodyOut)
{
    switch (m_chunked.decode(buffer, bodyOut, kNoBodyLimit, kMaxHeadBytes)) {
    case framing::ChunkedDecoder::Status::NeedMore:
        return Status::NeedMore;
    case framing::ChunkedDecoder::Status::Complete:
        m_phase = Phase::Done;
        return Status::Complete;
    case framing::ChunkedDecoder::Status::Error:
        break;
    }
    return fail("The upstream sent a malformed chunked body: " + m_chunked.errorMessage());
}

}  // namespace understudy::http
