#pragma once

#include "http/Message.h"
#include "http/RequestParser.h"
#include "http/Server.h"

#include <QTimer>

class QTcpSocket;

namespace understudy::http {

// One client connection: parses requests, hands each to the handler, and carries exactly one response per
// request — either respond(), or beginStream() + writeStream()* + endStream(), or abort().
class Connection : public QObject {
    Q_OBJECT
public:
    Connection(qintptr socketDescriptor, const ServerLimits& limits, RequestHandler handler, ServerStats* stats,
               QObject* parent);
    ~Connection() override;

    void respond(int status, Headers headers, QByteArrayView body);
    void beginStream(int status, Headers headers);  // chunked transfer coding
    void writeStream(QByteArrayView bytes);         // sent at once, never held back
    void endStream();
    void abort();                                   // drop the connection without finishing the response

    bool isOpen() const;
    // The client reads more slowly than its stream arrives: its unsent output passed limits.outputHighWater.
    // Whoever feeds the stream should stop until writable().
    bool isCongested() const { return m_congested; }
    qint64 pendingOutput() const;

Q_SIGNALS:
    // A congested client has taken its output down to limits.outputLowWater.
    void writable();
    // The client went away while its response was pending: stop working on it.
    void clientGone();
    void closed();

private:
    void onReadyRead();
    void processBuffer();
    void rejectMalformed(const RequestParser::Error& error);
    void writeHead(int status, Headers& headers, QByteArrayView smallBody = {});
    void finishResponse();
    void armTimers();
    void noteOutput();
    void onBytesWritten();
    void close();

    QTcpSocket* m_socket;
    RequestParser m_parser;
    ServerLimits m_limits;
    RequestHandler m_handler;
    QByteArray m_buffer;
    QTimer m_readTimer;
    QTimer m_idleTimer;
    QTimer m_writeStallTimer;     // armed while congested: a client that stops reading is dropped
    ServerStats* m_stats;
    bool m_congested = false;
    bool m_busy = false;          // a request is being answered
    bool m_headRequest = false;
    bool m_keepAlive = true;
    bool m_streaming = false;
    bool m_sentContinue = false;
    bool m_closing = false;       // no further request will be read
    bool m_closed = false;
};

}  // namespace understudy::http
