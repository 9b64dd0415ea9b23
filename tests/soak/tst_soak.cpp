// Soak (issue 10): 10 000 requests through the real proxy while the primaries fail often (503 and 429), so that
// a large share of them fail over, transcode a fallback's stream and continue. Every request must be answered
// 200 and whole. Run under scripts/test-sanitized, LeakSanitizer then checks that nothing the proxy allocated per
// request, connection or failover is left behind at exit, and ASan/UBSan check every step on the way.
#include "support/MockUpstream.h"
#include "support/ProxyUnderTest.h"
#include "support/TestClient.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QTimer>
#include <QtTest>

#include <functional>

using namespace understudy;
using namespace understudy::test;

class TestSoak : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void tenThousandRequests_withFailovers_allServedWhole();
};

namespace {

constexpr int kRequests = 10000;
constexpr int kInFlight = 32;  // retries back off for a while: enough in flight to keep the proxy busy meanwhile
constexpr int kTimeLimitMs = 240000;

// The primaries fail one request in two: 503 (retried once, then failed over) or 429 (failed over at once).
void scriptFailures(MockUpstream& primary, const MockReply& success) {
    const QByteArray overloaded = R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})";
    const QByteArray limited = R"({"type":"error","error":{"type":"rate_limit_error","message":"Rate limited"}})";
    for (int i = 0; i < 2 * kRequests; ++i) {
        if (i % 4 == 1)
            primary.enqueue(errorReply(503, overloaded));
        else if (i % 4 == 3)
            primary.enqueue(errorReply(429, limited));
        else
            primary.enqueue(success);
    }
}

QByteArray soakConfig(const MockUpstream& streamPrimary, const MockUpstream& streamFallback,
                      const MockUpstream& plainPrimary, const MockUpstream& plainFallback) {
    return QStringLiteral(R"({"version": 1, "listen": {"host": "127.0.0.1", "port": 8790},
        "providers": {
            "sp": {"type": "anthropic", "baseUrl": "%1", "auth": "client"},
            "sf": {"type": "openai-chat", "baseUrl": "%2", "auth": "none"},
            "pp": {"type": "anthropic", "baseUrl": "%3", "auth": "client"},
            "pf": {"type": "openai-chat", "baseUrl": "%4", "auth": "none"}},
        "chains": {
            "stream": {"steps": [{"provider": "sp"}, {"provider": "sf", "model": "fallback-model"}]},
            "plain": {"steps": [{"provider": "pp"}, {"provider": "pf", "model": "fallback-model"}]}},
        "activeChain": "stream",
        "failover": {"retriesBeforeFailover": 1, "maxRetryAfterWaitMs": 0, "connectTimeoutMs": 5000,
                     "firstTokenTimeoutMs": 20000, "firstTokenTimeoutPer100kTokensMs": 0, "streamIdleTimeoutMs": 20000,
                     "totalBudgetMs": 60000, "primaryRecoveryCheckIntervalMs": 1}})")
        .arg(streamPrimary.baseUrl(), streamFallback.baseUrl(QStringLiteral("/v1")), plainPrimary.baseUrl(),
             plainFallback.baseUrl(QStringLiteral("/v1")))
        .toUtf8();
}

}  // namespace

void TestSoak::tenThousandRequests_withFailovers_allServedWhole() {
    MockUpstream streamPrimary, streamFallback, plainPrimary, plainFallback;
    scriptFailures(streamPrimary, anthropicStream({QStringLiteral("primary "), QStringLiteral("answer")}, QStringLiteral("claude-test")));
    scriptFailures(plainPrimary, anthropicMessage(QStringLiteral("primary answer"), QStringLiteral("claude-test")));
    streamFallback.setDefault(openAIChatStream({QStringLiteral("fallback "), QStringLiteral("answer")}, QStringLiteral("fallback-model")));
    plainFallback.setDefault(openAIChat(QStringLiteral("fallback answer"), QStringLiteral("fallback-model")));
    ProxyUnderTest proxy(soakConfig(streamPrimary, streamFallback, plainPrimary, plainFallback));
    QVERIFY(proxy.isListening());

    http::Headers headers;
    headers.set("x-api-key", "test-client-key-000");
    headers.set("anthropic-version", "2023-06-01");
    headers.set("Content-Type", "application/json");
    const QByteArray streamBody = messagesBody(QStringLiteral("claude-test"), true);
    const QByteArray plainBody = messagesBody(QStringLiteral("claude-test"), false);

    // Driven by the clients' done() signals in one event loop: QTest::qWaitFor sleeps 10 ms between polls,
    // which would make this a test of sleeping.
    int started = 0, answered = 0, fromFallback = 0;
    QStringList failures;
    QEventLoop loop;
    std::function<void()> startNext = [&] {
        const bool stream = started % 3 != 2;  // two streams for each plain request
        auto* client = new TestClient(proxy.port(), &loop);
        ++started;
        connect(client, &TestClient::done, &loop, [&, client] {
            const ClientResponse& r = client->response();
            if (r.status != 200 || !r.complete || !r.body.contains("answer"))
                failures.append(QStringLiteral("status %1, complete %2: %3")
                                    .arg(r.status).arg(r.complete).arg(QString::fromUtf8(r.body.left(300))));
            if (r.body.contains("fallback"))
                ++fromFallback;
            ++answered;
            client->deleteLater();
            if (answered == kRequests || failures.size() >= 5)
                loop.quit();
            else if (started < kRequests)
                startNext();
        });
        client->send("POST", stream ? "/v1/messages" : "/chains/plain/v1/messages", headers, stream ? streamBody : plainBody);
    };
    QElapsedTimer clock;
    clock.start();
    for (int i = 0; i < kInFlight; ++i)
        startNext();
    QTimer::singleShot(kTimeLimitMs, &loop, &QEventLoop::quit);
    loop.exec();
    qInfo("soak: %d requests in %lld ms, %d served by a fallback, primary hits %d + %d",
          answered, static_cast<long long>(clock.elapsed()), fromFallback, streamPrimary.hits(), plainPrimary.hits());
    QVERIFY2(failures.isEmpty(), qPrintable(failures.join(QLatin1Char('\n'))));
    QCOMPARE(answered, kRequests);
    QVERIFY2(fromFallback >= kRequests / 10, qPrintable(QString::number(fromFallback)));  // the failover paths ran, a lot
    QVERIFY(proxy.events(QStringLiteral("failover")).size() >= kRequests / 10);
}

QTEST_GUILESS_MAIN(TestSoak)
#include "tst_soak.moc"
