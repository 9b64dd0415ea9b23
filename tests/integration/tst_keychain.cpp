// Keys in the OS keychain, end to end against a real Secret Service: keychain_session.sh runs this inside a
// private D-Bus session with a throw-away, unlocked GNOME Keyring. The binary stores a key with `understudy keys
// set`, the headless proxy reads it and a mock upstream checks it arrives in the right header; with no session bus
// every command says so and how to use env: instead. No secret may appear in any output (CTest also fails the
// run if the fake secrets show up in this test's own output).
#include "support/KeptOutput.h"
#include "support/MockUpstream.h"
#include "support/TestClient.h"

#include <QJsonDocument>
#include <QJsonObject>
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
    void tokenEnable_generatedIntoTheKeychain_requiredAndGivenToClients();
    void tokenEnable_noSecretService_configUnchanged();
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
    // `understudy connect` edits the clients' settings under HOME, and the default config lives under XDG_CONFIG_HOME.
    env.insert(QStringLiteral("HOME"), scratch.filePath(QStringLiteral("home")));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), scratch.filePath(QStringLiteral("config")));
    env.remove(QStringLiteral("CODEX_HOME"));
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
    keepOutput(QStringLiteral("keychain-cli-output"), (r.out + r.err).toUtf8());
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
        keepOutput(QStringLiteral("headless-stderr"), m_err.toUtf8());
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

QByteArray contentOf(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray("<missing>");
}

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

// `understudy token --enable` makes a token, keeps it in the keychain and puts only its reference in the config;
// the headless proxy then requires it, `understudy connect` writes it into Claude Code, and `--disable` turns it
// off again without losing it.
void TestKeychain::tokenEnable_generatedIntoTheKeychain_requiredAndGivenToClients() {
    QTemporaryDir scratch;
    QVERIFY(QDir().mkpath(scratch.filePath(QStringLiteral("home/.claude"))));
    MockUpstream upstream;
    upstream.setDefault(anthropicMessage(QStringLiteral("hello")));
    const QString config = writeConfig(scratch, QStringLiteral(R"({"version": 1, "listen": {"host": "127.0.0.1", "port": 8790},
        "providers": {"mock": {"type": "anthropic", "baseUrl": "%1", "auth": "client"}},
        "chains": {"main": {"steps": [{"provider": "mock"}]}}, "activeChain": "main"})")
                                                       .arg(upstream.baseUrl())
                                                       .toUtf8());
    const QStringList withConfig{QStringLiteral("--config"), config};
    QString everything;  // all the commands printed but `understudy token`, searched for the token at the end

    const Run enabled = runUnderstudy(QStringList{"token", "--enable"} + withConfig, scratch);
    everything += enabled.out + enabled.err;
    QVERIFY2(enabled.exitCode == 0, qPrintable(describe(enabled)));
    const QByteArray document = contentOf(config);
    QVERIFY2(document.contains(R"("listen": {"host": "127.0.0.1", "port": 8790, "accessToken": "keychain:access-token"},)"),
             document.constData());
    const Run printed = runUnderstudy(QStringList{"token"} + withConfig, scratch);
    QVERIFY2(printed.exitCode == 0, qPrintable(describe(printed)));
    const QByteArray token = printed.out.trimmed().toUtf8();
    QCOMPARE(token.size(), 43);  // 256 bits, URL-safe base64
    QVERIFY(!document.contains(token));
    const Run listed = runUnderstudy({"keys", "list"}, scratch);
    QVERIFY2(lines(listed.out).contains(QStringLiteral("access-token")), qPrintable(describe(listed)));

    {
        Headless proxy(config, scratch);
        const quint16 port = proxy.port();
        QVERIFY2(port != 0, qPrintable(proxy.err()));
        http::Headers headers;
        headers.set("anthropic-version", "2023-06-01");
        headers.set("x-api-key", "kc-fake-secret-client-0003");
        const ClientResponse refused = request(port, "POST", "/v1/messages", messagesBody("claude-test", false), headers);
        QCOMPARE(refused.status, 401);
        QCOMPARE(upstream.hits(), 0);

        const Run connected = runUnderstudy(QStringList{"connect", "claude-code", "--url",
                                                        QStringLiteral("http://127.0.0.1:%1").arg(port)} + withConfig,
                                            scratch);
        everything += connected.out + connected.err;
        QVERIFY2(connected.exitCode == 0 && connected.out.contains(QStringLiteral("with the access token")),
                 qPrintable(describe(connected)));
        QFile settings(scratch.filePath(QStringLiteral("home/.claude/settings.json")));
        QVERIFY(settings.open(QIODevice::ReadOnly));
        const QJsonObject env = QJsonDocument::fromJson(settings.readAll()).object().value("env").toObject();
        const QString line = env.value("ANTHROPIC_CUSTOM_HEADERS").toString();
        QCOMPARE(line, QStringLiteral("x-understudy-token: ") + QString::fromUtf8(token));
        headers.set("x-understudy-token", line.section(u':', 1).trimmed().toUtf8());
        const ClientResponse served = request(port, "POST", "/v1/messages", messagesBody("claude-test", false), headers);
        QCOMPARE(served.status, 200);
        QCOMPARE(upstream.hits(), 1);
        QVERIFY(!upstream.requests().at(0).headers.contains("x-understudy-token"));
        everything += proxy.err();
    }

    // Enabling again keeps the token and gives it to the clients connect had connected.
    const Run again = runUnderstudy(QStringList{"token", "--enable"} + withConfig, scratch);
    everything += again.out + again.err;
    QVERIFY2(again.exitCode == 0 && again.out.contains(QStringLiteral("already requires an access token")),
             qPrintable(describe(again)));
    QVERIFY2(again.out.contains(QStringLiteral("Claude Code: ")), qPrintable(describe(again)));
    QCOMPARE(runUnderstudy(QStringList{"token"} + withConfig, scratch).out.trimmed().toUtf8(), token);

    const Run disabled = runUnderstudy(QStringList{"token", "--disable"} + withConfig, scratch);
    everything += disabled.out + disabled.err;
    QVERIFY2(disabled.exitCode == 0, qPrintable(describe(disabled)));
    QCOMPARE(contentOf(config), QByteArray(document).replace(R"(, "accessToken": "keychain:access-token")", ""));
    const Run reenabled = runUnderstudy(QStringList{"token", "--enable"} + withConfig, scratch);
    everything += reenabled.out + reenabled.err;
    QCOMPARE(runUnderstudy(QStringList{"token"} + withConfig, scratch).out.trimmed().toUtf8(), token);

    QCOMPARE(runUnderstudy({"connect", "claude-code", "--undo"}, scratch).exitCode, 0);
    QCOMPARE(runUnderstudy({"keys", "delete", "access-token"}, scratch).exitCode, 0);
    QFile log(scratch.filePath(QStringLiteral("data/understudy/events.jsonl")));
    if (log.open(QIODevice::ReadOnly))
        everything += QString::fromUtf8(log.readAll());
    QVERIFY2(!everything.contains(QString::fromUtf8(token)), "the token appeared in an output or the event log");
}

void TestKeychain::tokenEnable_noSecretService_configUnchanged() {
    QTemporaryDir scratch;
    QVERIFY(QDir(scratch.path()).mkdir(QStringLiteral("no-bus")));
    const QByteArray document = R"({"version": 1, "listen": {"host": "127.0.0.1", "port": 8790},
        "providers": {"anthropic": {"type": "anthropic", "baseUrl": "https://api.anthropic.com", "auth": "client"}},
        "chains": {"main": {"steps": [{"provider": "anthropic"}]}}, "activeChain": "main"})";
    const QString config = writeConfig(scratch, document);
    const Run enabled = runUnderstudy({"token", "--enable", "--config", config}, scratch, {}, false);
    QCOMPARE(enabled.exitCode, 1);
    QVERIFY2(enabled.err.contains(QStringLiteral("no OS keychain is reachable"))
                 && enabled.err.contains(QStringLiteral("understudy token --enable --env UNDERSTUDY_TOKEN"))
                 && enabled.err.contains(QStringLiteral("was not changed")),
             qPrintable(describe(enabled)));
    QCOMPARE(contentOf(config), document);
    // The default config of a machine without a keychain keeps working: no token is required by default.
    Headless proxy(config, scratch, false);
    QVERIFY2(proxy.port() != 0, qPrintable(proxy.err()));
    QCOMPARE(request(proxy.port(), "GET", "/status").status, 200);
}

QTEST_GUILESS_MAIN(TestKeychain)
#include "tst_keychain.moc"
