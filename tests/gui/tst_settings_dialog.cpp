// The Settings dialog as a user drives it from the tray menu: the real dialog, wired by TrayApp to the real
// proxy on its worker thread, with mock providers on loopback. What it saves is read back from the file, and
// what the proxy does with it is checked with a real request.
#include "Autostart.h"
#include "ProxyHost.h"
#include "TrayApp.h"

#include "support/MockUpstream.h"
#include "support/TestClient.h"

#include <QFile>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using namespace understudy;
using namespace understudy::test;

namespace {

// Chain "main": primary, then fallback. A pricing entry and a client rule that the dialog has no field for
// must come through a save untouched.
QByteArray configJson(const MockUpstream& primary, const MockUpstream& fallback) {
    return QStringLiteral(R"({
  "version": 1,
  "listen": { "host": "127.0.0.1", "port": 8790 },
  "providers": {
    "primary":  { "type": "anthropic", "baseUrl": "%1", "auth": "client" },
    "fallback": { "type": "anthropic", "baseUrl": "%2", "auth": "client" }
  },
  "chains": {
    "main":  { "steps": [ { "provider": "primary" }, { "provider": "fallback", "model": "fallback-model" } ] },
    "other": { "steps": [ { "provider": "fallback" } ] }
  },
  "activeChain": "main",
  "clients":  { "codex": "other" },
  "pricing":  { "fallback-model": { "input": 1.5, "output": 4 } },
  "failover": { "retriesBeforeFailover": 0, "maxRetryAfterWaitMs": 0, "connectTimeoutMs": 1000 }
}
)")
        .arg(primary.baseUrl(), fallback.baseUrl())
        .toUtf8();
}

QByteArray ask(quint16 port) {
    http::Headers headers;
    headers.set("x-api-key", "test-client-key-not-a-secret");
    headers.set("anthropic-version", "2023-06-01");
    return request(port, "POST", "/v1/messages", messagesBody(QStringLiteral("claude-test"), false), headers)
        .headers.value("x-understudy-provider");
}

struct App {
    QTemporaryDir dir;
    std::unique_ptr<ProxyHost> host;
    std::unique_ptr<TrayApp> tray;
    quint16 port = 0;

    explicit App(const QByteArray& config) {
        QFile file(configPath());
        file.open(QIODevice::WriteOnly);
        file.write(config);
        file.close();
        start();
    }

    // What `understudy` does at launch, on the files this App has.
    void start() {
        tray.reset();
        host.reset();
        port = 0;
        host = std::make_unique<ProxyHost>(ProxyHost::Options{configPath(), false, 0, false, {}});
        QSignalSpy listening(host.get(), &ProxyHost::listening);
        host->start();
        tray = std::make_unique<TrayApp>(*host, dir.filePath(QStringLiteral("tray.ini")));
        if (listening.wait(5000))
            port = listening.first().at(1).value<quint16>();
    }

    QString configPath() const { return dir.filePath(QStringLiteral("understudy.json")); }
    QByteArray configOnDisk() const {
        QFile file(configPath());
        file.open(QIODevice::ReadOnly);
        return file.readAll();
    }
    QAction* menuEntry(const QString& text) {
        for (QAction* action : tray->tray().menu()->actions())
            if (action->text() == text)
                return action;
        return nullptr;
    }
    // Settings… in the tray menu.
    ui::SettingsDialog& openSettings() {
        menuEntry(QStringLiteral("Settings…"))->trigger();
        return *tray->settingsDialog();
    }
};

void selectStep(ui::SettingsDialog& dialog, const QString& chain, int step) {
    dialog.tabs().setCurrentIndex(1);
    dialog.chains().chainPicker().setCurrentText(chain);
    dialog.chains().steps().setCurrentRow(step);
}

QStringList stepProviders(const QByteArray& document, const QString& chain) {
    const ConfigResult parsed = parseConfig(document);
    QStringList providers;
    if (parsed.config)
        for (const StepConfig& step : parsed.config->chains.value(chain).steps)
            providers.append(step.provider);
    return providers;
}

}  // namespace

class TestSettingsDialog : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_xdg.isValid());
        qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_xdg.path()));
    }

    void settingsInTheMenu_opensOneDialog_withTheConfigInIt() {
        MockUpstream primary, fallback;
        App app(configJson(primary, fallback));
        ui::SettingsDialog& dialog = app.openSettings();
        QVERIFY(dialog.isVisible());
        QCOMPARE(dialog.providers().list().count(), 2);
        QCOMPARE(dialog.providers().list().item(0)->text(), "primary");  // file order, not sorted
        QCOMPARE(dialog.chains().chainPicker().currentText(), "main");
        QCOMPARE(dialog.chains().steps().count(), 2);
        QCOMPARE(dialog.chains().steps().item(1)->text(), "2. fallback — fallback-model");
        QCOMPARE(dialog.failoverSetting(QStringLiteral("connectTimeoutMs")).value(), 1000);
        QCOMPARE(dialog.failoverSetting(QStringLiteral("streamIdleTimeoutMs")).value(), 30000);  // the default
        QCOMPARE(dialog.port().value(), 8790);
        dialog.chains().steps().setCurrentRow(0);
        QCOMPARE(&app.openSettings(), &dialog);  // the same one, raised, keeping what is selected
        QCOMPARE(dialog.chains().steps().currentRow(), 0);
    }

    void aStepWithAnUnknownProvider_isRejectedUnderTheField_andTheFileIsUnchanged() {
        MockUpstream primary, fallback;
        App app(configJson(primary, fallback));
        const QByteArray before = app.configOnDisk();
        ui::SettingsDialog& dialog = app.openSettings();
        selectStep(dialog, QStringLiteral("main"), 1);
        dialog.chains().provider().setEditText(QStringLiteral("fallbak"));
        QSignalSpy saved(&dialog, &ui::SettingsDialog::configSaved);

        dialog.tabs().setCurrentIndex(0);
        dialog.buttons().button(QDialogButtonBox::Ok)->click();

        QVERIFY(dialog.isVisible());  // OK did not close it
        QCOMPARE(saved.size(), 0);
        QCOMPARE(app.configOnDisk(), before);
        QCOMPARE(dialog.tabs().currentIndex(), 1);  // brought to the problem
        QCOMPARE(dialog.chains().steps().currentRow(), 1);
        const ui::FieldError& error = dialog.chains().error(QStringLiteral("provider"));
        QVERIFY(error.isVisible());
        QVERIFY2(error.text().contains("unknown provider \"fallbak\"") && error.text().contains("did you mean \"fallback\""),
                 qPrintable(error.text()));
        QVERIFY(!dialog.chains().error(QStringLiteral("model")).isVisible());
        QVERIFY(dialog.chains().steps().item(1)->toolTip().contains("fallbak"));
        QVERIFY(dialog.summary().text().contains("nothing was saved"));
        QCOMPARE(ask(app.port), QByteArray("primary"));  // the proxy still runs the old config

        dialog.chains().provider().setEditText(QStringLiteral("fallback"));  // fixed: saved, errors gone
        QVERIFY(dialog.apply());
        QVERIFY(!error.isVisible());
        QCOMPARE(app.configOnDisk(), before);  // back to what it was: nothing to write
    }

    void aChainWithNoSteps_isRejected_andAnInvalidUrlIsShownUnderItsField() {
        MockUpstream primary, fallback;
        App app(configJson(primary, fallback));
        const QByteArray before = app.configOnDisk();
        ui::SettingsDialog& dialog = app.openSettings();
        selectStep(dialog, QStringLiteral("other"), 0);
        dialog.chains().removeStep().click();
        QCOMPARE(dialog.chains().steps().count(), 0);
        QVERIFY(!dialog.apply());
        QCOMPARE(app.configOnDisk(), before);
        QVERIFY(dialog.chains().error(QStringLiteral("steps")).isVisible());
        QVERIFY2(dialog.chains().error(QStringLiteral("steps")).text().contains("at least one step"),
                 qPrintable(dialog.chains().error(QStringLiteral("steps")).text()));

        dialog.chains().addStep().click();
        dialog.providers().reveal(QStringLiteral("fallback"));
        dialog.providers().baseUrl().setText(QStringLiteral("ftp://example.test"));
        Q_EMIT dialog.providers().baseUrl().textEdited(dialog.providers().baseUrl().text());
        QVERIFY(!dialog.apply());
        QCOMPARE(app.configOnDisk(), before);
        QCOMPARE(dialog.tabs().currentIndex(), 0);
        QCOMPARE(dialog.providers().selected(), "fallback");
        QVERIFY(dialog.providers().error(QStringLiteral("baseUrl")).isVisible());
        QVERIFY(!dialog.chains().error(QStringLiteral("steps")).isVisible());
    }

    void aKeyTheNewTypeDoesNotTake_isShownUnderTheProvidersName() {
        MockUpstream primary, fallback;
        App app(configJson(primary, fallback));
        const QByteArray before = app.configOnDisk();
        ui::SettingsDialog& dialog = app.openSettings();
        dialog.providers().reveal(QStringLiteral("primary"));
        dialog.providers().type().setCurrentText(QStringLiteral("bedrock"));
        Q_EMIT dialog.providers().type().activated(dialog.providers().type().currentIndex());
        QVERIFY(!dialog.providers().baseUrl().isVisibleTo(&dialog.providers()));  // bedrock has no base URL
        QVERIFY(!dialog.apply());
        QCOMPARE(app.configOnDisk(), before);
        const QString shown = dialog.providers().error(QString()).text();
        QVERIFY2(shown.contains("\"baseUrl\" does not apply to providers of type \"bedrock\"") && shown.contains("region"),
                 qPrintable(shown));
        QVERIFY(dialog.providers().error(QString()).isVisibleTo(&dialog.providers()));
    }

    void aKeyPastedInsteadOfAReference_isMasked_andRefused() {
        MockUpstream primary, fallback;
        App app(configJson(primary, fallback));
        const QByteArray before = app.configOnDisk();
        ui::SettingsDialog& dialog = app.openSettings();
        dialog.providers().reveal(QStringLiteral("fallback"));
        QLineEdit& key = dialog.providers().keyReference();
        key.setText(QStringLiteral("keychain:fallback"));
        Q_EMIT key.textEdited(key.text());
        QCOMPARE(key.echoMode(), QLineEdit::Normal);  // a reference is not a secret
        const QString pasted = QStringLiteral("test-pasted-literal-value-1234");
        key.setText(pasted);
        Q_EMIT key.textEdited(key.text());
        QCOMPARE(key.echoMode(), QLineEdit::Password);
        QVERIFY(!dialog.apply());
        QCOMPARE(app.configOnDisk(), before);
        const QString shown = dialog.providers().error(QStringLiteral("apiKey")).text();
        QVERIFY2(shown.contains("never the secret itself") && !shown.contains(pasted), qPrintable(shown));
        QVERIFY(!dialog.summary().text().contains(pasted));
    }

    void test_asksTheProviderForItsModelsWithItsKey_andShowsItsExactAnswer() {
        MockUpstream primary, fallback;
        fallback.enqueue(errorReply(
            401, R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}})"));
        MockReply models;
        models.body = R"({"data":[{"id":"glm-5"},{"id":"glm-4.6"}]})";
        fallback.enqueue(models);
        qputenv("UNDERSTUDY_TEST_PROVIDER_KEY", "test-provider-key-not-a-secret");
        App app(configJson(primary, fallback));
        ui::SettingsDialog& dialog = app.openSettings();
        ui::ProvidersPage& providers = dialog.providers();
        providers.reveal(QStringLiteral("fallback"));
        providers.testButton().click();  // auth "client": nothing of ours to test with
        QVERIFY(QTest::qWaitFor([&] { return providers.testButton().isEnabled(); }, 5000));
        QVERIFY2(providers.testResult().text().contains("your client's own login"),
                 qPrintable(providers.testResult().text()));
        QCOMPARE(fallback.hits(), 0);

        // As a user sets it: credentials "The key below", the key from the environment.
        providers.auth().setCurrentIndex(1);
        Q_EMIT providers.auth().activated(1);
        providers.keyReference().setText(QStringLiteral("env:UNDERSTUDY_TEST_PROVIDER_KEY"));
        Q_EMIT providers.keyReference().textEdited(providers.keyReference().text());
        providers.testButton().click();
        QVERIFY(QTest::qWaitFor([&] { return providers.testResult().text().startsWith("✘ HTTP"); }, 10000));
        const QString result = providers.testResult().text();
        QVERIFY2(result.contains("HTTP 401") && result.contains("invalid x-api-key"), qPrintable(result));
        QVERIFY(!result.contains("test-provider-key"));
        QCOMPARE(fallback.requests().last().path, QByteArray("/v1/models"));
        QCOMPARE(fallback.requests().last().headers.value("x-api-key"), QByteArray("test-provider-key-not-a-secret"));

        providers.testButton().click();
        QVERIFY(QTest::qWaitFor([&] { return providers.testResult().text().startsWith("✔"); }, 10000));
        QCOMPARE(providers.testResult().text(), "✔ OK: HTTP 200, 2 models listed");
    }

    void reorderingSteps_persistsInTheNewOrder_andTheNextRequestGoesToTheNewFirst() {
        MockUpstream primary, fallback;
        primary.setDefault(anthropicMessage(QStringLiteral("from primary"), QStringLiteral("claude-test")));
        fallback.setDefault(anthropicMessage(QStringLiteral("from fallback"), QStringLiteral("fallback-model")));
        App app(configJson(primary, fallback));
        QVERIFY(app.port);
        QCOMPARE(ask(app.port), QByteArray("primary"));
        const QByteArray before = app.configOnDisk();

        ui::SettingsDialog& dialog = app.openSettings();
        selectStep(dialog, QStringLiteral("main"), 1);
        // What a drop in the list does (QListWidget moves the row of its model); the dialog follows the model.
        QVERIFY(dialog.chains().steps().model()->moveRow(QModelIndex(), 1, QModelIndex(), 0));
        QCOMPARE(dialog.chains().steps().item(0)->text(), "1. fallback — fallback-model");
        dialog.buttons().button(QDialogButtonBox::Ok)->click();
        QVERIFY(!dialog.isVisible());

        const QByteArray after = app.configOnDisk();
        QCOMPARE(stepProviders(after, QStringLiteral("main")), (QStringList{"fallback", "primary"}));
        QVERIFY2(after.contains(R"({ "provider": "fallback", "model": "fallback-model" },)"), after.constData());
        // What the dialog did not change keeps its bytes, keys it has no field for included.
        for (const char* kept : {R"("clients":  { "codex": "other" },)",
                                 R"("pricing":  { "fallback-model": { "input": 1.5, "output": 4 } },)",
                                 R"("failover": { "retriesBeforeFailover": 0, "maxRetryAfterWaitMs": 0, "connectTimeoutMs": 1000 })"})
            QVERIFY2(after.contains(kept), kept);
        QCOMPARE(after.left(after.indexOf("\"chains\"")), before.left(before.indexOf("\"chains\"")));

        QCOMPARE(ask(app.port), QByteArray("fallback"));
        QCOMPARE(primary.hits(), 1);
    }

    void aModelMap_isSavedInTheOrderOfItsRules() {
        MockUpstream primary, fallback;
        App app(configJson(primary, fallback));
        ui::SettingsDialog& dialog = app.openSettings();
        selectStep(dialog, QStringLiteral("main"), 1);
        dialog.chains().modelKind().setCurrentIndex(2);
        Q_EMIT dialog.chains().modelKind().activated(2);
        QCOMPARE(dialog.chains().modelMap().rowCount(), 1);  // "*" → the model it had
        dialog.chains().modelMap().item(0, 0)->setText(QStringLiteral("claude-*haiku*"));
        dialog.chains().modelMap().item(0, 1)->setText(QStringLiteral("small-model"));
        dialog.chains().addRule().click();
        dialog.chains().modelMap().item(1, 0)->setText(QStringLiteral("*"));
        dialog.chains().modelMap().item(1, 1)->setText(QStringLiteral("big-model"));
        QVERIFY(dialog.apply());
        const ConfigResult parsed = parseConfig(app.configOnDisk());
        QVERIFY(parsed.config);
        const ModelMapping mapping = parsed.config->chains.value("main").steps.at(1).model;
        QCOMPARE(mapping.kind, ModelMapping::Kind::Map);
        QCOMPARE(mapping.globs, (QList<QPair<QString, QString>>{{"claude-*haiku*", "small-model"}, {"*", "big-model"}}));
    }

    void addingAProviderFromAPreset_savesAReferenceNeverAKey() {
        MockUpstream primary, fallback;
        App app(configJson(primary, fallback));
        ui::SettingsDialog& dialog = app.openSettings();
        const int before = dialog.providers().list().count();
        const QList<ui::ProviderPreset> presets = ui::providerPresets();
        const auto zai =
            std::find_if(presets.begin(), presets.end(), [](const ui::ProviderPreset& p) { return p.id == "zai"; });
        QVERIFY(zai != presets.end());
        dialog.providers().addPreset(static_cast<int>(zai - presets.begin()));
        QCOMPARE(dialog.providers().list().count(), before + 1);
        QCOMPARE(dialog.providers().selected(), "zai");
        QCOMPARE(dialog.providers().keyReference().text(), "keychain:zai");
        QVERIFY(dialog.providers().keyStatus().text() != "keychain:zai");
        QVERIFY(dialog.apply());
        const ConfigResult parsed = parseConfig(app.configOnDisk());
        QVERIFY(parsed.config);
        QCOMPARE(parsed.config->providers.value("zai").apiKey, "keychain:zai");
        QCOMPARE(parsed.config->providers.value("zai").baseUrl.toString(), "https://api.z.ai/api/anthropic");

        dialog.providers().deleteSelected();  // a provider no chain uses can go
        QVERIFY(dialog.apply());
        QVERIFY(!app.configOnDisk().contains("zai"));
        dialog.providers().reveal(QStringLiteral("fallback"));  // one that chains use cannot
        dialog.providers().deleteSelected();
        QVERIFY(!dialog.apply());
        QVERIFY(app.configOnDisk().contains("\"fallback\""));
        QVERIFY(dialog.chains().error(QStringLiteral("provider")).text().contains("unknown provider \"fallback\""));
    }

    void failoverSettingsAndPort_areSaved_andABadStatusIsShownUnderItsField() {
        MockUpstream primary, fallback;
        App app(configJson(primary, fallback));
        const QByteArray before = app.configOnDisk();
        ui::SettingsDialog& dialog = app.openSettings();
        dialog.failoverSetting(QStringLiteral("streamIdleTimeoutMs")).setValue(45000);
        dialog.port().setValue(8791);
        dialog.triggerCodes().setText(QStringLiteral("429, 42, 503"));
        QVERIFY(!dialog.apply());
        QCOMPARE(app.configOnDisk(), before);
        QCOMPARE(dialog.tabs().currentIndex(), 2);
        QVERIFY2(dialog.error(QStringLiteral("triggerOnStatusCodes")).text().contains("between 400 and 599, got 42"),
                 qPrintable(dialog.error(QStringLiteral("triggerOnStatusCodes")).text()));
        dialog.triggerCodes().setText(QStringLiteral("429 abc"));
        QVERIFY(!dialog.apply());
        QVERIFY(dialog.error(QStringLiteral("triggerOnStatusCodes")).text().contains("\"abc\" is not an HTTP status"));

        dialog.triggerCodes().setText(QStringLiteral("429, 503"));
        QVERIFY(dialog.apply());
        const ConfigResult parsed = parseConfig(app.configOnDisk());
        QVERIFY(parsed.config);
        QCOMPARE(parsed.config->failover.streamIdleTimeoutMs, 45000);
        QCOMPARE(parsed.config->failover.connectTimeoutMs, 1000);
        QCOMPARE(parsed.config->failover.triggerOnStatusCodes, (QList<int>{429, 503}));
        QCOMPARE(parsed.config->listen.port, 8791);
        QVERIFY(!dialog.error(QStringLiteral("triggerOnStatusCodes")).isVisible());
    }

    void launchAtLogin_writesAndRemovesTheAutostartEntry() {
        MockUpstream primary, fallback;
        App app(configJson(primary, fallback));
        const QString entry = m_xdg.filePath(QStringLiteral("autostart/understudy.desktop"));
        QFile::remove(entry);
        ui::SettingsDialog& dialog = app.openSettings();
        QVERIFY(!dialog.launchAtLogin().isChecked());
        dialog.launchAtLogin().setChecked(true);
        dialog.buttons().button(QDialogButtonBox::Ok)->click();
        QVERIFY(QFile::exists(entry));
        QFile file(entry);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QVERIFY(file.readAll().contains("\nExec=" + QFile::encodeName(QCoreApplication::applicationFilePath()) + "\n"));

        app.openSettings();  // reads the real state
        QVERIFY(dialog.launchAtLogin().isChecked());
        dialog.launchAtLogin().setChecked(false);
        QVERIFY(dialog.apply());
        QVERIFY(!QFile::exists(entry));
        QVERIFY(!Autostart::isEnabled());
    }

    void notificationsAndPause_areRememberedAcrossARestart() {
        MockUpstream primary, fallback;
        App app(configJson(primary, fallback));
        ui::SettingsDialog& dialog = app.openSettings();
        QVERIFY(dialog.notifications().isChecked());
        dialog.notifications().setChecked(false);
        QVERIFY(dialog.apply());
        QVERIFY(!app.menuEntry(QStringLiteral("Notifications"))->isChecked());
        app.menuEntry(QStringLiteral("Pause failover"))->trigger();
        QCOMPARE(app.tray->tray().state(), ui::TrayState::Paused);

        app.start();
        QVERIFY(app.port);
        QCOMPARE(app.tray->tray().state(), ui::TrayState::Paused);
        QVERIFY(app.menuEntry(QStringLiteral("Pause failover"))->isChecked());
        QVERIFY(!app.menuEntry(QStringLiteral("Notifications"))->isChecked());
        QVERIFY(!app.openSettings().notifications().isChecked());
    }

private:
    QTemporaryDir m_xdg;
};

QTEST_MAIN(TestSettingsDialog)
#include "tst_settings_dialog.moc"
