// The notification policy alone: which events become notifications, and the storm guard, with plain times.
#include "Notification.h"
#include "Status.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QtTest>

using namespace understudy;
using namespace understudy::ui;

namespace {

constexpr qint64 kMinute = 60 * 1000;

ProxyEvent failover(const QString& from, const QString& to, const QString& reason = QStringLiteral("529 overloaded")) {
    return {QStringLiteral("failover"), 0,
            {{QStringLiteral("from"), from}, {QStringLiteral("to"), to}, {QStringLiteral("reason"), reason},
             {QStringLiteral("chain"), QStringLiteral("main")}}};
}

ProxyEvent recovery(const QString& target) {
    return {QStringLiteral("recovery"), 0,
            {{QStringLiteral("target"), target}, {QStringLiteral("downForMs"), 120000.0},
             {QStringLiteral("chain"), QStringLiteral("main")}}};
}

ProxyEvent request(const QString& outcome, const QString& servedBy = {}) {
    ProxyEvent e{QStringLiteral("request"), 0,
                 {{QStringLiteral("chain"), QStringLiteral("main")}, {QStringLiteral("outcome"), outcome},
                  {QStringLiteral("attempts"),
                   QJsonArray{QJsonObject{{QStringLiteral("target"), QStringLiteral("a/x")},
                                          {QStringLiteral("outcome"), QStringLiteral("529 overloaded")}}}}}};
    if (!servedBy.isEmpty())
        e.fields.insert(QStringLiteral("servedBy"), servedBy);
    return e;
}

ProxyEvent cooldown(const QString& target, qint64 untilMs, bool quota, const QString& kind) {
    return {QStringLiteral("cooldown"), 0,
            {{QStringLiteral("target"), target},
             {QStringLiteral("reason"), QStringLiteral("429 quota or spend limit reached")},
             {QStringLiteral("until"), QDateTime::fromMSecsSinceEpoch(untilMs, Qt::UTC).toString(Qt::ISODateWithMs)},
             {QStringLiteral("quota"), quota},
             {QStringLiteral("reasonKind"), kind}}};
}

ProxyEvent spend(const QString& type) {
    return {type, 0,
            {{QStringLiteral("provider"), QStringLiteral("openrouter")},
             {QStringLiteral("target"), QStringLiteral("openrouter/claude-sonnet")},
             {QStringLiteral("dailyBudgetUsd"), 5.0},
             {QStringLiteral("spentUsd"), 5.25}}};
}

// 14:05 local time today, as the tray shows it.
qint64 at1405() { return QDateTime(QDate::currentDate(), QTime(14, 5)).toMSecsSinceEpoch(); }

}  // namespace

class TestNotificationPolicy : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void failover_saysFromToAndWhy() {
        NotificationPolicy policy;
        const auto n = policy.onEvent(failover("primary/claude-x", "zai/glm-5", "429 rate limited, retry after 14:05:00"), 0);
        QVERIFY(n);
        QCOMPARE(n->kind, Notification::Kind::Failover);
        QCOMPARE(n->title, "Switched to zai/glm-5");
        QCOMPARE(n->message, "primary/claude-x → zai/glm-5: 429 rate limited, retry after 14:05:00");
    }

    void concurrentRequestsFailingOverAlike_areOneNotification() {
        NotificationPolicy policy;
        QVERIFY(policy.onEvent(failover("a/x", "b/y"), 0));
        QVERIFY(!policy.onEvent(failover("a/x", "b/y"), 10));
        QVERIFY(!policy.onEvent(failover("a/x", "b/y"), 2 * kMinute));
        QVERIFY(policy.onEvent(failover("b/y", "c/z"), 3 * kMinute));  // a different switch is news
    }

    void recovery_toldOnlyAfterItsFailoverWasTold() {
        NotificationPolicy policy;
        QVERIFY(!policy.onEvent(recovery("a/x"), 0));
        QVERIFY(policy.onEvent(failover("a/x", "b/y"), 1));
        const auto back = policy.onEvent(recovery("a/x"), 2);
        QVERIFY(back);
        QCOMPARE(back->kind, Notification::Kind::Recovery);
        QCOMPARE(back->message, "a/x answers again after 2 min down.");
        QVERIFY(policy.onEvent(failover("a/x", "b/y"), 3));  // after a recovery, the same switch is news again
    }

    void moreThanThreeSwitchesInTenMinutes_oneStormAlert_thenQuiet() {
        NotificationPolicy policy;
        QList<Notification::Kind> kinds;
        for (int i = 0; i < 6; ++i) {
            const qint64 t = i * kMinute;
            if (auto n = policy.onEvent(failover("a/x", "b/y"), t))
                kinds.append(n->kind);
            if (auto n = policy.onEvent(recovery("a/x"), t + 1000))
                kinds.append(n->kind);
        }
        using K = Notification::Kind;
        QCOMPARE(kinds, (QList<K>{K::Failover, K::Recovery, K::Failover, K::Recovery, K::Failover, K::Recovery, K::Storm}));
        // Ten minutes after the alert the storm has passed: switches are told again.
        QVERIFY(policy.onEvent(failover("a/x", "b/y"), 3 * kMinute + NotificationPolicy::kStormWindowMs + 1));
    }

    void allDown_toldOncePerOutage() {
        NotificationPolicy policy;
        const auto down = policy.onEvent(request(QStringLiteral("all_failed")), 0);
        QVERIFY(down);
        QCOMPARE(down->kind, Notification::Kind::AllDown);
        QCOMPARE(down->message, "a/x: 529 overloaded");
        QVERIFY(!policy.onEvent(request(QStringLiteral("all_failed")), 1));
        QVERIFY(!policy.onEvent(request(QStringLiteral("served"), QStringLiteral("a/x")), 2));
        QVERIFY(policy.onEvent(request(QStringLiteral("all_failed")), 3));
    }

    void quotaExhausted_toldOnceInsteadOfTheSwitch_andOnceWhenBack() {
        NotificationPolicy policy;
        const QString opus = QStringLiteral("anthropic/claude-opus-4-6");
        const auto out = policy.onEvent(cooldown(opus, at1405(), true, "quota"), 0);
        QVERIFY(out);
        QCOMPARE(out->kind, Notification::Kind::Quota);
        QCOMPARE(out->title, "Opus quota used up, back at 14:05");
        QVERIFY(out->message.contains("429 quota or spend limit reached"));
        QVERIFY(!policy.onEvent(failover(opus, "zai/glm-5"), 1));                       // the quota note said it
        QVERIFY(!policy.onEvent(cooldown(opus, at1405(), true, "quota"), 2));           // told once
        const auto back = policy.onEvent(recovery(opus), 3);
        QVERIFY(back);
        QCOMPARE(back->kind, Notification::Kind::QuotaBack);
        QCOMPARE(back->title, "Opus is back");
        QVERIFY(!policy.onEvent(recovery(opus), 4));
        QVERIFY(policy.onEvent(cooldown(opus, at1405(), true, "quota"), 5));            // a new exhaustion is news
    }

    void rateLimitCooldown_isNoQuotaNotification() {
        NotificationPolicy policy;
        QVERIFY(!policy.onEvent(cooldown("a/x", at1405(), false, "rate_limit"), 0));
        QVERIFY(policy.onEvent(failover("a/x", "b/y"), 1));  // the ordinary switch notification
    }

    void budgetAndSpending_toldAsReported() {
        NotificationPolicy policy;
        const auto spending = policy.onEvent(spend("spending"), 0);
        QVERIFY(spending);
        QCOMPARE(spending->kind, Notification::Kind::Spending);
        QCOMPARE(spending->title, "Now spending on openrouter");
        const auto budget = policy.onEvent(spend("budget"), 1);
        QVERIFY(budget);
        QCOMPARE(budget->kind, Notification::Kind::Budget);
        QCOMPARE(budget->title, "Daily budget of $5 reached on openrouter");
        QCOMPARE(budget->message, "$5.25 spent on openrouter today: that step is skipped until midnight.");
    }

    void status_saysWhenCoolingTargetsAreBack() {
        StatusBoard board;
        board.record(cooldown("anthropic/claude-opus-4-6", at1405(), true, "quota"));
        board.record(cooldown("zai/glm-5", at1405(), false, "rate_limit"));
        const Status& status = board.status();
        QCOMPARE(status.comebacks(at1405() - kMinute), "Opus back at 14:05 (quota); glm-5 back at 14:05 (rate limit)");
        QCOMPARE(status.comebacks(at1405()), QString());  // due: probed with the next request
        QCOMPARE(displayName("bedrock/anthropic.claude-sonnet-4-6-v1:0"), "Sonnet");
    }

    void switchedOff_saysNothing_andDoesNotReplayLater() {
        NotificationPolicy policy;
        policy.setEnabled(false);
        QVERIFY(!policy.onEvent(failover("a/x", "b/y"), 0));
        QVERIFY(!policy.onListenFailed(QStringLiteral("port taken")));
        policy.setEnabled(true);
        QVERIFY(!policy.onEvent(failover("a/x", "b/y"), 1));  // already happened while off
        QVERIFY(policy.onListenFailed(QStringLiteral("port taken")));
    }
};

QTEST_GUILESS_MAIN(TestNotificationPolicy)
#include "tst_notification_policy.moc"
