// A Bedrock provider serving failovers end to end: the real proxy, a primary that answers 429, and a mock
// Bedrock that checks the SigV4 signature of every request it gets (recomputed with the same fake
// credentials) and answers with AWS event-stream frames shaped like Bedrock's.
#include "support/MockUpstream.h"
#include "support/ProxyUnderTest.h"
#include "support/TestClient.h"

#include "http/SseReader.h"
#include "providers/EventStream.h"
#include "providers/SigV4.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

using namespace understudy;
using namespace understudy::test;

class TestBedrockFailover : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void anthropicStream_failsOverFrom429ToBedrock();
    void anthropicNonStream_failsOverFrom429ToBedrock();
    void chatClient_streamsThroughBedrock();
    void throttlingFrameBeforeContent_failsOverToNextStep();
    void streamErrorFrameAfterContent_continuedOnNextStep();
    void wrongSecret_isRefusedByTheSignatureCheck();
};

namespace {

const char* const kAccessKeyId = "AKIDEXAMPLE";
const char* const kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";  // AWS's documented example secret
const char* const kToken = "FAKE-SESSION-TOKEN-FOR-UNDERSTUDY-TESTS";

QByteArray config(const QString& primaryUrl, const QString& bedrockUrl, const QString& lastUrl) {
    return QStringLiteral(R"({"version": 1, "providers": {
        "primary": {"type": "anthropic", "baseUrl": "%1", "auth": "client"},
        "aws": {"type": "bedrock", "region": "us-east-1", "endpoint": "%2",
                "accessKeyId": "env:UNDERSTUDY_IT_AWS_ID", "secretAccessKey": "env:UNDERSTUDY_IT_AWS_SECRET",
                "sessionToken": "env:UNDERSTUDY_IT_AWS_TOKEN"},
        "last": {"type": "anthropic", "baseUrl": "%3", "auth": "none"}},
      "chains": {"main": {"steps": [{"provider": "primary"}, {"provider": "aws", "model": "claude-sonnet-4-5"},
                                    {"provider": "last", "model": "last-model"}]}},
      "activeChain": "main",
      "failover": {"retriesBeforeFailover": 0, "firstTokenTimeoutMs": 3000, "streamIdleTimeoutMs": 3000,
                   "totalBudgetMs": 10000, "primaryRecoveryCheckIntervalMs": 60000}})")
        .arg(primaryUrl, bedrockUrl, lastUrl)
        .toUtf8();
}

QByteArray testData(const QString& name) {
    QFile f(QStringLiteral(UNDERSTUDY_TEST_DATA "/eventstream/") + name);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// One HTTP chunk per event-stream frame, as Bedrock flushes them.
MockReply eventStreamReply(const QByteArray& frames) {
    aws::EventStreamDecoder decoder;
    QList<aws::EventMessage> messages;
    decoder.feed(frames, messages);
    MockReply r;
    r.headers.set("Content-Type", "application/vnd.amazon.eventstream");
    r.headers.set("x-amzn-RequestId", "11111111-2222-3333-4444-555555555555");
    for (const aws::EventMessage& m : messages)
        r.chunks.append(aws::encodeEventMessage(m));
    return r;
}

// What AWS does with a request: recompute its signature from what arrived and refuse it on a mismatch.
struct SignatureCheck {
    int verified = 0;

    std::optional<MockReply> operator()(const http::Request& r) {
        const QString why = problem(r);
        if (why.isEmpty()) {
            ++verified;
            return std::nullopt;
        }
        http::Headers h;
        h.set("x-amzn-ErrorType", "InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/");
        return errorReply(403, QJsonDocument(QJsonObject{{"message", why}}).toJson(QJsonDocument::Compact), h);
    }

    static QString problem(const http::Request& r) {
        const QByteArray authorization = r.headers.value("authorization");
        const qsizetype at = authorization.indexOf("SignedHeaders=");
        if (!authorization.startsWith("AWS4-HMAC-SHA256 ") || at < 0)
            return QStringLiteral("Missing Authentication Token");
        const QByteArray names = authorization.mid(at + 14, authorization.indexOf(',', at) - at - 14);
        aws::SigningRequest signing{r.method, r.path, r.query, {}, r.body};
        for (const QByteArray& name : names.split(';')) {
            if (!r.headers.contains(name))
                return QStringLiteral("signed header %1 is missing").arg(QString::fromLatin1(name));
            signing.headers.add(name, r.headers.value(name));
        }
        for (const char* required : {"host", "x-amz-date", "x-amz-security-token"}) {
            if (!names.split(';').contains(required))
                return QStringLiteral("%1 is not signed").arg(QLatin1String(required));
        }
        const aws::SigningScope scope{"us-east-1", "bedrock", r.headers.value("x-amz-date")};
        const aws::Credentials credentials{kAccessKeyId, kSecret, kToken};
        if (r.headers.value("x-amz-security-token") != kToken)
            return QStringLiteral("The security token included in the request is invalid.");
        if (authorization != aws::authorization(signing, credentials, scope))
            return QStringLiteral("The request signature we calculated does not match the signature you provided.");
        return {};
    }
};

http::Headers anthropicHeaders() {
    http::Headers h;
    h.set("x-api-key", "client-key-for-tests-only");
    h.set("anthropic-version", "2023-06-01");
    h.set("anthropic-beta", "claude-code-20250219,interleaved-thinking-2025-05-14");
    return h;
}

MockReply rateLimited() {
    return errorReply(429, R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})");
}

QList<http::SseEvent> sseEvents(const QByteArray& body) {
    QList<http::SseEvent> list;
    http::SseReader reader;
    reader.feed(body, list);
    return list;
}

QString anthropicStreamText(const QByteArray& body) {
    QString text;
    for (const http::SseEvent& e : sseEvents(body)) {
        const QJsonObject data = QJsonDocument::fromJson(e.data).object();
        if (data.value("type") == "content_block_delta")
            text += data.value("delta").toObject().value("text").toString();
    }
    return text;
}

// The first `count` frames of a captured-shape stream.
QByteArray firstFrames(const QByteArray& stream, int count) {
    qsizetype end = 0;
    for (int i = 0; i < count; ++i)
        end += qsizetype(qFromBigEndian<quint32>(stream.constData() + end));
    return stream.left(end);
}

QByteArray exceptionFrame(const QByteArray& name, const QByteArray& message) {
    aws::EventMessage m;
    m.headers = {aws::EventHeader::string(":exception-type", name),
                 aws::EventHeader::string(":content-type", "application/json"),
                 aws::EventHeader::string(":message-type", "exception")};
    m.payload = QJsonDocument(QJsonObject{{"message", QString::fromUtf8(message)}}).toJson(QJsonDocument::Compact);
    return aws::encodeEventMessage(m);
}

// The text of a request's trailing assistant message (a continuation's prefill), or empty.
QString prefillOf(const http::Request& request) {
    const QJsonObject last = QJsonDocument::fromJson(request.body).object().value("messages").toArray().last().toObject();
    if (last.value("role") != "assistant")
        return {};
    QString text;
    for (const QJsonValue& block : last.value("content").toArray())
        text += block.toObject().value("text").toString();
    return last.value("content").isString() ? last.value("content").toString() : text;
}

const QByteArray kBedrockPath = "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream";

}  // namespace

void TestBedrockFailover::initTestCase() {
    qputenv("UNDERSTUDY_IT_AWS_ID", kAccessKeyId);
    qputenv("UNDERSTUDY_IT_AWS_SECRET", kSecret);
    qputenv("UNDERSTUDY_IT_AWS_TOKEN", kToken);
    QVERIFY(!testData("bedrock-stream.bin").isEmpty());
}

void TestBedrockFailover::anthropicStream_failsOverFrom429ToBedrock() {
    MockUpstream primary, bedrock, last;
    primary.setDefault(rateLimited());
    SignatureCheck check;
    bedrock.setGate(std::ref(check));
    bedrock.setDefault(eventStreamReply(testData("bedrock-stream.bin")));
    ProxyUnderTest proxy(config(primary.baseUrl(), bedrock.baseUrl(), last.baseUrl()));

    const ClientResponse r = request(proxy.port(), "POST", "/v1/messages", messagesBody("claude-sonnet-4-5", true),
                                     anthropicHeaders());
    QCOMPARE(r.status, 200);
    QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("aws"));
    QVERIFY(r.headers.value("content-type").startsWith("text/event-stream"));
    QStringList names;
    for (const http::SseEvent& e : sseEvents(r.body))
        names.append(QString::fromUtf8(e.event));
    QCOMPARE(names, QStringList({"message_start", "content_block_start", "content_block_delta", "content_block_delta",
                                 "content_block_stop", "message_delta", "message_stop"}));
    QCOMPARE(anthropicStreamText(r.body), QStringLiteral("Hello there"));
    QCOMPARE(check.verified, 1);
    QCOMPARE(last.hits(), 0);

    const http::Request& sent = bedrock.requests().first();
    QCOMPARE(sent.path, kBedrockPath);
    QVERIFY(!sent.headers.contains("x-api-key"));  // the client's Anthropic key never goes to AWS
    const QJsonObject body = QJsonDocument::fromJson(sent.body).object();
    QCOMPARE(body.value("anthropic_version").toString(), QStringLiteral("bedrock-2023-05-31"));
    QCOMPARE(body.value("anthropic_beta").toArray(), QJsonArray({"interleaved-thinking-2025-05-14"}));
    QVERIFY(!body.contains("model") && !body.contains("stream"));
    QVERIFY(!body.value("messages").toArray().isEmpty());

    // Usage is metered from the Anthropic events inside the frames, against the target that answered.
    QVERIFY(proxy.waitForEvents("request", 1));
    const UsageRecord usage = proxy.usage().last();
    QCOMPARE(usage.provider, QStringLiteral("aws"));
    QCOMPARE(usage.tokens.input, 12);
    QCOMPARE(usage.tokens.output, 2);
    QVERIFY(!usage.estimated);
}

void TestBedrockFailover::anthropicNonStream_failsOverFrom429ToBedrock() {
    MockUpstream primary, bedrock, last;
    primary.setDefault(rateLimited());
    SignatureCheck check;
    bedrock.setGate(std::ref(check));
    bedrock.setDefault(anthropicMessage(QStringLiteral("from bedrock"), QStringLiteral("claude-sonnet-4-5-20250929")));
    ProxyUnderTest proxy(config(primary.baseUrl(), bedrock.baseUrl(), last.baseUrl()));

    const ClientResponse r = request(proxy.port(), "POST", "/v1/messages", messagesBody("claude-sonnet-4-5", false),
                                     anthropicHeaders());
    QCOMPARE(r.status, 200);
    QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("aws"));
    const QJsonObject message = QJsonDocument::fromJson(r.body).object();
    QCOMPARE(message.value("content").toArray().first().toObject().value("text").toString(), QStringLiteral("from bedrock"));
    QCOMPARE(check.verified, 1);
    QCOMPARE(bedrock.requests().first().path,
             QByteArray("/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke"));
    QCOMPARE(bedrock.requests().first().headers.value("accept"), QByteArray("application/json"));
}

void TestBedrockFailover::chatClient_streamsThroughBedrock() {
    MockUpstream primary, bedrock, last;
    primary.setDefault(rateLimited());
    SignatureCheck check;
    bedrock.setGate(std::ref(check));
    bedrock.setDefault(eventStreamReply(testData("bedrock-stream.bin")));
    ProxyUnderTest proxy(config(primary.baseUrl(), bedrock.baseUrl(), last.baseUrl()));

    const ClientResponse r = request(proxy.port(), "POST", "/v1/chat/completions", chatBody("claude-sonnet-4-5", true));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("aws"));
    QString text;
    QString finish;
    bool done = false;
    for (const http::SseEvent& e : sseEvents(r.body)) {
        if (e.data == "[DONE]") {
            done = true;
            continue;
        }
        const QJsonObject choice = QJsonDocument::fromJson(e.data).object().value("choices").toArray().first().toObject();
        text += choice.value("delta").toObject().value("content").toString();
        if (choice.value("finish_reason").isString())
            finish = choice.value("finish_reason").toString();
    }
    QCOMPARE(text, QStringLiteral("Hello there"));
    QCOMPARE(finish, QStringLiteral("stop"));
    QVERIFY(done);
    QCOMPARE(check.verified, 1);
    QCOMPARE(bedrock.requests().first().path, kBedrockPath);
    const QJsonObject body = QJsonDocument::fromJson(bedrock.requests().first().body).object();
    QCOMPARE(body.value("anthropic_version").toString(), QStringLiteral("bedrock-2023-05-31"));
    QVERIFY(body.contains("max_tokens"));
}

void TestBedrockFailover::throttlingFrameBeforeContent_failsOverToNextStep() {
    MockUpstream primary, bedrock, last;
    primary.setDefault(rateLimited());
    SignatureCheck check;
    bedrock.setGate(std::ref(check));
    // Bedrock accepts the stream (HTTP 200), sends message_start, then a throttlingException frame.
    bedrock.setDefault(eventStreamReply(firstFrames(testData("bedrock-stream.bin"), 1) + testData("throttling.bin")));
    last.setDefault(anthropicStream({QStringLiteral("from the last step")}, QStringLiteral("last-model")));
    ProxyUnderTest proxy(config(primary.baseUrl(), bedrock.baseUrl(), last.baseUrl()));

    const ClientResponse r = request(proxy.port(), "POST", "/v1/messages", messagesBody("claude-sonnet-4-5", true),
                                     anthropicHeaders());
    QCOMPARE(r.status, 200);
    QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("last"));
    QCOMPARE(anthropicStreamText(r.body), QStringLiteral("from the last step"));
    QVERIFY(!r.body.contains("throttling"));  // nothing of the failed attempt reached the client
    QCOMPARE(check.verified, 1);
    QCOMPARE(last.hits(), 1);

    QVERIFY(proxy.waitForEvents("failover", 2));
    const ProxyEvent failover = proxy.events("failover").last();
    QCOMPARE(failover.fields.value("from").toString(), QStringLiteral("aws/claude-sonnet-4-5"));
    QCOMPARE(failover.fields.value("to").toString(), QStringLiteral("last/last-model"));
    QVERIFY2(failover.fields.value("reason").toString().contains("rate_limit_error"),
             qPrintable(failover.fields.value("reason").toString()));
}

void TestBedrockFailover::streamErrorFrameAfterContent_continuedOnNextStep() {
    MockUpstream primary, bedrock, last;
    primary.setDefault(rateLimited());
    SignatureCheck check;
    bedrock.setGate(std::ref(check));
    // "Hello" reaches the client, then Bedrock's stream fails in band.
    bedrock.setDefault(eventStreamReply(firstFrames(testData("bedrock-stream.bin"), 3) +
                                        exceptionFrame("modelStreamErrorException", "Model stream error")));
    last.setDefault(anthropicStream({QStringLiteral(" there"), QStringLiteral("!")}, QStringLiteral("last-model")));
    ProxyUnderTest proxy(config(primary.baseUrl(), bedrock.baseUrl(), last.baseUrl()));

    const ClientResponse r = request(proxy.port(), "POST", "/v1/messages", messagesBody("claude-sonnet-4-5", true),
                                     anthropicHeaders());
    QCOMPARE(r.status, 200);
    QCOMPARE(anthropicStreamText(r.body), QStringLiteral("Hello there!"));  // one whole answer
    QCOMPARE(r.body.count("event: message_start"), 1);
    QCOMPARE(r.body.count("event: message_stop"), 1);
    QVERIFY(!r.body.contains("event: error"));
    QCOMPARE(prefillOf(last.requests().first()), QStringLiteral("Hello"));
    QVERIFY(proxy.waitForEvents("failover", 2));
    const ProxyEvent failover = proxy.events("failover").last();
    QCOMPARE(failover.fields.value("from").toString(), QStringLiteral("aws/claude-sonnet-4-5"));
    QCOMPARE(failover.fields.value("continued").toBool(), true);
    QVERIFY2(failover.fields.value("reason").toString().contains("api_error"),
             qPrintable(failover.fields.value("reason").toString()));
}

void TestBedrockFailover::wrongSecret_isRefusedByTheSignatureCheck() {
    // The check is real: signed with another secret, the request is refused like AWS would (403 reaches the
    // client untouched, as any 4xx that is no failover trigger).
    MockUpstream primary, bedrock, last;
    primary.setDefault(rateLimited());
    SignatureCheck check;
    bedrock.setGate(std::ref(check));
    bedrock.setDefault(eventStreamReply(testData("bedrock-stream.bin")));
    qputenv("UNDERSTUDY_IT_AWS_SECRET", "not-the-secret-the-mock-expects");
    ProxyUnderTest proxy(config(primary.baseUrl(), bedrock.baseUrl(), last.baseUrl()));
    const ClientResponse r = request(proxy.port(), "POST", "/v1/messages", messagesBody("claude-sonnet-4-5", true),
                                     anthropicHeaders());
    qputenv("UNDERSTUDY_IT_AWS_SECRET", kSecret);
    QCOMPARE(r.status, 403);
    QVERIFY(r.body.contains("signature we calculated does not match"));
    QCOMPARE(check.verified, 0);
    QCOMPARE(bedrock.hits(), 1);
}

QTEST_MAIN(TestBedrockFailover)
#include "tst_bedrock_failover.moc"
