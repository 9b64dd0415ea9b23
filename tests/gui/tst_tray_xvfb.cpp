// The real `understudy` binary in a real tray (Xvfb + trayer, run through under_xvfb.sh): the icon docks, a
// failover shows a balloon, a second launch brings up the first one's status window. Screenshots of the
// desktop and the status window go to UNDERSTUDY_SCREENSHOTS.
#include "support/MockUpstream.h"
#include "support/TestClient.h"

#include <QDir>
#include <QGuiApplication>
#include <QPixmap>
#include <QProcess>
#include <QRegularExpression>
#include <QScreen>
#include <QSystemTrayIcon>
#include <QTemporaryDir>
#include <QtTest>

using namespace understudy;
using namespace understudy::test;

namespace {

QString xwininfo(const QStringList& arguments) {
    QProcess process;
    process.start(QStringLiteral("xwininfo"), arguments);
    process.waitForFinished(5000);
    return QString::fromLocal8Bit(process.readAllStandardOutput());
}

// The geometry of a top-level window by its title, once it is mapped.
QRect windowGeometry(const QString& title) {
    const QString info = xwininfo({QStringLiteral("-name"), title});
    if (!info.contains(QLatin1String("IsViewable")))
        return {};
    auto number = [&](const char* label) {
        const QRegularExpression re(QLatin1String(label) + QStringLiteral(":\\s+(-?\\d+)"));
        return re.match(info).captured(1).toInt();
    };
    return {number("Absolute upper-left X"), number("Absolute upper-left Y"), number("Width"), number("Height")};
}

void save(const QPixmap& pixmap, const QString& name) {
    const QString folder = qEnvironmentVariable("UNDERSTUDY_SCREENSHOTS", QDir::currentPath());
    QDir().mkpath(folder);
    QVERIFY(pixmap.save(folder + QLatin1Char('/') + name));
    qInfo("screenshot: %s/%s", qPrintable(folder), qPrintable(name));
}

}  // namespace

class TestTrayUnderXvfb : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void realApp_docksInTheTray_notifiesAFailover_andShowsItsStatus_data() {
        QTest::addColumn<QString>("scale");
        QTest::newRow("100%") << QStringLiteral("1");
        QTest::newRow("200%") << QStringLiteral("2");
    }

    void realApp_docksInTheTray_notifiesAFailover_andShowsItsStatus() {
        QFETCH(QString, scale);
        const QString suffix = scale == QLatin1String("1") ? QString() : QStringLiteral("@%1x").arg(scale);
        // trayer takes the tray selection a moment after its panel appears; longer on a loaded machine.
        QTRY_VERIFY2_WITH_TIMEOUT(QSystemTrayIcon::isSystemTrayAvailable(),
                                  "no tray host: run this test through under_xvfb.sh", 15000);
        MockUpstream primary, fallback;
        http::Headers retryLater;
        retryLater.set("retry-after", "900");
        primary.setDefault(errorReply(
            429, R"({"type":"error","error":{"type":"rate_limit_error","message":"Rate limited"}})", retryLater));
        fallback.setDefault(anthropicMessage(QStringLiteral("from glm"), QStringLiteral("glm-5")));

        QTemporaryDir home;
        const QString config = home.filePath(QStringLiteral("understudy.json"));
        QFile file(config);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QStringLiteral(R"({
  "version": 1,
  "listen": { "host": "127.0.0.1", "port": 8790 },
  "providers": {
    "anthropic": { "type": "anthropic", "baseUrl": "%1", "auth": "client" },
    "zai":       { "type": "anthropic", "baseUrl": "%2", "auth": "client" }
  },
  "chains": {
    "claude-first": { "steps": [ { "provider": "anthropic" }, { "provider": "zai", "model": "glm-5" } ] },
    "glm-only":     { "steps": [ { "provider": "zai", "model": "glm-5" } ] }
  },
  "activeChain": "claude-first",
  "failover": { "retriesBeforeFailover": 0, "maxRetryAfterWaitMs": 0 }
})").arg(primary.baseUrl(), fallback.baseUrl()).toUtf8());
        file.close();

        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        for (const char* name : {"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"})
            env.insert(QLatin1String(name), home.filePath(QLatin1String(name)));
        env.insert(QStringLiteral("QT_SCALE_FACTOR"), scale);
        QProcess app;
        app.setProcessEnvironment(env);
        app.start(QStringLiteral(UNDERSTUDY_BINARY), {QStringLiteral("--config"), config, QStringLiteral("--port"), QStringLiteral("0")});
        QString log;
        connect(&app, &QProcess::readyReadStandardError, this, [&] { log += QString::fromLocal8Bit(app.readAllStandardError()); });
        const QRegularExpression listening(QStringLiteral("listening on http://127.0.0.1:(\\d+)"));
        QVERIFY2(QTest::qWaitFor([&] { return listening.match(log).hasMatch(); }, 10000), qPrintable(log));
        QVERIFY2(!log.contains(QLatin1String("no system tray")), qPrintable(log));
        const quint16 port = listening.match(log).captured(1).toUShort();
        // Docked: trayer's panel grows from its empty width to hold the icon.
        QVERIFY(QTest::qWaitFor([] {
            const QRegularExpression panel(QStringLiteral("\"panel\": \\(\"panel\" \"trayer\"\\)\\s+(\\d+)x"));
            return panel.match(xwininfo({QStringLiteral("-root"), QStringLiteral("-tree")})).captured(1).toInt() > 2;
        }, 5000));

        http::Headers headers;
        headers.set("x-api-key", "sk-ant-test-client-key");
        headers.set("anthropic-version", "2023-06-01");
        const ClientResponse r = request(port, "POST", "/v1/messages", messagesBody(QStringLiteral("claude-opus-4"), false), headers);
        QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("zai"));
        QTest::qWait(1500);  // the balloon
        // The tray and the balloon under it, in the top right corner.
        const QRect screen = QGuiApplication::primaryScreen()->geometry();
        const QSize corner(560 * scale.toInt(), 130 * scale.toInt());
        save(QGuiApplication::primaryScreen()->grabWindow(0, screen.width() - corner.width(), 0, corner.width(),
                                                          corner.height()),
             QStringLiteral("tray-notification%1.png").arg(suffix));

        // A second launch exits at once and brings up the first one's status window.
        QProcess second;
        second.setProcessEnvironment(env);
        second.start(QStringLiteral(UNDERSTUDY_BINARY), {QStringLiteral("--config"), config});
        QVERIFY(second.waitForFinished(10000));
        QCOMPARE(second.exitCode(), 0);
        QVERIFY(QString::fromLocal8Bit(second.readAllStandardError()).contains(QLatin1String("already running")));
        QRect geometry;
        QVERIFY(QTest::qWaitFor([&] { return (geometry = windowGeometry(QStringLiteral("Understudy status"))).isValid(); }, 5000));
        QTest::qWait(500);
        save(QGuiApplication::primaryScreen()->grabWindow(0, geometry.x(), geometry.y(), geometry.width(), geometry.height()),
             QStringLiteral("status-window%1.png").arg(suffix));

        app.terminate();
        QVERIFY(app.waitForFinished(5000));
        QCOMPARE(app.exitCode(), 0);
    }
};

QTEST_MAIN(TestTrayUnderXvfb)
#include "tst_tray_xvfb.moc"
