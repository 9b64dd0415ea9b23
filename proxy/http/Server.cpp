#include "http/Server.h"

#include "http/Connection.h"
#include "http/Linger.h"

#include <QTcpSocket>

namespace understudy::http {
namespace {

// Refusals are cheap but not free (a socket each): past this many at once, new connections are just closed.
constexpr int kMaxRefusing = 64;
constexpr int kRefusalQuietMs = 200;
constexpr int kRefusalLingerMs = 2000;

}  // namespace

Server::Server(ServerLimits limits, RequestHandler handler, QObject* parent)
    : QTcpServer(parent), m_limits(limits), m_handler(std::move(handler)) {}

void Server::incomingConnection(qintptr socketDescriptor) {
    if (m_open >= m_limits.maxConnections) {
        refuseOverCap(socketDescriptor);
        return;
    }
    auto* connection = new Connection(socketDescriptor, m_limits, m_handler, &m_stats, this);
    ++m_open;
    connect(connection, &Connection::closed, this, [this, connection] {
        --m_open;
        connection->deleteLater();
        if (m_open == 0 && m_refusing == 0)
            Q_EMIT drained();
    });
}

// Open connections keep going; the new one is told why it is turned away, instead of a bare reset or a
// connection that waits for a slot nobody promised.
void Server::refuseOverCap(qintptr socketDescriptor) {
    ++m_stats.refusedOverCap;
    auto* socket = new QTcpSocket(this);
    socket->setSocketDescriptor(socketDescriptor);
    if (m_refusing >= kMaxRefusing) {
        socket->abort();
        socket->deleteLater();
        return;
    }
    ++m_refusing;
    const QByteArray body = R"({"type":"error","error":{"type":"overloaded_error","message":"Understudy is serving its )"
                            "maximum of " + QByteArray::number(m_limits.maxConnections)
                          + R"( connections (listen.maxConnections); try again in a moment."}})";
    socket->write("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
                  "Connection: close\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    closeLingering(socket, kRefusalQuietMs, kRefusalLingerMs, [this, socket] {
        --m_refusing;
        socket->abort();
        socket->deleteLater();
        if (m_open == 0 && m_refusing == 0)
            Q_EMIT drained();
    });
}

}  // namespace understudy::http
