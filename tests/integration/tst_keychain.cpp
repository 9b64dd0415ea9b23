// Keys in the OS keychain, end to end against a real Secret Service: keychain_session.sh runs this inside a
// private D-Bus session with a throw-away, unlocked GNOME Keyring. The binary stores a key with `understudy keys
// set`, the headless proxy reads it and a mock upstream checks it arrives in the right header; with no session bus
// every command says so and how to use env: instead. No secret may appear in any output (CTest also fails the
// run if the fake secrets show up in this test's own output).
#include "support/MockUpstream.h"
#include "support/TestClient.h"

#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

using namespace understudy;
using namespace understudy::test;

class TestKeychain : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void roundTrip_setListUseDelete();
    void terminal_secretIsNotEchoed();
    void missingEntry_namedWhenTheConfigLoads();
    void noSecretService_saysSoAndPointsToEnv();
};

namespace {

// Fake secrets: nothing like a real key; CTest's FAIL_REGULAR_EXPRESSION looks for "kc-fake-secret".
constexpr char kZaiSecret[] = "kc-fake-secret-zai-0001";
constexpr char kRouterSecret[] = "kc-fake-secret-router-0002";

struct Run {
    int exitCode = -1;
    QString out;
    QString err;
};

// The environment of this test's private session, or one with no session bus at all.
QProcessEnvironment environment(bool withSessionBus, const QTemporaryDir& scratch) {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    if (!withSessionBus) {
        // With no bus address and no display, D-Bus cannot be auto-started either: a headless server.
        env.remove(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"));
        env.remove(QStringLiteral("DISPLAY"));
        env.remove(QStringLiteral("WAYLAND_DISPLAY"));
        env.insert(QStringLiteral("XDG_RUNTIME_DIR"), scratch.filePath(QStringLiteral("no-bus")));
    }
    env.insert(QStringLiteral("XDG_DATA_HOME"), scratch.filePath(QStringLiteral("data")));
    return env;
}

Run runUnderstudy(const QStringList& args, const QTemporaryDir& scratch, const QByteArray& input = {},
               bool withSessionBus = true) {
    QProcess process;
    process.setProcessEnvironment(environment(withSessionBus, scratch));
    process.start(QStringLiteral(UNDERSTUDY_BINARY), args);
    process.write(input);
    process.closeWriteChannel();
    Run r;
    if (!process.waitForFinished(60000)) {
        process.kill();
        process.waitForFinished(2000);
    }
    r.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    r.out = QString::fromUtf8(process.readAllStandardOutput());
    r.err = QString::fromUtf8(process.readAllStandardError());
    return r;
}

QString describe(const Run& r) { return QStringLiteral("exit %1\nstdout: %2\nstderr: %3").arg(r.exitCode).arg(r.out, r.err); }

QString writeConfig(const QTemporaryDir& dir, const QByteArray& content) {
    const QString path = dir.filePath(QStringLiteral("understudy.json"));
    QFile file(path);
    if (file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        file.write(content);
    return path;
}

// An Anthropic-dialect provider and an OpenAI-dialect one, both keyed from the keychain, on the mock.
QByteArray keychainConfig(const QString& baseUrl, const QString& zaiEntry, const QString& routerEntry) {
    return QStringLiteral(R"({"version": 1, "listen": {"host": "127.0.0.1", "port": 8790},
        "providers": {
          "zai": {"type": "anthropic", "baseUrl": "%1", "apiKey": "keychain:%2"},
          "router": {"type": "openai-chat", "baseUrl": "%1", "apiKey": "keychain:%3"}},
        "chains": {"main": {"steps": [{"provider": "zai"}]}, "router": {"steps": [{"provider": "router"}]}},
        "activeChain": "main"})")
        .arg(baseUrl, zaiEntry, routerEntry)
        .toUtf8();
}

// `understudy --headless` in the background, its stderr collected as it comes.
class Headless {
public:
    Headless(const QString& config, const QTemporaryDir& scratch, bool withSessionBus = true) {
        m_process.setProcessEnvironment(environment(withSessionBus, scratch));
        QObject::connect(&m_process, &QProcess::readyReadStandardError, &m_process,
                         [this] { m_err += QString::fromUtf8(m_process.readAllStandardError()); });
        m_process.start(QStringLiteral(UNDERSTUDY_BINARY),
                        {QStringLiteral("--headless"), QStringLiteral("--config"), config, QStringLiteral("--port"),
                         QStringLiteral("0")});
    }
    ~Headless() {
        m_process.terminate();
        if (!m_process.waitForFinished(5000))
            m_process.kill();
        m_process.waitForFinished(2000);
    }
    const QString& err() const { return m_err; }
    bool waitForErr(const QString& fragment, int timeoutMs = 30000) {
        return QTest::qWaitFor([&] { return m_err.contains(fragment); }, timeoutMs);
    }
    quint16 port() {
        const QRegularExpression listening(QStringLiteral("listening on http:\\/\\/127\\.0\\.0\\.1:(\\d+)"));
        if (!QTest::qWaitFor([&] { return listening.match(m_err).hasMatch(); }, 30000))
            return 0;
        return static_cast<quint16>(listening.match(m_err).captured(1).toUInt());
    }

private:
    QProcess m_process;
    QString m_err;
};

QStringList lines(const QString& text) { return text.split(QLatin1Char('\n'), Qt::SkipEmptyParts); }

}  // namespace

void TestKeychain::roundTrip_setListUseDelete() {
    QTemporaryDir scratch;
    QString everything;  // all the binary printed, searched for the secrets at the end

    const Run setZai = runUnderstudy({"keys", "set", "it-zai"}, scratch, QByteArray(kZaiSecret) + "\n");
    everything += setZai.out + setZai.err;
    QVERIFY2(setZai.exitCode == 0, qPrintable(describe(setZai)));
    QVERIFY(setZai.out.contains(QStringLiteral("keychain:it-zai")));
    const Run setRouter = runUnderstudy({"keys", "set", "it-router"}, scratch, QByteArray(kRouterSecret));
    everything += setRouter.out + setRouter.err;
    QVERIFY2(setRouter.exitCode == 0, qPrintable(describe(setRouter)));

    const Run listed = runUnderstudy({"keys", "list"}, scratch);
    everything += listed.out + listed.err;
    QVERIFY2(listed.exitCode == 0, qPrintable(describe(listed)));
    QCOMPARE(lines(listed.out), (QStringList{QStringLiteral("it-router"), QStringLiteral("it-zai")}));

    {
        MockUpstream upstream;
        upstream.setDefault(anthropicMessage(QStringLiteral("hello")));
        Headless proxy(writeConfig(scratch, keychainConfig(upstream.baseUrl(), "it-zai", "it-router")), scratch);
        const quint16 port = proxy.port();
        QVERIFY2(port != 0, qPrintable(proxy.err()));

        http::Headers headers;
        headers.set("anthropic-version", "2023-06-01");
        const ClientResponse viaAnthropic =
            request(port, "POST", "/v1/messages", messagesBody(QStringLiteral("glm-5"), false), headers);
        QCOMPARE(viaAnthropic.status, 200);
        QCOMPARE(upstream.hits(), 1);
        // The trailing newline `keys set` was given is not part of the key.
        QVERIFY(upstream.requests().at(0).headers.value("x-api-key") == QByteArray(kZaiSecret));
        QVERIFY(upstream.requests().at(0).headers.value("authorization").isEmpty());

        upstream.setDefault(openAIChat(QStringLiteral("hello")));
        const ClientResponse viaChat =
            request(port, "POST", "/chains/router/v1/messages", messagesBody(QStringLiteral("qwen"), false), headers);
        QCOMPARE(viaChat.status, 200);
        QCOMPARE(upstream.hits(), 2);
        QVERIFY(upstream.requests().at(1).headers.value("authorization") == "Bearer " + QByteArray(kRouterSecret));
        QVERIFY(upstream.requests().at(1).headers.value("x-api-key").isEmpty());
        everything += proxy.err() + QString::fromUtf8(viaAnthropic.body) + QString::fromUtf8(viaChat.body);
    }

    for (const char* name : {"it-zai", "it-router"}) {
        const Run deleted = runUnderstudy({"keys", "delete", name}, scratch);
        everything += deleted.out + deleted.err;
        QVERIFY2(deleted.exitCode == 0, qPrintable(describe(deleted)));
    }
    const Run empty = runUnderstudy({"keys", "list"}, scratch);
    QVERIFY2(empty.exitCode == 0 && empty.out.isEmpty(), qPrintable(describe(empty)));
    const Run again = runUnderstudy({"keys", "delete", "it-zai"}, scratch);
    QCOMPARE(again.exitCode, 1);
    QVERIFY2(again.err.contains(QStringLiteral("keychain entry 'it-zai' does not exist")), qPrintable(again.err));

    QFile log(scratch.filePath(QStringLiteral("data/understudy/events.jsonl")));
    if (log.open(QIODevice::ReadOnly))
        everything += QString::fromUtf8(log.readAll());
    QVERIFY(!everything.isEmpty());
    QVERIFY2(!everything.contains(QLatin1String(kZaiSecret)) && !everything.contains(QLatin1String(kRouterSecret)),
             "a secret appeared in the output or the event log");
}

void TestKeychain::terminal_secretIsNotEchoed() {
    // `script` gives the command a terminal; whatever the terminal echoes comes back in its output.
    const QString script = QStandardPaths::findExecutable(QStringLiteral("script"));
    if (script.isEmpty())
        QSKIP("script (util-linux) is not installed: no terminal to test with");
    QTemporaryDir scratch;
    QProcess terminal;
    terminal.setProcessEnvironment(environment(true, scratch));
    terminal.start(script, {QStringLiteral("-qec"), QStringLiteral(UNDERSTUDY_BINARY " keys set it-tty"),
                            QStringLiteral("/dev/null")});
    QString screen;
    QObject::connect(&terminal, &QProcess::readyReadStandardOutput, &terminal,
                     [&] { screen += QString::fromUtf8(terminal.readAllStandardOutput()); });
    // Typed only once asked: the prompt appears after echo is off, and input typed earlier would be discarded.
    QVERIFY2(QTest::qWaitFor([&] { return screen.contains(QStringLiteral("not shown as you type")); }, 30000),
             qPrintable(screen));
    terminal.write(QByteArray(kZaiSecret) + "\r");
    QVERIFY(QTest::qWaitFor([&] { return terminal.state() == QProcess::NotRunning; }, 30000));
    screen += QString::fromUtf8(terminal.readAllStandardOutput());
    QCOMPARE(terminal.exitCode(), 0);
    QVERIFY2(screen.contains(QStringLiteral("Stored 'it-tty'")), qPrintable(screen));
    QVERIFY2(!screen.contains(QLatin1String(kZaiSecret)), "the secret was echoed");

    const Run listed = runUnderstudy({"keys", "list"}, scratch);
    QVERIFY2(lines(listed.out).contains(QStringLiteral("it-tty")), qPrintable(describe(listed)));
    QCOMPARE(runUnderstudy({"keys", "delete", "it-tty"}, scratch).exitCode, 0);
}

void TestKeychain::missingEntry_namedWhenTheConfigLoads() {
    QTemporaryDir scratch;
    MockUpstream upstream;
    upstream.setDefault(anthropicMessage(QStringLiteral("hello")));
    Headless proxy(writeConfig(scratch, keychainConfig(upstream.baseUrl(), "it-absent", "it-absent-too")), scratch);
    QVERIFY2(proxy.port() != 0, qPrintable(proxy.err()));
    QVERIFY2(proxy.waitForErr(QStringLiteral("provider 'zai': apiKey refers to keychain entry 'it-absent', which does "
                                             "not exist; add it with: understudy keys set it-absent")),
             qPrintable(proxy.err()));

    // A request does not reach the provider without its key; the client is told why.
    http::Headers headers;
    headers.set("anthropic-version", "2023-06-01");
    const ClientResponse r = request(proxy.port(), "POST", "/v1/messages", messagesBody(QStringLiteral("glm-5"), false),
                                     headers);
    QVERIFY(r.status >= 500);
    QCOMPARE(upstream.hits(), 0);
    QVERIFY2(r.body.contains("keychain entry 'it-absent', which does not exist"), r.body.constData());
}

void TestKeychain::noSecretService_saysSoAndPointsToEnv() {
    QTemporaryDir scratch;
    QVERIFY(QDir(scratch.path()).mkdir(QStringLiteral("no-bus")));
    const QString noKeychain = QStringLiteral("no OS keychain is reachable");

    const Run listed = runUnderstudy({"keys", "list"}, scratch, {}, false);
    QCOMPARE(listed.exitCode, 1);
    QVERIFY2(listed.err.contains(noKeychain) && listed.err.contains(QStringLiteral("\"env:NAME\"")),
             qPrintable(describe(listed)));

    const Run set = runUnderstudy({"keys", "set", "it-zai"}, scratch, QByteArray(kZaiSecret), false);
    QCOMPARE(set.exitCode, 1);
    QVERIFY2(set.err.contains(noKeychain), qPrintable(describe(set)));
    QVERIFY(!set.out.contains(QLatin1String(kZaiSecret)) && !set.err.contains(QLatin1String(kZaiSecret)));

    // The proxy still serves (other steps may need no keychain) and says why this provider cannot.
    MockUpstream upstream;
    Headless proxy(writeConfig(scratch, keychainConfig(upstream.baseUrl(), "it-zai", "it-router")), scratch, false);
    QVERIFY2(proxy.port() != 0, qPrintable(proxy.err()));
    QVERIFY2(proxy.waitForErr(QStringLiteral("provider 'zai': apiKey refers to keychain entry 'it-zai', but no OS "
                                             "keychain is reachable")),
             qPrintable(proxy.err()));
    QVERIFY(proxy.err().contains(QStringLiteral("env:NAME")));
}

QTEST_GUILESS_MAIN(TestKeychain)
#include "tst_keychain.moc"
