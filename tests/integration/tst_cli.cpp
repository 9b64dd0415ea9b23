// The command-line contract (DESIGN.md §4) on the real `understudy` binary: --version, --check-config, first run,
// headless start-up failures, live config reload and the JSON event lines on stderr. Every run gets its own
// XDG folders, so no test reads or writes the user's config or event log.
#include "support/MockUpstream.h"
#include "support/TestClient.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include "support/KeptOutput.h"

#include <QProcess>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QtTest>

using namespace understudy;
using namespace understudy::test;

class TestCli : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void version_printsVersion();
    void checkConfig_goodFile_ok();
    void checkConfig_typoKey_namesPathAndSuggestsKey();
    void checkConfig_invalidJson_givesLineAndColumn();
    void checkConfig_missingFile_exit2();
    void checkConfig_designExample_okWithWarning();

    void firstRun_createsDefaultConfig_listens_stopsOnSigterm();
    void headless_missingConfig_exit2();
    void headless_literalKey_exit2_valueNotEchoed();
    void headless_portInUse_exitsNamingPortAndFix();
    void headless_liveReload_badEditKeepsServing_goodEditApplies();
    void headless_requestEventLine_isJsonWithoutKey();

    void token_offByDefault_enableEnvDisable_keepLayout();
    void token_usageErrors_exit2();
};

namespace {

constexpr char kClientKey[] = "test-client-key-000";
constexpr char kLiteralKey[] = "sk-ant-FAKE-literal-key-for-tests-only-0000";

// Folders of a clean user account, so that each run is a first run and leaves nothing behind.
QProcessEnvironment isolated(const QTemporaryDir& home) {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("HOME"), home.filePath(QStringLiteral("home")));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), home.filePath(QStringLiteral("config")));
    env.insert(QStringLiteral("XDG_DATA_HOME"), home.filePath(QStringLiteral("data")));
    return env;
}

struct Run {
    bool finished = false;
    int exitCode = -1;
    QString out;
    QString err;
};

// Runs the binary to completion; blocking is fine here, no in-process server needs the event loop.
// What the binary printed is kept for the suite's secret scan, except for `understudy token`, whose job is to
// print the token (`printsSecret`).
Run run(const QStringList& args, const QTemporaryDir& home, int timeoutMs = 10000,
        const QList<QPair<QString, QString>>& extraEnv = {}, bool printsSecret = false) {
    QProcess process;
    QProcessEnvironment env = isolated(home);
    for (const auto& [name, value] : extraEnv)
        env.insert(name, value);
    process.setProcessEnvironment(env);
    process.start(QStringLiteral(UNDERSTUDY_BINARY), args);
    Run r;
    r.finished = process.waitForFinished(timeoutMs);
    if (!r.finished) {
        process.kill();
        process.waitForFinished(2000);
    }
    r.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    r.out = QString::fromUtf8(process.readAllStandardOutput());
    r.err = QString::fromUtf8(process.readAllStandardError());
    if (!printsSecret)
        keepOutput(QStringLiteral("cli-output"), (r.out + r.err).toUtf8());
    return r;
}

QString writeFile(const QTemporaryDir& dir, const QString& name, const QByteArray& content) {
    const QString path = dir.filePath(name);
    QFile file(path);
    if (file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        file.write(content);
    return path;
}

// A valid config whose only provider is `baseUrl`, passing the client's credential through.
QByteArray goodConfig(const QString& baseUrl = QStringLiteral("https://api.anthropic.com"),
                      const QString& activeChain = QStringLiteral("main"), const QString& failoverExtra = {}) {
    return QStringLiteral(R"({"version": 1, "listen": {"host": "127.0.0.1", "port": 8790},
        "providers": {"primary": {"type": "anthropic", "baseUrl": "%1", "auth": "client"}},
        "chains": {"main": {"steps": [{"provider": "primary"}]}, "second": {"steps": [{"provider": "primary"}]}},
        "activeChain": "%2", "failover": {"connectTimeoutMs": 1000 %3}})")
        .arg(baseUrl, activeChain, failoverExtra)
        .toUtf8();
}

// `understudy --headless …` running in the background, its stderr collected as it comes.
class Headless {
public:
    Headless(const QStringList& args, const QTemporaryDir& home) {
        m_process.setProcessEnvironment(isolated(home));
        QObject::connect(&m_process, &QProcess::readyReadStandardError, &m_process,
                         [this] { m_err += QString::fromUtf8(m_process.readAllStandardError()); });
        m_process.start(QStringLiteral(UNDERSTUDY_BINARY), QStringList{QStringLiteral("--headless")} + args);
    }
    ~Headless() {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(2000);
        }
        keepOutput(QStringLiteral("headless-stderr"), m_err.toUtf8());
    }

    const QString& err() const { return m_err; }
    bool waitForErr(const QRegularExpression& pattern, int timeoutMs = 5000) {
        return QTest::qWaitFor([&] { return pattern.match(m_err).hasMatch(); }, timeoutMs);
    }
    // The port from "listening on http://127.0.0.1:<port>", once it is printed; 0 if it never is.
    quint16 port() {
        const QRegularExpression listening(QStringLiteral("listening on http:\\/\\/127\\.0\\.0\\.1:(\\d+)"));
        if (!waitForErr(listening))
            return 0;
        return static_cast<quint16>(listening.match(m_err).captured(1).toUInt());
    }
    bool isRunning() const { return m_process.state() == QProcess::Running; }
    // SIGTERM, as a service manager stops it.
    bool terminate(int timeoutMs = 5000) {
        m_process.terminate();
        return QTest::qWaitFor([&] { return m_process.state() == QProcess::NotRunning; }, timeoutMs);
    }
    QProcess& process() { return m_process; }

private:
    QProcess m_process;
    QString m_err;
};

// A whole JSON event line on stderr of `type` that contains `fragment`.
QRegularExpression eventLine(const QString& type, const QString& fragment) {
    return QRegularExpression(QStringLiteral("^(?=.*\"type\":\"%1\")(?=.*%2)\\{.*\\}$")
                                  .arg(QRegularExpression::escape(type), QRegularExpression::escape(fragment)),
                              QRegularExpression::MultilineOption);
}

}  // namespace

void TestCli::version_printsVersion() {
    QTemporaryDir home;
    const Run r = run({QStringLiteral("--version")}, home);
    QVERIFY(r.finished);
    QCOMPARE(r.exitCode, 0);
    QCOMPARE(r.out.trimmed(), QStringLiteral("understudy 0.1.0"));
}

void TestCli::checkConfig_goodFile_ok() {
    QTemporaryDir home;
    const QString path = writeFile(home, QStringLiteral("good.json"), goodConfig());
    const Run r = run({QStringLiteral("--check-config"), path}, home);
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.contains(QStringLiteral("OK")), qPrintable(r.out));
    QVERIFY2(r.err.isEmpty(), qPrintable(r.err));  // nothing to warn about
}

void TestCli::checkConfig_typoKey_namesPathAndSuggestsKey() {
    QTemporaryDir home;
    const QString path = writeFile(home, QStringLiteral("typo.json"),
                               goodConfig({}, QStringLiteral("main"), QStringLiteral(R"(, "triggerOnStatusCode": [529])")));
    const Run r = run({QStringLiteral("--check-config"), path}, home);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(QStringLiteral("$.failover.triggerOnStatusCode")), qPrintable(r.err));
    QVERIFY2(r.err.contains(QStringLiteral("did you mean \"triggerOnStatusCodes\"")), qPrintable(r.err));
    QVERIFY(!r.out.contains(QStringLiteral("OK")));
}

void TestCli::checkConfig_invalidJson_givesLineAndColumn() {
    QTemporaryDir home;
    const QString path = writeFile(home, QStringLiteral("broken.json"), "{\n  \"version\": 1,\n  \"listen\": }\n");
    const Run r = run({QStringLiteral("--check-config"), path}, home);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(QRegularExpression(QStringLiteral("invalid JSON at line 3, column \\d+")).match(r.err).hasMatch(), qPrintable(r.err));
}

void TestCli::checkConfig_missingFile_exit2() {
    QTemporaryDir home;
    const QString path = home.filePath(QStringLiteral("no-such-config.json"));
    const Run r = run({QStringLiteral("--check-config"), path}, home);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(path) && r.err.contains(QStringLiteral("cannot read")), qPrintable(r.err));
    QVERIFY(!QFile::exists(path));  // checking never creates
}

void TestCli::checkConfig_designExample_okWithWarning() {
    QTemporaryDir home;
    const Run r = run({QStringLiteral("--check-config"), QFINDTESTDATA("../data/config/design-example.json")}, home);
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.contains(QStringLiteral("OK")), qPrintable(r.out));
    // "clients": {"codex": "codex-first"} names a chain the example does not define: valid, but worth a word.
    const QRegularExpression warning(QStringLiteral("^.*warning.*codex-first.*$"), QRegularExpression::MultilineOption);
    QVERIFY2(warning.match(r.err).hasMatch(), qPrintable(r.err));
}

void TestCli::firstRun_createsDefaultConfig_listens_stopsOnSigterm() {
    QTemporaryDir home;
    const QString created = home.filePath(QStringLiteral("config/understudy/understudy.json"));
    QVERIFY(!QFile::exists(created));
    Headless understudy({QStringLiteral("--port"), QStringLiteral("0")}, home);
    const quint16 port = understudy.port();
    QVERIFY2(port != 0, qPrintable(understudy.err()));
    QVERIFY(QFile::exists(created));

    const ClientResponse health = request(port, "GET", "/healthz");
    QCOMPARE(health.status, 200);
    QCOMPARE(QJsonDocument::fromJson(health.body).object().value("status").toString(), QStringLiteral("ok"));

    const Run check = run({QStringLiteral("--check-config"), created}, home);
    QCOMPARE(check.exitCode, 0);

    QVERIFY(understudy.terminate());
    QCOMPARE(understudy.process().exitStatus(), QProcess::NormalExit);
    QCOMPARE(understudy.process().exitCode(), 0);
}

void TestCli::headless_missingConfig_exit2() {
    QTemporaryDir home;
    const QString path = home.filePath(QStringLiteral("missing.json"));
    const Run r = run({QStringLiteral("--headless"), QStringLiteral("--config"), path}, home);
    QVERIFY(r.finished);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(path) && r.err.contains(QStringLiteral("cannot read")), qPrintable(r.err));
    QVERIFY(!QFile::exists(path));  // an explicit --config is never replaced by a default
}

void TestCli::headless_literalKey_exit2_valueNotEchoed() {
    QTemporaryDir home;
    QByteArray config = goodConfig();
    config.replace(R"("auth": "client")", QByteArray(R"("apiKey": ")") + kLiteralKey + '"');
    const QString path = writeFile(home, QStringLiteral("literal.json"), config);

    const Run headless = run({QStringLiteral("--headless"), QStringLiteral("--config"), path}, home);
    QCOMPARE(headless.exitCode, 2);
    QVERIFY2(headless.err.contains(QStringLiteral("$.providers.primary.apiKey")), qPrintable(headless.err));
    QVERIFY(!headless.err.contains(kLiteralKey));
    QVERIFY(!headless.out.contains(kLiteralKey));

    const Run check = run({QStringLiteral("--check-config"), path}, home);
    QCOMPARE(check.exitCode, 2);
    QVERIFY(!check.err.contains(kLiteralKey));
    QVERIFY(!check.out.contains(kLiteralKey));
}

void TestCli::headless_portInUse_exitsNamingPortAndFix() {
    QTemporaryDir home;
    QTcpServer occupant;
    QVERIFY(occupant.listen(QHostAddress::LocalHost, 0));
    const QString port = QString::number(occupant.serverPort());
    const QString path = writeFile(home, QStringLiteral("good.json"), goodConfig());
    const Run r = run({QStringLiteral("--headless"), QStringLiteral("--config"), path, QStringLiteral("--port"), port}, home, 5000);
    QVERIFY2(r.finished, "understudy kept running on a port it could not listen on");
    QVERIFY(r.exitCode != 0);
    QVERIFY2(r.err.contains(QStringLiteral("127.0.0.1:") + port), qPrintable(r.err));
    QVERIFY2(r.err.contains(QStringLiteral("--port")), qPrintable(r.err));  // and how to get out of it
}

void TestCli::headless_liveReload_badEditKeepsServing_goodEditApplies() {
    QTemporaryDir home;
    const QString path = writeFile(home, QStringLiteral("understudy.json"), goodConfig());
    Headless understudy({QStringLiteral("--config"), path, QStringLiteral("--port"), QStringLiteral("0")}, home);
    const quint16 port = understudy.port();
    QVERIFY2(port != 0, qPrintable(understudy.err()));

    writeFile(home, QStringLiteral("understudy.json"), "{\"version\": 1, \"providers\": {");  // an editor mid-save
    QVERIFY2(understudy.waitForErr(eventLine(QStringLiteral("config"), QStringLiteral("\"ok\":false"))), qPrintable(understudy.err()));
    QCOMPARE(request(port, "GET", "/healthz").status, 200);
    QCOMPARE(QJsonDocument::fromJson(request(port, "GET", "/status").body).object().value("activeChain").toString(),
             QStringLiteral("main"));

    writeFile(home, QStringLiteral("understudy.json"), goodConfig(QStringLiteral("https://api.anthropic.com"), QStringLiteral("second")));
    QVERIFY2(understudy.waitForErr(eventLine(QStringLiteral("config"), QStringLiteral("\"ok\":true"))), qPrintable(understudy.err()));
    QVERIFY(QTest::qWaitFor([&] {
        return QJsonDocument::fromJson(request(port, "GET", "/status").body).object().value("activeChain").toString()
               == QLatin1String("second");
    }, 3000));
    QVERIFY(understudy.isRunning());
}

void TestCli::headless_requestEventLine_isJsonWithoutKey() {
    QTemporaryDir home;
    MockUpstream upstream;
    upstream.setDefault(anthropicMessage(QStringLiteral("hello")));
    const QString path = writeFile(home, QStringLiteral("understudy.json"), goodConfig(upstream.baseUrl()));
    Headless understudy({QStringLiteral("--config"), path, QStringLiteral("--port"), QStringLiteral("0")}, home);
    const quint16 port = understudy.port();
    QVERIFY2(port != 0, qPrintable(understudy.err()));

    http::Headers headers;
    headers.set("x-api-key", kClientKey);
    headers.set("anthropic-version", "2023-06-01");
    const ClientResponse r = request(port, "POST", "/v1/messages", messagesBody(QStringLiteral("claude-test"), false), headers);
    QCOMPARE(r.status, 200);
    QCOMPARE(upstream.requests().first().headers.value("x-api-key"), QByteArray(kClientKey));  // it was sent, so it was seen
    QVERIFY2(understudy.waitForErr(eventLine(QStringLiteral("request"), QStringLiteral("\"status\":200"))), qPrintable(understudy.err()));

    // Every stderr line is either the program speaking ("understudy: …") or one whole JSON event.
    int events = 0;
    for (const QString& line : understudy.err().split(u'\n', Qt::SkipEmptyParts)) {
        if (line.startsWith(QLatin1String("understudy: ")))
            continue;
        QJsonParseError error;
        const QJsonDocument event = QJsonDocument::fromJson(line.toUtf8(), &error);
        QVERIFY2(error.error == QJsonParseError::NoError && event.isObject(), qPrintable(line));
        QVERIFY2(!event.object().value("type").toString().isEmpty(), qPrintable(line));
        ++events;
    }
    QVERIFY(events >= 1);
    QVERIFY(!understudy.err().contains(kClientKey));

    // The same events go to the log in the app data folder (flushed shortly after), just as clean.
    QFile log(home.filePath(QStringLiteral("data/understudy/events.jsonl")));
    QByteArray logged;
    QVERIFY2(QTest::qWaitFor([&] {
        log.close();
        logged = log.open(QIODevice::ReadOnly) ? log.readAll() : QByteArray();
        return logged.contains("\"type\":\"request\"");
    }, 3000), qPrintable(log.fileName()));
    QVERIFY(!logged.contains(kClientKey));
}

// A first-run default config requires no token (headless and plain requests just work); `--enable --env NAME`
// turns it on with the token in an environment variable (no keychain needed), writing only the reference and
// leaving the rest of the file byte for byte; `--disable` takes the reference out again.
void TestCli::token_offByDefault_enableEnvDisable_keepLayout() {
    QTemporaryDir home;
    const Run none = run({"token"}, home);
    QCOMPARE(none.exitCode, 1);
    QVERIFY2(none.err.contains(QStringLiteral("requires no access token")) && none.err.contains(QStringLiteral("--enable")),
             qPrintable(none.err));

    const QList<QPair<QString, QString>> tokenEnv{{QStringLiteral("UNDERSTUDY_IT_TOKEN"),
                                                   QStringLiteral("tok-fake-secret-cli-0005")}};
    const Run unset = run({"token", "--enable", "--env", "UNDERSTUDY_IT_TOKEN"}, home);
    QCOMPARE(unset.exitCode, 1);
    QVERIFY2(unset.err.contains(QStringLiteral("UNDERSTUDY_IT_TOKEN, which is not set"))
                 && unset.err.contains(QStringLiteral("export UNDERSTUDY_IT_TOKEN=$(understudy token --new)")),
             qPrintable(unset.err));

    const QByteArray hand = "{\n\t\"version\": 1,\n\t\"listen\": { \"host\": \"127.0.0.1\", \"port\": 8790 },\n"
                            "\t\"providers\": { \"primary\": { \"type\": \"anthropic\", \"baseUrl\": \"https://api.anthropic.com\", \"auth\": \"client\" } },\n"
                            "\t\"chains\": { \"main\": { \"steps\": [ { \"provider\": \"primary\" } ] } },\n"
                            "\t\"activeChain\": \"main\"\n}\n";
    const QString config = writeFile(home, QStringLiteral("hand.json"), hand);
    const Run enabled = run({"token", "--enable", "--env", "UNDERSTUDY_IT_TOKEN", "--config", config}, home, 10000, tokenEnv);
    QVERIFY2(enabled.exitCode == 0, qPrintable(enabled.err));
    QVERIFY2(enabled.out.contains(QStringLiteral("\"accessToken\": \"env:UNDERSTUDY_IT_TOKEN\"")), qPrintable(enabled.out));
    QFile file(config);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), QByteArray(hand).replace("\"port\": 8790 }", "\"port\": 8790, \"accessToken\": \"env:UNDERSTUDY_IT_TOKEN\" }"));
    file.close();
    const Run printed = run({"token", "--config", config}, home, 10000, tokenEnv, true);
    QCOMPARE(printed.out, QStringLiteral("tok-fake-secret-cli-0005\n"));
    QVERIFY(!(enabled.out + enabled.err).contains(QStringLiteral("tok-fake-secret")));

    const Run disabled = run({"token", "--disable", "--config", config}, home);
    QVERIFY2(disabled.exitCode == 0 && disabled.out.contains(QStringLiteral("no longer requires")), qPrintable(disabled.err));
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), hand);
    file.close();
    QVERIFY(run({"token", "--disable", "--config", config}, home).out.contains(QStringLiteral("requires no access token already")));

    // Off loopback the token is what keeps the network out: the config refuses to go without it.
    QByteArray open = hand;
    open.replace("\"host\": \"127.0.0.1\", \"port\": 8790", "\"host\": \"0.0.0.0\", \"port\": 8790, \"accessToken\": \"env:UNDERSTUDY_IT_TOKEN\"");
    const QString exposed = writeFile(home, QStringLiteral("exposed.json"), open);
    const Run refused = run({"token", "--disable", "--config", exposed}, home);
    QCOMPARE(refused.exitCode, 1);
    QVERIFY2(refused.err.contains(QStringLiteral("$.listen.host")), qPrintable(refused.err));
    QFile exposedFile(exposed);
    QVERIFY(exposedFile.open(QIODevice::ReadOnly));
    QCOMPARE(exposedFile.readAll(), open);
}

void TestCli::token_usageErrors_exit2() {
    QTemporaryDir home;
    for (const QStringList& args : {QStringList{"token", "--enable", "--disable"}, QStringList{"token", "--env", "X"},
                                    QStringList{"token", "--new", "--enable"}, QStringList{"token", "extra"},
                                    QStringList{"token", "--enable", "--env", "not a name"}}) {
        const Run r = run(args, home);
        QVERIFY2(r.exitCode == 2, qPrintable(args.join(u' ') + u'\n' + r.err));
        QVERIFY2(r.err.contains(QStringLiteral("understudy token")), qPrintable(r.err));
    }
    const Run fresh = run({"token", "--new"}, home);
    QCOMPARE(fresh.exitCode, 0);
    QCOMPARE(fresh.out.trimmed().size(), 43);
    QVERIFY(fresh.out != run({"token", "--new"}, home).out);
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
