// The Bedrock provider: model ids, the InvokeModel body, a signed request checked against an independent
// computation (tests/data/sigv4/bedrock_reference.py), and event-stream bodies turned into Anthropic SSE.
#include "providers/Bedrock.h"
#include "providers/SigV4.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

using namespace understudy;

class TestBedrock : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void modelIds();
    void invokeBodyIsTheMessagesBodyForBedrock();
    void betasBedrockRejectsAreDropped();
    void signedRequestMatchesTheIndependentReference();
    void nonStreamingRequestGoesToInvoke();
    void endpointOverrideKeepsItsHostAndPort();
    void arnModelIdIsOnePathSegment();
    void missingSecretOrUnknownModelIsAnError();
    void streamBecomesAnthropicEvents();
    void exceptionFrameBecomesAnErrorEvent();
    void corruptFrameBecomesAnErrorEvent();
};

namespace {

QByteArray file(const QString& path) {
    QFile f(QStringLiteral(UNDERSTUDY_TEST_DATA "/") + path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QJsonObject reference() { return QJsonDocument::fromJson(file(QStringLiteral("sigv4/bedrock-invoke.json"))).object(); }

ProviderConfig provider() {
    ProviderConfig p;
    p.id = QStringLiteral("aws");
    p.type = ProviderType::Bedrock;
    p.auth = AuthMode::Key;
    p.region = QStringLiteral("us-east-1");
    p.accessKeyId = QStringLiteral("env:UNDERSTUDY_TEST_AWS_ID");
    p.secretAccessKey = QStringLiteral("env:UNDERSTUDY_TEST_AWS_SECRET");
    p.sessionToken = QStringLiteral("env:UNDERSTUDY_TEST_AWS_TOKEN");
    return p;
}

http::OutboundRequest messagesRequest(bool stream) {
    http::OutboundRequest out;
    out.body = QByteArray(R"({"model":"claude-sonnet-4-5","max_tokens":64,)") + (stream ? R"("stream":true,)" : "") +
               R"("messages":[{"role":"user","content":"say hi"}]})";
    out.headers.set("anthropic-version", "2023-06-01");
    out.headers.set("x-api-key", "client-key-that-must-not-travel");
    return out;
}

QList<http::SseEvent> transcode(QByteArrayView bytes) {
    bedrock::StreamTranscoder transcoder;
    QList<http::SseEvent> out;
    transcoder.feed(bytes, out);
    return out;
}

}  // namespace

void TestBedrock::initTestCase() {
    const QJsonObject ref = reference();
    QVERIFY(!ref.isEmpty());
    qputenv("UNDERSTUDY_TEST_AWS_ID", ref.value("accessKeyId").toString().toUtf8());
    qputenv("UNDERSTUDY_TEST_AWS_SECRET", ref.value("secretAccessKey").toString().toUtf8());
    qputenv("UNDERSTUDY_TEST_AWS_TOKEN", ref.value("sessionToken").toString().toUtf8());
}

void TestBedrock::modelIds() {
    QCOMPARE(bedrock::modelId("claude-sonnet-4-5", "us-east-1"), "us.anthropic.claude-sonnet-4-5-20250929-v1:0");
    QCOMPARE(bedrock::modelId("claude-sonnet-4-5-20250929", "eu-central-1"), "eu.anthropic.claude-sonnet-4-5-20250929-v1:0");
    QCOMPARE(bedrock::modelId("claude-haiku-4-5", "ap-northeast-1"), "apac.anthropic.claude-haiku-4-5-20251001-v1:0");
    QCOMPARE(bedrock::modelId("claude-opus-4-6", "ca-central-1"), "anthropic.claude-opus-4-6-v1");  // no geography known
    QCOMPARE(bedrock::modelId("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "us-east-1"),
             "global.anthropic.claude-sonnet-4-5-20250929-v1:0");
    QCOMPARE(bedrock::modelId("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc", "us-east-1"),
             "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc");
    QCOMPARE(bedrock::modelId("claude-unknown-9", "us-east-1"), QString());
}

void TestBedrock::invokeBodyIsTheMessagesBodyForBedrock() {
    const QByteArray body = bedrock::invokeBody(
        R"({"model":"claude-sonnet-4-5","stream":true,"max_tokens":64,"system":[{"type":"text","text":"be brief","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"hi"}]})",
        {});
    QCOMPARE(body, QByteArray(R"({"anthropic_version":"bedrock-2023-05-31","max_tokens":64,"system":[{"type":"text","text":"be brief","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"hi"}]})"));
    QVERIFY(QJsonDocument::fromJson(body).isObject());
}

void TestBedrock::betasBedrockRejectsAreDropped() {
    const QByteArray body = bedrock::invokeBody(
        R"({"model":"m","max_tokens":1,"messages":[]})",
        "claude-code-20250219, interleaved-thinking-2025-05-14,oauth-2025-04-20,context-1m-2025-08-07");
    const QJsonObject o = QJsonDocument::fromJson(body).object();
    QCOMPARE(o.value("anthropic_beta").toArray(),
             QJsonArray({"interleaved-thinking-2025-05-14", "context-1m-2025-08-07"}));
    QVERIFY(!o.contains("model"));
    // Only unknown betas: no array at all. A body that names its own betas keeps them.
    QVERIFY(!QJsonDocument::fromJson(bedrock::invokeBody(R"({"max_tokens":1})", "oauth-2025-04-20")).object().contains("anthropic_beta"));
    QCOMPARE(QJsonDocument::fromJson(bedrock::invokeBody(R"({"anthropic_beta":["x"]})", "effort-2025-11-24"))
                 .object().value("anthropic_beta").toArray(), QJsonArray({"x"}));
}

void TestBedrock::signedRequestMatchesTheIndependentReference() {
    const QJsonObject ref = reference();
    http::OutboundRequest out = messagesRequest(true);
    const QString error = bedrock::prepare(provider(), QStringLiteral("claude-sonnet-4-5"), out,
                                           QDateTime(QDate(2025, 11, 22), QTime(6, 30), Qt::UTC));
    QCOMPARE(error, QString());
    QCOMPARE(out.method, QByteArray("POST"));
    QCOMPARE(out.url.scheme(), "https");
    QCOMPARE(http::hostHeader(out.url), ref.value("host").toString().toUtf8());
    QCOMPARE(out.url.path(QUrl::FullyEncoded), ref.value("wirePath").toString());
    QCOMPARE(out.body, ref.value("body").toString().toUtf8());
    const QJsonObject headers = ref.value("headers").toObject();
    for (auto it = headers.begin(); it != headers.end(); ++it)
        QCOMPARE(out.headers.value(it.key().toUtf8()), it.value().toString().toUtf8());
    QCOMPARE(out.headers.value("authorization"), ref.value("authz").toString().toUtf8());
    QVERIFY(!out.headers.contains("x-api-key"));  // the client's credential never reaches AWS
    QVERIFY(!out.headers.contains("anthropic-version"));
}

void TestBedrock::nonStreamingRequestGoesToInvoke() {
    ProviderConfig p = provider();
    p.sessionToken.clear();
    http::OutboundRequest out = messagesRequest(false);
    QCOMPARE(bedrock::prepare(p, QStringLiteral("claude-sonnet-4-5"), out), QString());
    QVERIFY(out.url.path(QUrl::FullyEncoded).endsWith("v1%3A0/invoke"));
    QCOMPARE(out.headers.value("accept"), QByteArray("application/json"));
    QVERIFY(!out.headers.contains("x-amz-security-token"));
    QVERIFY(out.headers.value("authorization").contains("SignedHeaders=accept;accept-encoding;content-type;host;x-amz-date,"));
}

void TestBedrock::endpointOverrideKeepsItsHostAndPort() {
    ProviderConfig p = provider();
    p.endpoint = QStringLiteral("http://127.0.0.1:4567/prefix/");
    http::OutboundRequest out = messagesRequest(true);
    QCOMPARE(bedrock::prepare(p, QStringLiteral("anthropic.claude-3-7-sonnet-20250219-v1:0"), out), QString());
    QCOMPARE(out.url.toString(QUrl::FullyEncoded),
             "http://127.0.0.1:4567/prefix/model/anthropic.claude-3-7-sonnet-20250219-v1%3A0/invoke-with-response-stream");
}

void TestBedrock::arnModelIdIsOnePathSegment() {
    http::OutboundRequest out = messagesRequest(false);
    const QString arn = QStringLiteral("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123");
    QCOMPARE(bedrock::prepare(provider(), arn, out), QString());
    QCOMPARE(out.url.path(QUrl::FullyEncoded),
             "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aapplication-inference-profile%2Fabc123/invoke");
}

void TestBedrock::missingSecretOrUnknownModelIsAnError() {
    ProviderConfig p = provider();
    p.secretAccessKey = QStringLiteral("env:UNDERSTUDY_TEST_AWS_UNSET");
    http::OutboundRequest out = messagesRequest(true);
    const QByteArray before = out.body;
    const QString error = bedrock::prepare(p, QStringLiteral("claude-sonnet-4-5"), out);
    QVERIFY2(error.contains("secretAccessKey") && error.contains("UNDERSTUDY_TEST_AWS_UNSET"), qPrintable(error));
    QCOMPARE(out.body, before);
    const QString unknown = bedrock::prepare(provider(), QStringLiteral("gpt-5"), out);
    QVERIFY2(unknown.contains("no Bedrock model id") && unknown.contains("gpt-5"), qPrintable(unknown));
}

void TestBedrock::streamBecomesAnthropicEvents() {
    const QByteArray stream = file(QStringLiteral("eventstream/bedrock-stream.bin"));
    const QList<http::SseEvent> whole = transcode(stream);
    QCOMPARE(whole.size(), 7);
    QCOMPARE(whole[0].event, QByteArray("message_start"));
    QCOMPARE(whole[2].event, QByteArray("content_block_delta"));
    QCOMPARE(QJsonDocument::fromJson(whole[2].data).object().value("delta").toObject().value("text").toString(), "Hello");
    QCOMPARE(whole[6].event, QByteArray("message_stop"));
    QCOMPARE(whole[6].raw, http::formatSse(whole[6].event, whole[6].data));
    // Split anywhere, the same events come out.
    for (qsizetype cut = 1; cut < stream.size(); cut += 7) {
        bedrock::StreamTranscoder t;
        QList<http::SseEvent> out;
        t.feed(QByteArrayView(stream).first(cut), out);
        t.feed(QByteArrayView(stream).sliced(cut), out);
        QCOMPARE(out.size(), whole.size());
        QCOMPARE(out.last().data, whole.last().data);
    }
}

void TestBedrock::exceptionFrameBecomesAnErrorEvent() {
    const QList<http::SseEvent> events = transcode(file(QStringLiteral("eventstream/throttling.bin")));
    QCOMPARE(events.size(), 1);
    QCOMPARE(events[0].event, QByteArray("error"));
    const QJsonObject error = QJsonDocument::fromJson(events[0].data).object().value("error").toObject();
    QCOMPARE(error.value("type").toString(), "rate_limit_error");
    QVERIFY(error.value("message").toString().contains("throttlingException"));
    QVERIFY(error.value("message").toString().contains("Too many requests"));
}

void TestBedrock::corruptFrameBecomesAnErrorEvent() {
    QByteArray stream = file(QStringLiteral("eventstream/bedrock-stream.bin"));
    stream[stream.size() - 1] = char(stream[stream.size() - 1] ^ 1);  // the last frame's CRC
    const QList<http::SseEvent> events = transcode(stream);
    QCOMPARE(events.size(), 7);  // six good events, then the error instead of message_stop
    QCOMPARE(events[5].event, QByteArray("message_delta"));
    QCOMPARE(events[6].event, QByteArray("error"));
    QVERIFY(events[6].data.contains("message CRC"));
}

QTEST_APPLESS_MAIN(TestBedrock)
#include "tst_bedrock.moc"
