#pragma once

#include "http/Message.h"
#include "http/ResponseParser.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QUrl>

class QTcpSocket;

namespace understudy::http {

struct OutboundRequest {
    QUrl url;                   // http or https; path and query as they go on the request line
    QByteArray method = "POST";
    Headers headers;            // Host and Content-Length are set by the call
    QByteArray body;
};

enum class TransportFailure {
    Refused,            // nothing listens there
    HostNotFound,
    Tls,                // handshake or certificate problem
    ResetBeforeHead,    // the connection died before a status line arrived
    ResetDuringBody,    // the connection died while the body was arriving
    Protocol,           // the peer does not speak HTTP/1.1 properly
};
QString describe(TransportFailure failure);

// The Host header a request to `url` carries: the port only when it is not the scheme's default.
QByteArray hostHeader(const QUrl& url);

class UpstreamPool;

// One HTTP exchange with an upstream. Emits connected → headReceived → bodyReceived* → finished, or failed at
// any point. Deleting the call (or abort()) drops the connection instead of returning it to the pool.
class UpstreamCall : public QObject {
    Q_OBJECT
public:
    ~UpstreamCall() override;
    void abort();
    // Backpressure: while paused nothing more is read from the upstream, so its bytes wait in the kernel and,
    // once that is full, in the upstream itself, instead of piling up in the proxy for a slow client.
    void setPaused(bool paused);
    bool isPaused() const { return m_paused; }

Q_SIGNALS:
    void connected();
    void headReceived(const understudy::http::ResponseHead& head);
    void bodyReceived(const QByteArray& bytes);
    void finished();
    void failed(understudy::http::TransportFailure failure, const QString& detail);

private:
    friend class UpstreamPool;
    UpstreamCall(UpstreamPool* pool, OutboundRequest request, QObject* parent);
    void start();
    void attach(QTcpSocket* socket, bool reused);
    void sendRequest();
    void onReadyRead();
    void onSocketError();
    void detach();
    void fail(TransportFailure failure, const QString& detail);

    QPointer<UpstreamPool> m_pool;
    OutboundRequest m_request;
    QByteArray m_host;  // the Host header
    QByteArray m_key;   // which idle connections can carry it
    QTcpSocket* m_socket = nullptr;
    bool m_reused = false;
    bool m_sawResponseBytes = false;
    bool m_done = false;
    bool m_paused = false;
    bool m_endPending = false;  // the upstream closed while paused, with bytes still unread
    QByteArray m_buffer;
    ResponseParser m_parser;
};

// Keep-alive connections to upstreams, with no per-host cap: a session with many parallel sub-agents never
// queues behind a connection limit. Idle connections are reused (no new TCP/TLS handshake) and dropped when
// the peer closes them.
class UpstreamPool : public QObject {
    Q_OBJECT
public:
    explicit UpstreamPool(QObject* parent = nullptr);
    ~UpstreamPool() override;

    // The call belongs to `owner` (deleted with it).
    UpstreamCall* send(OutboundRequest request, QObject* owner);
    int idleConnections() const;
    int maxIdlePerHost = 64;

private:
    friend class UpstreamCall;
    QTcpSocket* takeIdle(const QByteArray& key);
    QTcpSocket* open(const QUrl& url);
    void giveBack(const QByteArray& key, QTcpSocket* socket);

    QHash<QByteArray, QList<QTcpSocket*>> m_idle;
};

}  // namespace understudy::http
