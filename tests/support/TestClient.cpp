#include "support/TestClient.h"

#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTimer>

namespace understudy::test {

TestClient::TestClient(quint16 port, QObject* parent) : QObject(parent), m_socket(new QTcpSocket(this)), m_port(port) {
    connect(m_socket, &QTcpSocket::readyRead, this, &TestClient::onReadyRead);
    connect(m_socket, &QTcpSocket::disconnected, this, [this] {
        m_response.closed = true;
        onReadyRead();
        if (!m_done && m_parser.headComplete() && m_parser.finishOnEof() == http::ResponseParser::Status::Complete)
            m_response.complete = true;
        finish();
    });
    connect(m_socket, &QTcpSocket::errorOccurred, this, [this](QAbstractSocket::SocketError e) {
        if (e != QAbstractSocket::RemoteHostClosedError)
            finish();
    });
}

void TestClient::send(const QByteArray& method, const QByteArray& target, const http::Headers& headers,
                      const QByteArray& body) {
    QByteArray head = method + ' ' + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(m_port) + "\r\n";
    for (const http::Header& h : headers.fields())
        head += h.name + ": " + h.value + "\r\n";
    if (!body.isEmpty() || method == "POST")
        head += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    m_parser.setRequestWasHead(method == "HEAD");
    sendRaw(head + "\r\n" + body);
}

void TestClient::sendRaw(const QByteArray& bytes) {
    m_clock.start();
    m_socket->connectToHost(QHostAddress::LocalHost, m_port);
    m_socket->write(bytes);
}

void TestClient::onReadyRead() {
    m_buffer.append(m_socket->readAll());
    QByteArray body;
    const auto status = m_parser.parse(m_buffer, body);
    if (m_parser.headComplete() && m_response.status == 0) {
        m_response.status = m_parser.head().status;
        m_response.headers = m_parser.head().headers;
    }
    if (!body.isEmpty()) {
        if (m_response.firstBodyMs < 0)
            m_response.firstBodyMs = m_clock.elapsed();
        m_response.body.append(body);
        Q_EMIT progressed();
    }
    if (status == http::ResponseParser::Status::Complete) {
        m_response.complete = true;
        finish();
    } else if (status == http::ResponseParser::Status::Error) {
        finish();
    }
}

void TestClient::finish() {
    if (m_done)
        return;
    m_done = true;
    Q_EMIT done();
}

bool TestClient::waitDone(int timeoutMs) {
    if (m_done)
        return true;
    QEventLoop loop;
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    connect(this, &TestClient::done, &loop, &QEventLoop::quit);
    loop.exec();
    return m_done;
}

ClientResponse request(quint16 port, const QByteArray& method, const QByteArray& target, const QByteArray& body,
                       http::Headers headers, int timeoutMs) {
    if (!body.isEmpty() && !headers.contains("content-type"))
        headers.set("Content-Type", "application/json");
    TestClient client(port);
    client.send(method, target, headers, body);
    client.waitDone(timeoutMs);
    return client.response();
}

QByteArray messagesBody(const QString& model, bool stream, const QString& prompt) {
    return QJsonDocument(QJsonObject{{"model", model}, {"max_tokens", 64}, {"stream", stream},
                                     {"messages", QJsonArray{QJsonObject{{"role", "user"}, {"content", prompt}}}}})
        .toJson(QJsonDocument::Compact);
}

QByteArray chatBody(const QString& model, bool stream, const QString& prompt) {
    return QJsonDocument(QJsonObject{{"model", model}, {"stream", stream},
                                     {"messages", QJsonArray{QJsonObject{{"role", "user"}, {"content", prompt}}}}})
        .toJson(QJsonDocument::Compact);
}

}  // namespace understudy::test
