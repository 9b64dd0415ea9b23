#include "http/Connection.h"

#include "http/HeadWriter.h"
#include "http/Linger.h"

#include <QTcpSocket>

#include <algorithm>
#include <charconv>

namespace understudy::http {
namespace {

constexpr int kLingerMs = 10000;      // a client that never reads its last answer must not pin the connection
constexpr int kLingerQuietMs = 500;   // after the answer, input is drained until the client is quiet this long
constexpr qsizetype kInlineBodyBytes = 16 * 1024;  // a body this small is copied into the head's buffer

QByteArrayView reasonPhrase(int status) {
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 529: return "Overloaded";
    default: return "Status";
    }
}

// Malformed requests get the error shape both SDK families read: Anthropic's {type, error{type, message}}
// also satisfies OpenAI clients, which look at error.message.
QByteArray protocolErrorBody(int status, const QByteArray& message) {
    const QByteArray type = status == 413 ? "request_too_large" : "invalid_request_error";
    QByteArray escaped = message;
    escaped.replace('\\', "\\\\").replace('"', "\\\"");
    return R"({"type":"error","error":{"type":")" + type + R"(","message":")" + escaped + R"("}})";
}

}  // namespace

Connection::Connection(qintptr socketDescriptor, const ServerLimits& limits, RequestHandler handler, ServerStats* stats,
                       QObject* parent)
    : QObject(parent), m_socket(new QTcpSocket(this)), m_parser(limits.parser), m_limits(limits),
      m_handler(std::move(handler)), m_stats(stats) {
    m_socket->setSocketDescriptor(socketDescriptor);
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    m_readTimer.setSingleShot(true);
    m_idleTimer.setSingleShot(true);
    connect(&m_readTimer, &QTimer::timeout, this, [this] {
        rejectMalformed({408, "The request was not received in full within "
                                  + QByteArray::number(m_limits.requestReadTimeoutMs / 1000.0) + " s."});
    });
    connect(&m_idleTimer, &QTimer::timeout, this, &Connection::close);
    m_writeStallTimer.setSingleShot(true);
    connect(&m_writeStallTimer, &QTimer::timeout, this, [this] {
        if (m_busy)
            Q_EMIT clientGone();
        abort();
    });
    connect(m_socket, &QTcpSocket::bytesWritten, this, &Connection::onBytesWritten);
    connect(m_socket, &QTcpSocket::readyRead, this, &Connection::onReadyRead);
    connect(m_socket, &QTcpSocket::disconnected, this, [this] {
        if (m_busy)
            Q_EMIT clientGone();
        close();
    });
    armTimers();
    if (m_socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &Connection::onReadyRead, Qt::QueuedConnection);
}

Connection::~Connection() = default;

bool Connection::isOpen() const { return !m_closing && m_socket->state() == QAbstractSocket::ConnectedState; }

qint64 Connection::pendingOutput() const { return m_socket->bytesToWrite(); }

void Connection::onReadyRead() {
    if (m_closing)
        return;  // a lingering close drains the input
    m_buffer.append(m_socket->readAll());
    if (!m_busy)
        processBuffer();
}

void Connection::processBuffer() {
    while (!m_busy && !m_closing && !m_buffer.isEmpty()) {
        switch (m_parser.parse(m_buffer)) {
        case RequestParser::Status::NeedMore:
            if (m_parser.expectsContinue() && !m_sentContinue) {
                m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
                m_sentContinue = true;
            }
            armTimers();
            return;
        case RequestParser::Status::Error:
            rejectMalformed(m_parser.error());
            return;
        case RequestParser::Status::Complete: {
            Request request = m_parser.takeRequest();
            m_sentContinue = false;
            m_busy = true;
            m_keepAlive = request.keepAlive();
            m_headRequest = request.method == "HEAD";
            armTimers();
            m_handler(std::move(request), this);  // may answer synchronously
            break;
        }
        }
    }
    armTimers();
}

void Connection::rejectMalformed(const RequestParser::Error& error) {
    if (m_closing)
        return;
    if (m_busy && m_streaming) {
        abort();
        return;
    }
    m_keepAlive = false;
    m_busy = true;
    m_headRequest = false;
    Headers headers;
    headers.set("Content-Type", "application/json");
    respond(error.httpStatus, headers, protocolErrorBody(error.httpStatus, error.message));
}

// A small body goes out in the head's buffer: one write, one copy.
void Connection::writeHead(int status, Headers& headers, QByteArrayView smallBody) {
    headers.set("Connection", m_keepAlive ? "keep-alive" : "close");
    HeadWriter head(headers, 48 + smallBody.size());
    head << QByteArrayView("HTTP/1.1 ");
    head.decimal(status) << ' ' << reasonPhrase(status) << QByteArrayView("\r\n");
    head.fields(headers);
    QByteArray bytes = head.finish();
    if (!smallBody.isEmpty())
        bytes.append(smallBody);
    m_socket->write(bytes);
}

void Connection::respond(int status, Headers headers, QByteArrayView body) {
    if (m_closing || !m_busy)
        return;
    char length[24];
    const auto lengthEnd = std::to_chars(length, length + sizeof length, body.size()).ptr;
    headers.set("Content-Length", QByteArrayView(length, lengthEnd - length));
    const bool sendBody = !m_headRequest && !body.isEmpty();
    const bool small = body.size() <= kInlineBodyBytes;
    writeHead(status, headers, sendBody && small ? body : QByteArrayView());
    if (sendBody && !small)
        m_socket->write(body.data(), body.size());
    noteOutput();
    finishResponse();
}

void Connection::beginStream(int status, Headers headers) {
    if (m_closing || !m_busy)
        return;
    headers.remove("Content-Length");
    headers.set("Transfer-Encoding", "chunked");
    writeHead(status, headers);
    m_streaming = true;
    m_socket->flush();
}

void Connection::writeStream(QByteArrayView bytes) {
    if (m_closing || !m_streaming || bytes.isEmpty())
        return;
    m_socket->write(chunkFrame(bytes));
    m_socket->flush();
    noteOutput();
}

void Connection::noteOutput() {
    const qint64 pending = m_socket->bytesToWrite();
    if (m_stats)
        m_stats->peakPendingOutput = std::max(m_stats->peakPendingOutput, pending);
    if (!m_congested && pending > m_limits.outputHighWater) {
        m_congested = true;
        if (m_stats)
            ++m_stats->congestions;
        m_writeStallTimer.start(m_limits.writeStallMs);
    }
}

void Connection::onBytesWritten() {
    if (!m_congested)
        return;
    m_writeStallTimer.start(m_limits.writeStallMs);  // it reads: slowly is allowed, never is not
    if (m_socket->bytesToWrite() > m_limits.outputLowWater)
        return;
    m_congested = false;
    m_writeStallTimer.stop();
    Q_EMIT writable();
}

void Connection::endStream() {
    if (m_closing || !m_streaming)
        return;
    m_socket->write("0\r\n\r\n");
    m_streaming = false;
    finishResponse();
}

void Connection::abort() {
    m_streaming = false;
    if (m_socket->state() != QAbstractSocket::UnconnectedState)
        m_socket->abort();
    close();
}

void Connection::finishResponse() {
    m_busy = false;
    m_streaming = false;
    if (!m_keepAlive) {
        m_closing = true;
        m_readTimer.stop();
        m_idleTimer.stop();
        m_writeStallTimer.stop();
        if (m_socket->state() != QAbstractSocket::ConnectedState) {
            close();
            return;
        }
        closeLingering(m_socket, kLingerQuietMs, kLingerMs, [this] { close(); });
        return;
    }
    m_socket->flush();
    // Pipelined requests may already be waiting; handle them after this call unwinds.
    QMetaObject::invokeMethod(this, &Connection::processBuffer, Qt::QueuedConnection);
}

void Connection::armTimers() {
    if (m_closing)
        return;
    if (m_busy) {
        m_readTimer.stop();
        m_idleTimer.stop();
        return;
    }
    if (!m_buffer.isEmpty() || m_parser.inProgress()) {
        m_idleTimer.stop();
        if (!m_readTimer.isActive())
            m_readTimer.start(m_limits.requestReadTimeoutMs);
    } else {
        m_readTimer.stop();
        m_idleTimer.start(m_limits.keepAliveIdleMs);
    }
}

void Connection::close() {
    if (m_closed)
        return;
    m_closed = m_closing = true;
    m_readTimer.stop();
    m_idleTimer.stop();
    m_writeStallTimer.stop();
    if (m_socket->state() != QAbstractSocket::UnconnectedState)
        m_socket->abort();
    Q_EMIT closed();
}

}  // namespace understudy::http
