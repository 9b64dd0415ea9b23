// Quota-aware cooldowns, the pre-emptive switch, stickiness, the spend guard and the prefill catalog (issue 9),
// end to end: the real proxy on its worker thread, real HTTP over loopback, scriptable mock providers, and the
// proxy's clock stopped at a fixed time, so that "cooled until exactly T" is asserted without sleeping.
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

class TestQuota : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void rateLimitResetHeader_cooledUntilTheExactMillisecond();
    void retryAfterSeconds_cooledExactly();
    void openAIResetDuration_cooledExactly();
    void usageLimitBody_coolsUntilItsResetTime();
    void subscriptionRejectedHeaders_coolUntilUnifiedReset();
    void insufficientQuota_coolsTheDocumentedHour();
    void usageLimitReached_resetsInSeconds();
    void creditBalanceTooLow_failsOverInsteadOfReturning400();
    void lowRemaining_switchesBeforeTheLimit();
    void remainingAboveMargin_staysOnPrimary();
    void lowRemaining_onlyTarget_notCooled();
    void session_staysOnFallbackWhileCooling_returnsAtNextRequest();
    void spendGuard_budgetReached_stepSkipped_toldOncePerDay();
    void prefillCatalog_newerClaudeNeverSentAPrefill();
    void prefillCatalog_olderClaudeContinuedWithPrefill();
};

namespace {

// 2026-11-22 10:00:00 UTC: where the proxy's clock stands in these tests.
const qint64 kT0 = QDateTime(QDate(2026, 11, 22), QTime(10, 0), Qt::UTC).toMSecsSinceEpoch();
constexpr qint64 kHour = 3'600'000;

QString iso(qint64 ms) { return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs); }
QByteArray rfc3339(qint64 ms) { return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODate).toLatin1(); }
QByteArray unixSeconds(qint64 ms) { return QByteArray::number(ms / 1000); }

struct Step {
    QString type;     // provider type
    QString baseUrl;
    QString extra;    // more step keys, e.g. `"dailyBudgetUsd": 5`
    QString model;    // empty: as requested for the first step, "<name>-model" for the others
};

Step anthropic(const MockUpstream& mock, const QString& extra = {}, const QString& model = {}) {
    return {QStringLiteral("anthropic"), mock.baseUrl(), extra, model};
}
Step chat(const MockUpstream& mock) { return {QStringLiteral("openai-chat"), mock.baseUrl("/v1"), {}, {}}; }

// One provider per step (primary, fallback1, fallback2), all with the client's own credentials; no retries,
// so every failure moves on at once. `failoverExtra` and `topExtra` add keys to "failover" and the root.
QByteArray chainConfig(const QList<Step>& steps, const QString& failoverExtra = {}, const QString& topExtra = {}) {
    QStringList providers, entries;
    for (int i = 0; i < steps.size(); ++i) {
        const QString name = i == 0 ? QStringLiteral("primary") : QStringLiteral("fallback%1").arg(i);
        providers.append(QStringLiteral(R"("%1": {"type": "%2", "baseUrl": "%3", "auth": "client"})")
                             .arg(name, steps[i].type, steps[i].baseUrl));
        QString entry = QStringLiteral(R"({"provider": "%1")").arg(name);
        const QString model = steps[i].model.isEmpty() && i > 0 ? name + QStringLiteral("-model") : steps[i].model;
        if (!model.isEmpty())
            entry += QStringLiteral(R"(, "model": "%1")").arg(model);
        if (!steps[i].extra.isEmpty())
            entry += QStringLiteral(", ") + steps[i].extra;
        entries.append(entry + QLatin1Char('}'));
    }
    QString failover = QStringLiteral(R"("retriesBeforeFailover": 0, "maxRetryAfterWaitMs": 0, "connectTimeoutMs": 1000,
        "firstTokenTimeoutMs": 1000, "firstTokenTimeoutPer100kTokensMs": 0, "streamIdleTimeoutMs": 500,
        "totalBudgetMs": 8000, "primaryRecoveryCheckIntervalMs": 60000)");
    if (!failoverExtra.isEmpty())
        failover += QStringLiteral(", ") + failoverExtra;
    return QStringLiteral(R"({"version": 1, "providers": {%1}, "chains": {"main": {"steps": [%2]}},
        "activeChain": "main", "failover": {%3} %4})")
        .arg(providers.join(QLatin1Char(',')), entries.join(QLatin1Char(',')), failover, topExtra)
        .toUtf8();
}

http::Headers headers(std::initializer_list<std::pair<const char*, QByteArray>> list) {
    http::Headers h;
    for (const auto& [name, value] : list)
        h.add(name, value);
    return h;
}

http::Headers clientHeaders(const QByteArray& session = {}) {
    http::Headers h;
    h.set("x-api-key", "test-client-credential");
    h.set("anthropic-version", "2023-06-01");
    if (!session.isEmpty())
        h.set("X-Claude-Code-Session-Id", session);
    return h;
}

ClientResponse post(quint16 port, bool stream = false, const QByteArray& session = {}) {
    return request(port, "POST", "/v1/messages", messagesBody(QStringLiteral("claude-test"), stream),
                   clientHeaders(session));
}

ClientResponse postChat(quint16 port) {
    http::Headers h;
    h.set("Authorization", "Bearer test-client-credential");
    return request(port, "POST", "/v1/chat/completions", chatBody(QStringLiteral("gpt-test"), false), h);
}

QByteArray servedBy(const ClientResponse& r) { return r.headers.value("x-understudy-provider"); }

// The /status entry of one target ("provider/model"); empty when it is healthy.
QJsonObject targetStatus(quint16 port, const QString& key) {
    const QJsonObject status = QJsonDocument::fromJson(request(port, "GET", "/status").body).object();
    for (const QJsonValue& t : status.value(QStringLiteral("targets")).toArray()) {
        if (t.toObject().value(QStringLiteral("target")).toString() == key)
            return t.toObject();
    }
    return {};
}

QJsonObject statusOf(quint16 port) { return QJsonDocument::fromJson(request(port, "GET", "/status").body).object(); }

QString anthropicText(const QByteArray& body) {
    QList<http::SseEvent> events;
    http::SseReader reader;
    reader.feed(body, events);
    QString text;
    for (const http::SseEvent& e : events) {
        const QJsonObject delta = QJsonDocument::fromJson(e.data).object().value(QStringLiteral("delta")).toObject();
        if (delta.value(QStringLiteral("type")) == QLatin1String("text_delta"))
            text += delta.value(QStringLiteral("text")).toString();
    }
    return text;
}

// The text of a request's trailing assistant message, or empty when the conversation ends otherwise.
QString prefillOf(const http::Request& request) {
    const QJsonObject last =
        QJsonDocument::fromJson(request.body).object().value(QStringLiteral("messages")).toArray().last().toObject();
    if (last.value(QStringLiteral("role")) != QLatin1String("assistant"))
        return {};
    QString text;
    for (const QJsonValue& block : last.value(QStringLiteral("content")).toArray())
        text += block.toObject().value(QStringLiteral("text")).toString();
    return last.value(QStringLiteral("content")).isString() ? last.value(QStringLiteral("content")).toString() : text;
}

// An Anthropic stream that sends `deltas` and is then cut.
MockReply cutAnthropic(const QStringList& deltas) {
    MockReply reply = anthropicStream(deltas);
    reply.chunks = reply.chunks.mid(0, 3 + deltas.size());
    reply.ending = MockReply::Ending::Cut;
    return reply;
}

const QByteArray kOverloaded = R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})";
const QByteArray kRateLimited = R"({"type":"error","error":{"type":"rate_limit_error","message":"rate limited"}})";

// A primary and its fallback.
struct TwoSteps {
    MockUpstream primary, fallback;
};

}  // namespace

void TestQuota::rateLimitResetHeader_cooledUntilTheExactMillisecond() {
    TwoSteps s;
    s.primary.enqueue(errorReply(429, kRateLimited,
                                 headers({{"anthropic-ratelimit-requests-remaining", "40"},
                                          {"anthropic-ratelimit-requests-reset", rfc3339(kT0 + 1000)},
                                          {"anthropic-ratelimit-tokens-remaining", "0"},
                                          {"anthropic-ratelimit-tokens-reset", rfc3339(kT0 + 90'000)}})));
    s.primary.setDefault(anthropicMessage(QStringLiteral("primary back")));
    s.fallback.setDefault(anthropicMessage(QStringLiteral("fallback")));
    ProxyUnderTest proxy(chainConfig({anthropic(s.primary), anthropic(s.fallback)}));
    proxy.setNow(kT0);

    QCOMPARE(servedBy(post(proxy.port())), QByteArray("fallback1"));
    const QJsonObject cooling = targetStatus(proxy.port(), QStringLiteral("primary/claude-test"));
    QCOMPARE(cooling.value("coolingUntil").toString(), iso(kT0 + 90'000));  // the exhausted bucket's reset
    QCOMPARE(cooling.value("reasonKind").toString(), QStringLiteral("rate_limit"));
    QCOMPARE(cooling.value("quota").toBool(), false);

    proxy.setNow(kT0 + 89'999);
    QCOMPARE(servedBy(post(proxy.port())), QByteArray("fallback1"));
    QCOMPARE(s.primary.hits(), 1);  // not asked a millisecond early
    proxy.setNow(kT0 + 90'000);
    QCOMPARE(servedBy(post(proxy.port())), QByteArray("primary"));
    QCOMPARE(s.primary.hits(), 2);
}

void TestQuota::retryAfterSeconds_cooledExactly() {
    TwoSteps s;
    s.primary.enqueue(errorReply(429, kRateLimited, headers({{"retry-after", "120"}})));
    s.primary.setDefault(anthropicMessage(QStringLiteral("primary back")));
    s.fallback.setDefault(anthropicMessage(QStringLiteral("fallback")));
    ProxyUnderTest proxy(chainConfig({anthropic(s.primary), anthropic(s.fallback)}));
    proxy.setNow(kT0);
    QCOMPARE(servedBy(post(proxy.port())), QByteArray("fallback1"));
    QCOMPARE(targetStatus(proxy.port(), "primary/claude-test").value("coolingUntil").toString(), iso(kT0 + 120'000));
    proxy.setNow(kT0 + 119'999);
    QCOMPARE(servedBy(post(proxy.port())), QByteArray("fallback1"));
    proxy.setNow(kT0 + 120'000);
    QCOMPARE(servedBy(post(proxy.port())), QByteArray("primary"));
}

void TestQuota::openAIResetDuration_cooledExactly() {
    MockUpstream primary, fallback;
    primary.enqueue(errorReply(429, R"({"error":{"code":"rate_limit_exceeded","type":"tokens","message":"Rate limit reached"}})",
                               headers({{"x-ratelimit-remaining-tokens", "0"}, {"x-ratelimit-reset-tokens", "6m30.5s"}})));
    primary.setDefault(openAIChat(QStringLiteral("primary back")));
    fallback.setDefault(openAIChat(QStringLiteral("fallback")));
    ProxyUnderTest proxy(chainConfig({chat(primary), chat(fallback)}));
    proxy.setNow(kT0);
    QCOMPARE(servedBy(postChat(proxy.port())), QByteArray("fallback1"));
    const QJsonObject cooling = targetStatus(proxy.port(), "primary/gpt-test");
    QCOMPARE(cooling.value("coolingUntil").toString(), iso(kT0 + 390'500));
    QCOMPARE(cooling.value("reasonKind").toString(), QStringLiteral("rate_limit"));
}

void TestQuota::usageLimitBody_coolsUntilItsResetTime() {
    TwoSteps s;
    const qint64 reset = kT0 + 5 * kHour;
    s.primary.setDefault(errorReply(429, R"({"type":"error","error":{"type":"rate_limit_error","message":"Claude AI usage limit reached|)"
                                             + unixSeconds(reset) + R"("}})"));
    s.fallback.setDefault(anthropicMessage(QStringLiteral("fallback")));
    ProxyUnderTest proxy(chainConfig({anthropic(s.primary), anthropic(s.fallback)}));
    proxy.setNow(kT0);
    QCOMPARE(servedBy(post(proxy.port())), QByteArray("fallback1"));
    const QJsonObject cooling = targetStatus(proxy.port(), "primary/claude-test");
    QCOMPARE(cooling.value("coolingUntil").toString(), iso(reset));
    QCOMPARE(cooling.value("reasonKind").toString(), QStringLiteral("quota"));
    QCOMPARE(cooling.value("quota").toBool(), true);
    QVERIFY(proxy.waitForEvents("cooldown", 1));
    const ProxyEvent event = proxy.events("cooldown").first();
    QCOMPARE(event.fields.value("quota").toBool(), true);
    QCOMPARE(event.fields.value("until").toString(), iso(reset));
    proxy.setNow(reset - 1);
    QCOMPARE(servedBy(post(proxy.port())), QByteArray("fallback1"));
    QCOMPARE(s.primary.hits(), 1);
}

void TestQuota::subscriptionRejectedHeaders_coolUntilUnifiedReset() {
    TwoSteps s;
    const qint64 reset = kT0 + 2 * kHour;
    s.primary.setDefault(errorReply(429, R"({"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed your account's rate limit. Please try again later."}})",
                                    headers({{"anthropic-ratelimit-unified-status", "rejected"},
                                             {"anthropic-ratelimit-unified-reset", unixSeconds(reset)}})));
    s.fallback.setDefault(anthropicMessage(QStringLiteral("fallback")));
    ProxyUnderTest proxy(chainConfig({anthropic(s.primary), anthropic(s.fallback)}));
    proxy.setNow(kT0);
    QCOMPARE(servedBy(post(proxy.port())), QByteArray("fallback1"));
    const QJsonObject cooling = targetStatus(proxy.port(), "primary/claude-test");
    QCOMPARE(cooling.value("coolingUntil").toString(), iso(reset));
    QCOMPARE(cooling.value("reasonKind").toString(), QStringLiteral("quota"));
}

void TestQuota::insufficientQuota_coolsTheDocumentedHour() {
    MockUpstream primary, fallback;
    primary.setDefault(errorReply(429, R"({"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}})"));
    fallback.setDefault(openAIChat(QStringLiteral("fallback")));
    ProxyUnderTest proxy(chainConfig({chat(primary), chat(fallback)}));
    proxy.setNow(kT0);
    const ClientResponse r = postChat(proxy.port());
    QCOMPARE(r.status, 200);
    QCOMPARE(servedBy(r), QByteArray("fallback1"));
    const QJsonObject cooling = targetStatus(proxy.port(), "primary/gpt-test");
    QCOMPARE(cooling.value("coolingUntil").toString(), iso(kT0 + kHour));
    QCOMPARE(cooling.value("reasonKind").toString(), QStringLiteral("quota"));
    QVERIFY(cooling.value("reason").toString().contains("quota"));
}

void TestQuota::usageLimitReached_resetsInSeconds() {
    TwoSteps s;
    s.primary.setDefault(errorReply(429, R"({"error":{"type":"usage_limit_reached","message":"The usage limit has been reached","plan_type":"plus","resets_in_seconds":1800}})"));
    s.fallback.setDefault(anthropicMessage(QStringLiteral("fallback")));
    ProxyUnderTest proxy(chainConfig({anthropic(s.primary), anthropic(s.fallback)}));
    proxy.setNow(kT0);
    QCOMPARE(servedBy(post(proxy.port())), QByteArray("fallback1"));
    QCOMPARE(targetStatus(proxy.port(), "primary/claude-test").value("coolingUntil").toString(), iso(kT0 + 1'800'000));
}

void TestQuota::creditBalanceTooLow_failsOverInsteadOfReturning400() {
    TwoSteps s;
    s.primary.setDefault(errorReply(400, R"({"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."}})"));
    s.fallback.setDefault(anthropicMessage(QStringLiteral("fallback")));
    ProxyUnderTest proxy(chainConfig({anthropic(s.primary), anthropic(s.fallback)}));
    proxy.setNow(kT0);
    const ClientResponse r = post(proxy.port());
    QCOMPARE(r.status, 200);
    QCOMPARE(servedBy(r), QByteArray("fallback1"));
    QCOMPARE(targetStatus(proxy.port(), "primary/claude-test").value("reasonKind").toString(), QStringLiteral("quota"));
}

void TestQuota::lowRemaining_switchesBeforeTheLimit() {
    TwoSteps s;
    MockReply nearlyEmpty = anthropicMessage(QStringLiteral("primary, nearly out"));
    nearlyEmpty.headers.add("anthropic-ratelimit-tokens-limit", "100000");
    nearlyEmpty.headers.add("anthropic-ratelimit-tokens-remaining", "4000");
    nearlyEmpty.headers.add("anthropic-ratelimit-tokens-reset", rfc3339(kT0 + 45'000));
    s.primary.enqueue(nearlyEmpty);
    s.primary.setDefault(anthropicMessage(QStringLiteral("primary, refilled")));
    s.fallback.setDefault(anthropicMessage(QStringLiteral("fallback")));
    ProxyUnderTest proxy(chainConfig({anthropic(s.primary), anthropic(s.fallback)},
                                     QStringLiteral(R"("switchBeforeLimitPercent": 5)")));
    proxy.setNow(kT0);

    const ClientResponse first = post(proxy.port());
    QCOMPARE(first.status, 200);
    QCOMPARE(servedBy(first), QByteArray("primary"));  // the request that saw the low figure is served
    QCOMPARE(servedBy(post(proxy.port())), QByteArray("fallback1"));  // the next one goes before the wall
    QCOMPARE(s.primary.hits(), 1);
    const QJsonObject cooling = targetStatus(proxy.port(), "primary/claude-test");
    QCOMPARE(cooling.value("coolingUntil").toString(), iso(kT0 + 45'000));
    QCOMPARE(cooling.value("reasonKind").toString(), QStringLiteral("rate_limit"));
    QVERIFY(proxy.waitForEvents("cooldown", 1));
    QCOMPARE(proxy.events("cooldown").first().fields.value("preemptive").toBool(), true);

    proxy.setNow(kT0 + 45'000);
    QCOMPARE(servedBy(post(proxy.port())), QByteArray("primary"));
}

void TestQuota::remainingAboveMargin_staysOnPrimary() {
    TwoSteps s;
    MockReply plenty = anthropicMessage(QStringLiteral("primary"));
    plenty.headers.add("anthropic-ratelimit-tokens-limit", "100000");
    plenty.headers.add("anthropic-ratelimit-tokens-remaining", "6000");
    plenty.headers.add("anthropic-ratelimit-tokens-reset", rfc3339(kT0 + 45'000));
    s.primary.setDefault(plenty);
    ProxyUnderTest proxy(chainConfig({anthropic(s.primary), anthropic(s.fallback)},
                                     QStringLiteral(R"("switchBeforeLimitPercent": 5)")));
    proxy.setNow(kT0);
    for (int i = 0; i < 3; ++i)
        QCOMPARE(servedBy(post(proxy.port())), QByteArray("primary"));
    QCOMPARE(s.fallback.hits(), 0);
}

void TestQuota::lowRemaining_onlyTarget_notCooled() {
    MockUpstream primary;
    MockReply nearlyEmpty = anthropicMessage(QStringLiteral("primary, nearly out"));
    nearlyEmpty.headers.add("anthropic-ratelimit-requests-limit", "50");
    nearlyEmpty.headers.add("anthropic-ratelimit-requests-remaining", "1");
    nearlyEmpty.headers.add("anthropic-ratelimit-requests-reset", rfc3339(kT0 + 45'000));
    primary.setDefault(nearlyEmpty);
    ProxyUnderTest proxy(chainConfig({anthropic(primary)}, QStringLiteral(R"("switchBeforeLimitPercent": 5)")));
    proxy.setNow(kT0);
    // Switching early would leave nowhere to go: the only target serves on to its limit.
    QCOMPARE(servedBy(post(proxy.port())), QByteArray("primary"));
    QCOMPARE(servedBy(post(proxy.port())), QByteArray("primary"));
    QCOMPARE(primary.hits(), 2);
    QVERIFY(proxy.events("cooldown").isEmpty());
}

void TestQuota::session_staysOnFallbackWhileCooling_returnsAtNextRequest() {
    TwoSteps s;
    s.primary.enqueue(errorReply(429, kRateLimited, headers({{"retry-after", "60"}})));
    s.primary.setDefault(anthropicStream({"primary ", "again"}));
    MockReply slow = anthropicStream({"one ", "two ", "three"}, QStringLiteral("fallback1-model"));
    slow.chunkDelayMs = 60;
    s.fallback.setDefault(slow);
    ProxyUnderTest proxy(chainConfig({anthropic(s.primary), anthropic(s.fallback)}));
    proxy.setNow(kT0);

    QCOMPARE(servedBy(post(proxy.port(), true, "session-1")), QByteArray("fallback1"));
    proxy.setNow(kT0 + 30'000);
    QCOMPARE(servedBy(post(proxy.port(), true, "session-1")), QByteArray("fallback1"));
    QCOMPARE(s.primary.hits(), 1);  // stays on its fallback while the primary cools

    // A stream that is under way when the primary's reset passes finishes where it is: no switch mid-answer.
    proxy.setNow(kT0 + 59'000);
    TestClient streaming(proxy.port());
    streaming.send("POST", "/v1/messages", clientHeaders("session-1"), messagesBody(QStringLiteral("claude-test"), true));
    QVERIFY(QTest::qWaitFor([&] { return streaming.response().body.contains("text_delta"); }, 5000));
    proxy.setNow(kT0 + 61'000);
    QVERIFY(streaming.waitDone(5000));
    QCOMPARE(servedBy(streaming.response()), QByteArray("fallback1"));
    QCOMPARE(anthropicText(streaming.response().body), QStringLiteral("one two three"));
    QCOMPARE(s.primary.hits(), 1);

    const ClientResponse back = post(proxy.port(), true, "session-1");  // its next request returns
    QCOMPARE(servedBy(back), QByteArray("primary"));
    QCOMPARE(anthropicText(back.body), QStringLiteral("primary again"));
}

void TestQuota::spendGuard_budgetReached_stepSkipped_toldOncePerDay() {
    MockUpstream primary, paid, free;
    primary.setDefault(errorReply(529, kOverloaded));
    paid.setDefault(anthropicMessage(QStringLiteral("paid")));  // 12 input tokens: $3 at the price below
    free.setDefault(anthropicMessage(QStringLiteral("free")));
    ProxyUnderTest proxy(chainConfig({anthropic(primary), anthropic(paid, QStringLiteral(R"("dailyBudgetUsd": 5)")),
                                      anthropic(free)},
                                     {}, QStringLiteral(R"(, "pricing": {"fallback1-model": {"input": 250000, "output": 0}})")));
    proxy.setNow(kT0);

    QCOMPARE(servedBy(post(proxy.port())), QByteArray("fallback1"));  // $3
    QVERIFY(proxy.waitForEvents("spending", 1));
    const ProxyEvent spending = proxy.events("spending").first();
    QCOMPARE(spending.fields.value("provider").toString(), QStringLiteral("fallback1"));
    QCOMPARE(spending.fields.value("dailyBudgetUsd").toDouble(), 5.0);
    QCOMPARE(servedBy(post(proxy.port())), QByteArray("fallback1"));  // $6: under budget when it started
    QCOMPARE(servedBy(post(proxy.port())), QByteArray("fallback2"));  // over: skipped
    QCOMPARE(servedBy(post(proxy.port())), QByteArray("fallback2"));
    QCOMPARE(paid.hits(), 2);

    QVERIFY(proxy.waitForEvents("budget", 1));
    QTest::qWait(50);
    QCOMPARE(proxy.events("budget").size(), 1);    // told once
    QCOMPARE(proxy.events("spending").size(), 1);  // told once a day
    const ProxyEvent budget = proxy.events("budget").first();
    QCOMPARE(budget.fields.value("provider").toString(), QStringLiteral("fallback1"));
    QCOMPARE(budget.fields.value("spentUsd").toDouble(), 6.0);
    const QJsonArray attempts = proxy.events("request").last().fields.value("attempts").toArray();
    bool skippedForBudget = false;
    for (const QJsonValue& a : attempts)
        skippedForBudget = skippedForBudget || a.toObject().value("outcome").toString() == "skipped: daily budget of $5 reached";
    QVERIFY2(skippedForBudget, QJsonDocument(attempts).toJson().constData());
    const QJsonObject budgets = statusOf(proxy.port()).value("budgets").toArray().first().toObject();
    QCOMPARE(budgets.value("provider").toString(), QStringLiteral("fallback1"));
    QCOMPARE(budgets.value("spentTodayUsd").toDouble(), 6.0);
    QCOMPARE(budgets.value("reached").toBool(), true);

    proxy.setNow(kT0 + 24 * kHour);  // the next day: a fresh budget, and the user is told again
    QCOMPARE(servedBy(post(proxy.port())), QByteArray("fallback1"));
    QVERIFY(proxy.waitForEvents("spending", 2));
}

void TestQuota::prefillCatalog_newerClaudeNeverSentAPrefill() {
    MockUpstream primary, fallback;
    primary.setDefault(cutAnthropic({"Hello", " wor"}));
    fallback.setDefault(anthropicStream({"Hel", "lo world", "!"}, QStringLiteral("claude-opus-4-6")));
    ProxyUnderTest proxy(chainConfig({anthropic(primary), anthropic(fallback, {}, QStringLiteral("claude-opus-4-6"))}));
    const ClientResponse r = post(proxy.port(), true);
    QCOMPARE(r.status, 200);
    QVERIFY(!r.body.contains("event: error"));
    QCOMPARE(anthropicText(r.body), QStringLiteral("Hello world!"));
    QCOMPARE(fallback.hits(), 1);  // asked once, without a prefill: no 400 to learn from first
    QCOMPARE(prefillOf(fallback.requests().first()), QString());
}

void TestQuota::prefillCatalog_olderClaudeContinuedWithPrefill() {
    MockUpstream primary, fallback;
    primary.setDefault(cutAnthropic({"Hello", " wor"}));
    fallback.setDefault(anthropicStream({"ld!"}, QStringLiteral("claude-sonnet-4-5")));
    ProxyUnderTest proxy(chainConfig({anthropic(primary), anthropic(fallback, {}, QStringLiteral("claude-sonnet-4-5"))}));
    const ClientResponse r = post(proxy.port(), true);
    QCOMPARE(anthropicText(r.body), QStringLiteral("Hello world!"));
    QCOMPARE(prefillOf(fallback.requests().first()), QStringLiteral("Hello wor"));
}

QTEST_GUILESS_MAIN(TestQuota)
#include "tst_quota.moc"
