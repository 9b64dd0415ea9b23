// Screenshots of the Settings dialog as the xcb platform draws it (under_xvfb.sh: Xvfb and a tray host), at
// the scale QT_SCALE_FACTOR gives, into UNDERSTUDY_SCREENSHOTS. The dialog is the real one, opened from the
// tray menu of the real tray app with the real proxy behind it.
#include "ProxyHost.h"
#include "TrayApp.h"

#include "support/MockUpstream.h"

#include <QDir>
#include <QFile>
#include <QScreen>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using namespace understudy;
using namespace understudy::test;

class TestSettingsUnderXvfb : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void settingsDialog_screenshots();

private:
    void save(QWidget& window, const QString& name);
};

namespace {

QByteArray configJson(const QString& anthropic, const QString& zai, const QString& openrouter) {
    return QStringLiteral(R"({
  "version": 1,
  "listen": { "host": "127.0.0.1", "port": 8790 },
  "providers": {
    "anthropic":  { "type": "anthropic", "baseUrl": "%1", "auth": "client" },
    "zai":        { "type": "anthropic", "baseUrl": "%2", "auth": "key", "apiKey": "env:UNDERSTUDY_SCREENSHOT_KEY" },
    "openrouter": { "type": "openai-chat", "baseUrl": "%3", "auth": "key", "apiKey": "keychain:openrouter" }
  },
  "chains": {
    "claude-first": { "steps": [
      { "provider": "anthropic" },
      { "provider": "zai", "model": "glm-5" },
      { "provider": "openrouter", "model": { "claude-*haiku*": "qwen/qwen3-coder-flash", "*": "qwen/qwen3-coder" } }
    ] },
    "glm-only": { "steps": [ { "provider": "zai", "model": "glm-5" } ] }
  },
  "activeChain": "claude-first"
})")
        .arg(anthropic, zai, openrouter)
        .toUtf8();
}

}  // namespace

void TestSettingsUnderXvfb::save(QWidget& window, const QString& name) {
    QVERIFY(QTest::qWaitForWindowExposed(&window, 20000));
    QTest::qWait(300);  // the first paint after a tab switch
    const QString suffix = qgetenv("QT_SCALE_FACTOR") == "2" ? QStringLiteral("@2x") : QString();
    const QString folder = qEnvironmentVariable("UNDERSTUDY_SCREENSHOTS", QDir::currentPath());
    QDir().mkpath(folder);
    const QString path = QStringLiteral("%1/%2%3.png").arg(folder, name, suffix);
    const QPixmap shot = window.screen()->grabWindow(window.winId());
    QVERIFY(!shot.isNull());
    QVERIFY(shot.save(path));
    qInfo("screenshot: %s (%dx%d)", qPrintable(path), shot.width(), shot.height());
}

void TestSettingsUnderXvfb::settingsDialog_screenshots() {
    // The tray itself is tst_tray_xvfb's subject; the dialog is drawn the same with or without it docked.
    MockUpstream anthropic, zai, openrouter;
    QTemporaryDir dir;
    const QString config = dir.filePath(QStringLiteral("understudy.json"));
    QFile file(config);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(configJson(anthropic.baseUrl(), zai.baseUrl(), openrouter.baseUrl()));
    file.close();
    qputenv("UNDERSTUDY_SCREENSHOT_KEY", "screenshot-placeholder-key");
    qputenv("XDG_CONFIG_HOME", QFile::encodeName(dir.filePath(QStringLiteral("xdg"))));

    ProxyHost host(ProxyHost::Options{config, false, 0, false, {}});
    QSignalSpy listening(&host, &ProxyHost::listening);
    QVERIFY(host.start().isEmpty());
    TrayApp app(host, dir.filePath(QStringLiteral("tray.ini")));
    QVERIFY(listening.wait(20000));
    for (QAction* entry : app.tray().menu()->actions())
        if (entry->text() == QStringLiteral("Settings…"))
            entry->trigger();
    ui::SettingsDialog* dialog = app.settingsDialog();
    QVERIFY(dialog);

    MockReply models;
    models.body = R"({"data":[{"id":"glm-5"},{"id":"glm-4.6"}]})";
    zai.setDefault(models);
    dialog->providers().reveal(QStringLiteral("zai"));
    dialog->providers().testButton().click();
    QVERIFY(QTest::qWaitFor([&] { return dialog->providers().testButton().isEnabled(); }, 10000));
    save(*dialog, QStringLiteral("settings-providers"));

    // A mistake the dialog refuses: the step's provider does not exist; the error sits under the field.
    dialog->tabs().setCurrentIndex(1);
    dialog->chains().steps().setCurrentRow(1);
    dialog->chains().provider().setEditText(QStringLiteral("zia"));
    QVERIFY(!dialog->apply());
    save(*dialog, QStringLiteral("settings-chains-error"));

    dialog->chains().provider().setEditText(QStringLiteral("zai"));
    dialog->chains().steps().setCurrentRow(2);
    QVERIFY(dialog->apply());
    save(*dialog, QStringLiteral("settings-chains"));

    dialog->tabs().setCurrentIndex(2);
    save(*dialog, QStringLiteral("settings-failover"));
    dialog->tabs().setCurrentIndex(3);
    save(*dialog, QStringLiteral("settings-general"));
}

QTEST_MAIN(TestSettingsUnderXvfb)
#include "tst_settings_xvfb.moc"
