// The failure scenarios of public failover benchmarks that no other test covers on its own (the full mapping is in
// docs/failover-scenarios.md): a malformed chunk, a stream without [DONE], a slow first token, a content filter,
// a flapping primary, and the accounting of it all. Each is rescued, or ends in a clean bounded error.
#include "support/MockUpstream.h"
#include "support/ProxyUnderTest.h"
#include "support/TestClient.h"

#include "http/SseReader.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

using namespace understudy;
using namespace understudy::test;

class TestBenchmarkScenarios : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void malformedChunk_droppedAndStreamServed();
    void noDoneMarker_continuedAndEndedProperly();
    void noDoneMarker_noFallback_cleanInBandError();
    void slowFirstToken_pastTimeout_failsOver();
    void slowFirstToken_withinTimeout_waitedFor();
    void contentFilter_returnedAsIs_noFailover();
    void primaryFlapping_everyRequestServed_boundedPrimaryHits_accounted();
};

namespace {

const qint64 kT0 = QDateTime(QDate(2026, 11, 22), QTime(10, 0), Qt::UTC).toMSecsSinceEpoch();

// primary → fallback1 of one provider type, short timings, no retries.
QByteArray chainConfig(const QString& type, const QStringList& baseUrls, int firstTokenTimeoutMs = 600) {
    QStringList providers, steps;
    for (int i = 0; i < baseUrls.size(); ++i) {
        const QString name = i == 0 ? QStringLiteral("primary") : QStringLiteral("fallback%1").arg(i);
        providers.append(QStringLiteral(R"("%1": {"type": "%2", "baseUrl": "%3", "auth": "none"})").arg(name, type, baseUrls[i]));
        steps.append(i == 0 ? QStringLiteral(R"({"provider": "primary"})")
                            : QStringLiteral(R"({"provider": "%1", "model": "%1-model"})").arg(name));
    }
    return QStringLiteral(R"({"version": 1, "providers": {%1}, "chains": {"main": {"steps": [%2]}}, "activeChain": "main",
        "failover": {"retriesBeforeFailover": 0, "connectTimeoutMs": 1000, "firstTokenTimeoutMs": %3,
                     "firstTokenTimeoutPer100kTokensMs": 0, "streamIdleTimeoutMs": 600, "totalBudgetMs": 8000,
                     "primaryRecoveryCheckIntervalMs": 60000}})")
        .arg(providers.join(QLatin1Char(',')), steps.join(QLatin1Char(',')))
        .arg(firstTokenTimeoutMs)
        .toUtf8();
}

QList<http::SseEvent> eventsOf(const QByteArray& body) {
    QList<http::SseEvent> list;
    http::SseReader reader;
    reader.feed(body, list);
    return list;
}

QString chatText(const QByteArray& body) {
    QString text;
    for (const http::SseEvent& e : eventsOf(body)) {
        const QJsonArray choices = QJsonDocument::fromJson(e.data).object().value("choices").toArray();
        if (!choices.isEmpty())
            text += choices.first().toObject().value("delta").toObject().value("content").toString();
    }
    return text;
}

QString anthropicText(const QByteArray& body) {
    QString text;
    for (const http::SseEvent& e : eventsOf(body)) {
        const QJsonObject delta = QJsonDocument::fromJson(e.data).object().value("delta").toObject();
        if (delta.value("type") == "text_delta")
            text += delta.value("text").toString();
    }
    return text;
}

ClientResponse postChat(quint16 port, bool stream = true) {
    return request(port, "POST", "/v1/chat/completions", chatBody(QStringLiteral("gpt-test"), stream));
}

ClientResponse postMessages(quint16 port, bool stream = true) {
    return request(port, "POST", "/v1/messages", messagesBody(QStringLiteral("claude-test"), stream));
}

const QByteArray kOverloaded = R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})";

}  // namespace

void TestBenchmarkScenarios::malformedChunk_droppedAndStreamServed() {
    MockUpstream primary, fallback;
    MockReply reply = openAIChatStream({"Hello", " world"});
    reply.chunks.insert(2, http::formatSse({}, "{\"id\":\"chatcmpl-mock\",\"choices\":[{\"delta\":{\"content\":\"bro"));
    primary.setDefault(reply);
    ProxyUnderTest proxy(chainConfig(QStringLiteral("openai-chat"), {primary.baseUrl("/v1"), fallback.baseUrl("/v1")}));
    const ClientResponse r = postChat(proxy.port());
    QCOMPARE(r.status, 200);
    QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("primary"));
    QCOMPARE(chatText(r.body), QStringLiteral("Hello world"));
    QVERIFY(!r.body.contains("bro"));  // never forwarded
    QCOMPARE(r.body.count("data: [DONE]"), 1);
    QCOMPARE(fallback.hits(), 0);
}

void TestBenchmarkScenarios::noDoneMarker_continuedAndEndedProperly() {
    MockUpstream primary, fallback;
    MockReply noDone = openAIChatStream({"Hello", " wor"});
    noDone.chunks = noDone.chunks.mid(0, 3);  // role chunk and two deltas; then the connection just ends
    primary.setDefault(noDone);
    fallback.setDefault(openAIChatStream({"ld!"}, QStringLiteral("fallback1-model")));
    ProxyUnderTest proxy(chainConfig(QStringLiteral("openai-chat"), {primary.baseUrl("/v1"), fallback.baseUrl("/v1")}));
    const ClientResponse r = postChat(proxy.port());
    QCOMPARE(r.status, 200);
    QVERIFY(r.complete);
    QCOMPARE(chatText(r.body), QStringLiteral("Hello world!"));
    QCOMPARE(r.body.count("data: [DONE]"), 1);
    QVERIFY(!r.body.contains("\"error\""));
}

void TestBenchmarkScenarios::noDoneMarker_noFallback_cleanInBandError() {
    MockUpstream primary;
    MockReply noDone = openAIChatStream({"Hello", " wor"});
    noDone.chunks = noDone.chunks.mid(0, 3);
    primary.setDefault(noDone);
    ProxyUnderTest proxy(chainConfig(QStringLiteral("openai-chat"), {primary.baseUrl("/v1")}));
    const ClientResponse r = postChat(proxy.port());
    QCOMPARE(r.status, 200);
    QVERIFY(r.complete);
    QCOMPARE(chatText(r.body), QStringLiteral("Hello wor"));
    QVERIFY(r.body.contains("\"error\""));  // never a truncated answer that looks complete
    QVERIFY(r.body.contains("incomplete"));
}

void TestBenchmarkScenarios::slowFirstToken_pastTimeout_failsOver() {
    MockUpstream primary, fallback;
    MockReply slow = anthropicStream({"late"});
    slow.headDelayMs = 2000;  // nothing at all within the first-token timeout
    primary.setDefault(slow);
    fallback.setDefault(anthropicStream({"on time"}, QStringLiteral("fallback1-model")));
    ProxyUnderTest proxy(chainConfig(QStringLiteral("anthropic"), {primary.baseUrl(), fallback.baseUrl()}, 400));
    const ClientResponse r = postMessages(proxy.port());
    QCOMPARE(r.status, 200);
    QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("fallback1"));
    QCOMPARE(anthropicText(r.body), QStringLiteral("on time"));
    QVERIFY(proxy.waitForEvents("failover", 1));  // gave up on the primary at its first-token timeout
    QCOMPARE(proxy.events("failover").first().fields.value("reason").toString(),
             QStringLiteral("no first token within 400 ms"));
}

void TestBenchmarkScenarios::slowFirstToken_withinTimeout_waitedFor() {
    MockUpstream primary, fallback;
    MockReply slow = anthropicStream({"worth", " the wait"});
    slow.headDelayMs = 150;
    primary.setDefault(slow);
    ProxyUnderTest proxy(chainConfig(QStringLiteral("anthropic"), {primary.baseUrl(), fallback.baseUrl()}, 2000));
    const ClientResponse r = postMessages(proxy.port());
    QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("primary"));
    QCOMPARE(anthropicText(r.body), QStringLiteral("worth the wait"));
    QCOMPARE(fallback.hits(), 0);
}

void TestBenchmarkScenarios::contentFilter_returnedAsIs_noFailover() {
    MockUpstream primary, fallback;
    const QByteArray filtered = R"({"error":{"message":"The response was filtered due to the prompt triggering content management policy.","type":"invalid_request_error","param":"prompt","code":"content_filter"}})";
    primary.setDefault(errorReply(400, filtered));
    ProxyUnderTest proxy(chainConfig(QStringLiteral("openai-chat"), {primary.baseUrl("/v1"), fallback.baseUrl("/v1")}));
    const ClientResponse r = postChat(proxy.port(), false);
    QCOMPARE(r.status, 400);
    QCOMPARE(r.body, filtered);  // the user's policy problem, told as the provider said it
    QCOMPARE(fallback.hits(), 0);
    QCOMPARE(primary.hits(), 1);

    // A stream the provider ends with finish_reason "content_filter" is a complete answer: passed on, not retried.
    MockReply stopped = openAIChatStream({"I can"});
    stopped.chunks[2] = http::formatSse({}, R"({"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,"model":"mock-model","choices":[{"index":0,"delta":{},"finish_reason":"content_filter"}]})");
    primary.setDefault(stopped);
    const ClientResponse s = postChat(proxy.port());
    QCOMPARE(s.status, 200);
    QVERIFY(s.body.contains("\"finish_reason\":\"content_filter\""));
    QCOMPARE(s.body.count("data: [DONE]"), 1);
    QCOMPARE(fallback.hits(), 0);
}

void TestBenchmarkScenarios::primaryFlapping_everyRequestServed_boundedPrimaryHits_accounted() {
    MockUpstream primary, fallback;
    for (int i = 0; i < 40; ++i)  // down, up, down, up, …
        primary.enqueue(i % 2 == 0 ? errorReply(529, kOverloaded) : anthropicMessage(QStringLiteral("primary")));
    fallback.setDefault(anthropicMessage(QStringLiteral("fallback"), QStringLiteral("fallback1-model")));
    ProxyUnderTest proxy(chainConfig(QStringLiteral("anthropic"), {primary.baseUrl(), fallback.baseUrl()}));

    // Ten simulated minutes, a request every ten seconds.
    constexpr int kRequests = 60;
    int primaryServed = 0, fallbackServed = 0;
    for (int i = 0; i < kRequests; ++i) {
        proxy.setNow(kT0 + i * 10'000);
        const ClientResponse r = postMessages(proxy.port(), false);
        QCOMPARE(r.status, 200);
        (r.headers.value("x-understudy-provider") == "primary" ? primaryServed : fallbackServed) += 1;
    }
    // One failed attempt per cooldown (60 s) at most: the flapping primary is not hammered, nor ping-ponged to on
    // every request.
    const int primaryFailures = primary.hits() - primaryServed;
    QVERIFY2(primaryFailures <= kRequests / 6 + 1, qPrintable(QString::number(primaryFailures)));
    QVERIFY(primaryServed > 0);
    QCOMPARE(fallback.hits(), fallbackServed);

    const QJsonObject counters =
        QJsonDocument::fromJson(request(proxy.port(), "GET", "/status").body).object().value("counters").toObject();
    QCOMPARE(counters.value("requests").toInt(), kRequests);
    QCOMPARE(counters.value("served").toInt(), kRequests);
    QCOMPARE(counters.value("servedByFallback").toInt(), fallbackServed);
    QCOMPARE(counters.value("failovers").toInt(), primaryFailures);
    QCOMPARE(counters.value("allFailed").toInt(), 0);
    QVERIFY(proxy.waitForEvents("request", kRequests));
    int billedToPrimary = 0;
    for (const UsageRecord& u : proxy.usage())
        billedToPrimary += u.provider == QLatin1String("primary") ? 1 : 0;
    QCOMPARE(billedToPrimary, primaryServed);  // usage is billed to who answered, never to who failed
}

QTEST_GUILESS_MAIN(TestBenchmarkScenarios)
#include "tst_benchmark_scenarios.moc"
