#pragma once

#include "http/Message.h"
#include "http/RequestParser.h"

#include <QTcpServer>

#include <functional>

namespace understudy::http {

class Connection;

struct ServerLimits {
    RequestParser::Limits parser;
    int requestReadTimeoutMs = 30000;   // a request must arrive whole within this (slow senders)
    int keepAliveIdleMs = 120000;       // idle keep-alive connections are closed after this
};

// Called once per complete request. The handler answers through `connection`, now or later; the connection
// reads no further request until that answer is complete (responses stay in order).
using RequestHandler = std::function<void(Request&& request, Connection* connection)>;

class Server : public QTcpServer {
    Q_OBJECT
public:
    Server(ServerLimits limits, RequestHandler handler, QObject* parent = nullptr);
    int openConnections() const { return m_open; }

Q_SIGNALS:
    void drained();  // the last open connection closed

protected:
    void incomingConnection(qintptr socketDescriptor) override;

private:
    ServerLimits m_limits;
    RequestHandler m_handler;
    int m_open = 0;
};

}  // namespace understudy::http
