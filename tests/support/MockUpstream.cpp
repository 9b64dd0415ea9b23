#include "support/MockUpstream.h"

#include "http/RequestParser.h"
#include "http/SseReader.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QTcpSocket>
#include <QTimer>

namespace understudy::test {
namespace {

QByteArray compact(const QJsonObject& o) { return QJsonDocument(o).toJson(QJsonDocument::Compact); }

http::Headers jsonHeaders() {
    http::Headers h;
    h.set("Content-Type", "application/json");
    return h;
}

http::Headers sseHeaders() {
    http::Headers h;
    h.set("Content-Type", "text/event-stream");
    h.set("Cache-Control", "no-cache");
    return h;
}

}  // namespace

MockReply anthropicMessage(const QString& text, const QString& model) {
    MockReply r;
    r.headers = jsonHeaders();
    r.body = compact({{"id", "msg_mock"}, {"type", "message"}, {"role", "assistant"}, {"model", model},
                      {"content", QJsonArray{QJsonObject{{"type", "text"}, {"text", text}}}},
                      {"stop_reason", "end_turn"}, {"stop_sequence", QJsonValue::Null},
                      {"usage", QJsonObject{{"input_tokens", 12}, {"output_tokens", 5}}}});
    return r;
}

QList<QByteArray> anthropicStreamEvents(const QStringList& deltas, const QString& model) {
    QList<QByteArray> events;
    events.append(http::formatSse("message_start", compact({{"type", "message_start"},
        {"message", QJsonObject{{"id", "msg_mock"}, {"type", "message"}, {"role", "assistant"}, {"model", model},
                                {"content", QJsonArray{}}, {"stop_reason", QJsonValue::Null},
                                {"usage", QJsonObject{{"input_tokens", 12}, {"output_tokens", 1}}}}}})));
    events.append(http::formatSse("content_block_start", compact({{"type", "content_block_start"}, {"index", 0},
        {"content_block", QJsonObject{{"type", "text"}, {"text", ""}}}})));
    events.append(http::formatSse("ping", R"({"type":"ping"})"));
    for (const QString& d : deltas)
        events.append(http::formatSse("content_block_delta", compact({{"type", "content_block_delta"}, {"index", 0},
            {"delta", QJsonObject{{"type", "text_delta"}, {"text", d}}}})));
    events.append(http::formatSse("content_block_stop", R"({"type":"content_block_stop","index":0})"));
    events.append(http::formatSse("message_delta", compact({{"type", "message_delta"},
        {"delta", QJsonObject{{"stop_reason", "end_turn"}, {"stop_sequence", QJsonValue::Null}}},
        {"usage", QJsonObject{{"output_tokens", static_cast<int>(deltas.size())}}}})));
    events.append(http::formatSse("message_stop", R"({"type":"message_stop"})"));
    return events;
}

MockReply anthropicStream(const QStringList& deltas, const QString& model) {
    MockReply r;
    r.headers = sseHeaders();
    r.chunks = anthropicStreamEvents(deltas, model);
    return r;
}

MockReply openAIChat(const QString& text, const QString& model) {
    MockReply r;
    r.headers = jsonHeaders();
    r.body = compact({{"id", "chatcmpl-mock"}, {"object", "chat.completion"}, {"created", 1700000000}, {"model", model},
                      {"choices", QJsonArray{QJsonObject{{"index", 0},
                          {"message", QJsonObject{{"role", "assistant"}, {"content", text}}},
                          {"finish_reason", "stop"}}}},
                      {"usage", QJsonObject{{"prompt_tokens", 12}, {"completion_tokens", 5}, {"total_tokens", 17}}}});
    return r;
}

MockReply openAIChatStream(const QStringList& deltas, const QString& model) {
    MockReply r;
    r.headers = sseHeaders();
    auto chunk = [&](const QJsonObject& delta, const QJsonValue& finish) {
        return http::formatSse({}, compact({{"id", "chatcmpl-mock"}, {"object", "chat.completion.chunk"},
                                            {"created", 1700000000}, {"model", model},
                                            {"choices", QJsonArray{QJsonObject{{"index", 0}, {"delta", delta},
                                                                               {"finish_reason", finish}}}}}));
    };
    r.chunks.append(chunk({{"role", "assistant"}, {"content", ""}}, QJsonValue::Null));
    for (const QString& d : deltas)
        r.chunks.append(chunk({{"content", d}}, QJsonValue::Null));
    r.chunks.append(chunk({}, QStringLiteral("stop")));
    r.chunks.append(http::formatSse({}, "[DONE]"));
    return r;
}

MockReply errorReply(int status, const QByteArray& body, const http::Headers& headers) {
    MockReply r;
    r.status = status;
    r.headers = headers;
    if (!r.headers.contains("content-type"))
        r.headers.set("Content-Type", "application/json");
    r.body = body;
    return r;
}

MockUpstream::MockUpstream(QObject* parent) : QObject(parent) {
    m_default = anthropicMessage(QStringLiteral("default"));
    connect(&m_server, &QTcpServer::newConnection, this, &MockUpstream::onConnection);
    m_server.listen(QHostAddress::LocalHost, 0);
}

QString MockUpstream::baseUrl(const QString& path) const {
    return QStringLiteral("http://127.0.0.1:%1%2").arg(port()).arg(path);
}

void MockUpstream::stop() { m_server.close(); }

void MockUpstream::onConnection() {
    while (QTcpSocket* socket = m_server.nextPendingConnection()) {
        ++m_connections;
        auto parser = std::make_shared<http::RequestParser>();
        auto buffer = std::make_shared<QByteArray>();
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        connect(socket, &QTcpSocket::readyRead, this, [this, socket, parser, buffer] {
            buffer->append(socket->readAll());
            while (parser->parse(*buffer) == http::RequestParser::Status::Complete) {
                m_requests.append(parser->takeRequest());
                std::optional<MockReply> gated = m_gate ? m_gate(m_requests.last()) : std::nullopt;
                const MockReply reply = gated ? *gated : m_queue.isEmpty() ? m_default : m_queue.takeFirst();
                Q_EMIT requestReceived();
                serve(socket, reply);
            }
        });
    }
}

void MockUpstream::serve(QTcpSocket* socket, const MockReply& reply) {
    if (reply.behaviour == MockReply::Behaviour::ResetBeforeHead) {
        socket->abort();
        return;
    }
    if (reply.behaviour == MockReply::Behaviour::NoResponse)
        return;
    ++m_active;
    m_maxConcurrent = std::max(m_maxConcurrent, m_active);
    QPointer<QTcpSocket> guard(socket);
    QTimer::singleShot(reply.headDelayMs, this, [this, guard, reply] {
        if (!guard) {
            --m_active;
            return;
        }
        QByteArray head = "HTTP/1.1 " + QByteArray::number(reply.status) + " Mock\r\n";
        for (const http::Header& h : reply.headers.fields())
            head += h.name + ": " + h.value + "\r\n";
        if (reply.chunks.isEmpty()) {
            head += "Content-Length: " + QByteArray::number(reply.body.size()) + "\r\n\r\n";
            guard->write(head + reply.body);
            --m_active;
            return;
        }
        head += "Transfer-Encoding: chunked\r\n\r\n";
        guard->write(head);
        sendChunks(guard, reply, 0);
    });
}

void MockUpstream::sendChunks(QTcpSocket* socket, MockReply reply, int index) {
    if (index == reply.chunks.size()) {
        --m_active;
        if (reply.ending == MockReply::Ending::Complete)
            socket->write("0\r\n\r\n");
        else if (reply.ending == MockReply::Ending::Cut)
            socket->abort();
        return;  // Stall: leave the connection open, silent
    }
    const QByteArray& c = reply.chunks[index];
    socket->write(QByteArray::number(c.size(), 16) + "\r\n" + c + "\r\n");
    socket->flush();
    QPointer<QTcpSocket> guard(socket);
    QTimer::singleShot(reply.chunkDelayMs, this, [this, guard, reply, index] {
        if (guard)
            sendChunks(guard, reply, index + 1);
        else
            --m_active;
    });
}

}  // namespace understudy::test
