#pragma once

#include "http/Message.h"

#include <QList>
#include <QObject>
#include <QTcpServer>

#include <functional>
#include <optional>

class QTcpSocket;

namespace understudy::test {

// What the mock does with one request. Everything a provider can do wrong is scriptable.
struct MockReply {
    enum class Ending { Complete, Cut, Stall };
    enum class Behaviour { Respond, ResetBeforeHead, NoResponse };

    int status = 200;
    http::Headers headers;
    QByteArray body;             // sent with Content-Length when `chunks` is empty
    QList<QByteArray> chunks;    // sent with chunked coding, one write each, `chunkDelayMs` apart
    int chunkDelayMs = 0;
    int headDelayMs = 0;
    Ending ending = Ending::Complete;
    Behaviour behaviour = Behaviour::Respond;
};

// Canned provider answers.
MockReply anthropicMessage(const QString& text, const QString& model = QStringLiteral("mock-model"));
MockReply anthropicStream(const QStringList& deltas, const QString& model = QStringLiteral("mock-model"));
QList<QByteArray> anthropicStreamEvents(const QStringList& deltas, const QString& model);
MockReply openAIChat(const QString& text, const QString& model = QStringLiteral("mock-model"));
MockReply openAIChatStream(const QStringList& deltas, const QString& model = QStringLiteral("mock-model"));
MockReply errorReply(int status, const QByteArray& body, const http::Headers& headers = {});

// A scriptable model provider on an ephemeral loopback port (DESIGN.md §6): replies come from a queue, then
// from the default; every request and connection is counted.
class MockUpstream : public QObject {
    Q_OBJECT
public:
    explicit MockUpstream(QObject* parent = nullptr);
    quint16 port() const { return m_server.serverPort(); }
    QString baseUrl(const QString& path = {}) const;

    void enqueue(MockReply reply) { m_queue.append(std::move(reply)); }
    void setDefault(MockReply reply) { m_default = std::move(reply); }
    // Looks at each request first and may answer it itself (e.g. 403 for a bad signature), ahead of the queue.
    using Gate = std::function<std::optional<MockReply>(const http::Request&)>;
    void setGate(Gate gate) { m_gate = std::move(gate); }
    void stop();  // stop listening: further connections are refused

    int hits() const { return m_requests.size(); }
    int connections() const { return m_connections; }
    int maxConcurrent() const { return m_maxConcurrent; }
    const QList<http::Request>& requests() const { return m_requests; }

Q_SIGNALS:
    void requestReceived();

private:
    void onConnection();
    void serve(QTcpSocket* socket, const MockReply& reply);
    void sendChunks(QTcpSocket* socket, MockReply reply, int index);

    QTcpServer m_server;
    QList<MockReply> m_queue;
    MockReply m_default;
    Gate m_gate;
    QList<http::Request> m_requests;
    int m_connections = 0;
    int m_active = 0;
    int m_maxConcurrent = 0;
};

}  // namespace understudy::test
