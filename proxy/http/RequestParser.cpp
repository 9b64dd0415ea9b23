#include "http/RequestParser.h"

#include <algorithm>

namespace understudy::http {

namespace {

// Drops the blank lines some clients send after a previous request's body.
void dropLeadingLineBreaks(QByteArray& buffer)
{
    qsizetype count = 0;
    while (count < buffer.size() && (buffer.at(count) == '\r' || buffer.at(count) == '\n'))
        ++count;
    buffer.remove(0, count);
}

bool isValidTarget(QByteArrayView target)
{
    for (char c : target) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f)
            return false;
    }
    return !target.isEmpty();
}

bool looksLikeHttpVersion(QByteArrayView version)
{
    const auto isDigit = [](char c) { return c >= '0' && c <= '9'; };
    return version.size() == 8 && version.startsWith("HTTP/") && isDigit(version[5]) && version[6] == '.'
           && isDigit(version[7]);
}

qsizetype fieldCount(const Headers& headers, QByteArrayView name)
{
    return std::count_if(headers.fields().cbegin(), headers.fields().cend(), [name](const Header& field) {
        return field.name.compare(name, Qt::CaseInsensitive) == 0;
    });
}

}  // namespace

RequestParser::Status RequestParser::parse(QByteArray& buffer)
{
    switch (m_phase) {
    case Phase::Head:
        return parseHead(buffer);
    case Phase::Body:
        return readBody(buffer);
    case Phase::Chunked:
        return readChunked(buffer);
    case Phase::Done:
        return Status::Complete;
    case Phase::Failed:
        break;
    }
    return Status::Error;
}

Request RequestParser::takeRequest()
{
    Request request = std::move(m_request);
    m_request = {};
    m_phase = Phase::Head;
    m_scanned = 0;
    m_remaining = 0;
    m_expectContinue = false;
    m_chunked = {};
    return request;
}

bool RequestParser::inProgress() const
{
    return m_phase == Phase::Body || m_phase == Phase::Chunked || (m_phase == Phase::Head && m_scanned > 0);
}

bool RequestParser::expectsContinue() const
{
    return m_expectContinue && (m_phase == Phase::Body || m_phase == Phase::Chunked) && m_request.body.isEmpty();
}

RequestParser::Status RequestParser::fail(int status, QByteArray message)
{
    m_phase = Phase::Failed;
    m_error = {status, std::move(message)};
    return Status::Error;
}

RequestParser::Status RequestParser::parseHead(QByteArray& buffer)
{
    if (m_scanned == 0)
        dropLeadingLineBreaks(buffer);
    const qsizetype end = framing::findHeadEnd(buffer, m_scanned);
    if (end < 0)
        return buffer.size() > m_limits.maxHeaderBytes ? headTooLarge(buffer) : Status::NeedMore;
    if (end > m_limits.maxHeaderBytes)
        return headTooLarge(buffer);

    QByteArrayView head = QByteArrayView(buffer).first(end);
    if (!parseRequestLine(framing::takeLine(head)))
        return Status::Error;
    QByteArray fieldError = framing::parseFields(head, m_request.headers);
    if (!fieldError.isEmpty())
        return fail(400, std::move(fieldError));
    buffer.remove(0, end);
    m_scanned = 0;
    return startBody(buffer);
}

RequestParser::Status RequestParser::headTooLarge(const QByteArray& buffer)
{
    const QByteArray limit = QByteArray::number(m_limits.maxHeaderBytes);
    const qsizetype lineEnd = buffer.indexOf('\n');
    if (lineEnd < 0 || lineEnd > m_limits.maxHeaderBytes)
        return fail(414, "The request target is longer than the " + limit + "-byte limit; shorten the URL.");
    return fail(431, "The request headers exceed the " + limit + "-byte limit; send fewer or smaller headers.");
}

// False after fail().
bool RequestParser::parseRequestLine(QByteArrayView line)
{
    const qsizetype methodEnd = line.indexOf(' ');
    const qsizetype targetEnd = methodEnd < 0 ? -1 : line.indexOf(' ', methodEnd + 1);
    if (methodEnd < 0 || targetEnd < 0)
        return badRequestLine(line);
    const QByteArrayView method = line.first(methodEnd);
    const QByteArrayView target = line.sliced(methodEnd + 1, targetEnd - methodEnd - 1);
    const QByteArrayView version = line.sliced(targetEnd + 1);
    if (!framing::isToken(method) || !isValidTarget(target) || !version.startsWith("HTTP/"))
        return badRequestLine(line);
    if (version != "HTTP/1.1" && version != "HTTP/1.0") {
        if (looksLikeHttpVersion(version))
            fail(505, "HTTP version " + framing::quoted(version) + " is not supported; use HTTP/1.1.");
        else
            fail(400, "Malformed HTTP version " + framing::quoted(version) + "; send HTTP/1.1.");
        return false;
    }
    m_request.versionMinor = version.back() - '0';
    m_request.method = method.toByteArray();
    m_request.target = target.toByteArray();
    const qsizetype question = target.indexOf('?');
    m_request.path = question < 0 ? m_request.target : target.first(question).toByteArray();
    m_request.query = question < 0 ? QByteArray() : target.sliced(question + 1).toByteArray();
    return true;
}

bool RequestParser::badRequestLine(QByteArrayView line)
{
    fail(400, "Malformed request line " + framing::quoted(line)
                  + "; send 'METHOD /path HTTP/1.1' with single spaces.");
    return false;
}

// Picks the body framing. Requests whose length two parsers could read differently are refused outright
// (request smuggling): Transfer-Encoding together with Content-Length, or disagreeing Content-Lengths.
RequestParser::Status RequestParser::startBody(QByteArray& buffer)
{
    const Headers& headers = m_request.headers;
    // The server's DNS-rebinding check reads one Host; a second one must not slip past it.
    if (fieldCount(headers, "Host") > 1)
        return fail(400, "The request has more than one Host header; send exactly one.");
    m_expectContinue = framing::hasToken(headers, "Expect", "100-continue");

    if (headers.contains("Transfer-Encoding")) {
        if (headers.contains("Content-Length"))
            return fail(400, "The request has both Content-Length and Transfer-Encoding; send only one of them.");
        if (m_request.versionMinor == 0)
            return fail(400, "HTTP/1.0 requests cannot use Transfer-Encoding; send Content-Length instead.");
        if (!framing::isChunkedOnly(headers))
            return fail(501, "Transfer-Encoding " + framing::quoted(framing::transferCodings(headers))
                                 + " is not supported; send the body with Content-Length or 'chunked'.");
        m_phase = Phase::Chunked;
        return readChunked(buffer);
    }
    QByteArray lengthError;
    const qint64 length = framing::contentLength(headers, lengthError);
    if (!lengthError.isEmpty())
        return fail(400, lengthError + "; send a single decimal Content-Length.");
    if (length > m_limits.maxBodyBytes)
        return bodyTooLarge();
    if (length <= 0) {
        m_phase = Phase::Done;
        return Status::Complete;
    }
    m_remaining = length;
    m_phase = Phase::Body;
    return readBody(buffer);
}

RequestParser::Status RequestParser::readBody(QByteArray& buffer)
{
    QByteArray& body = m_request.body;
    if (body.isEmpty() && buffer.size() < m_remaining)
        body.reserve(m_remaining);  // the body arrives in pieces: allocate it once
    m_remaining -= framing::moveBytes(buffer, m_remaining, body);
    if (m_remaining > 0)
        return Status::NeedMore;
    m_phase = Phase::Done;
    return Status::Complete;
}

RequestParser::Status RequestParser::readChunked(QByteArray& buffer)
{
    switch (m_chunked.decode(buffer, m_request.body, m_limits.maxBodyBytes, m_limits.maxHeaderBytes)) {
    case framing::ChunkedDecoder::Status::NeedMore:
        return Status::NeedMore;
    case framing::ChunkedDecoder::Status::Complete:
        m_phase = Phase::Done;
        return Status::Complete;
    case framing::ChunkedDecoder::Status::Error:
        break;
    }
    if (m_chunked.errorStatus() == 413)
        return bodyTooLarge();
    return fail(m_chunked.errorStatus(), m_chunked.errorMessage());
}

RequestParser::Status RequestParser::bodyTooLarge()
{
    return fail(413, "The request body exceeds the " + QByteArray::number(m_limits.maxBodyBytes)
                         + "-byte limit; send a smaller request.");
}

}  // namespace understudy::http
