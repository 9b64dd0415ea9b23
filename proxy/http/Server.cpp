#include "http/Server.h"

#include "http/Connection.h"

namespace understudy::http {

Server::Server(ServerLimits limits, RequestHandler handler, QObject* parent)
    : QTcpServer(parent), m_limits(limits), m_handler(std::move(handler)) {}

void Server::incomingConnection(qintptr socketDescriptor) {
    auto* connection = new Connection(socketDescriptor, m_limits, m_handler, this);
    ++m_open;
    connect(connection, &Connection::closed, this, [this, connection] {
        --m_open;
        connection->deleteLater();
        if (m_open == 0)
            Q_EMIT drained();
    });
}

}  // namespace understudy::http
