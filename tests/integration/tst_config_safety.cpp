// Config safety (issue 10): every save keeps the previous good config, a config that does not validate never
// replaces a good one, the app starts with the last good config when the file is broken (and says what is
// wrong), and a broken live edit leaves the running config in force. The real ProxyHost and proxy, over loopback.
#include "support/MockUpstream.h"
#include "support/TestClient.h"

#include "ProxyHost.h"
#include "config/ConfigFile.h"

#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using namespace understudy;
using namespace understudy::test;

class TestConfigSafety : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void save_keepsPreviousGoodConfigAsBackup();
    void save_invalid_neverReplacesFileOrBackup();
    void startup_invalidFile_runsLastGood_andSaysWhatIsWrong();
    void startup_invalidFile_noBackup_refusesToStart();
    void liveReload_invalidEdit_keepsRunningConfig_validEditApplies();
};

namespace {

QByteArray configWithChain(const QString& url, const QString& chain) {
    return QStringLiteral(R"({"version": 1, "listen": {"host": "127.0.0.1", "port": 8790},
        "providers": {"primary": {"type": "anthropic", "baseUrl": "%1", "auth": "client"}},
        "chains": {"%2": {"steps": [{"provider": "primary"}]}}, "activeChain": "%2"})")
        .arg(url, chain)
        .toUtf8();
}

bool writeAll(const QString& path, const QByteArray& bytes) {
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(bytes) == bytes.size();
}

QByteArray readAll(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// A broken edit a user might make: a chain that does not exist.
QByteArray broken(const QString& url) {
    return QByteArray(configWithChain(url, QStringLiteral("main"))).replace(R"("activeChain": "main")", R"("activeChain": "mian")");
}

ProxyHost::Options hostOptions(const QString& path) {
    ProxyHost::Options options;
    options.configPath = path;
    options.port = 0;  // any free port
    return options;
}

// Starts `host` and returns the port it listens on (0 when it did not).
quint16 listenPort(ProxyHost& host, QList<ConfigProblem>* problems) {
    QSignalSpy listening(&host, &ProxyHost::listening);
    *problems = host.start();
    if (!problems->isEmpty() || !listening.wait(5000))
        return 0;
    return listening.first().at(1).value<quint16>();
}

QString chainServing(quint16 port) {
    const ClientResponse r = request(port, "GET", "/status");
    return QString::fromUtf8(r.body).section(QStringLiteral("\"activeChain\": \""), 1).section(u'"', 0, 0);
}

}  // namespace

void TestConfigSafety::save_keepsPreviousGoodConfigAsBackup() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("understudy.json"));
    const QByteArray first = configWithChain(QStringLiteral("http://127.0.0.1:9"), QStringLiteral("first"));
    const QByteArray second = configWithChain(QStringLiteral("http://127.0.0.1:9"), QStringLiteral("second"));
    QCOMPARE(ConfigFile::save(path, first), QString());
    QVERIFY(!QFile::exists(ConfigFile::lastGoodPath(path)));  // nothing was replaced
    QCOMPARE(ConfigFile::save(path, second), QString());
    QCOMPARE(readAll(path), second);
    QCOMPARE(readAll(ConfigFile::lastGoodPath(path)), first);
}

void TestConfigSafety::save_invalid_neverReplacesFileOrBackup() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("understudy.json"));
    const QByteArray first = configWithChain(QStringLiteral("http://127.0.0.1:9"), QStringLiteral("first"));
    const QByteArray second = configWithChain(QStringLiteral("http://127.0.0.1:9"), QStringLiteral("second"));
    QCOMPARE(ConfigFile::save(path, first), QString());
    QCOMPARE(ConfigFile::save(path, second), QString());
    const QString error = ConfigFile::save(path, broken(QStringLiteral("http://127.0.0.1:9")));
    QVERIFY2(error.contains("not saved") && error.contains("$.activeChain"), qPrintable(error));
    QCOMPARE(readAll(path), second);
    QCOMPARE(readAll(ConfigFile::lastGoodPath(path)), first);
    // A broken file on disk (edited by hand) is never taken as the "previous good" one.
    QVERIFY(writeAll(path, "{ broken"));
    QCOMPARE(ConfigFile::save(path, second), QString());
    QCOMPARE(readAll(ConfigFile::lastGoodPath(path)), first);
}

void TestConfigSafety::startup_invalidFile_runsLastGood_andSaysWhatIsWrong() {
    MockUpstream primary;
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("understudy.json"));
    QVERIFY(writeAll(path, configWithChain(primary.baseUrl(), QStringLiteral("good"))));
    {
        ProxyHost first(hostOptions(path));  // a good start remembers the file as the last good config
        QList<ConfigProblem> problems;
        QVERIFY(listenPort(first, &problems) != 0);
        QVERIFY(first.startupWarning().isEmpty());
    }
    QCOMPARE(readAll(ConfigFile::lastGoodPath(path)), configWithChain(primary.baseUrl(), QStringLiteral("good")));

    const QByteArray brokenFile = broken(primary.baseUrl());
    QVERIFY(writeAll(path, brokenFile));
    ProxyHost host(hostOptions(path));
    QList<ConfigProblem> problems;
    const quint16 port = listenPort(host, &problems);
    QVERIFY2(problems.isEmpty(), problems.isEmpty() ? "" : qPrintable(problems.first().message));
    QVERIFY(port != 0);
    QCOMPARE(chainServing(port), QStringLiteral("good"));
    const QString warning = host.startupWarning();
    QVERIFY2(warning.contains(path) && warning.contains(ConfigFile::lastGoodPath(path)), qPrintable(warning));
    QVERIFY2(warning.contains("$.activeChain") && warning.contains("mian"), qPrintable(warning));
    QCOMPARE(readAll(path), brokenFile);  // the user's file is theirs to fix: never overwritten
    QCOMPARE(request(port, "POST", "/v1/messages", messagesBody(QStringLiteral("claude-test"), false)).status, 200);
}

void TestConfigSafety::startup_invalidFile_noBackup_refusesToStart() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("understudy.json"));
    QVERIFY(writeAll(path, broken(QStringLiteral("http://127.0.0.1:9"))));
    ProxyHost host(hostOptions(path));
    const QList<ConfigProblem> problems = host.start();
    QCOMPARE(problems.size(), 1);
    QCOMPARE(problems.first().path, QStringLiteral("$.activeChain"));
}

void TestConfigSafety::liveReload_invalidEdit_keepsRunningConfig_validEditApplies() {
    MockUpstream primary;
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("understudy.json"));
    QVERIFY(writeAll(path, configWithChain(primary.baseUrl(), QStringLiteral("good"))));
    ProxyHost host(hostOptions(path));
    QList<ConfigProblem> problems;
    const quint16 port = listenPort(host, &problems);
    QVERIFY(port != 0);

    QSignalSpy rejected(&host, &ProxyHost::configRejected);
    QVERIFY(writeAll(path, broken(primary.baseUrl())));
    QVERIFY(rejected.wait(5000));
    QCOMPARE(chainServing(port), QStringLiteral("good"));
    QCOMPARE(host.config()->activeChain, QStringLiteral("good"));
    QCOMPARE(request(port, "POST", "/v1/messages", messagesBody(QStringLiteral("claude-test"), false)).status, 200);

    QSignalSpy applied(&host, &ProxyHost::configApplied);
    QVERIFY(writeAll(path, configWithChain(primary.baseUrl(), QStringLiteral("better"))));
    QVERIFY(applied.wait(5000));
    QVERIFY(QTest::qWaitFor([&] { return chainServing(port) == QStringLiteral("better"); }, 5000));
    QCOMPARE(readAll(ConfigFile::lastGoodPath(path)), configWithChain(primary.baseUrl(), QStringLiteral("better")));
}

QTEST_GUILESS_MAIN(TestConfigSafety)
#include "tst_config_safety.moc"
