// The tray's Connect menu and the status window's Clients section, as a user drives them: the real TrayApp on
// the real proxy, in a temporary HOME holding the coding agents' settings files.
#include "ProxyHost.h"
#include "TrayApp.h"

#include "ClientsPanel.h"
#include "Connect.h"

#include "support/MockUpstream.h"
#include "support/TestClient.h"

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using namespace understudy;
using namespace understudy::test;

namespace {

const QByteArray kClaudeSettings = "{\n  \"model\": \"opus\",\n  \"env\": { \"DISABLE_TELEMETRY\": \"1\" }\n}\n";
const QByteArray kBrokenOpenCode = "{\n  \"provider\": {\n    \"anthropic\": { \"options\": { \"baseURL\": \"x\" }\n  }\n";

void put(const QString& path, const QByteArray& content) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(content);
}

QByteArray contentOf(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray("<missing>");
}

// A HOME where Claude Code is installed with settings of its own, Codex is not installed and OpenCode's file does
// not parse; the proxy (one provider, on an ephemeral port) and the tray app on top, its status window open.
struct App {
    QTemporaryDir dir;
    MockUpstream provider;
    std::unique_ptr<ProxyHost> host;
    std::unique_ptr<TrayApp> tray;
    quint16 port = 0;

    // `listenExtra`: more members of "listen", e.g. an access token.
    explicit App(const QString& listenExtra = {}) {
        qputenv("HOME", home().toUtf8());
        qputenv("XDG_CONFIG_HOME", (home() + QStringLiteral("/.config")).toUtf8());
        qputenv("XDG_DATA_HOME", dir.filePath(QStringLiteral("data")).toUtf8());
        qunsetenv("CODEX_HOME");
        put(claudeSettings(), kClaudeSettings);
        put(openCodeSettings(), kBrokenOpenCode);

        provider.setDefault(anthropicMessage(QStringLiteral("hello"), QStringLiteral("claude-test")));
        put(configPath(), QStringLiteral(R"({
  "version": 1,
  "listen": { "host": "127.0.0.1", "port": 8790%2 },
  "providers": { "primary": { "type": "anthropic", "baseUrl": "%1", "auth": "client" } },
  "chains": { "main": { "steps": [ { "provider": "primary", "model": "served-model" } ] },
              "agents": { "steps": [ { "provider": "primary", "model": "agent-model" } ] } },
  "activeChain": "main",
  "clients": { "codex": "agents" }
}
)").arg(provider.baseUrl(), listenExtra).toUtf8());
        host = std::make_unique<ProxyHost>(ProxyHost::Options{configPath(), false, 0, false, {}});
        QSignalSpy listening(host.get(), &ProxyHost::listening);
        host->start();
        tray = std::make_unique<TrayApp>(*host, dir.filePath(QStringLiteral("tray.ini")));
        if (QTest::qWaitFor([&] { return !listening.isEmpty(); }, 5000))
            port = listening.first().at(1).value<quint16>();
        tray->showStatus();  // the user has the status window open
    }

    QString home() const { return dir.filePath(QStringLiteral("home")); }
    QString configPath() const { return dir.filePath(QStringLiteral("understudy.json")); }
    QString claudeSettings() const { return home() + QStringLiteral("/.claude/settings.json"); }
    QString openCodeSettings() const { return home() + QStringLiteral("/.config/opencode/opencode.json"); }
    QString url() const { return QStringLiteral("http://127.0.0.1:%1").arg(port); }

    QAction* entry(const QString& title) {
        for (QAction* action : tray->tray().connectMenu()->actions()) {
            if (action->text().startsWith(title))
                return action;
        }
        return nullptr;
    }
    // The status window's Clients row of a client: {client, settings, chain, served by}.
    QStringList clientsRow(const QString& title) {
        const auto* panel = tray->statusWindow().findChild<ui::ClientsPanel*>();
        for (int i = 0; panel && i < panel->topLevelItemCount(); ++i) {
            const QTreeWidgetItem* row = panel->topLevelItem(i);
            if (row->text(0) == title)
                return {row->text(0), row->text(1), row->text(2), row->text(3)};
        }
        return {};
    }
};

}  // namespace

class TestConnectMenu : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void menu_showsWhatEachClientsSettingsSay();
    void ticking_connects_andUntickingPutsTheFileBack();
    void aFileThatDoesNotParse_staysUntouched_andTheErrorIsShown();
    void openingTheMenu_readsTheFilesAgain();
    void clientsSection_showsTheModelServingEachClient();
    void tokenRequired_tickingWritesIt_andAClientWithoutItIsNotConnected();
    void tokenUnreadable_tickingChangesNothing_andSaysWhy();
};

void TestConnectMenu::menu_showsWhatEachClientsSettingsSay() {
    App app;
    QVERIFY(app.port);
    QVERIFY(app.tray->tray().connectMenu()->isEnabled());
    QCOMPARE(app.tray->tray().connectMenu()->actions().size(), 3);

    QAction* claude = app.entry(QStringLiteral("Claude Code"));
    QVERIFY(claude);
    QCOMPARE(claude->text(), QStringLiteral("Claude Code"));
    QVERIFY(claude->isCheckable() && claude->isEnabled() && !claude->isChecked());
    QVERIFY2(claude->toolTip().contains(QStringLiteral("does not set env.ANTHROPIC_BASE_URL")), qPrintable(claude->toolTip()));

    QAction* codex = app.entry(QStringLiteral("Codex"));
    QCOMPARE(codex->text(), QStringLiteral("Codex (not installed)"));
    QVERIFY(!codex->isEnabled() && !codex->isChecked());

    QAction* opencode = app.entry(QStringLiteral("OpenCode"));
    QCOMPARE(opencode->text(), QStringLiteral("OpenCode (settings unreadable)"));
    QVERIFY2(opencode->toolTip().startsWith(app.openCodeSettings() + QStringLiteral(": line ")), qPrintable(opencode->toolTip()));
}

void TestConnectMenu::ticking_connects_andUntickingPutsTheFileBack() {
    App app;
    QVERIFY(app.port);
    QSignalSpy notified(&app.tray->tray(), &ui::Tray::notified);
    QAction* claude = app.entry(QStringLiteral("Claude Code"));
    claude->trigger();

    QCOMPARE(notified.size(), 1);
    auto shown = notified.takeFirst().first().value<ui::Notification>();
    QCOMPARE(shown.kind, ui::Notification::Kind::Done);
    QCOMPARE(shown.title, QStringLiteral("Claude Code connected"));
    QVERIFY2(shown.message.contains(app.claudeSettings() + QStringLiteral(" now points at ") + app.url()), qPrintable(shown.message));
    // Only the one value was added; the user's own keys are where they were.
    QCOMPARE(contentOf(app.claudeSettings()),
             QByteArray("{\n  \"model\": \"opus\",\n  \"env\": { \"DISABLE_TELEMETRY\": \"1\", \"ANTHROPIC_BASE_URL\": \"")
                 + app.url().toUtf8() + "\" }\n}\n");
    QVERIFY(claude->isChecked());
    QCOMPARE(app.clientsRow(QStringLiteral("Claude Code")).value(1), QStringLiteral("connected"));

    claude->trigger();  // untick
    QCOMPARE(notified.size(), 1);
    shown = notified.takeFirst().first().value<ui::Notification>();
    QCOMPARE(shown.kind, ui::Notification::Kind::Done);
    QCOMPARE(shown.title, QStringLiteral("Claude Code disconnected"));
    QVERIFY2(shown.message.contains(QStringLiteral(" restored (backup: ")), qPrintable(shown.message));
    QCOMPARE(contentOf(app.claudeSettings()), kClaudeSettings);
    QVERIFY(!claude->isChecked());
    QCOMPARE(app.clientsRow(QStringLiteral("Claude Code")).value(1), QStringLiteral("not connected"));
}

void TestConnectMenu::aFileThatDoesNotParse_staysUntouched_andTheErrorIsShown() {
    App app;
    QVERIFY(app.port);
    QSignalSpy notified(&app.tray->tray(), &ui::Tray::notified);
    QAction* opencode = app.entry(QStringLiteral("OpenCode"));
    QVERIFY(opencode->isEnabled());
    opencode->trigger();

    QCOMPARE(notified.size(), 1);
    const auto shown = notified.takeFirst().first().value<ui::Notification>();
    QCOMPARE(shown.kind, ui::Notification::Kind::Problem);
    QCOMPARE(shown.title, QStringLiteral("OpenCode not connected"));
    QVERIFY2(shown.message.startsWith(app.openCodeSettings() + QStringLiteral(": line ")), qPrintable(shown.message));
    QVERIFY2(shown.message.contains(QStringLiteral("left untouched")), qPrintable(shown.message));
    QCOMPARE(contentOf(app.openCodeSettings()), kBrokenOpenCode);
    QVERIFY(!opencode->isChecked());  // the tick the click made is taken back: the file says otherwise
    QCOMPARE(app.clientsRow(QStringLiteral("OpenCode")).value(1), QStringLiteral("settings unreadable"));
}

void TestConnectMenu::openingTheMenu_readsTheFilesAgain() {
    App app;
    QVERIFY(app.port);
    QAction* claude = app.entry(QStringLiteral("Claude Code"));
    QVERIFY(!claude->isChecked());
    // Connected from a terminal while the tray runs.
    QVERIFY(connect::connectClient(connect::Client::ClaudeCode, app.home(), app.url()).ok);
    QVERIFY(!claude->isChecked());
    Q_EMIT app.tray->tray().connectMenu()->aboutToShow();
    QVERIFY(claude->isChecked());

    put(app.openCodeSettings(), "{}\n");  // fixed by hand
    Q_EMIT app.tray->tray().connectMenu()->aboutToShow();
    QCOMPARE(app.entry(QStringLiteral("OpenCode"))->text(), QStringLiteral("OpenCode"));
    QVERIFY(app.entry(QStringLiteral("OpenCode"))->isEnabled());
}

void TestConnectMenu::clientsSection_showsTheModelServingEachClient() {
    App app;
    QVERIFY(app.port);
    QCOMPARE(app.clientsRow(QStringLiteral("Claude Code")),
             (QStringList{QStringLiteral("Claude Code"), QStringLiteral("not connected"), QStringLiteral("main"),
                          QStringLiteral("no request yet")}));
    QCOMPARE(app.clientsRow(QStringLiteral("Codex")).value(2), QStringLiteral("agents"));  // its own chain, from `clients`

    http::Headers headers;
    headers.set("x-api-key", "test-client-key-not-real");
    headers.set("anthropic-version", "2023-06-01");
    headers.set("user-agent", "claude-cli/2.1.197 (external, sdk-cli)");
    QCOMPARE(request(app.port, "POST", "/v1/messages", messagesBody(QStringLiteral("claude-test"), false), headers).status, 200);
    QVERIFY(QTest::qWaitFor([&] { return app.clientsRow(QStringLiteral("Claude Code")).value(3).startsWith(
                                          QStringLiteral("primary/served-model since ")); }, 5000));
    QCOMPARE(app.clientsRow(QStringLiteral("OpenCode")).value(3), QStringLiteral("no request yet"));

    headers.set("user-agent", "codex_exec/0.169.0 (Debian 12.0.0; x86_64) dumb (codex_exec; 0.169.0)");
    headers.set("originator", "codex_exec");
    QCOMPARE(request(app.port, "POST", "/v1/messages", messagesBody(QStringLiteral("claude-test"), false), headers).status, 200);
    QVERIFY(QTest::qWaitFor([&] { return app.clientsRow(QStringLiteral("Codex")).value(3).startsWith(
                                          QStringLiteral("primary/agent-model since ")); }, 5000));
    QVERIFY(app.clientsRow(QStringLiteral("Claude Code")).value(3).startsWith(QStringLiteral("primary/served-model")));
}

void TestConnectMenu::tokenRequired_tickingWritesIt_andAClientWithoutItIsNotConnected() {
    qputenv("UNDERSTUDY_GUI_TEST_TOKEN", "tok-fake-secret-tray-0007");
    App app(QStringLiteral(R"(, "accessToken": "env:UNDERSTUDY_GUI_TEST_TOKEN")"));
    QVERIFY(app.port);
    // Connected before the token was turned on: pointed at the proxy, but refused by it.
    QVERIFY(connect::connectClient(connect::Client::ClaudeCode, app.home(), app.url()).ok);
    Q_EMIT app.tray->tray().connectMenu()->aboutToShow();
    QAction* claude = app.entry(QStringLiteral("Claude Code"));
    QVERIFY(!claude->isChecked());
    QVERIFY2(claude->toolTip().contains(QStringLiteral("does not send the access token")), qPrintable(claude->toolTip()));

    QSignalSpy notified(&app.tray->tray(), &ui::Tray::notified);
    claude->trigger();
    QCOMPARE(notified.size(), 1);
    const auto shown = notified.takeFirst().first().value<ui::Notification>();
    QCOMPARE(shown.kind, ui::Notification::Kind::Done);
    QVERIFY2(shown.message.contains(QStringLiteral("with the access token")), qPrintable(shown.message));
    QVERIFY(!shown.message.contains(QStringLiteral("tok-fake-secret")));
    QVERIFY(contentOf(app.claudeSettings()).contains("\"ANTHROPIC_CUSTOM_HEADERS\": \"x-understudy-token: tok-fake-secret-tray-0007\""));
    QVERIFY(claude->isChecked());

    // What the tray wrote is what gets Claude Code's requests through.
    http::Headers headers;
    headers.set("anthropic-version", "2023-06-01");
    QCOMPARE(request(app.port, "POST", "/v1/messages", messagesBody(QStringLiteral("claude-test"), false), headers).status, 401);
    headers.set("x-understudy-token", "tok-fake-secret-tray-0007");
    QCOMPARE(request(app.port, "POST", "/v1/messages", messagesBody(QStringLiteral("claude-test"), false), headers).status, 200);
    qunsetenv("UNDERSTUDY_GUI_TEST_TOKEN");
}

void TestConnectMenu::tokenUnreadable_tickingChangesNothing_andSaysWhy() {
    App app(QStringLiteral(R"(, "accessToken": "env:UNDERSTUDY_GUI_TEST_UNSET_TOKEN")"));
    QVERIFY(app.port);
    QSignalSpy notified(&app.tray->tray(), &ui::Tray::notified);
    app.entry(QStringLiteral("Claude Code"))->trigger();
    QCOMPARE(notified.size(), 1);
    const auto shown = notified.takeFirst().first().value<ui::Notification>();
    QCOMPARE(shown.kind, ui::Notification::Kind::Problem);
    QCOMPARE(shown.title, QStringLiteral("Claude Code not connected"));
    QVERIFY2(shown.message.contains(QStringLiteral("UNDERSTUDY_GUI_TEST_UNSET_TOKEN, which is not set")), qPrintable(shown.message));
    QCOMPARE(contentOf(app.claudeSettings()), kClaudeSettings);
    QVERIFY(!app.entry(QStringLiteral("Claude Code"))->isChecked());
}

QTEST_MAIN(TestConnectMenu)
#include "tst_connect_menu.moc"
