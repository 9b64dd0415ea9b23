#pragma once

#include "http/Message.h"
#include "http/ResponseParser.h"

#include <QElapsedTimer>
#include <QObject>

class QTcpSocket;

namespace understudy::test {

struct ClientResponse {
    int status = 0;
    http::Headers headers;
    QByteArray body;
    bool complete = false;      // the whole message arrived
    bool closed = false;        // the proxy closed the connection
    qint64 firstBodyMs = -1;    // when the first body byte arrived, from the start
};

// A plain HTTP/1.1 client on its own connection: unlike QNetworkAccessManager it has no per-host cap, so
// tests can open as many parallel requests as a busy agent session does.
class TestClient : public QObject {
    Q_OBJECT
public:
    explicit TestClient(quint16 port, QObject* parent = nullptr);
    void send(const QByteArray& method, const QByteArray& target, const http::Headers& headers, const QByteArray& body);
    void sendRaw(const QByteArray& bytes);
    bool waitDone(int timeoutMs);
    const ClientResponse& response() const { return m_response; }
    bool isDone() const { return m_done; }

Q_SIGNALS:
    void done();
    void progressed();

private:
    void onReadyRead();
    void finish();

    QTcpSocket* m_socket;
    quint16 m_port;
    QByteArray m_buffer;
    http::ResponseParser m_parser;
    ClientResponse m_response;
    QElapsedTimer m_clock;
    bool m_done = false;
};

// One request on a fresh connection, waiting up to `timeoutMs`.
ClientResponse request(quint16 port, const QByteArray& method, const QByteArray& target, const QByteArray& body = {},
                       http::Headers headers = {}, int timeoutMs = 15000);

// Anthropic Messages request body.
QByteArray messagesBody(const QString& model, bool stream, const QString& prompt = QStringLiteral("say hi"));
QByteArray chatBody(const QString& model, bool stream, const QString& prompt = QStringLiteral("say hi"));

}  // namespace understudy::test
