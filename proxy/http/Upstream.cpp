#include "http/Upstream.h"

#include "http/HeadWriter.h"

#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpSocket>

namespace understudy::http {
namespace {

// Qt reads at most this much from an upstream socket ahead of us. Unbounded, a fast upstream would be read
// into memory however slowly the client takes it; bounded, pausing (setPaused) stops the reading altogether.
constexpr qint64 kReadBufferBytes = 64 * 1024;
constexpr qsizetype kInlineBodyBytes = 16 * 1024;  // a body this small is copied into the head's buffer

// Idle connections are shared by scheme and authority: the Host header already names the authority.
QByteArray poolKey(const QUrl& url, const QByteArray& host) {
    return (url.scheme() == QLatin1String("https") ? QByteArray("https|") : QByteArray("http|")) + host;
}

}  // namespace

QByteArray hostHeader(const QUrl& url) {
    const bool tls = url.scheme() == QLatin1String("https");
    const int port = url.port(tls ? 443 : 80);
    QByteArray host = url.host(QUrl::FullyEncoded).toLatin1();
    if (host.contains(':'))
        host = '[' + host + ']';
    if (port != (tls ? 443 : 80))
        host += ':' + QByteArray::number(port);
    return host;
}

QString describe(TransportFailure failure) {
    switch (failure) {
    case TransportFailure::Refused: return QStringLiteral("connection refused");
    case TransportFailure::HostNotFound: return QStringLiteral("host not found");
    case TransportFailure::Tls: return QStringLiteral("TLS error");
    case TransportFailure::ResetBeforeHead: return QStringLiteral("connection closed before a response");
    case TransportFailure::ResetDuringBody: return QStringLiteral("connection closed mid-response");
    case TransportFailure::Protocol: return QStringLiteral("invalid HTTP response");
    }
    return {};
}

UpstreamCall::UpstreamCall(UpstreamPool* pool, OutboundRequest request, QObject* parent)
    : QObject(parent), m_pool(pool), m_request(std::move(request)),
      m_host(hostHeader(m_request.url)), m_key(poolKey(m_request.url, m_host)) {
    m_parser.setRequestWasHead(m_request.method == "HEAD");
}

UpstreamCall::~UpstreamCall() { abort(); }

void UpstreamCall::abort() {
    m_done = true;
    if (m_socket) {
        QTcpSocket* socket = m_socket;
        detach();
        socket->abort();
        socket->deleteLater();
    }
}

void UpstreamCall::start() {
    if (QTcpSocket* idle = m_pool ? m_pool->takeIdle(m_key) : nullptr) {
        attach(idle, true);
        Q_EMIT connected();
        sendRequest();
        return;
    }
    attach(m_pool->open(m_request.url), false);
}

void UpstreamCall::setPaused(bool paused) {
    if (m_paused == paused)
        return;
    m_paused = paused;
    if (!paused)  // what arrived meanwhile is waiting in the socket's buffer, with no new readyRead to come
        QMetaObject::invokeMethod(this, &UpstreamCall::onReadyRead, Qt::QueuedConnection);
}

void UpstreamCall::attach(QTcpSocket* socket, bool reused) {
    m_socket = socket;
    m_reused = reused;
    socket->setParent(this);
    socket->setReadBufferSize(kReadBufferBytes);
    connect(socket, &QTcpSocket::readyRead, this, &UpstreamCall::onReadyRead);
    connect(socket, &QAbstractSocket::errorOccurred, this, &UpstreamCall::onSocketError);
    connect(socket, &QAbstractSocket::disconnected, this, &UpstreamCall::onSocketError);
    if (reused)
        return;
    auto* tls = qobject_cast<QSslSocket*>(socket);
    if (tls) {
        connect(tls, &QSslSocket::encrypted, this, [this] {
            Q_EMIT connected();
            sendRequest();
        });
    } else {
        connect(socket, &QAbstractSocket::connected, this, [this] {
            Q_EMIT connected();
            sendRequest();
        });
    }
}

void UpstreamCall::detach() {
    if (!m_socket)
        return;
    m_socket->disconnect(this);
    m_socket = nullptr;
}

void UpstreamCall::sendRequest() {
    if (!m_socket)
        return;
    QByteArray target = m_request.url.path(QUrl::FullyEncoded).toLatin1();
    if (target.isEmpty())
        target = "/";
    if (m_request.url.hasQuery())
        target += '?' + m_request.url.query(QUrl::FullyEncoded).toLatin1();
    const bool smallBody = m_request.body.size() <= kInlineBodyBytes;
    HeadWriter head(m_request.headers, 96 + target.size() + (smallBody ? m_request.body.size() : 0));
    head << m_request.method << ' ' << target << QByteArrayView(" HTTP/1.1\r\n");
    head.field("Host", m_host);
    head.fields(m_request.headers);
    if (!m_request.body.isEmpty() || m_request.method == "POST")
        (head << QByteArrayView("Content-Length: ")).decimal(m_request.body.size()) << QByteArrayView("\r\n");
    QByteArray bytes = head.finish();
    if (smallBody)
        bytes.append(m_request.body);  // one write for the whole request
    m_socket->write(bytes);
    if (!smallBody)
        m_socket->write(m_request.body);
}

void UpstreamCall::onReadyRead() {
    if (!m_socket || m_paused)
        return;
    m_buffer.append(m_socket->readAll());
    if (!m_buffer.isEmpty())
        m_sawResponseBytes = true;
    QPointer<UpstreamCall> self(this);
    const bool hadHead = m_parser.headComplete();
    QByteArray body;
    const ResponseParser::Status status = m_parser.parse(m_buffer, body);
    if (status == ResponseParser::Status::Error) {
        fail(TransportFailure::Protocol, QString::fromUtf8(m_parser.errorMessage()));
        return;
    }
    if (!hadHead && m_parser.headComplete()) {
        Q_EMIT headReceived(m_parser.head());
        if (!self || m_done)
            return;
    }
    if (!body.isEmpty()) {
        Q_EMIT bodyReceived(body);
        if (!self || m_done)
            return;
    }
    if (status == ResponseParser::Status::Complete) {
        m_done = true;
        QTcpSocket* socket = m_socket;
        const bool reusable = m_parser.keepAlive() && m_buffer.isEmpty();
        detach();
        if (reusable && m_pool)
            m_pool->giveBack(m_key, socket);
        else {
            socket->abort();
            socket->deleteLater();
        }
        Q_EMIT finished();
        return;
    }
    if (m_endPending && m_socket->bytesAvailable() == 0)
        onSocketError();
}

void UpstreamCall::onSocketError() {
    if (m_done || !m_socket)
        return;
    if (m_paused && m_socket->bytesAvailable() > 0) {
        m_endPending = true;  // the end comes after those bytes, once resumed
        return;
    }
    const QAbstractSocket::SocketError error = m_socket->error();
    // A kept-alive connection the upstream closed while idle: try once more on a fresh one.
    if (m_reused && !m_sawResponseBytes) {
        QTcpSocket* stale = m_socket;
        detach();
        stale->abort();
        stale->deleteLater();
        attach(m_pool->open(m_request.url), false);
        return;
    }
    if (m_parser.headComplete()) {
        if (m_parser.finishOnEof() == ResponseParser::Status::Complete) {
            m_done = true;
            QTcpSocket* socket = m_socket;
            detach();
            socket->deleteLater();
            Q_EMIT finished();
            return;
        }
        fail(TransportFailure::ResetDuringBody, m_socket->errorString());
        return;
    }
    switch (error) {
    case QAbstractSocket::ConnectionRefusedError:
        fail(TransportFailure::Refused, m_socket->errorString());
        break;
    case QAbstractSocket::HostNotFoundError:
        fail(TransportFailure::HostNotFound, m_socket->errorString());
        break;
    case QAbstractSocket::SslHandshakeFailedError:
    case QAbstractSocket::SslInternalError:
    case QAbstractSocket::SslInvalidUserDataError:
        fail(TransportFailure::Tls, m_socket->errorString());
        break;
    default:
        fail(TransportFailure::ResetBeforeHead, m_socket->errorString());
        break;
    }
}

void UpstreamCall::fail(TransportFailure failure, const QString& detail) {
    if (m_done)
        return;
    m_done = true;
    if (m_socket) {
        QTcpSocket* socket = m_socket;
        detach();
        socket->abort();
        socket->deleteLater();
    }
    Q_EMIT failed(failure, detail);
}

UpstreamPool::UpstreamPool(QObject* parent) : QObject(parent) {}

UpstreamPool::~UpstreamPool() {
    for (auto& list : m_idle)
        qDeleteAll(list);
}

UpstreamCall* UpstreamPool::send(OutboundRequest request, QObject* owner) {
    auto* call = new UpstreamCall(this, std::move(request), owner);
    QMetaObject::invokeMethod(call, &UpstreamCall::start, Qt::QueuedConnection);
    return call;
}

int UpstreamPool::idleConnections() const {
    int n = 0;
    for (const auto& list : m_idle)
        n += list.size();
    return n;
}

QTcpSocket* UpstreamPool::takeIdle(const QByteArray& key) {
    auto it = m_idle.find(key);
    while (it != m_idle.end() && !it->isEmpty()) {
        QTcpSocket* socket = it->takeLast();
        socket->disconnect(this);
        if (socket->state() == QAbstractSocket::ConnectedState && socket->bytesAvailable() == 0)
            return socket;
        socket->deleteLater();
    }
    return nullptr;
}

QTcpSocket* UpstreamPool::open(const QUrl& url) {
    QTcpSocket* socket;
    if (url.scheme() == QLatin1String("https")) {
        auto* tls = new QSslSocket(this);
        QSslConfiguration configuration = tls->sslConfiguration();
        configuration.setAllowedNextProtocols({QByteArray(QSslConfiguration::NextProtocolHttp1_1)});
        tls->setSslConfiguration(configuration);
        tls->connectToHostEncrypted(url.host(), url.port(443));
        socket = tls;
    } else {
        socket = new QTcpSocket(this);
        socket->connectToHost(url.host(), url.port(80));
    }
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    return socket;
}

void UpstreamPool::giveBack(const QByteArray& key, QTcpSocket* socket) {
    QList<QTcpSocket*>& list = m_idle[key];
    if (list.size() >= maxIdlePerHost) {
        socket->deleteLater();
        return;
    }
    socket->setParent(this);
    // An idle connection that the upstream closes, or that sends unsolicited bytes, is of no further use.
    auto drop = [this, key, socket] {
        m_idle[key].removeOne(socket);
        socket->disconnect(this);
        socket->deleteLater();
    };
    connect(socket, &QAbstractSocket::disconnected, this, drop);
    connect(socket, &QTcpSocket::readyRead, this, drop);
    list.append(socket);
}

}  // namespace understudy::http
