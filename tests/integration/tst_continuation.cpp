// Mid-stream continuation (issue 9, DESIGN.md §3): a committed stream that breaks is continued on the next target,
// and the client receives one complete message in its own dialect — or a clean in-band error, never a truncated
// answer presented as complete.
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

namespace {

struct Step {
    QString type;  // provider type
    QString baseUrl;
    QString extra;  // more step keys, e.g. `"prefill": false`
};

// One provider per step, named primary, fallback1, fallback2; short timings.
QByteArray chainConfig(const QList<Step>& steps) {
    QStringList providers, entries;
    for (int i = 0; i < steps.size(); ++i) {
        const QString name = i == 0 ? QStringLiteral("primary") : QStringLiteral("fallback%1").arg(i);
        providers.append(QStringLiteral(R"("%1": {"type": "%2", "baseUrl": "%3", "auth": "none"})")
                             .arg(name, steps[i].type, steps[i].baseUrl));
        QString entry = i == 0 ? QStringLiteral(R"({"provider": "primary")")
                               : QStringLiteral(R"({"provider": "%1", "model": "%1-model")").arg(name);
        if (!steps[i].extra.isEmpty())
            entry += QStringLiteral(", ") + steps[i].extra;
        entries.append(entry + QLatin1Char('}'));
    }
    return QStringLiteral(R"({"version": 1, "providers": {%1}, "chains": {"main": {"steps": [%2]}}, "activeChain": "main",
        "failover": {"retriesBeforeFailover": 0, "connectTimeoutMs": 1000, "firstTokenTimeoutMs": 1000,
                     "firstTokenTimeoutPer100kTokensMs": 0, "streamIdleTimeoutMs": 500, "totalBudgetMs": 8000,
                     "primaryRecoveryCheckIntervalMs": 60000}})")
        .arg(providers.join(QLatin1Char(',')), entries.join(QLatin1Char(',')))
        .toUtf8();
}

Step anthropic(const MockUpstream& mock, const QString& extra = {}) { return {"anthropic", mock.baseUrl(), extra}; }
Step chat(const MockUpstream& mock, const QString& extra = {}) { return {"openai-chat", mock.baseUrl("/v1"), extra}; }

QByteArray sse(const char* name, const QJsonObject& data) {
    return http::formatSse(name, QJsonDocument(data).toJson(QJsonDocument::Compact));
}

// An Anthropic stream that sends `deltas` of one text block and then breaks as `ending` says.
MockReply brokenAnthropic(const QStringList& deltas, MockReply::Ending ending) {
    MockReply reply = anthropicStream(deltas);
    reply.chunks = reply.chunks.mid(0, 3 + deltas.size());  // message_start, block start, ping, the deltas
    reply.ending = ending;
    return reply;
}

QList<http::SseEvent> eventsOf(const QByteArray& body) {
    QList<http::SseEvent> list;
    http::SseReader reader;
    reader.feed(body, list);
    return list;
}

QString anthropicText(const QByteArray& body) {
    QString text;
    for (const http::SseEvent& e : eventsOf(body)) {
        const QJsonObject delta = QJsonDocument::fromJson(e.data).object().value("delta").toObject();
        if (delta.value("type") == "text_delta")
            text += delta.value("text").toString();
    }
    return text;
}

QString chatText(const QByteArray& body) {
    QString text;
    for (const http::SseEvent& e : eventsOf(body)) {
        const QJsonArray choices = QJsonDocument::fromJson(e.data).object().value("choices").toArray();
        if (!choices.isEmpty())
            text += choices.first().toObject().value("delta").toObject().value("content").toString();
    }
    return text;
}

// The text of a request's trailing assistant message (Anthropic or Chat shape), or empty when it ends otherwise.
QString prefillOf(const http::Request& request) {
    const QJsonObject last = QJsonDocument::fromJson(request.body).object().value("messages").toArray().last().toObject();
    if (last.value("role") != "assistant")
        return {};
    if (last.value("content").isString())
        return last.value("content").toString();
    QString text;
    for (const QJsonValue& block : last.value("content").toArray())
        text += block.toObject().value("text").toString();
    return text;
}

void verifyOneAnthropicMessage(const ClientResponse& r, const QString& text) {
    QCOMPARE(r.status, 200);
    QVERIFY(r.complete);
    QCOMPARE(r.body.count("event: message_start"), 1);
    QCOMPARE(r.body.count("event: message_stop"), 1);
    QVERIFY2(!r.body.contains("event: error"), r.body.constData());
    QCOMPARE(anthropicText(r.body), text);
}

void verifyCleanInBandError(const ClientResponse& r) {
    QCOMPARE(r.status, 200);
    QVERIFY(r.complete);
    QVERIFY(r.body.contains("event: error"));
    QVERIFY(r.body.contains("incomplete"));
    QVERIFY(!r.body.contains("message_stop"));
}

ClientResponse postMessages(quint16 port) {
    return request(port, "POST", "/v1/messages", messagesBody("claude-test", true));
}

}  // namespace

class TestContinuation : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void cutAfterText_prefillContinuesOnFallback() {
        MockUpstream primary, fallback;
        primary.setDefault(brokenAnthropic({"Hello", " wor"}, MockReply::Ending::Cut));
        fallback.setDefault(anthropicStream({"ld", "!"}, "fallback1-model"));
        ProxyUnderTest proxy(chainConfig({anthropic(primary), anthropic(fallback)}));

        const ClientResponse r = postMessages(proxy.port());
        verifyOneAnthropicMessage(r, "Hello world!");
        QCOMPARE(fallback.hits(), 1);
        QCOMPARE(prefillOf(fallback.requests().first()), QStringLiteral("Hello wor"));
        QCOMPARE(QJsonDocument::fromJson(fallback.requests().first().body).object().value("model").toString(),
                 QStringLiteral("fallback1-model"));

        QVERIFY(proxy.waitForEvents("failover", 1));
        const ProxyEvent failover = proxy.events("failover").first();
        QVERIFY(failover.fields.value("reason").toString().startsWith("stream broke: "));
        QCOMPARE(failover.fields.value("continued").toBool(), true);
        QVERIFY(proxy.waitForEvents("request", 1));
        const ProxyEvent served = proxy.events("request").first();
        QCOMPARE(served.fields.value("continued").toBool(), true);
        QCOMPARE(served.fields.value("servedBy").toString(), QStringLiteral("fallback1/fallback1-model"));
        QCOMPARE(served.fields.value("outcome").toString(), QStringLiteral("served"));
    }

    void usageOfBothAttempts_summed() {
        MockUpstream primary, fallback;
        primary.setDefault(brokenAnthropic({"Hello"}, MockReply::Ending::Cut));
        fallback.setDefault(anthropicStream({" world"}, "fallback1-model"));
        ProxyUnderTest proxy(chainConfig({anthropic(primary), anthropic(fallback)}));
        const ClientResponse r = postMessages(proxy.port());
        QJsonObject usage;
        for (const http::SseEvent& e : eventsOf(r.body)) {
            if (e.event == "message_delta")
                usage = QJsonDocument::fromJson(e.data).object().value("usage").toObject();
        }
        QCOMPARE(usage.value("input_tokens").toInt(), 12 + 12);  // both attempts read the prompt
        QCOMPARE(usage.value("output_tokens").toInt(), 1 + 1);
    }

    void trailingWhitespace_notInPrefillNorRepeated() {
        MockUpstream primary, fallback;
        primary.setDefault(brokenAnthropic({"Hello", " "}, MockReply::Ending::Cut));
        fallback.setDefault(anthropicStream({" world!"}, "fallback1-model"));
        ProxyUnderTest proxy(chainConfig({anthropic(primary), anthropic(fallback)}));
        verifyOneAnthropicMessage(postMessages(proxy.port()), "Hello world!");
        QCOMPARE(prefillOf(fallback.requests().first()), QStringLiteral("Hello"));  // Anthropic refuses trailing space
    }

    void chatClient_cutContinuedWithOneDone() {
        MockUpstream primary, fallback;
        MockReply cut = openAIChatStream({"Hello", " wor"});
        cut.chunks = cut.chunks.mid(0, 3);  // role chunk and two deltas
        cut.ending = MockReply::Ending::Cut;
        primary.setDefault(cut);
        fallback.setDefault(openAIChatStream({"ld", "!"}, "fallback1-model"));
        ProxyUnderTest proxy(chainConfig({chat(primary), chat(fallback)}));

        const ClientResponse r = request(proxy.port(), "POST", "/v1/chat/completions", chatBody("gpt-test", true));
        QCOMPARE(r.status, 200);
        QVERIFY(r.complete);
        QCOMPARE(r.body.count("[DONE]"), 1);
        QCOMPARE(r.body.count("\"role\":\"assistant\""), 1);
        QCOMPARE(r.body.count("\"finish_reason\":\"stop\""), 1);
        QCOMPARE(chatText(r.body), QStringLiteral("Hello world!"));
        QCOMPARE(prefillOf(fallback.requests().first()), QStringLiteral("Hello wor"));
    }

    void stallAfterContent_continued() {
        MockUpstream primary, fallback;
        primary.setDefault(brokenAnthropic({"thinking about", " it"}, MockReply::Ending::Stall));
        fallback.setDefault(anthropicStream({", done."}, "fallback1-model"));
        ProxyUnderTest proxy(chainConfig({anthropic(primary), anthropic(fallback)}));
        verifyOneAnthropicMessage(postMessages(proxy.port()), "thinking about it, done.");
        QCOMPARE(prefillOf(fallback.requests().first()), QStringLiteral("thinking about it"));
    }

    void inBandErrorAfterContent_continued() {
        MockUpstream primary, fallback;
        MockReply broken = brokenAnthropic({"Partial"}, MockReply::Ending::Complete);
        broken.chunks.append(http::formatSse("error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
        primary.setDefault(broken);
        fallback.setDefault(anthropicStream({" and whole"}, "fallback1-model"));
        ProxyUnderTest proxy(chainConfig({anthropic(primary), anthropic(fallback)}));
        const ClientResponse r = postMessages(proxy.port());
        verifyOneAnthropicMessage(r, "Partial and whole");
        QVERIFY(!r.body.contains("overloaded_error"));
        QVERIFY(proxy.waitForEvents("failover", 1));
        QVERIFY(proxy.events("failover").first().fields.value("reason").toString().contains("overloaded_error"));
    }

    // An upstream event that never ends is not held without bound: past 16 MiB the stream counts as broken and
    // the next target continues it; the client never sees the oversized bytes.
    void endlessEventAfterContent_continued() {
        MockUpstream primary, fallback;
        MockReply broken = brokenAnthropic({"Partial"}, MockReply::Ending::Stall);
        broken.chunks.append("event: content_block_delta\ndata: " + QByteArray(17 * 1024 * 1024, 'x'));
        primary.setDefault(broken);
        fallback.setDefault(anthropicStream({" and whole"}, "fallback1-model"));
        ProxyUnderTest proxy(chainConfig({anthropic(primary), anthropic(fallback)}));
        const ClientResponse r = postMessages(proxy.port());
        verifyOneAnthropicMessage(r, "Partial and whole");
        QVERIFY(r.body.size() < 1024 * 1024);
        QVERIFY(proxy.waitForEvents("failover", 1));
        QVERIFY(proxy.events("failover").first().fields.value("reason").toString().contains("larger than 16 MiB"));
    }

    void noPrefillTarget_restartMatching_streamsOnAfterPrefix() {
        MockUpstream primary, fallback;
        primary.setDefault(brokenAnthropic({"Hello", " wor"}, MockReply::Ending::Cut));
        fallback.setDefault(anthropicStream({"Hel", "lo world", "!"}, "fallback1-model"));
        ProxyUnderTest proxy(chainConfig({anthropic(primary), anthropic(fallback, R"("prefill": false)")}));
        verifyOneAnthropicMessage(postMessages(proxy.port()), "Hello world!");
        QCOMPARE(fallback.hits(), 1);
        QCOMPARE(prefillOf(fallback.requests().first()), QString());  // never sent a prefill
    }

    void noPrefillTarget_restartDiffering_cleanInBandError() {
        MockUpstream primary, fallback;
        primary.setDefault(brokenAnthropic({"Hello", " wor"}, MockReply::Ending::Cut));
        fallback.setDefault(anthropicStream({"Goodbye"}, "fallback1-model"));
        ProxyUnderTest proxy(chainConfig({anthropic(primary), anthropic(fallback, R"("prefill": false)")}));
        const ClientResponse r = postMessages(proxy.port());
        verifyCleanInBandError(r);
        QCOMPARE(anthropicText(r.body), QStringLiteral("Hello wor"));
        QVERIFY(!r.body.contains("Goodbye"));
        QCOMPARE(prefillOf(fallback.requests().first()), QString());
        QVERIFY(r.body.contains("primary/claude-test broke"));
    }

    void prefillRejected_learnedAndRealFailureNamed() {
        MockUpstream primary, fallback;
        primary.setDefault(brokenAnthropic({"Hello", " wor"}, MockReply::Ending::Cut));
        fallback.enqueue(errorReply(400, R"({"type":"error","error":{"type":"invalid_request_error","message":"This model does not support assistant message prefill. The conversation must end with a user message."}})"));
        fallback.setDefault(anthropicStream({"Something else"}, "fallback1-model"));
        ProxyUnderTest proxy(chainConfig({anthropic(primary), anthropic(fallback)}));

        const ClientResponse r = postMessages(proxy.port());
        verifyCleanInBandError(r);
        QVERIFY(!r.body.contains("does not support assistant message prefill"));  // never masks the real failure
        QVERIFY2(r.body.contains("the stream from primary/claude-test broke after content was sent"), r.body.constData());
        QCOMPARE(fallback.hits(), 2);
        QCOMPARE(prefillOf(fallback.requests().at(0)), QStringLiteral("Hello wor"));
        QCOMPARE(prefillOf(fallback.requests().at(1)), QString());  // asked again without one
    }

    void partialToolCall_restartedWhole() {
        MockUpstream primary, fallback;
        MockReply cut = anthropicStream({"Let me look."});
        cut.chunks = cut.chunks.mid(0, 4);  // message_start, text block start, ping, text
        cut.chunks.append(http::formatSse("content_block_stop", R"({"type":"content_block_stop","index":0})"));
        cut.chunks.append(sse("content_block_start", {{"type", "content_block_start"}, {"index", 1},
            {"content_block", QJsonObject{{"type", "tool_use"}, {"id", "toolu_cut"}, {"name", "Bash"}, {"input", QJsonObject{}}}}}));
        cut.chunks.append(sse("content_block_delta", {{"type", "content_block_delta"}, {"index", 1},
            {"delta", QJsonObject{{"type", "input_json_delta"}, {"partial_json", "{\"comm"}}}}));
        cut.ending = MockReply::Ending::Cut;
        primary.setDefault(cut);

        MockReply whole = anthropicStream({});
        whole.chunks = {whole.chunks.first(),
            sse("content_block_start", {{"type", "content_block_start"}, {"index", 0},
                {"content_block", QJsonObject{{"type", "tool_use"}, {"id", "toolu_whole"}, {"name", "Bash"}, {"input", QJsonObject{}}}}}),
            sse("content_block_delta", {{"type", "content_block_delta"}, {"index", 0},
                {"delta", QJsonObject{{"type", "input_json_delta"}, {"partial_json", "{\"command\":\"ls\"}"}}}}),
            http::formatSse("content_block_stop", R"({"type":"content_block_stop","index":0})"),
            sse("message_delta", {{"type", "message_delta"}, {"delta", QJsonObject{{"stop_reason", "tool_use"}}},
                                  {"usage", QJsonObject{{"output_tokens", 9}}}}),
            http::formatSse("message_stop", R"({"type":"message_stop"})")};
        fallback.setDefault(whole);
        ProxyUnderTest proxy(chainConfig({anthropic(primary), anthropic(fallback)}));

        const ClientResponse r = postMessages(proxy.port());
        verifyOneAnthropicMessage(r, "Let me look.");
        QVERIFY(!r.body.contains("toolu_cut"));  // the half call never reached the client
        QCOMPARE(r.body.count("\"type\":\"tool_use\""), 1);
        QString json;
        int toolIndex = -1;
        for (const http::SseEvent& e : eventsOf(r.body)) {
            const QJsonObject data = QJsonDocument::fromJson(e.data).object();
            if (data.value("content_block").toObject().value("type") == "tool_use")
                toolIndex = data.value("index").toInt();
            if (data.value("delta").toObject().value("type") == "input_json_delta") {
                QCOMPARE(data.value("index").toInt(), toolIndex);
                json += data.value("delta").toObject().value("partial_json").toString();
            }
        }
        QCOMPARE(toolIndex, 1);  // after the text block the client already has
        QCOMPARE(QJsonDocument::fromJson(json.toUtf8()).object().value("command").toString(), QStringLiteral("ls"));
        QVERIFY(r.body.contains("\"stop_reason\":\"tool_use\""));
        // The prefill holds the text only: the half call is made again from its start.
        const QJsonArray content = QJsonDocument::fromJson(fallback.requests().first().body).object()
                                       .value("messages").toArray().last().toObject().value("content").toArray();
        QCOMPARE(content.size(), 1);
        QCOMPARE(content.first().toObject().value("type").toString(), QStringLiteral("text"));
    }

    void anthropicPrimaryCut_chatFallbackContinues() {
        MockUpstream primary, fallback;
        primary.setDefault(brokenAnthropic({"Hello", " wor"}, MockReply::Ending::Cut));
        fallback.setDefault(openAIChatStream({"ld", "!"}, "fallback1-model"));
        ProxyUnderTest proxy(chainConfig({anthropic(primary), chat(fallback)}));

        verifyOneAnthropicMessage(postMessages(proxy.port()), "Hello world!");
        const http::Request& sent = fallback.requests().first();
        QCOMPARE(sent.path, QByteArray("/v1/chat/completions"));
        QCOMPARE(prefillOf(sent), QStringLiteral("Hello wor"));
    }

    void noTargetCanContinue_cleanInBandErrorNamingTheBreak() {
        MockUpstream primary, fallback;
        primary.setDefault(brokenAnthropic({"Hello"}, MockReply::Ending::Cut));
        fallback.setDefault(errorReply(529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
        ProxyUnderTest proxy(chainConfig({anthropic(primary), anthropic(fallback)}));
        const ClientResponse r = postMessages(proxy.port());
        verifyCleanInBandError(r);
        QCOMPARE(anthropicText(r.body), QStringLiteral("Hello"));
        QVERIFY(r.body.contains("primary/claude-test broke"));
        QVERIFY(r.body.contains("529"));
        QVERIFY(proxy.waitForEvents("request", 1));
        QCOMPARE(proxy.events("request").first().fields.value("outcome").toString(), QStringLiteral("stream_broken"));
    }
};

QTEST_GUILESS_MAIN(TestContinuation)
#include "tst_continuation.moc"
