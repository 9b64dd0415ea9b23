// The notification policy alone: which events become notifications, and the storm guard, with plain times.
#include "Notification.h"

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
