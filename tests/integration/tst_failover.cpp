// The failover engine end to end: the real proxy on its worker thread, real HTTP over loopback, scriptable
// mock providers (DESIGN.md §6). One test per scenario of DESIGN.md §3.
#include "support/MockUpstream.h"
#include "support/ProxyUnderTest.h"
#include "support/TestClient.h"

#include "http/SseReader.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

using namespace understudy;
using namespace understudy::test;

namespace {

// Short timings so that every scenario runs in well under a second; `overrides` replaces some of them.
QString failoverJson(const QString& overrides) {
    QJsonObject failover{{"retriesBeforeFailover", 1}, {"maxRetryAfterWaitMs", 0}, {"connectTimeoutMs", 1000},
                         {"firstTokenTimeoutMs", 600}, {"firstTokenTimeoutPer100kTokensMs", 0},
                         {"streamIdleTimeoutMs", 600}, {"totalBudgetMs", 8000},
                         {"primaryRecoveryCheckIntervalMs", 60000}};
    const QJsonObject changes = QJsonDocument::fromJson("{" + overrides.toUtf8() + "}").object();
    for (auto it = changes.begin(); it != changes.end(); ++it)
        failover.insert(it.key(), it.value());
    return QStringLiteral(R"("failover": %1)").arg(QString::fromUtf8(QJsonDocument(failover).toJson(QJsonDocument::Compact)));
}

// A chain primary → fallback1 → fallback2 of one provider type, all on mock upstreams.
QByteArray chainConfig(const QList<QString>& baseUrls, const QString& failoverExtra = {},
                       const QString& type = QStringLiteral("anthropic"), const QString& topExtra = {}) {
    static const QStringList names{QStringLiteral("primary"), QStringLiteral("fallback1"), QStringLiteral("fallback2")};
    QStringList providers, steps;
    for (int i = 0; i < baseUrls.size(); ++i) {
        providers.append(QStringLiteral(R"("%1": {"type": "%2", "baseUrl": "%3", "auth": "client"})")
                             .arg(names[i], type, baseUrls[i]));
        steps.append(i == 0 ? QStringLiteral(R"({"provider": "primary"})")
                            : QStringLiteral(R"({"provider": "%1", "model": "%1-model"})").arg(names[i]));
    }
    return QStringLiteral(R"({"version": 1, "listen": {"host": "127.0.0.1", "port": 8790},
        "providers": {%1}, "chains": {"main": {"steps": [%2]}}, "activeChain": "main", %3 %4})")
        .arg(providers.join(QLatin1Char(',')), steps.join(QLatin1Char(',')), failoverJson(failoverExtra), topExtra)
        .toUtf8();
}

QJsonObject jsonOf(const QByteArray& body) { return QJsonDocument::fromJson(body).object(); }

http::Headers anthropicHeaders(const QByteArray& key = "sk-ant-test-client-key") {
    http::Headers h;
    h.set("x-api-key", key);
    h.set("anthropic-version", "2023-06-01");
    return h;
}

ClientResponse postMessages(quint16 port, bool stream, const QString& model = QStringLiteral("claude-test")) {
    return request(port, "POST", "/v1/messages", messagesBody(model, stream), anthropicHeaders());
}

}  // namespace

class TestFailover : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void primaryHealthy_servesEverything() {
        MockUpstream primary, fallback;
        primary.setDefault(anthropicMessage(QStringLiteral("from primary"), QStringLiteral("claude-test")));
        ProxyUnderTest proxy(chainConfig({primary.baseUrl(), fallback.baseUrl()}));
        QVERIFY(proxy.isListening());

        const ClientResponse r = postMessages(proxy.port(), false);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("primary"));
        QCOMPARE(r.headers.value("x-understudy-model"), QByteArray("claude-test"));
        QCOMPARE(r.headers.value("x-understudy-attempts"), QByteArray("1"));
        QCOMPARE(jsonOf(r.body).value("content").toArray().at(0).toObject().value("text").toString(), "from primary");
        QCOMPARE(primary.hits(), 1);
        QCOMPARE(fallback.hits(), 0);
    }

    void primaryBlocked_fallback1Serves() {
        MockUpstream primary, fallback;
        primary.setDefault(errorReply(529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
        fallback.setDefault(anthropicMessage(QStringLiteral("from fallback"), QStringLiteral("fallback1-model")));
        ProxyUnderTest proxy(chainConfig({primary.baseUrl(), fallback.baseUrl()}));

        const ClientResponse r = postMessages(proxy.port(), false);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("fallback1"));
        QCOMPARE(r.headers.value("x-understudy-model"), QByteArray("fallback1-model"));
        QCOMPARE(jsonOf(r.body).value("model").toString(), "fallback1-model");  // the truth, not the requested model
        QCOMPARE(primary.hits(), 1);  // 529 is not retried on the same target
        QCOMPARE(fallback.hits(), 1);
        // The fallback was asked for its own model, and got the rest of the request unchanged.
        const QJsonObject sent = jsonOf(fallback.requests().first().body);
        QCOMPARE(sent.value("model").toString(), "fallback1-model");
        QCOMPARE(sent.value("messages").toArray(), jsonOf(messagesBody("claude-test", false)).value("messages").toArray());

        QVERIFY(proxy.waitForEvents("failover", 1));
        const ProxyEvent failover = proxy.events("failover").first();
        QCOMPARE(failover.fields.value("from").toString(), "primary/claude-test");
        QCOMPARE(failover.fields.value("to").toString(), "fallback1/fallback1-model");
        QVERIFY2(failover.fields.value("reason").toString().contains("529"), qPrintable(failover.fields.value("reason").toString()));
    }

    void primaryAndFallback1Blocked_fallback2Serves() {
        MockUpstream primary, fallback1, fallback2;
        primary.setDefault(errorReply(429, R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})"));
        fallback1.setDefault(errorReply(529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
        fallback2.setDefault(anthropicMessage(QStringLiteral("third"), QStringLiteral("fallback2-model")));
        ProxyUnderTest proxy(chainConfig({primary.baseUrl(), fallback1.baseUrl(), fallback2.baseUrl()}));

        const ClientResponse r = postMessages(proxy.port(), false);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("fallback2"));
        QCOMPARE(r.headers.value("x-understudy-attempts"), QByteArray("3"));
        QCOMPARE(primary.hits(), 1);
        QCOMPARE(fallback1.hits(), 1);
        QCOMPARE(fallback2.hits(), 1);
    }

    void allDown_cleanErrorInClientDialect_withinBudget() {
        MockUpstream primary, fallback;
        primary.setDefault(errorReply(529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
        fallback.stop();  // refused
        ProxyUnderTest proxy(chainConfig({primary.baseUrl(), fallback.baseUrl()}));

        QElapsedTimer clock;
        clock.start();
        const ClientResponse r = postMessages(proxy.port(), false);
        QVERIFY(clock.elapsed() < 8000);
        QCOMPARE(r.status, 529);  // the last upstream status
        const QJsonObject body = jsonOf(r.body);
        QCOMPARE(body.value("type").toString(), "error");
        const QString message = body.value("error").toObject().value("message").toString();
        QVERIFY2(message.contains("primary/claude-test: 529 overloaded"), qPrintable(message));
        QVERIFY2(message.contains("fallback1/fallback1-model: connection refused"), qPrintable(message));
        QVERIFY(!r.headers.value("retry-after").isEmpty());

        // OpenAI-dialect clients get OpenAI's error shape.
        MockUpstream chatPrimary;
        chatPrimary.setDefault(errorReply(503, R"({"error":{"message":"down","type":"server_error"}})"));
        ProxyUnderTest chatProxy(chainConfig({chatPrimary.baseUrl("/v1")}, {}, QStringLiteral("openai-chat")));
        const ClientResponse c = request(chatProxy.port(), "POST", "/v1/chat/completions", chatBody("gpt-test", false));
        QCOMPARE(c.status, 503);
        QVERIFY(jsonOf(c.body).value("error").toObject().value("message").toString().contains("every target"));
        QCOMPARE(chatPrimary.hits(), 2);  // 503 is transient: one retry, then give up
    }

    void rateLimitRetryAfter_targetNotHitBeforeReset() {
        MockUpstream primary, fallback;
        http::Headers retry;
        retry.set("retry-after", "2");
        primary.enqueue(errorReply(429, R"({"type":"error","error":{"type":"rate_limit_error","message":"slow"}})", retry));
        primary.setDefault(anthropicMessage(QStringLiteral("primary back")));
        fallback.setDefault(anthropicMessage(QStringLiteral("fallback")));
        ProxyUnderTest proxy(chainConfig({primary.baseUrl(), fallback.baseUrl()}));

        QCOMPARE(postMessages(proxy.port(), false).headers.value("x-understudy-provider"), QByteArray("fallback1"));
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < 1700) {
            const ClientResponse r = postMessages(proxy.port(), false);
            QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("fallback1"));
            QTest::qWait(200);
        }
        QCOMPARE(primary.hits(), 1);
        QCOMPARE(primary.connections(), 1);
        QTest::qWait(2300 - static_cast<int>(clock.elapsed()));
        const ClientResponse back = postMessages(proxy.port(), false);
        QCOMPARE(back.headers.value("x-understudy-provider"), QByteArray("primary"));
        QCOMPARE(primary.hits(), 2);
    }

    void shortRetryAfter_waitsAndRetriesSameTarget() {
        MockUpstream primary, fallback;
        http::Headers retry;
        retry.set("retry-after", "1");
        primary.enqueue(errorReply(429, R"({"type":"error","error":{"type":"rate_limit_error","message":"slow"}})", retry));
        primary.setDefault(anthropicMessage(QStringLiteral("after wait")));
        ProxyUnderTest proxy(chainConfig({primary.baseUrl(), fallback.baseUrl()}, QStringLiteral(R"("maxRetryAfterWaitMs": 3000)")));
        QElapsedTimer clock;
        clock.start();
        const ClientResponse r = postMessages(proxy.port(), false);
        QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("primary"));
        QVERIFY(clock.elapsed() >= 1000);
        QCOMPARE(primary.hits(), 2);
        QCOMPARE(fallback.hits(), 0);
    }

    void serverErrorOnce_sameTargetRetrySucceeds() {
        MockUpstream primary, fallback;
        primary.enqueue(errorReply(500, R"({"type":"error","error":{"type":"api_error","message":"oops"}})"));
        primary.setDefault(anthropicMessage(QStringLiteral("second try")));
        ProxyUnderTest proxy(chainConfig({primary.baseUrl(), fallback.baseUrl()}));
        const ClientResponse r = postMessages(proxy.port(), false);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("primary"));
        QCOMPARE(r.headers.value("x-understudy-attempts"), QByteArray("2"));
        QCOMPARE(primary.hits(), 2);
        QCOMPARE(fallback.hits(), 0);
    }

    void connectionRefused_failsOver() {
        MockUpstream dead, fallback;
        dead.stop();
        ProxyUnderTest proxy(chainConfig({dead.baseUrl(), fallback.baseUrl()}));
        const ClientResponse r = postMessages(proxy.port(), true);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("fallback1"));
    }

    void resetBeforeHeaders_retriedThenFailsOver() {
        MockUpstream primary, fallback;
        MockReply reset;
        reset.behaviour = MockReply::Behaviour::ResetBeforeHead;
        primary.setDefault(reset);
        ProxyUnderTest proxy(chainConfig({primary.baseUrl(), fallback.baseUrl()}));
        const ClientResponse r = postMessages(proxy.port(), false);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("fallback1"));
        QCOMPARE(primary.hits(), 2);  // one same-target retry: a reset is often a one-off
    }

    void noResponse_firstTokenTimeout_failsOver() {
        MockUpstream primary, fallback;
        MockReply silent;
        silent.behaviour = MockReply::Behaviour::NoResponse;
        primary.setDefault(silent);
        fallback.setDefault(anthropicStream({QStringLiteral("quick")}));
        ProxyUnderTest proxy(chainConfig({primary.baseUrl(), fallback.baseUrl()}));
        QElapsedTimer clock;
        clock.start();
        const ClientResponse r = postMessages(proxy.port(), true);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("fallback1"));
        QVERIFY(clock.elapsed() >= 600);
        QVERIFY(clock.elapsed() < 3000);
        QVERIFY(r.body.contains("quick"));
    }

    void streamErrorEventBeforeContent_failsOver() {
        MockUpstream primary, fallback;
        MockReply broken = anthropicStream({});
        broken.chunks = {broken.chunks.first(),
                         http::formatSse("error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})")};
        primary.setDefault(broken);
        fallback.setDefault(anthropicStream({QStringLiteral("Hel"), QStringLiteral("lo")}, QStringLiteral("fallback1-model")));
        ProxyUnderTest proxy(chainConfig({primary.baseUrl(), fallback.baseUrl()}));
        const ClientResponse r = postMessages(proxy.port(), true);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("fallback1"));
        QVERIFY(!r.body.contains("overloaded_error"));    // the client never sees the primary's failure
        QCOMPARE(r.body.count("event: message_start"), 1);  // nor its held preamble
        QCOMPARE(r.body, anthropicStreamEvents({QStringLiteral("Hel"), QStringLiteral("lo")}, "fallback1-model").join());
    }

    void streamStallBeforeContent_failsOver() {
        MockUpstream primary, fallback;
        MockReply stall = anthropicStream({});
        stall.chunks = {stall.chunks.first()};  // message_start, then silence
        stall.ending = MockReply::Ending::Stall;
        primary.setDefault(stall);
        fallback.setDefault(anthropicStream({QStringLiteral("rescued")}));
        ProxyUnderTest proxy(chainConfig({primary.baseUrl(), fallback.baseUrl()}));
        const ClientResponse r = postMessages(proxy.port(), true);
        QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("fallback1"));
        QVERIFY(r.body.contains("rescued"));
    }

    void streamCutAfterContent_continuedOnFallback() {
        MockUpstream primary, fallback;
        MockReply cut = anthropicStream({QStringLiteral("partial answer")});
        cut.chunks = cut.chunks.mid(0, 4);  // message_start … first delta
        cut.ending = MockReply::Ending::Cut;
        primary.setDefault(cut);
        fallback.setDefault(anthropicStream({QStringLiteral(", finished")}, QStringLiteral("fallback1-model")));
        ProxyUnderTest proxy(chainConfig({primary.baseUrl(), fallback.baseUrl()}));
        const ClientResponse r = postMessages(proxy.port(), true);
        QCOMPARE(r.status, 200);
        QVERIFY(r.body.contains("partial answer"));
        QVERIFY(r.body.contains(", finished"));
        QCOMPARE(r.body.count("event: message_start"), 1);
        QCOMPARE(r.body.count("event: message_stop"), 1);
        QVERIFY(!r.body.contains("event: error"));
        QVERIFY(r.complete);
        QCOMPARE(fallback.hits(), 1);  // sent the partial answer as a prefill (see tst_continuation)
    }

    void streamCutAfterContent_noFallback_endsWithInBandError() {
        MockUpstream primary;
        MockReply cut = anthropicStream({QStringLiteral("partial answer")});
        cut.chunks = cut.chunks.mid(0, 4);
        cut.ending = MockReply::Ending::Cut;
        primary.setDefault(cut);
        ProxyUnderTest proxy(chainConfig({primary.baseUrl()}));
        const ClientResponse r = postMessages(proxy.port(), true);
        QCOMPARE(r.status, 200);
        QVERIFY(r.body.contains("partial answer"));
        QVERIFY(!r.body.contains("message_stop"));  // never presented as complete
        QVERIFY(r.body.contains("event: error"));
        QVERIFY(r.body.contains("incomplete"));
        QVERIFY(r.complete);                        // the HTTP stream itself ends cleanly
    }

    void streamStallAfterContent_noFallback_endsWithInBandError() {
        MockUpstream primary;
        MockReply stall = anthropicStream({QStringLiteral("thinking about it")});
        stall.chunks = stall.chunks.mid(0, 4);
        stall.ending = MockReply::Ending::Stall;
        primary.setDefault(stall);
        ProxyUnderTest proxy(chainConfig({primary.baseUrl()}));
        const ClientResponse r = postMessages(proxy.port(), true);
        QVERIFY(r.body.contains("thinking about it"));
        QVERIFY(r.body.contains("event: error"));
        QVERIFY(!r.body.contains("message_stop"));
    }

    void badRequest_returnedUnmodified_notRetried() {
        MockUpstream primary, fallback;
        const QByteArray error = R"({"type":"error","error":{"type":"invalid_request_error","message":"messages: field required"}})";
        http::Headers headers;
        headers.set("request-id", "req_123");
        primary.setDefault(errorReply(400, error, headers));
        ProxyUnderTest proxy(chainConfig({primary.baseUrl(), fallback.baseUrl()}));
        const ClientResponse r = postMessages(proxy.port(), true);
        QCOMPARE(r.status, 400);
        QCOMPARE(r.body, error);
        QCOMPARE(r.headers.value("request-id"), QByteArray("req_123"));
        QCOMPARE(primary.hits(), 1);
        QCOMPARE(fallback.hits(), 0);
    }

    void promptTooLong_goesToNextModelNeverSameModel() {
        MockUpstream primary, fallback;
        primary.setDefault(errorReply(400, R"({"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 250000 tokens > 200000 maximum"}})"));
        fallback.setDefault(anthropicMessage(QStringLiteral("big window")));
        ProxyUnderTest proxy(chainConfig({primary.baseUrl(), fallback.baseUrl()}));
        const ClientResponse r = postMessages(proxy.port(), false);
        QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("fallback1"));
        QCOMPARE(primary.hits(), 1);
        // Too long is not the target's fault: it stays healthy for the next request.
        primary.setDefault(anthropicMessage(QStringLiteral("short prompt")));
        QCOMPARE(postMessages(proxy.port(), false).headers.value("x-understudy-provider"), QByteArray("primary"));
    }

    void recovery_trafficReturnsToPrimaryAfterProbe() {
        MockUpstream primary, fallback;
        primary.enqueue(errorReply(529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
        primary.setDefault(anthropicMessage(QStringLiteral("primary again")));
        ProxyUnderTest proxy(chainConfig({primary.baseUrl(), fallback.baseUrl()},
                                         QStringLiteral(R"("primaryRecoveryCheckIntervalMs": 400)")));
        QCOMPARE(postMessages(proxy.port(), false).headers.value("x-understudy-provider"), QByteArray("fallback1"));
        QCOMPARE(postMessages(proxy.port(), false).headers.value("x-understudy-provider"), QByteArray("fallback1"));
        QCOMPARE(primary.hits(), 1);
        QTest::qWait(500);
        QCOMPARE(postMessages(proxy.port(), false).headers.value("x-understudy-provider"), QByteArray("primary"));
        QVERIFY(proxy.waitForEvents("recovery", 1));
        QCOMPARE(proxy.events("recovery").first().fields.value("target").toString(), "primary/claude-test");
        QCOMPARE(postMessages(proxy.port(), false).headers.value("x-understudy-provider"), QByteArray("primary"));
        const QJsonObject status = jsonOf(request(proxy.port(), "GET", "/status").body);
        QVERIFY(status.value("targets").toArray().isEmpty());  // nothing cooling any more
        QCOMPARE(status.value("counters").toObject().value("recoveries").toInt(), 1);
    }

    void failedProbe_coolsLongerAndKeepsFallback() {
        MockUpstream primary, fallback;
        primary.setDefault(errorReply(529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
        ProxyUnderTest proxy(chainConfig({primary.baseUrl(), fallback.baseUrl()},
                                         QStringLiteral(R"("primaryRecoveryCheckIntervalMs": 300)")));
        postMessages(proxy.port(), false);
        QTest::qWait(350);
        QCOMPARE(postMessages(proxy.port(), false).headers.value("x-understudy-provider"), QByteArray("fallback1"));
        QCOMPARE(primary.hits(), 2);  // the probe
        QTest::qWait(350);            // the second cooldown is twice as long: no probe yet
        postMessages(proxy.port(), false);
        QCOMPARE(primary.hits(), 2);
    }

    void coolingTarget_skippedWithoutConnection() {
        MockUpstream primary, fallback;
        primary.setDefault(errorReply(529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
        ProxyUnderTest proxy(chainConfig({primary.baseUrl(), fallback.baseUrl()}));
        postMessages(proxy.port(), false);
        const int connections = primary.connections();
        for (int i = 0; i < 5; ++i)
            QCOMPARE(postMessages(proxy.port(), true).headers.value("x-understudy-provider"), QByteArray("fallback1"));
        QCOMPARE(primary.connections(), connections);
        QCOMPARE(primary.hits(), 1);
    }

    void rerouteSendsEverythingToOneTarget() {
        MockUpstream primary, fallback;
        const QByteArray config = chainConfig({primary.baseUrl(), fallback.baseUrl()}, {}, QStringLiteral("anthropic"),
                                              QStringLiteral(R"(, "reroute": {"provider": "fallback1", "model": "forced"})"));
        ProxyUnderTest proxy(config);
        const ClientResponse r = postMessages(proxy.port(), false);
        QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("fallback1"));
        QCOMPARE(jsonOf(fallback.requests().first().body).value("model").toString(), "forced");
        QCOMPARE(primary.hits(), 0);
    }

    void concurrentStreams_allProgressAtOnce() {
        MockUpstream primary;
        MockReply slow = anthropicStream({QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")});
        slow.chunkDelayMs = 150;
        primary.setDefault(slow);
        ProxyUnderTest proxy(chainConfig({primary.baseUrl()}, QStringLiteral(R"("streamIdleTimeoutMs": 5000)")));
        constexpr int kStreams = 32;
        std::vector<std::unique_ptr<TestClient>> clients;
        for (int i = 0; i < kStreams; ++i) {
            clients.push_back(std::make_unique<TestClient>(proxy.port()));
            http::Headers h = anthropicHeaders();
            h.set("Content-Type", "application/json");
            clients.back()->send("POST", "/v1/messages", h, messagesBody("claude-test", true));
        }
        QVERIFY(QTest::qWaitFor([&] {
            return std::all_of(clients.begin(), clients.end(), [](const auto& c) { return c->isDone(); });
        }, 15000));
        for (const auto& c : clients) {
            QCOMPARE(c->response().status, 200);
            QVERIFY(c->response().body.contains("message_stop"));
        }
        // No per-host cap: every stream was open upstream at the same time.
        QCOMPARE(primary.maxConcurrent(), kStreams);
    }

    void largeBody_forwardsIntact() {
        MockUpstream primary;
        ProxyUnderTest proxy(chainConfig({primary.baseUrl()}));
        QString big;
        big.reserve(5 * 1024 * 1024);
        for (int i = 0; big.size() < 5 * 1024 * 1024; ++i)
            big += QStringLiteral("line %1 of a very long file with \"quotes\" and \\ slashes\n").arg(i);
        const QByteArray body = messagesBody("claude-test", false, big);
        const ClientResponse r = request(proxy.port(), "POST", "/v1/messages", body, anthropicHeaders(), 30000);
        QCOMPARE(r.status, 200);
        QCOMPARE(primary.requests().first().body.size(), body.size());
        QVERIFY(primary.requests().first().body == body);  // byte for byte: model kept, nothing re-serialised
    }

    void streamingPassThrough_isByteIdentical() {
        MockUpstream primary;
        const MockReply stream = anthropicStream({QStringLiteral("one"), QStringLiteral(" two")}, QStringLiteral("claude-test"));
        primary.setDefault(stream);
        ProxyUnderTest proxy(chainConfig({primary.baseUrl()}));
        const ClientResponse r = postMessages(proxy.port(), true);
        QCOMPARE(r.headers.value("content-type"), QByteArray("text/event-stream"));
        QCOMPARE(r.body, stream.chunks.join());
    }

    void openAIChatStream_failsOverBeforeContent() {
        MockUpstream primary, fallback;
        primary.setDefault(errorReply(429, R"({"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}})"));
        const MockReply stream = openAIChatStream({QStringLiteral("Hi"), QStringLiteral("!")}, QStringLiteral("fallback1-model"));
        fallback.setDefault(stream);
        ProxyUnderTest proxy(chainConfig({primary.baseUrl("/v1"), fallback.baseUrl("/v1")}, {}, QStringLiteral("openai-chat")));
        const ClientResponse r = request(proxy.port(), "POST", "/v1/chat/completions", chatBody("gpt-test", true));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.body, stream.chunks.join());
        QCOMPARE(fallback.requests().first().path, QByteArray("/v1/chat/completions"));
    }

    void usageRecorded_againstTheTargetThatAnswered() {
        MockUpstream primary, fallback;
        primary.setDefault(errorReply(529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
        fallback.setDefault(anthropicStream({QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")}));
        ProxyUnderTest proxy(chainConfig({primary.baseUrl(), fallback.baseUrl()}));
        http::Headers h = anthropicHeaders();
        h.set("X-Claude-Code-Session-Id", "session-123");
        request(proxy.port(), "POST", "/v1/messages", messagesBody("claude-test", true), h);
        QVERIFY(QTest::qWaitFor([&] { return !proxy.usage().isEmpty(); }, 2000));
        const UsageRecord r = proxy.usage().first();
        QCOMPARE(r.provider, QStringLiteral("fallback1"));
        QCOMPARE(r.model, QStringLiteral("fallback1-model"));
        QCOMPARE(r.fallbackDepth, 1);
        QCOMPARE(r.sessionId, QStringLiteral("session-123"));
        QCOMPARE(r.tokens.input, 12);   // from message_start
        QCOMPARE(r.tokens.output, 3);   // from message_delta, which replaces message_start's count
        QVERIFY(!r.estimated);
        QCOMPARE(r.failureReasons, QStringList{QStringLiteral("primary/claude-test: 529 overloaded")});
        QVERIFY(r.firstTokenMs >= 0 && r.firstTokenMs <= r.totalMs);
        QCOMPARE(r.outcome, QStringLiteral("served"));
    }

    void usageRecorded_fromANonStreamedAnswer() {
        MockUpstream primary;
        // A text that mentions "usage" and a nested object named usage come before the real top-level one.
        primary.setDefault(errorReply(200, "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\","
            "\"model\":\"claude-test\",\"content\":[{\"type\":\"text\",\"text\":\"the \\\"usage\\\": 99\"}],"
            "\"container\":{\"usage\":{\"input_tokens\":1000}},\"stop_reason\":\"end_turn\","
            "\"usage\":{\"input_tokens\":21,\"output_tokens\":7,\"cache_read_input_tokens\":300,"
            "\"cache_creation_input_tokens\":40}}"));
        ProxyUnderTest proxy(chainConfig({primary.baseUrl()}));
        QCOMPARE(postMessages(proxy.port(), false).status, 200);
        QVERIFY(QTest::qWaitFor([&] { return !proxy.usage().isEmpty(); }, 2000));
        const UsageRecord r = proxy.usage().first();
        QCOMPARE(r.tokens.input, 21);
        QCOMPARE(r.tokens.output, 7);
        QCOMPARE(r.tokens.cacheRead, 300);
        QCOMPARE(r.tokens.cacheWrite, 40);
        QVERIFY(!r.estimated);
    }

    void quotaExhausted_coolsLong() {
        MockUpstream primary, fallback;
        primary.setDefault(errorReply(429, R"({"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}})"));
        ProxyUnderTest proxy(chainConfig({primary.baseUrl(), fallback.baseUrl()}));
        postMessages(proxy.port(), false);
        const QJsonObject status = jsonOf(request(proxy.port(), "GET", "/status").body);
        const QJsonObject target = status.value("targets").toArray().first().toObject();
        QCOMPARE(target.value("quota").toBool(), true);
        const QDateTime until = QDateTime::fromString(target.value("coolingUntil").toString(), Qt::ISODateWithMs);
        QVERIFY(until > QDateTime::currentDateTimeUtc().addSecs(30 * 60));
    }
};

QTEST_GUILESS_MAIN(TestFailover)
#include "tst_failover.moc"
