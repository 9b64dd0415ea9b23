// A client that hangs up as soon as it has the whole answer, before the upstream's body has ended (Codex closes
// its connection at response.completed): the request was served, and must be logged and counted as such.
#include "support/MockUpstream.h"
#include "support/ProxyUnderTest.h"

#include <QTcpSocket>
#include <QtTest>

Q_DECLARE_METATYPE(understudy::test::MockReply)

using namespace understudy;
using namespace understudy::test;

namespace {

QByteArray config(const MockUpstream& upstream, const QString& type) {
    return QStringLiteral(R"({"version": 1, "listen": {"host": "127.0.0.1", "port": 8790},
        "providers": {"up": {"type": "%2", "baseUrl": "%1", "auth": "client"}},
        "chains": {"main": {"steps": [{"provider": "up", "model": "up-model"}]}}, "activeChain": "main",
        "failover": {"streamIdleTimeoutMs": 30000}})")
        .arg(upstream.baseUrl(), type)
        .toUtf8();
}

// A Chat stream that ends its message (finish_reason, then the usage chunk) but not its body: no [DONE], no end.
MockReply chatStreamWithoutDone() {
    MockReply reply = openAIChatStream({QStringLiteral("Hello"), QStringLiteral(" there")}, QStringLiteral("up-model"));
    reply.chunks.removeLast();
    reply.chunks.append(R"(data: {"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,)"
                        R"("model":"up-model","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,)"
                        R"("total_tokens":7}})"
                        "\n\n");
    reply.ending = MockReply::Ending::Stall;
    return reply;
}

MockReply anthropicStreamWithoutEnd() {
    MockReply reply = anthropicStream({QStringLiteral("Hello"), QStringLiteral(" there")}, QStringLiteral("up-model"));
    reply.ending = MockReply::Ending::Stall;  // every event, message_stop included, then the body does not end
    return reply;
}

}  // namespace

class TestClientHangup : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void hangupAfterTheLastEvent_isServed_data();
    void hangupAfterTheLastEvent_isServed();
};

void TestClientHangup::hangupAfterTheLastEvent_isServed_data() {
    QTest::addColumn<QString>("upstreamType");
    QTest::addColumn<MockReply>("reply");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("lastEvent");
    QTest::newRow("anthropic, passed through") << QStringLiteral("anthropic") << anthropicStreamWithoutEnd()
        << QByteArray("/v1/messages")
        << QByteArray(R"({"model":"claude-test","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]})")
        << QByteArray("message_stop");
    QTest::newRow("chat upstream, responses client") << QStringLiteral("openai-chat") << chatStreamWithoutDone()
        << QByteArray("/v1/responses") << QByteArray(R"({"model":"gpt-5.5","input":"hi","stream":true})")
        << QByteArray("response.completed");
}

void TestClientHangup::hangupAfterTheLastEvent_isServed() {
    QFETCH(QString, upstreamType);
    QFETCH(MockReply, reply);
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, lastEvent);
    MockUpstream upstream;
    upstream.setDefault(reply);
    ProxyUnderTest proxy(config(upstream, upstreamType));
    QVERIFY(proxy.isListening());

    QTcpSocket client;
    client.connectToHost(QStringLiteral("127.0.0.1"), proxy.port());
    QVERIFY(client.waitForConnected(5000));
    client.write("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 "Authorization: Bearer test-client-key-not-real\r\nanthropic-version: 2023-06-01\r\n"
                 "User-Agent: codex_exec/0.169.0\r\nContent-Length: "
                 + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    QByteArray received;
    QVERIFY(QTest::qWaitFor([&] {
        received += client.readAll();
        return received.contains(lastEvent);
    }, 5000));
    client.disconnectFromHost();

    QVERIFY2(proxy.waitForEvents(QStringLiteral("request"), 1), proxy.allEventText().constData());
    const ProxyEvent event = proxy.events(QStringLiteral("request")).first();
    QCOMPARE(event.fields.value(QStringLiteral("outcome")).toString(), QStringLiteral("served"));
    QCOMPARE(event.fields.value(QStringLiteral("servedBy")).toString(), QStringLiteral("up/up-model"));
    QCOMPARE(event.fields.value(QStringLiteral("client")).toString(), QStringLiteral("codex"));
    QVERIFY(QTest::qWaitFor([&] { return proxy.usage().size() == 1; }, 5000));
    QCOMPARE(proxy.usage().first().outcome, QStringLiteral("served"));
}

QTEST_GUILESS_MAIN(TestClientHangup)
#include "tst_client_hangup.moc"
