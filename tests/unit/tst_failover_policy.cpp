// The failover policy (DESIGN.md §3) and per-target health, as pure functions of their inputs.
#include "routing/FailoverPolicy.h"
#include "routing/Health.h"
#include "routing/ModelTraits.h"
#include "routing/SpendGuard.h"
#include "telemetry/Ledger.h"

#include <QDateTime>
#include <QtTest>

using namespace understudy;

namespace {

constexpr qint64 kNow = 1'800'000'000'000;  // a fixed clock

http::Headers headers(std::initializer_list<std::pair<const char*, const char*>> list) {
    http::Headers h;
    for (const auto& [name, value] : list)
        h.add(name, value);
    return h;
}

QString iso(qint64 ms) { return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODate); }

}  // namespace

Q_DECLARE_METATYPE(understudy::OutcomeClass)

class TestFailoverPolicy : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void classify_data() {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("retryAfter");
        QTest::addColumn<OutcomeClass>("expected");
        const QByteArray none;
        QTest::newRow("200") << 200 << none << none << OutcomeClass::Success;
        QTest::newRow("500 is transient") << 500 << none << none << OutcomeClass::Transient;
        QTest::newRow("503 is transient") << 503 << none << none << OutcomeClass::Transient;
        QTest::newRow("529 fails over at once") << 529 << none << none << OutcomeClass::Failover;
        QTest::newRow("429 without retry-after") << 429 << none << none << OutcomeClass::Failover;
        QTest::newRow("429 short retry-after") << 429 << none << QByteArray("2") << OutcomeClass::Transient;
        QTest::newRow("429 long retry-after") << 429 << none << QByteArray("60") << OutcomeClass::Failover;
        QTest::newRow("429 quota") << 429 << QByteArray(R"({"error":{"code":"insufficient_quota"}})") << QByteArray("1")
                                   << OutcomeClass::Failover;
        QTest::newRow("402 billing") << 402 << none << none << OutcomeClass::Failover;
        QTest::newRow("400 bad request") << 400 << QByteArray(R"({"error":{"message":"bad"}})") << none
                                         << OutcomeClass::ClientError;
        QTest::newRow("401 auth") << 401 << none << none << OutcomeClass::ClientError;
        QTest::newRow("400 prompt too long") << 400 << QByteArray(R"({"error":{"message":"prompt is too long: 2 > 1"}})")
                                             << none << OutcomeClass::TooLong;
        QTest::newRow("400 context_length_exceeded") << 400 << QByteArray(R"({"error":{"code":"context_length_exceeded"}})")
                                                     << none << OutcomeClass::TooLong;
        QTest::newRow("400 Bedrock input too long") << 400 << QByteArray(R"({"message":"Input is too long for requested model."})")
                                                    << none << OutcomeClass::TooLong;
        QTest::newRow("413") << 413 << none << none << OutcomeClass::TooLong;
        QTest::newRow("501 not a trigger") << 501 << none << none << OutcomeClass::ClientError;
    }
    void classify() {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, retryAfter);
        QFETCH(OutcomeClass, expected);
        http::Headers h;
        if (!retryAfter.isEmpty())
            h.set("retry-after", retryAfter);
        const Verdict v = classifyResponse(status, h, body, FailoverConfig{}, kNow);
        QCOMPARE(v.kind, expected);
        QCOMPARE(v.status, status);
    }

    void userTriggerCodesAreHonoured() {
        FailoverConfig config;
        config.triggerOnStatusCodes = {401, 529};
        QCOMPARE(classifyResponse(401, {}, {}, config, kNow).kind, OutcomeClass::Failover);
        QCOMPARE(classifyResponse(503, {}, {}, config, kNow).kind, OutcomeClass::ClientError);
    }

    void retryAfterForms() {
        QCOMPARE(retryAfterMs(headers({{"retry-after", "3"}}), kNow), std::optional<qint64>(3000));
        QCOMPARE(retryAfterMs(headers({{"retry-after", "1.5"}}), kNow), std::optional<qint64>(1500));
        QCOMPARE(retryAfterMs(headers({{"retry-after-ms", "250"}, {"retry-after", "9"}}), kNow), std::optional<qint64>(250));
        const QByteArray date = QDateTime::fromMSecsSinceEpoch(kNow + 90'000, Qt::UTC).toString(Qt::RFC2822Date).toLatin1();
        QCOMPARE(retryAfterMs(headers({{"retry-after", date.constData()}}), kNow), std::optional<qint64>(90'000));
        QVERIFY(!retryAfterMs(headers({{"retry-after", "soon"}}), kNow));
        QVERIFY(!retryAfterMs({}, kNow));
    }

    void goDurations() {
        QCOMPARE(parseGoDurationMs("1s"), std::optional<qint64>(1000));
        QCOMPARE(parseGoDurationMs("6m0s"), std::optional<qint64>(360'000));
        QCOMPARE(parseGoDurationMs("12ms"), std::optional<qint64>(12));
        QCOMPARE(parseGoDurationMs("1h2m3.5s"), std::optional<qint64>(3'723'500));
        QVERIFY(!parseGoDurationMs(""));
        QVERIFY(!parseGoDurationMs("5x"));
    }

    void anthropicResetOfTheExhaustedBucketWins() {
        const QByteArray soon = iso(kNow + 10'000).toLatin1();
        const QByteArray later = iso(kNow + 120'000).toLatin1();
        const http::Headers h = headers({{"anthropic-ratelimit-requests-remaining", "40"},
                                         {"anthropic-ratelimit-requests-reset", soon.constData()},
                                         {"anthropic-ratelimit-output-tokens-remaining", "0"},
                                         {"anthropic-ratelimit-output-tokens-reset", later.constData()}});
        QCOMPARE(rateLimitResetMs(h, kNow), std::optional<qint64>(kNow + 120'000));
        const Verdict v = classifyResponse(429, h, {}, FailoverConfig{}, kNow);
        QCOMPARE(v.kind, OutcomeClass::Failover);
        QCOMPARE(v.coolUntilMs, std::optional<qint64>(kNow + 120'000));
    }

    void openAIResetDurations() {
        const http::Headers h = headers({{"x-ratelimit-remaining-tokens", "0"}, {"x-ratelimit-reset-tokens", "6m0s"},
                                         {"x-ratelimit-remaining-requests", "10"}, {"x-ratelimit-reset-requests", "1s"}});
        QCOMPARE(rateLimitResetMs(h, kNow), std::optional<qint64>(kNow + 360'000));
    }

    void quotaWithoutResetCoolsAnHour() {
        const Verdict v = classifyResponse(429, {}, R"({"error":{"type":"insufficient_quota"}})", FailoverConfig{}, kNow);
        QVERIFY(v.quota);
        QCOMPARE(v.coolUntilMs, std::optional<qint64>(kNow + 3'600'000));
    }

    void usageLimitBodies_nameTheReset_data() {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<qint64>("until");
        const QByteArray seconds = QByteArray::number((kNow + 5 * 3'600'000) / 1000);
        QTest::newRow("claude subscription") << 429
            << QByteArray(R"({"type":"error","error":{"type":"rate_limit_error","message":"Claude AI usage limit reached|)" + seconds + R"("}})")
            << kNow + 5 * 3'600'000;
        QTest::newRow("resets_at seconds") << 429
            << QByteArray(R"({"error":{"type":"usage_limit_reached","message":"The usage limit has been reached","resets_at":)" + seconds + "}}")
            << kNow + 5 * 3'600'000;
        QTest::newRow("resets_at RFC 3339") << 429
            << QByteArray(R"({"error":{"type":"usage_limit_reached","resets_at":")" + iso(kNow + 600'000).toLatin1() + R"("}})")
            << kNow + 600'000;
        QTest::newRow("resets_in_seconds") << 429
            << QByteArray(R"({"error":{"type":"usage_limit_reached","message":"limit","resets_in_seconds":1800}})")
            << kNow + 1'800'000;
        QTest::newRow("insufficient_quota names none") << 429
            << QByteArray(R"({"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}})")
            << kNow + 3'600'000;
        QTest::newRow("credit balance too low") << 400
            << QByteArray(R"({"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}})")
            << kNow + 3'600'000;
        QTest::newRow("plan without the model") << 403
            << QByteArray(R"({"error":{"type":"usage_not_included","message":"Upgrade your plan"}})")
            << kNow + 3'600'000;
    }

    void usageLimitBodies_nameTheReset() {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(qint64, until);
        const Verdict v = classifyResponse(status, {}, body, FailoverConfig{}, kNow);
        QCOMPARE(v.kind, OutcomeClass::Failover);
        QVERIFY(v.quota);
        QVERIFY(!v.rateLimited);
        QCOMPARE(v.coolUntilMs, std::optional<qint64>(until));
    }

    void subscriptionRejectedByUnifiedHeaders_isQuota() {
        const QByteArray reset = QByteArray::number((kNow + 7'200'000) / 1000);  // unix seconds
        const http::Headers h = headers({{"anthropic-ratelimit-unified-status", "rejected"},
                                         {"anthropic-ratelimit-unified-reset", reset.constData()}});
        const Verdict v = classifyResponse(429, h, R"({"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed the rate limit of your account."}})",
                                           FailoverConfig{}, kNow);
        QVERIFY(v.quota);
        QCOMPARE(v.coolUntilMs, std::optional<qint64>(kNow + 7'200'000));
    }

    void subscriptionPlanWindow_notTheCooldownOfAPlainRateLimit() {
        const QByteArray planReset = QByteArray::number((kNow + 5 * 3'600'000) / 1000);
        const http::Headers h = headers({{"anthropic-ratelimit-unified-status", "allowed"},
                                         {"anthropic-ratelimit-unified-reset", planReset.constData()},
                                         {"retry-after", "20"}});
        const Verdict v = classifyResponse(429, h, {}, FailoverConfig{}, kNow);
        QVERIFY(!v.quota);
        QCOMPARE(v.coolUntilMs, std::optional<qint64>(kNow + 20'000));
    }

    void resetHeaderInSeconds_readAsFromNow() {
        const http::Headers h = headers({{"anthropic-ratelimit-tokens-remaining", "0"},
                                         {"anthropic-ratelimit-tokens-reset", "30"}});
        QCOMPARE(rateLimitResetMs(h, kNow), std::optional<qint64>(kNow + 30'000));
    }

    void plainRateLimit_isNotQuota_andReadsTryAgainIn() {
        const Verdict v = classifyResponse(429, {}, R"({"error":{"code":"rate_limit_exceeded","message":"Rate limit reached. Please try again in 1.5s."}})",
                                           FailoverConfig{}, kNow);
        QVERIFY(!v.quota);
        QVERIFY(v.rateLimited);
        QCOMPARE(v.retryAfterMs, std::optional<qint64>(1500));
        QCOMPARE(tryAgainInMs("try again in 300ms"), std::optional<qint64>(300));
        QCOMPARE(tryAgainInMs("no hint"), std::optional<qint64>());
    }

    void nearLimit_coolsUntilTheLowBucketsReset() {
        const QByteArray reset = iso(kNow + 45'000).toLatin1();
        const http::Headers low = headers({{"anthropic-ratelimit-tokens-limit", "100000"},
                                           {"anthropic-ratelimit-tokens-remaining", "4000"},
                                           {"anthropic-ratelimit-tokens-reset", reset.constData()},
                                           {"anthropic-ratelimit-requests-limit", "50"},
                                           {"anthropic-ratelimit-requests-remaining", "49"}});
        QVERIFY(!nearLimitVerdict(low, 0, kNow));  // off
        QVERIFY(!nearLimitVerdict(low, 4, kNow));  // 4 % left is not under 4 %
        const std::optional<Verdict> v = nearLimitVerdict(low, 5, kNow);
        QVERIFY(v);
        QVERIFY(v->rateLimited);
        QVERIFY(!v->quota);
        QCOMPARE(v->coolUntilMs, std::optional<qint64>(kNow + 45'000));
        QVERIFY2(v->reason.contains("4000 of 100000 tokens left"), qPrintable(v->reason));

        const http::Headers openai = headers({{"x-ratelimit-limit-requests", "60"}, {"x-ratelimit-remaining-requests", "1"},
                                              {"x-ratelimit-reset-requests", "20s"}});
        QCOMPARE(nearLimitVerdict(openai, 5, kNow)->coolUntilMs, std::optional<qint64>(kNow + 20'000));
        QVERIFY(!nearLimitVerdict(headers({{"x-ratelimit-remaining-requests", "1"}}), 5, kNow));  // no limit: no ratio
    }

    void prefillCatalog_newerClaudeModelsRefuse_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<bool>("refuses");
        QTest::newRow("opus 4.6") << "claude-opus-4-6" << true;
        QTest::newRow("sonnet 4.6 dated") << "claude-sonnet-4-6-20260201" << true;
        QTest::newRow("bedrock id") << "anthropic.claude-opus-4-6-v1:0" << true;
        QTest::newRow("vertex id") << "claude-opus-4-6@20260101" << true;
        QTest::newRow("a 5") << "claude-opus-5" << true;
        QTest::newRow("mythos") << "claude-mythos-preview" << true;
        QTest::newRow("sonnet 4.5") << "claude-sonnet-4-5-20250929" << false;
        QTest::newRow("sonnet 4 snapshot") << "claude-sonnet-4-20250514" << false;
        QTest::newRow("3.7") << "claude-3-7-sonnet-latest" << false;
        QTest::newRow("not claude") << "glm-5" << false;
    }

    void prefillCatalog_newerClaudeModelsRefuse() {
        QFETCH(QString, model);
        QFETCH(bool, refuses);
        QCOMPARE(refusesPrefill(model), refuses);
    }

    void spendGuard_countsTheLargerOfItsOwnAndTheLedgersFigure_perLocalDay() {
        SpendGuard guard;
        guard.add(QStringLiteral("openrouter"), 1.5, kNow);
        QCOMPARE(guard.spentToday(QStringLiteral("openrouter"), kNow), 1.5);
        UsageSnapshot ledger;
        ledger.takenMs = kNow;
        UsageRow row;
        row.key = QStringLiteral("openrouter");
        row.cost = 4.0;  // includes the hours before Understudy started
        ledger.today.append(row);
        guard.seedFromLedger(ledger);
        QCOMPARE(guard.spentToday(QStringLiteral("openrouter"), kNow), 4.0);
        guard.add(QStringLiteral("openrouter"), 3.0, kNow);
        QCOMPARE(guard.spentToday(QStringLiteral("openrouter"), kNow), 4.5);
        ledger.takenMs = kNow - 24 * 3'600'000;  // yesterday's figures, late: ignored
        ledger.today[0].cost = 100;
        guard.seedFromLedger(ledger);
        QCOMPARE(guard.spentToday(QStringLiteral("openrouter"), kNow), 4.5);
        QVERIFY(guard.firstToday(QStringLiteral("budget:openrouter"), kNow));
        QVERIFY(!guard.firstToday(QStringLiteral("budget:openrouter"), kNow));
        const qint64 tomorrow = kNow + 24 * 3'600'000;
        QCOMPARE(guard.spentToday(QStringLiteral("openrouter"), tomorrow), 0.0);
        QVERIFY(guard.firstToday(QStringLiteral("budget:openrouter"), tomorrow));
    }

    void transportFailures() {
        QCOMPARE(classifyTransport(http::TransportFailure::Refused).kind, OutcomeClass::Failover);
        QCOMPARE(classifyTransport(http::TransportFailure::Tls).kind, OutcomeClass::Failover);
        QCOMPARE(classifyTransport(http::TransportFailure::ResetBeforeHead).kind, OutcomeClass::Transient);
    }

    void retryDelays() {
        Verdict announced;
        announced.retryAfterMs = 1200;
        QCOMPARE(retryDelayMs(announced, 0), 1200);
        for (int retry = 0; retry < 6; ++retry) {
            const int ceiling = std::min(2000, 200 << std::min(retry, 4));
            const int delay = retryDelayMs(Verdict{}, retry);
            QVERIFY2(delay >= ceiling / 2 && delay <= ceiling, qPrintable(QString::number(delay)));
        }
    }

    void health_coolsThenProbesOnce() {
        HealthBoard board;
        const QString t = QStringLiteral("p/m");
        QCOMPARE(board.admit(t, kNow), HealthBoard::Admission::Go);
        Verdict v;
        v.reason = QStringLiteral("529 overloaded");
        QCOMPARE(board.recordFailure(t, v, kNow, 1000), kNow + 1000);
        QCOMPARE(board.admit(t, kNow + 999), HealthBoard::Admission::Skip);
        QCOMPARE(board.health(t, kNow + 500).state, TargetHealth::State::Cooling);
        QCOMPARE(board.admit(t, kNow + 1000), HealthBoard::Admission::Probe);
        QCOMPARE(board.admit(t, kNow + 1001), HealthBoard::Admission::Skip);  // one probe at a time
        QCOMPARE(board.recordSuccess(t, kNow + 1500), std::optional<qint64>(1500));
        QCOMPARE(board.admit(t, kNow + 1501), HealthBoard::Admission::Go);
        QVERIFY(!board.recordSuccess(t, kNow + 1600));  // already healthy: not a recovery
    }

    void health_backoffDoublesUpTo8x() {
        HealthBoard board;
        const QString t = QStringLiteral("p/m");
        const qint64 expected[] = {1000, 2000, 4000, 8000, 8000};
        qint64 now = kNow;
        for (qint64 e : expected) {
            QCOMPARE(board.recordFailure(t, Verdict{}, now, 1000) - now, e);
            now += e;
        }
    }

    void health_announcedResetWins() {
        HealthBoard board;
        Verdict v;
        v.coolUntilMs = kNow + 42'000;
        QCOMPARE(board.recordFailure(QStringLiteral("p/m"), v, kNow, 1000), kNow + 42'000);
    }

    void health_releasedProbeCanBeRetaken() {
        HealthBoard board;
        const QString t = QStringLiteral("p/m");
        board.recordFailure(t, Verdict{}, kNow, 10);
        QCOMPARE(board.admit(t, kNow + 10), HealthBoard::Admission::Probe);
        board.releaseProbe(t);
        QCOMPARE(board.admit(t, kNow + 11), HealthBoard::Admission::Probe);
    }
};

QTEST_GUILESS_MAIN(TestFailoverPolicy)
#include "tst_failover_policy.moc"
