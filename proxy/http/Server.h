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
    int maxConnections = 1024;          // open connections; the next one is answered 503 and closed
    qint64 outputHighWater = 1 << 20;   // a client with this much unsent output is congested: stop its upstream
    qint64 outputLowWater = 256 << 10;  // ... until it is down to this
    int writeStallMs = 120000;          // a congested client that takes nothing for this long is dropped
};

// What the server's connections have seen, for /metrics and the tests: proof that limits hold.
struct ServerStats {
    qint64 peakPendingOutput = 0;  // the most output any one connection had queued, unsent
    quint64 congestions = 0;       // times a client read so slowly that its upstream was paused
    quint64 refusedOverCap = 0;    // connections answered 503 because maxConnections were open
};

// Called once per complete request. The handler answers through `connection`, now or later; the connection
// reads no further request until that answer is complete (responses stay in order).
using RequestHandler = std::function<void(Request&& request, Connection* connection)>;

class Server : public QTcpServer {
    Q_OBJECT
public:
    Server(ServerLimits limits, RequestHandler handler, QObject* parent = nullptr);
    int openConnections() const { return m_open; }
    const ServerStats& stats() const { return m_stats; }

Q_SIGNALS:
    void drained();  // the last open connection closed

protected:
    void incomingConnection(qintptr socketDescriptor) override;

private:
    void refuseOverCap(qintptr socketDescriptor);

    ServerLimits m_limits;
    RequestHandler m_handler;
    int m_open = 0;
    int m_refusing = 0;  // over-cap connections still being told so
    ServerStats m_stats;
};

}  // namespace understudy::http
