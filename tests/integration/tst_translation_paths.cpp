// Failover and translation compose (issue 3): a request in one dialect served by an upstream of another, with
// the client receiving one well-formed answer in its own dialect.
#include "support/MockUpstream.h"
#include "support/ProxyUnderTest.h"
#include "support/TestClient.h"

#include "http/SseReader.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

using namespace understudy;
using namespace understudy::test;

class TestTranslationPaths : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void anthropicClient_failsOverToOpenAIChatStream();
    void chatClient_servedByAnthropicNonStream();
    void responsesClient_servedByChatStream();
    void toolCallFromChatUpstream_becomesAnthropicToolUse();
    void upstreamClientError_inClientDialect();
    void countTokens_estimatedLocallyForOpenAIUpstream();
    void returningToPrimary_dropsThinkingAFallbackMinted();
};

namespace {

// primary (type `primaryType`) → fallback (type `fallbackType`), both mocks.
QByteArray twoStepConfig(const QString& primaryType, const QString& primaryUrl, const QString& fallbackType,
                         const QString& fallbackUrl) {
    return QStringLiteral(R"({"version": 1, "providers": {
        "primary": {"type": "%1", "baseUrl": "%2", "auth": "none"},
        "fallback": {"type": "%3", "baseUrl": "%4", "auth": "none"}},
      "chains": {"main": {"steps": [{"provider": "primary"}, {"provider": "fallback", "model": "fallback-model"}]}},
      "activeChain": "main",
      "failover": {"firstTokenTimeoutMs": 2000, "streamIdleTimeoutMs": 2000, "totalBudgetMs": 8000}})")
        .arg(primaryType, primaryUrl, fallbackType, fallbackUrl)
        .toUtf8();
}

QList<http::SseEvent> events(const QByteArray& body) {
    QList<http::SseEvent> list;
    http::SseReader reader;
    reader.feed(body, list);
    return list;
}

QStringList eventNames(const QByteArray& body) {
    QStringList names;
    for (const http::SseEvent& e : events(body))
        names.append(QString::fromUtf8(e.event.isEmpty() ? QByteArray("data") : e.event));
    return names;
}

QString anthropicStreamText(const QByteArray& body) {
    QString text;
    for (const http::SseEvent& e : events(body)) {
        const QJsonObject data = QJsonDocument::fromJson(e.data).object();
        if (data.value("type") == "content_block_delta" && data.value("delta").toObject().value("type") == "text_delta")
            text += data.value("delta").toObject().value("text").toString();
    }
    return text;
}

QByteArray overloaded() { return R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"; }

}  // namespace

void TestTranslationPaths::anthropicClient_failsOverToOpenAIChatStream() {
    MockUpstream primary, fallback;
    primary.setDefault(errorReply(529, overloaded()));
    fallback.setDefault(openAIChatStream({QStringLiteral("Hello"), QStringLiteral(" from chat")}, QStringLiteral("fallback-model")));
    ProxyUnderTest proxy(twoStepConfig("anthropic", primary.baseUrl(), "openai-chat", fallback.baseUrl("/v1")));

    http::Headers h;
    h.set("anthropic-version", "2023-06-01");
    h.set("anthropic-beta", "interleaved-thinking-2025-05-14");
    const ClientResponse r = request(proxy.port(), "POST", "/v1/messages", messagesBody("claude-test", true), h);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("fallback"));
    const QStringList names = eventNames(r.body);
    QCOMPARE(names.first(), QStringLiteral("message_start"));
    QCOMPARE(names.last(), QStringLiteral("message_stop"));
    QVERIFY(names.contains("content_block_start"));
    QVERIFY(names.contains("message_delta"));
    QCOMPARE(anthropicStreamText(r.body), QStringLiteral("Hello from chat"));

    // The fallback got a Chat Completions request for its own model, without Anthropic's headers.
    const http::Request& sent = fallback.requests().first();
    QCOMPARE(sent.path, QByteArray("/v1/chat/completions"));
    QVERIFY(!sent.headers.contains("anthropic-version"));
    QVERIFY(!sent.headers.contains("anthropic-beta"));
    const QJsonObject body = QJsonDocument::fromJson(sent.body).object();
    QCOMPARE(body.value("model").toString(), QStringLiteral("fallback-model"));
    QCOMPARE(body.value("messages").toArray().last().toObject().value("content").toVariant().toString().isEmpty(), false);
    QVERIFY(body.value("stream").toBool());
}

void TestTranslationPaths::chatClient_servedByAnthropicNonStream() {
    MockUpstream primary;
    primary.setDefault(anthropicMessage(QStringLiteral("answer from claude"), QStringLiteral("claude-real")));
    ProxyUnderTest proxy(twoStepConfig("anthropic", primary.baseUrl(), "openai-chat", primary.baseUrl("/v1")));
    const ClientResponse r = request(proxy.port(), "POST", "/v1/chat/completions", chatBody("gpt-test", false));
    QCOMPARE(r.status, 200);
    const QJsonObject completion = QJsonDocument::fromJson(r.body).object();
    const QJsonObject message = completion.value("choices").toArray().first().toObject().value("message").toObject();
    QCOMPARE(message.value("content").toString(), QStringLiteral("answer from claude"));
    QCOMPARE(completion.value("model").toString(), QStringLiteral("claude-real"));  // the truth
    QCOMPARE(primary.requests().first().path, QByteArray("/v1/messages"));
    QCOMPARE(primary.requests().first().headers.value("anthropic-version"), QByteArray("2023-06-01"));
}

void TestTranslationPaths::responsesClient_servedByChatStream() {
    MockUpstream primary, fallback;
    primary.setDefault(errorReply(503, R"({"error":{"message":"down"}})"));
    fallback.setDefault(openAIChatStream({QStringLiteral("patched")}, QStringLiteral("fallback-model")));
    ProxyUnderTest proxy(twoStepConfig("openai-responses", primary.baseUrl("/v1"), "openai-chat", fallback.baseUrl("/v1")));
    const QByteArray body = R"({"model":"gpt-5-codex","stream":true,"store":false,
        "input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"fix it"}]}]})";
    const ClientResponse r = request(proxy.port(), "POST", "/v1/responses", body);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("fallback"));
    const QStringList names = eventNames(r.body);
    QVERIFY2(names.contains("response.created"), qPrintable(names.join(',')));
    QCOMPARE(names.last(), QStringLiteral("response.completed"));
    QVERIFY(r.body.contains("patched"));
}

void TestTranslationPaths::toolCallFromChatUpstream_becomesAnthropicToolUse() {
    MockUpstream upstream;
    MockReply reply;
    reply.headers.set("Content-Type", "text/event-stream");
    auto chunk = [](const QByteArray& delta, const QByteArray& finish) {
        return http::formatSse({}, R"({"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":)"
                                       + delta + R"(,"finish_reason":)" + finish + "}]}");
    };
    reply.chunks = {chunk(R"({"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"functions.Bash:0","type":"function","function":{"name":"Bash","arguments":""}}]})", "null"),
                    chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"command\":"}}]})", "null"),
                    chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"\"ls\"}"}}]})", "null"),
                    chunk("{}", R"("tool_calls")"),
                    http::formatSse({}, "[DONE]")};
    upstream.setDefault(reply);
    ProxyUnderTest proxy(twoStepConfig("openai-chat", upstream.baseUrl("/v1"), "openai-chat", upstream.baseUrl("/v1")));
    const ClientResponse r = request(proxy.port(), "POST", "/v1/messages", messagesBody("claude-test", true));
    QCOMPARE(r.status, 200);
    QString json, id, stop;
    for (const http::SseEvent& e : events(r.body)) {
        const QJsonObject data = QJsonDocument::fromJson(e.data).object();
        if (data.value("type") == "content_block_start")
            id = data.value("content_block").toObject().value("id").toString();
        if (data.value("delta").toObject().value("type") == "input_json_delta")
            json += data.value("delta").toObject().value("partial_json").toString();
        if (data.value("type") == "message_delta")
            stop = data.value("delta").toObject().value("stop_reason").toString();
    }
    QCOMPARE(QJsonDocument::fromJson(json.toUtf8()).object().value("command").toString(), QStringLiteral("ls"));
    QVERIFY2(QRegularExpression("^[A-Za-z0-9_-]+$").match(id).hasMatch(), qPrintable(id));  // a valid Anthropic id
    QCOMPARE(stop, QStringLiteral("tool_use"));
}

void TestTranslationPaths::upstreamClientError_inClientDialect() {
    MockUpstream upstream;
    upstream.setDefault(errorReply(400, R"({"error":{"message":"Invalid value for 'temperature'","type":"invalid_request_error"}})"));
    ProxyUnderTest proxy(twoStepConfig("openai-chat", upstream.baseUrl("/v1"), "openai-chat", upstream.baseUrl("/v1")));
    const ClientResponse r = request(proxy.port(), "POST", "/v1/messages", messagesBody("claude-test", false));
    QCOMPARE(r.status, 400);
    const QJsonObject body = QJsonDocument::fromJson(r.body).object();
    QCOMPARE(body.value("type").toString(), QStringLiteral("error"));
    QCOMPARE(body.value("error").toObject().value("message").toString(), QStringLiteral("Invalid value for 'temperature'"));
    QCOMPARE(upstream.hits(), 1);
}

void TestTranslationPaths::countTokens_estimatedLocallyForOpenAIUpstream() {
    MockUpstream upstream;
    ProxyUnderTest proxy(twoStepConfig("openai-chat", upstream.baseUrl("/v1"), "openai-chat", upstream.baseUrl("/v1")));
    const ClientResponse r = request(proxy.port(), "POST", "/v1/messages/count_tokens",
                                     messagesBody("claude-test", false, QString(4000, QLatin1Char('x'))));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.headers.value("x-understudy-estimate"), QByteArray("true"));
    const int tokens = QJsonDocument::fromJson(r.body).object().value("input_tokens").toInt();
    QVERIFY2(tokens >= 1000 && tokens < 1100, qPrintable(QString::number(tokens)));
    QCOMPARE(upstream.hits(), 0);
}

void TestTranslationPaths::returningToPrimary_dropsThinkingAFallbackMinted() {
    MockUpstream primary;
    ProxyUnderTest proxy(twoStepConfig("anthropic", primary.baseUrl(), "openai-chat", primary.baseUrl("/v1")));
    // The previous turn was served by a Chat fallback; the client echoes its reasoning back as thinking.
    const QByteArray body = R"({"model":"claude-test","max_tokens":64,"messages":[
        {"role":"user","content":"first"},
        {"role":"assistant","content":[{"type":"thinking","thinking":"fallback reasoning","signature":"understudy-unsigned"},
                                       {"type":"text","text":"first answer"}]},
        {"role":"user","content":"second"}]})";
    const ClientResponse r = request(proxy.port(), "POST", "/v1/messages", body);
    QCOMPARE(r.status, 200);
    const QByteArray sent = primary.requests().first().body;
    QVERIFY(!sent.contains("understudy-unsigned"));
    QVERIFY(sent.contains("first answer"));
    QCOMPARE(QJsonDocument::fromJson(sent).object().value("messages").toArray().size(), 3);
}

QTEST_GUILESS_MAIN(TestTranslationPaths)
#include "tst_translation_paths.moc"
