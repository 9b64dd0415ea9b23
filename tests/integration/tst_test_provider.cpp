// `understudy test-provider ID`: the real binary makes one minimal request to a mock provider with the key from
// the config's reference and reports OK or the provider's own error; the key never appears in its output (CTest
// also fails the run if it shows up in this test's output).
#include "support/MockUpstream.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

using namespace understudy;
using namespace understudy::test;

class TestTestProvider : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void answers_okWithModelAndLatency();
    void openAIChat_sendsBearerAndChainModel();
    void rejectedKey_showsProvidersMessage();
    void unknownProvider_listsTheConfiguredOnes();
};

namespace {

constexpr char kKey[] = "probe-fake-key-0001";

struct Run {
    int exitCode = -1;
    QString out;
    QString err;
};

// Runs the binary while this thread's event loop keeps serving the mock upstream.
Run testProvider(const QStringList& args) {
    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("UNDERSTUDY_PROBE_KEY"), QString::fromLatin1(kKey));
    process.setProcessEnvironment(env);
    process.start(QStringLiteral(UNDERSTUDY_BINARY), QStringList{QStringLiteral("test-provider")} + args);
    Run r;
    if (!QTest::qWaitFor([&] { return process.state() == QProcess::NotRunning; }, 60000)) {
        process.kill();
        process.waitForFinished(2000);
    }
    r.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    r.out = QString::fromUtf8(process.readAllStandardOutput());
    r.err = QString::fromUtf8(process.readAllStandardError());
    return r;
}

QString describe(const Run& r) { return QStringLiteral("exit %1\nstdout: %2\nstderr: %3").arg(r.exitCode).arg(r.out, r.err); }

QString writeConfig(const QTemporaryDir& dir, const QString& baseUrl) {
    const QString path = dir.filePath(QStringLiteral("understudy.json"));
    QFile file(path);
    if (file.open(QIODevice::WriteOnly))
        file.write(QStringLiteral(R"({"version": 1,
            "providers": {
              "zai": {"type": "anthropic", "baseUrl": "%1", "apiKey": "env:UNDERSTUDY_PROBE_KEY"},
              "router": {"type": "openai-chat", "baseUrl": "%1/api/v1", "apiKey": "env:UNDERSTUDY_PROBE_KEY"}},
            "chains": {"main": {"steps": [{"provider": "zai", "model": "glm-5"}, {"provider": "router", "model": "qwen/qwen3-coder"}]}},
            "activeChain": "main"})")
                       .arg(baseUrl)
                       .toUtf8());
    return path;
}

}  // namespace

void TestTestProvider::answers_okWithModelAndLatency() {
    QTemporaryDir dir;
    MockUpstream upstream;
    upstream.setDefault(anthropicMessage(QStringLiteral("Hi"), QStringLiteral("glm-5-0601")));
    const Run r = testProvider({QStringLiteral("zai"), QStringLiteral("--config"), writeConfig(dir, upstream.baseUrl())});
    QVERIFY2(r.exitCode == 0, qPrintable(describe(r)));
    QVERIFY2(r.out.contains(QRegularExpression(QStringLiteral("^OK: provider 'zai' answered with model glm-5-0601 in "
                                                              "\\d+ ms\\n$"))),
             qPrintable(r.out));
    QCOMPARE(upstream.hits(), 1);
    const http::Request& sent = upstream.requests().first();
    QCOMPARE(sent.target, QByteArray("/v1/messages"));
    QVERIFY(sent.headers.value("x-api-key") == QByteArray(kKey));
    QCOMPARE(sent.headers.value("anthropic-version"), QByteArray("2023-06-01"));
    const QJsonObject body = QJsonDocument::fromJson(sent.body).object();
    QCOMPARE(body.value(QStringLiteral("model")).toString(), QStringLiteral("glm-5"));  // the chain's model
    QCOMPARE(body.value(QStringLiteral("max_tokens")).toInt(), 1);
    QVERIFY(!(r.out + r.err).contains(QLatin1String(kKey)));
}

void TestTestProvider::openAIChat_sendsBearerAndChainModel() {
    QTemporaryDir dir;
    MockUpstream upstream;
    upstream.setDefault(openAIChat(QStringLiteral("Hi"), QStringLiteral("qwen/qwen3-coder")));
    const Run r = testProvider({QStringLiteral("router"), QStringLiteral("--config"), writeConfig(dir, upstream.baseUrl())});
    QVERIFY2(r.exitCode == 0, qPrintable(describe(r)));
    QCOMPARE(upstream.hits(), 1);
    const http::Request& sent = upstream.requests().first();
    QCOMPARE(sent.target, QByteArray("/api/v1/chat/completions"));
    QVERIFY(sent.headers.value("authorization") == "Bearer " + QByteArray(kKey));
    QVERIFY(sent.headers.value("x-api-key").isEmpty());
    QCOMPARE(QJsonDocument::fromJson(sent.body).object().value(QStringLiteral("model")).toString(),
             QStringLiteral("qwen/qwen3-coder"));
}

void TestTestProvider::rejectedKey_showsProvidersMessage() {
    QTemporaryDir dir;
    MockUpstream upstream;
    // A provider that quotes the key back: the output must not.
    upstream.setDefault(errorReply(401, QByteArray(R"({"type":"error","error":{"type":"authentication_error",)")
                                            + R"("message":"invalid x-api-key )" + kKey + R"("}})"));
    const Run r = testProvider({QStringLiteral("zai"), QStringLiteral("--config"), writeConfig(dir, upstream.baseUrl()),
                                QStringLiteral("--model"), QStringLiteral("glm-4.6")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains(QStringLiteral("provider 'zai' (model glm-4.6) failed: HTTP 401: invalid x-api-key [the key]")),
             qPrintable(r.err));
    QVERIFY(r.out.isEmpty());
    QVERIFY(!(r.out + r.err).contains(QLatin1String(kKey)));
}

void TestTestProvider::unknownProvider_listsTheConfiguredOnes() {
    QTemporaryDir dir;
    MockUpstream upstream;
    const Run r = testProvider({QStringLiteral("nope"), QStringLiteral("--config"), writeConfig(dir, upstream.baseUrl())});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(QStringLiteral("no provider 'nope'")) && r.err.contains(QStringLiteral("router, zai")),
             qPrintable(r.err));
    QCOMPARE(upstream.hits(), 0);
}

QTEST_GUILESS_MAIN(TestTestProvider)
#include "tst_test_provider.moc"
