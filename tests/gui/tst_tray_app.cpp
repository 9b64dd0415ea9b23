// The tray app as a user drives it: the real tray menu and status window, wired by TrayApp to the real proxy
// on its worker thread, with scriptable mock providers on loopback.
#include "ProxyHost.h"
#include "TrayApp.h"

#include "support/MockUpstream.h"
#include "support/TestClient.h"

#include <QClipboard>
#include <QFile>
#include <QGuiApplication>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using namespace understudy;
using namespace understudy::test;

namespace {

const QByteArray kOverloaded = R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})";

// Chain "main": primary → fallback; chain "backup": the backup provider alone. Short timings, and a recovery
// interval of `recoveryMs` so that a cooled target is probed again quickly when a test wants it.
QByteArray configJson(const MockUpstream& primary, const MockUpstream& fallback, const MockUpstream& backup,
                      int recoveryMs = 60000, int port = 8790) {
    return QStringLiteral(R"({
  "version": 1,
  "listen": { "host": "127.0.0.1", "port": %5 },
  "providers": {
    "primary":  { "type": "anthropic", "baseUrl": "%1", "auth": "client" },
    "fallback": { "type": "anthropic", "baseUrl": "%2", "auth": "client" },
    "backup":   { "type": "anthropic", "baseUrl": "%3", "auth": "client" }
  },
  "chains": {
    "main":   { "steps": [ { "provider": "primary" }, { "provider": "fallback", "model": "fallback-model" } ] },
    "backup": { "steps": [ { "provider": "backup", "model": "backup-model" } ] }
  },
  "activeChain": "main",
  "failover": { "retriesBeforeFailover": 0, "maxRetryAfterWaitMs": 0, "connectTimeoutMs": 1000,
                "firstTokenTimeoutMs": 2000, "totalBudgetMs": 8000, "primaryRecoveryCheckIntervalMs": %4 }
}
)")
        .arg(primary.baseUrl(), fallback.baseUrl(), backup.baseUrl())
        .arg(recoveryMs)
        .arg(port)
        .toUtf8();
}

ClientResponse ask(quint16 port) {
    http::Headers headers;
    headers.set("x-api-key", "sk-ant-test-client-key");
    headers.set("anthropic-version", "2023-06-01");
    return request(port, "POST", "/v1/messages", messagesBody(QStringLiteral("claude-test"), false), headers);
}

// A config file, the proxy host on an ephemeral port and the tray app on top: what `understudy` runs.
struct App {
    QTemporaryDir dir;
    std::unique_ptr<ProxyHost> host;
    std::unique_ptr<TrayApp> tray;
    quint16 port = 0;

    explicit App(const QByteArray& config, std::optional<int> portOverride = 0) {
        QFile file(configPath());
        file.open(QIODevice::WriteOnly);
        file.write(config);
        file.close();
        host = std::make_unique<ProxyHost>(ProxyHost::Options{configPath(), false, portOverride, false, {}});
        QSignalSpy listening(host.get(), &ProxyHost::listening);
        QSignalSpy failed(host.get(), &ProxyHost::listenFailed);
        const QList<ConfigProblem> problems = host->start();
        for (const ConfigProblem& p : problems)
            qWarning("config: %s: %s", qPrintable(p.path), qPrintable(p.message));
        tray = std::make_unique<TrayApp>(*host, dir.filePath(QStringLiteral("tray.ini")));
        tray->showStatus();  // the user has the status window open
        if (QTest::qWaitFor([&] { return !listening.isEmpty() || !failed.isEmpty(); }, 5000) && !listening.isEmpty())
            port = listening.first().at(1).value<quint16>();
    }

    QString configPath() const { return dir.filePath(QStringLiteral("understudy.json")); }
    QByteArray configOnDisk() const {
        QFile file(configPath());
        file.open(QIODevice::ReadOnly);
        return file.readAll();
    }
    // Events reach the GUI thread through queued signals: wait until the status shows the outcome.
    bool waitFor(const std::function<bool()>& condition) { return QTest::qWaitFor(condition, 5000); }

    QAction* menuEntry(const QString& text) {
        for (QAction* action : tray->tray().menu()->actions()) {
            if (action->text() == text)
                return action;
            if (action->menu()) {
                for (QAction* sub : action->menu()->actions()) {
                    if (sub->text() == text)
                        return sub;
                }
            }
        }
        return nullptr;
    }
    QString targetHealth(const QString& target) {
        const QTreeWidget& targets = tray->statusWindow().targets();
        for (int i = 0; i < targets.topLevelItemCount(); ++i) {
            if (targets.topLevelItem(i)->text(0) == target)
                return targets.topLevelItem(i)->text(1);
        }
        return {};
    }
};

// A Claude subscription's "usage limit reached" answer, naming when the limit resets.
QByteArray usageLimitBody(qint64 resetMs) {
    return "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":"
           "\"Claude AI usage limit reached|" + QByteArray::number(resetMs / 1000) + "\"}}";
}

}  // namespace

class TestTrayApp : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void pickingAChainInTheMenu_routesTheNextRequest_andPersists() {
        MockUpstream primary, fallback, backup;
        primary.setDefault(anthropicMessage(QStringLiteral("from primary"), QStringLiteral("claude-test")));
        backup.setDefault(anthropicMessage(QStringLiteral("from backup"), QStringLiteral("backup-model")));
        App app(configJson(primary, fallback, backup));
        QVERIFY(app.port);
        QCOMPARE(ask(app.port).headers.value("x-understudy-provider"), QByteArray("primary"));

        QAction* backupEntry = app.menuEntry(QStringLiteral("backup"));
        QVERIFY(backupEntry);
        QVERIFY(backupEntry->isCheckable());
        QVERIFY(app.menuEntry(QStringLiteral("main"))->isChecked());
        backupEntry->trigger();

        QCOMPARE(ask(app.port).headers.value("x-understudy-provider"), QByteArray("backup"));
        QCOMPARE(backup.hits(), 1);
        QCOMPARE(primary.hits(), 1);
        // Persisted in place: the value changed, the user's layout did not.
        const QByteArray disk = app.configOnDisk();
        QVERIFY2(disk.contains(R"("activeChain": "backup",)"), disk.constData());
        QCOMPARE(disk.size(), configJson(primary, fallback, backup).size() + 2);
        QVERIFY(app.menuEntry(QStringLiteral("backup"))->isChecked());
        QVERIFY(!app.menuEntry(QStringLiteral("main"))->isChecked());
    }

    void aFailover_isExactlyOneNotification_andShowsInTheStatusWindow() {
        MockUpstream primary, fallback, backup;
        primary.setDefault(errorReply(529, kOverloaded));
        fallback.setDefault(anthropicMessage(QStringLiteral("from fallback"), QStringLiteral("fallback-model")));
        App app(configJson(primary, fallback, backup));
        QSignalSpy notified(&app.tray->tray(), &ui::Tray::notified);
        QCOMPARE(app.tray->tray().state(), ui::TrayState::Primary);

        QCOMPARE(ask(app.port).headers.value("x-understudy-provider"), QByteArray("fallback"));
        QCOMPARE(ask(app.port).headers.value("x-understudy-provider"), QByteArray("fallback"));  // primary skipped
        QVERIFY(app.waitFor([&] { return app.tray->status().targets.value("fallback/fallback-model").served == 2; }));

        QCOMPARE(notified.size(), 1);
        const auto n = notified.first().first().value<ui::Notification>();
        QCOMPARE(n.kind, ui::Notification::Kind::Failover);
        QCOMPARE(n.title, "Switched to fallback/fallback-model");
        QVERIFY2(n.message.startsWith("primary/claude-test → fallback/fallback-model: 529"), qPrintable(n.message));

        QCOMPARE(app.tray->tray().state(), ui::TrayState::Fallback);
        QVERIFY2(app.tray->tray().icon().toolTip().contains("Serving fallback/fallback-model (fallback 1) since"),
                 qPrintable(app.tray->tray().icon().toolTip()));
        const ui::StatusWindow& window = app.tray->statusWindow();
        QVERIFY(window.headline().startsWith("Serving fallback/fallback-model"));
        QCOMPARE(window.switches().topLevelItem(0)->text(1), "primary/claude-test → fallback/fallback-model");
        QVERIFY(window.switches().topLevelItem(0)->text(2).startsWith("529"));
        QVERIFY2(app.targetHealth("primary/claude-test").startsWith("cooling until"),
                 qPrintable(app.targetHealth("primary/claude-test")));
        QCOMPARE(app.targetHealth("fallback/fallback-model"), "healthy");
    }

    void retryNow_endsTheCooldown_andTheNextRequestRecovers() {
        MockUpstream primary, fallback, backup;
        primary.enqueue(errorReply(529, kOverloaded));
        primary.setDefault(anthropicMessage(QStringLiteral("back"), QStringLiteral("claude-test")));
        fallback.setDefault(anthropicMessage(QStringLiteral("from fallback"), QStringLiteral("fallback-model")));
        App app(configJson(primary, fallback, backup));
        QSignalSpy notified(&app.tray->tray(), &ui::Tray::notified);
        QCOMPARE(ask(app.port).headers.value("x-understudy-provider"), QByteArray("fallback"));
        QVERIFY(app.waitFor([&] { return app.targetHealth("primary/claude-test").startsWith("cooling"); }));

        const QTreeWidget& targets = app.tray->statusWindow().targets();
        QPushButton* retry = nullptr;
        for (int i = 0; i < targets.topLevelItemCount(); ++i) {
            if (targets.topLevelItem(i)->text(0) == "primary/claude-test")
                retry = qobject_cast<QPushButton*>(targets.itemWidget(targets.topLevelItem(i), 3));
        }
        QVERIFY(retry);
        QCOMPARE(retry->text(), "Retry now");
        retry->click();
        QVERIFY(app.targetHealth("primary/claude-test").startsWith("probing"));

        QCOMPARE(ask(app.port).headers.value("x-understudy-provider"), QByteArray("primary"));
        QVERIFY(app.waitFor([&] { return app.tray->tray().state() == ui::TrayState::Primary; }));
        QCOMPARE(app.targetHealth("primary/claude-test"), "healthy");
        QCOMPARE(notified.size(), 2);
        QCOMPARE(notified.last().first().value<ui::Notification>().kind, ui::Notification::Kind::Recovery);
        QCOMPARE(app.tray->statusWindow().switches().topLevelItem(0)->text(1), "back on primary/claude-test");
    }

    void aFlappingPrimary_givesOneStormAlert_notAStorm() {
        MockUpstream primary, fallback, backup;
        for (int i = 0; i < 4; ++i) {
            primary.enqueue(errorReply(529, kOverloaded));
            primary.enqueue(anthropicMessage(QStringLiteral("back"), QStringLiteral("claude-test")));
        }
        fallback.setDefault(anthropicMessage(QStringLiteral("from fallback"), QStringLiteral("fallback-model")));
        App app(configJson(primary, fallback, backup, 50));
        QSignalSpy notified(&app.tray->tray(), &ui::Tray::notified);
        for (int i = 0; i < 4; ++i) {
            QCOMPARE(ask(app.port).headers.value("x-understudy-provider"), QByteArray("fallback"));
            QTest::qWait(80);  // the cooldown ends: the next request probes the primary
            QCOMPARE(ask(app.port).headers.value("x-understudy-provider"), QByteArray("primary"));
        }
        QVERIFY(app.waitFor([&] { return app.tray->status().targets.value("primary/claude-test").served == 4; }));
        QTest::qWait(100);

        QList<ui::Notification::Kind> kinds;
        for (const QList<QVariant>& args : notified)
            kinds.append(args.first().value<ui::Notification>().kind);
        using K = ui::Notification::Kind;
        QCOMPARE(kinds, (QList<K>{K::Failover, K::Recovery, K::Failover, K::Recovery, K::Failover, K::Recovery, K::Storm}));
        QCOMPARE(app.tray->status().switches.size(), 8);  // the status window still lists every one
    }

    void theIcon_followsTheEvents() {
        MockUpstream primary, fallback, backup;
        primary.enqueue(anthropicMessage(QStringLiteral("ok"), QStringLiteral("claude-test")));
        primary.setDefault(errorReply(529, kOverloaded));
        fallback.enqueue(anthropicMessage(QStringLiteral("from fallback"), QStringLiteral("fallback-model")));
        fallback.setDefault(errorReply(529, kOverloaded));
        App app(configJson(primary, fallback, backup, 60000));
        const ui::Tray& tray = app.tray->tray();

        QCOMPARE(ask(app.port).status, 200);
        QVERIFY(app.waitFor([&] { return app.tray->status().serving.contains("main"); }));
        QCOMPARE(tray.state(), ui::TrayState::Primary);

        QCOMPARE(ask(app.port).headers.value("x-understudy-provider"), QByteArray("fallback"));
        QVERIFY(app.waitFor([&] { return tray.state() == ui::TrayState::Fallback; }));

        QCOMPARE(ask(app.port).status, 529);  // primary cooling, fallback fails too
        QVERIFY(app.waitFor([&] { return tray.state() == ui::TrayState::AllDown; }));
        QVERIFY(tray.icon().toolTip().contains("Every target of chain 'main' is down"));

        app.menuEntry(QStringLiteral("Pause failover"))->trigger();
        QCOMPARE(tray.state(), ui::TrayState::Paused);
        // Paused, the primary gets every request even while it cools, and its answer goes to the client as is.
        const int primaryHits = primary.hits(), fallbackHits = fallback.hits();
        QCOMPARE(ask(app.port).status, 529);
        QCOMPARE(primary.hits(), primaryHits + 1);
        QCOMPARE(fallback.hits(), fallbackHits);
    }

    void aTakenPort_showsStopped_withTheFix() {
        MockUpstream primary, fallback, backup;
        App first(configJson(primary, fallback, backup));
        QVERIFY(first.port);
        App second(configJson(primary, fallback, backup, 60000, first.port), std::nullopt);
        QSignalSpy notified(&second.tray->tray(), &ui::Tray::notified);
        QVERIFY(second.waitFor([&] { return !second.tray->status().stoppedReason.isEmpty(); }));
        QCOMPARE(second.tray->tray().state(), ui::TrayState::Stopped);
        const QString tooltip = second.tray->tray().icon().toolTip();
        QVERIFY2(tooltip.contains(QString::number(first.port)) && tooltip.contains("--port or listen.port"),
                 qPrintable(tooltip));
        QVERIFY(second.tray->statusWindow().headline().contains("Stopped"));
    }

    void copySetup_putsTheListenAddressOnTheClipboard() {
        MockUpstream primary, fallback, backup;
        App app(configJson(primary, fallback, backup));
        QVERIFY(app.waitFor([&] { return app.tray->status().listening; }));
        app.menuEntry(QStringLiteral("Claude Code"))->trigger();
        QCOMPARE(QGuiApplication::clipboard()->text(),
                 QStringLiteral("export ANTHROPIC_BASE_URL=http://127.0.0.1:%1\n").arg(app.port));
        app.menuEntry(QStringLiteral("Codex"))->trigger();
        QVERIFY(QGuiApplication::clipboard()->text().contains(
            QStringLiteral("base_url = \"http://127.0.0.1:%1/v1\"").arg(app.port)));
    }

    void quotaUsedUp_toldOnce_andTheTooltipSaysWhenItIsBack() {
        MockUpstream primary, fallback, backup;
        const qint64 reset = (QDateTime::currentMSecsSinceEpoch() / 60000 + 120) * 60000;  // in two hours
        primary.setDefault(errorReply(429, usageLimitBody(reset)));
        fallback.setDefault(anthropicMessage(QStringLiteral("from fallback"), QStringLiteral("fallback-model")));
        App app(configJson(primary, fallback, backup));
        QSignalSpy notified(&app.tray->tray(), &ui::Tray::notified);
        QCOMPARE(ask(app.port).headers.value("x-understudy-provider"), QByteArray("fallback"));
        QCOMPARE(ask(app.port).headers.value("x-understudy-provider"), QByteArray("fallback"));
        QVERIFY(app.waitFor([&] { return app.tray->status().targets.value("fallback/fallback-model").served == 2; }));

        const QString back = QStringLiteral("claude-test back at %1 (quota)")
                                 .arg(QDateTime::fromMSecsSinceEpoch(reset).toString(QStringLiteral("HH:mm")));
        QCOMPARE(notified.size(), 1);  // the quota, not also the switch
        const auto n = notified.first().first().value<ui::Notification>();
        QCOMPARE(n.kind, ui::Notification::Kind::Quota);
        QVERIFY2(n.title.endsWith(back.section(QLatin1Char(' '), 1, 3)), qPrintable(n.title));
        QVERIFY2(app.tray->tray().icon().toolTip().contains(back), qPrintable(app.tray->tray().icon().toolTip()));
        app.tray->showStatus();
        QVERIFY2(app.tray->statusWindow().headline().contains(back), qPrintable(app.tray->statusWindow().headline()));
    }
};

QTEST_MAIN(TestTrayApp)
#include "tst_tray_app.moc"
