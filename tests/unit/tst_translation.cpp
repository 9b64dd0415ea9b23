#include "dialects/AnthropicMessages.h"
#include "dialects/OpenAIChat.h"
#include "dialects/OpenAIResponses.h"
#include "dialects/Translation.h"
#include "http/SseReader.h"

#include <QtTest>

using namespace understudy;

// Declared ahead of the fixtures: moc 6.4 loses track of a raw string literal that spans lines and contains
// "//" (every URL), and then finds no class in the rest of the file.
class TestTranslation : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void namedToolChoice_bothOpenAIShapes();
    // requests
    void anthropicRequestToChat();
    void anthropicRequestToResponses();
    void chatRequestToAnthropic();
    void chatRequestToResponses();
    void responsesRequestToChat();
    void responsesRequestToAnthropic();
    void foreignToolIdsMapTheSameWayEveryTurn();
    void thinkingCrossesFamiliesWithoutSignatures();
    void reasoningControlsOnlyForReasoningTargets();
    void maxTokensAreClamped();
    void roundTrips_data();
    void roundTrips();
    void invalidBodyIsAnError();
    // responses
    void chatResponseToAnthropic();
    void anthropicResponseToChat();
    void responsesResponseToAnthropic();
    void anthropicResponseToResponses();
    void chatResponseToResponses();
    // streams
    void chatStreamToAnthropic();
    void anthropicStreamToChat();
    void responsesStreamToAnthropic();
    void anthropicStreamToResponses();
    void chatStreamToResponses();
    void responsesStreamToChat();
    void customToolCallStreamsAsWrappedInput();
    void inBandErrors_data();
    void inBandErrors();
    void finishClosesOnlyWhatIsMissing();
    void streamSplitAnywhereGivesTheSameEvents();
    // errors, estimates, real traffic
    void errorBodies_data();
    void errorBodies();
    void estimateInputTokens();
    void fixturesTranslateEverywhere_data();
    void fixturesTranslateEverywhere();
    void megabyteClaudeCodeRequestTranslates();
    void stringsAndToolInputsSurviveEveryDialect();
    void toolArgumentsPassThroughAsBytes();
    void laxJsonFromUpstreamsStillTranslates();
};

namespace {

QJsonObject parse(const QByteArray& text) {
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(text, &error);
    if (error.error != QJsonParseError::NoError)
        qWarning("invalid JSON (%s): %s", qPrintable(error.errorString()), text.left(400).constData());
    return document.object();
}

QJsonObject translated(Dialect from, Dialect to, const QByteArray& body, const TargetTraits& traits = {},
                       const QString& model = QStringLiteral("target-model")) {
    const Translated result = translateRequest(from, to, body, model, traits);
    if (!result.error.isEmpty())
        qWarning("%s", qPrintable(result.error));
    return parse(result.body);
}

QJsonObject response(Dialect from, Dialect to, const QByteArray& body) {
    const Translated result = translateResponse(from, to, body);
    if (!result.error.isEmpty())
        qWarning("%s", qPrintable(result.error));
    return parse(result.body);
}

QString dump(const QJsonValue& value) {
    if (value.isObject())
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Indented));
    if (value.isArray())
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Indented));
    return value.toVariant().toString();
}

#define COMPARE_JSON(actual, expected)                                                                             \
    do {                                                                                                           \
        const QJsonValue a_ = (actual), e_ = (expected);                                                           \
        if (a_ != e_)                                                                                              \
            qWarning("actual:\n%s\nexpected:\n%s", qPrintable(dump(a_)), qPrintable(dump(e_)));                    \
        QVERIFY(a_ == e_);                                                                                         \
    } while (false)

struct Event {
    QByteArray name;
    QJsonObject data;
    bool done = false;  // Chat's [DONE]
};

QList<Event> events(const QByteArray& bytes) {
    http::SseReader reader;
    QList<http::SseEvent> raw;
    reader.feed(bytes, raw);
    QList<Event> out;
    for (const http::SseEvent& event : raw) {
        if (event.data == "[DONE]")
            out.append({event.event, {}, true});
        else
            out.append({event.event, parse(event.data), false});
    }
    return out;
}

// Feeds an upstream stream through a transcoder event by event, then finish().
QList<Event> transcode(Dialect from, Dialect to, const QByteArray& upstream, bool finish = true) {
    http::SseReader reader;
    QList<http::SseEvent> raw;
    reader.feed(upstream, raw);
    const std::unique_ptr<StreamTranscoder> transcoder = makeStreamTranscoder(from, to);
    QByteArray out;
    for (const http::SseEvent& event : raw)
        out += transcoder->feed(event);
    if (finish)
        out += transcoder->finish();
    return events(out);
}

QByteArray sse(const char* name, const char* data) { return http::formatSse(name, data); }
QByteArray chunk(const char* data) { return http::formatSse({}, data); }

QByteArrayList names(const QList<Event>& list) {
    QByteArrayList out;
    for (const Event& event : list)
        out.append(event.done ? QByteArray("[DONE]") : event.name.isEmpty() ? event.data.value(u"type").toString().toUtf8() : event.name);
    return out;
}

// Chat chunks have no names; this says what each carries, e.g. "content:Hi" or "tool_calls".
QByteArrayList chatShapes(const QList<Event>& list) {
    QByteArrayList out;
    for (const Event& event : list) {
        if (event.done) {
            out.append("[DONE]");
            continue;
        }
        if (event.data.contains(u"error")) {
            out.append("error");
            continue;
        }
        const QJsonObject choice = event.data.value(u"choices").toArray().first().toObject();
        const QJsonObject delta = choice.value(u"delta").toObject();
        QByteArrayList parts;
        for (auto it = delta.begin(); it != delta.end(); ++it)
            parts.append(it.key().toUtf8() + (it.value().isString() ? ":" + it.value().toString().toUtf8() : QByteArray()));
        if (choice.value(u"finish_reason").isString())
            parts.append("finish:" + choice.value(u"finish_reason").toString().toUtf8());
        if (event.data.value(u"usage").isObject())
            parts.append("usage");
        out.append(parts.join(' '));
    }
    return out;
}

QByteArray fixtureBody(const QString& name) {
    QFile file(QStringLiteral(UNDERSTUDY_TEST_DATA "/fixtures/") + name);
    if (!file.open(QIODevice::ReadOnly))
        qWarning("cannot open fixture %s", qPrintable(name));
    return QJsonDocument(parse(file.readAll()).value(u"body").toObject()).toJson(QJsonDocument::Compact);
}

const QByteArray kAnthropicRequest = R"({
  "model": "claude-opus-4-6", "max_tokens": 64000, "stream": true, "temperature": 0.5, "top_p": 0.9,
  "stop_sequences": ["END"], "metadata": {"user_id": "user-hash"},
  "system": [{"type": "text", "text": "You are a coding agent."},
             {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
  "tools": [{"name": "Bash", "description": "Run a command", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}, "cache_control": {"type": "ephemeral"}},
            {"type": "web_search_20250305", "name": "web_search"}],
  "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
  "thinking": {"type": "enabled", "budget_tokens": 2048},
  "messages": [
    {"role": "user", "content": [{"type": "text", "text": "What is in this picture?"},
                                 {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
                                 {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}]},
    {"role": "system", "content": "The user prefers short answers."},
    {"role": "assistant", "content": [{"type": "thinking", "thinking": "Let me look.", "signature": "sig-abc"},
                                      {"type": "text", "text": "I'll list the files."},
                                      {"type": "tool_use", "id": "toolu_01", "name": "Bash", "input": {"command": "ls"}},
                                      {"type": "tool_use", "id": "toolu_02", "name": "Bash", "input": {"command": "pwd"}}]},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "a.txt\nb.txt", "cache_control": {"type": "ephemeral"}},
                                 {"type": "tool_result", "tool_use_id": "toolu_02", "content": [{"type": "text", "text": "/home"}], "is_error": true},
                                 {"type": "text", "text": "Now summarise."}]}
  ]
})";

const QByteArray kChatRequest = R"({
  "model": "gpt-4.1", "max_completion_tokens": 1000, "stream": true, "stream_options": {"include_usage": true},
  "temperature": 0.2, "stop": "STOP", "user": "u-1", "parallel_tool_calls": false,
  "tool_choice": {"type": "function", "function": {"name": "read"}},
  "tools": [{"type": "function", "function": {"name": "read", "description": "Read a file", "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}}],
  "messages": [
    {"role": "system", "content": "You are helpful."},
    {"role": "developer", "content": [{"type": "text", "text": "Use tools."}]},
    {"role": "user", "content": [{"type": "text", "text": "Read both."}, {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}}]},
    {"role": "assistant", "content": null, "tool_calls": [
      {"id": "functions.read:0", "type": "function", "function": {"name": "read", "arguments": "{\"path\":\"a\"}"}},
      {"id": "functions.read:1", "type": "function", "function": {"name": "read", "arguments": "{\"path\":\"b\"}"}}]},
    {"role": "tool", "tool_call_id": "functions.read:0", "content": "A"},
    {"role": "tool", "tool_call_id": "functions.read:1", "content": [{"type": "text", "text": "B"}]},
    {"role": "assistant", "content": "Both read."},
    {"role": "user", "content": "Thanks"}
  ]
})";

const QByteArray kResponsesRequest = R"({
  "model": "gpt-5.5", "stream": true, "store": false, "max_output_tokens": 5000, "parallel_tool_calls": true,
  "tool_choice": "auto", "reasoning": {"effort": "medium"}, "include": ["reasoning.encrypted_content"],
  "instructions": "Top instructions.",
  "tools": [{"type": "function", "name": "exec_command", "description": "Run", "strict": false, "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}}},
            {"type": "custom", "name": "apply_patch", "description": "Patch files", "format": {"type": "grammar", "syntax": "lark", "definition": "start: patch"}},
            {"type": "web_search"}],
  "input": [
    {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Developer rules."}]},
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "list files"}, {"type": "input_image", "image_url": "https://example.com/x.png", "detail": "auto"}]},
    {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Thinking about ls."}], "encrypted_content": "gAAAA-enc"},
    {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "exec_command", "arguments": "{\"cmd\":\"ls\"}", "status": "completed"},
    {"type": "custom_tool_call", "call_id": "call_2", "name": "apply_patch", "input": "*** Begin Patch\n*** End Patch"},
    {"type": "function_call_output", "call_id": "call_1", "output": "README.md"},
    {"type": "custom_tool_call_output", "call_id": "call_2", "output": "Done"},
    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Listed.", "annotations": []}]},
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "thanks"}]}
  ]
})";

}  // namespace

// ---- requests -------------------------------------------------------------------------------------------------

// Chat nests a named tool choice under "function", Responses puts the name beside "type": both name one tool.
void TestTranslation::namedToolChoice_bothOpenAIShapes() {
    const QByteArray chat = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                            "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"Bash\",\"parameters\":{}}}],"
                            "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"Bash\"}}}";
    const QByteArray responses = "{\"model\":\"m\",\"input\":\"hi\","
                                 "\"tools\":[{\"type\":\"function\",\"name\":\"Bash\",\"parameters\":{}}],"
                                 "\"tool_choice\":{\"type\":\"function\",\"name\":\"Bash\"}}";
    for (const auto& [dialect, body] : {std::pair{Dialect::OpenAIChat, chat}, std::pair{Dialect::OpenAIResponses, responses}}) {
        const Translated out = translateRequest(dialect, Dialect::AnthropicMessages, body, QStringLiteral("claude"));
        QVERIFY2(out.error.isEmpty(), qPrintable(out.error));
        const QJsonObject choice = parse(out.body).value(u"tool_choice").toObject();
        QCOMPARE(choice.value(u"type").toString(), QStringLiteral("tool"));
        QCOMPARE(choice.value(u"name").toString(), QStringLiteral("Bash"));
    }
}

void TestTranslation::anthropicRequestToChat() {
    const QJsonObject out = translated(Dialect::AnthropicMessages, Dialect::OpenAIChat, kAnthropicRequest);
    const QJsonObject expected = parse(R"({
      "model": "target-model", "max_tokens": 64000, "stream": true, "stream_options": {"include_usage": true},
      "temperature": 0.5, "top_p": 0.9, "stop": ["END"], "user": "user-hash",
      "tools": [{"type": "function", "function": {"name": "Bash", "description": "Run a command",
                 "parameters": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}}}],
      "tool_choice": "required", "parallel_tool_calls": false,
      "messages": [
        {"role": "system", "content": "You are a coding agent.\n\nBe brief.\n\nThe user prefers short answers."},
        {"role": "user", "content": [{"type": "text", "text": "What is in this picture?"},
                                     {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                                     {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]},
        {"role": "assistant", "content": "I'll list the files.", "tool_calls": [
          {"id": "toolu_01", "type": "function", "function": {"name": "Bash", "arguments": "{\"command\":\"ls\"}"}},
          {"id": "toolu_02", "type": "function", "function": {"name": "Bash", "arguments": "{\"command\":\"pwd\"}"}}]},
        {"role": "tool", "tool_call_id": "toolu_01", "content": "a.txt\nb.txt"},
        {"role": "tool", "tool_call_id": "toolu_02", "content": "/home"},
        {"role": "user", "content": "Now summarise."}
      ]
    })");
    COMPARE_JSON(out, expected);
}

void TestTranslation::anthropicRequestToResponses() {
    const QJsonObject out = translated(Dialect::AnthropicMessages, Dialect::OpenAIResponses, kAnthropicRequest);
    const QJsonObject expected = parse(R"({
      "model": "target-model", "store": false, "stream": true, "max_output_tokens": 64000, "temperature": 0.5, "top_p": 0.9,
      "user": "user-hash", "instructions": "You are a coding agent.\n\nBe brief.\n\nThe user prefers short answers.",
      "tools": [{"type": "function", "name": "Bash", "description": "Run a command", "strict": false,
                 "parameters": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}}],
      "tool_choice": "required", "parallel_tool_calls": false,
      "input": [
        {"type": "message", "role": "user", "content": [
          {"type": "input_text", "text": "What is in this picture?"},
          {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo=", "detail": "auto"},
          {"type": "input_image", "image_url": "https://example.com/a.png", "detail": "auto"}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "I'll list the files.", "annotations": []}]},
        {"type": "function_call", "call_id": "toolu_01", "name": "Bash", "arguments": "{\"command\":\"ls\"}"},
        {"type": "function_call", "call_id": "toolu_02", "name": "Bash", "arguments": "{\"command\":\"pwd\"}"},
        {"type": "function_call_output", "call_id": "toolu_01", "output": "a.txt\nb.txt"},
        {"type": "function_call_output", "call_id": "toolu_02", "output": "/home"},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Now summarise."}]}
      ]
    })");
    COMPARE_JSON(out, expected);
}

void TestTranslation::chatRequestToAnthropic() {
    const QJsonObject out = translated(Dialect::OpenAIChat, Dialect::AnthropicMessages, kChatRequest);
    const QJsonArray messages = out.value(u"messages").toArray();
    const QString id0 = messages[1].toObject().value(u"content").toArray()[0].toObject().value(u"id").toString();
    const QString id1 = messages[1].toObject().value(u"content").toArray()[1].toObject().value(u"id").toString();
    QVERIFY(QRegularExpression(QStringLiteral("^[a-zA-Z0-9_-]+$")).match(id0).hasMatch());
    QVERIFY(id0.startsWith(u"functions_read_0_"));
    QVERIFY(id0 != id1);
    const QJsonObject expected = parse(QStringLiteral(R"({
      "model": "target-model", "max_tokens": 1000, "stream": true, "temperature": 0.2, "stop_sequences": ["STOP"],
      "metadata": {"user_id": "u-1"},
      "system": [{"type": "text", "text": "You are helpful."}, {"type": "text", "text": "Use tools."}],
      "tools": [{"name": "read", "description": "Read a file", "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}}}],
      "tool_choice": {"type": "tool", "name": "read", "disable_parallel_tool_use": true},
      "messages": [
        {"role": "user", "content": [{"type": "text", "text": "Read both."},
                                     {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQ"}}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "%1", "name": "read", "input": {"path": "a"}},
                                          {"type": "tool_use", "id": "%2", "name": "read", "input": {"path": "b"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "%1", "content": "A"},
                                     {"type": "tool_result", "tool_use_id": "%2", "content": "B"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Both read."}]},
        {"role": "user", "content": [{"type": "text", "text": "Thanks"}]}
      ]
    })").arg(id0, id1).toUtf8());
    COMPARE_JSON(out, expected);
}

void TestTranslation::chatRequestToResponses() {
    const QJsonObject out = translated(Dialect::OpenAIChat, Dialect::OpenAIResponses, kChatRequest);
    const QJsonObject expected = parse(R"({
      "model": "target-model", "store": false, "stream": true, "max_output_tokens": 1000, "temperature": 0.2, "user": "u-1",
      "instructions": "You are helpful.\n\nUse tools.",
      "tools": [{"type": "function", "name": "read", "description": "Read a file", "strict": false,
                 "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}],
      "tool_choice": {"type": "function", "name": "read"}, "parallel_tool_calls": false,
      "input": [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Read both."},
                                                         {"type": "input_image", "image_url": "data:image/jpeg;base64,/9j/4AAQ", "detail": "auto"}]},
        {"type": "function_call", "call_id": "functions.read:0", "name": "read", "arguments": "{\"path\":\"a\"}"},
        {"type": "function_call", "call_id": "functions.read:1", "name": "read", "arguments": "{\"path\":\"b\"}"},
        {"type": "function_call_output", "call_id": "functions.read:0", "output": "A"},
        {"type": "function_call_output", "call_id": "functions.read:1", "output": "B"},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Both read.", "annotations": []}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Thanks"}]}
      ]
    })");
    COMPARE_JSON(out, expected);
}

void TestTranslation::responsesRequestToChat() {
    const QJsonObject out = translated(Dialect::OpenAIResponses, Dialect::OpenAIChat, kResponsesRequest);
    const QJsonObject expected = parse(R"({
      "model": "target-model", "max_tokens": 5000, "stream": true, "stream_options": {"include_usage": true},
      "tool_choice": "auto", "parallel_tool_calls": true,
      "tools": [{"type": "function", "function": {"name": "exec_command", "description": "Run", "strict": false,
                 "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}}}},
                {"type": "function", "function": {"name": "apply_patch", "description": "Patch files",
                 "parameters": {"type": "object", "properties": {"input": {"type": "string"}}, "required": ["input"]}}}],
      "messages": [
        {"role": "system", "content": "Top instructions.\n\nDeveloper rules."},
        {"role": "user", "content": [{"type": "text", "text": "list files"}, {"type": "image_url", "image_url": {"url": "https://example.com/x.png"}}]},
        {"role": "assistant", "content": null, "tool_calls": [
          {"id": "call_1", "type": "function", "function": {"name": "exec_command", "arguments": "{\"cmd\":\"ls\"}"}},
          {"id": "call_2", "type": "function", "function": {"name": "apply_patch", "arguments": "{\"input\":\"*** Begin Patch\\n*** End Patch\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "README.md"},
        {"role": "tool", "tool_call_id": "call_2", "content": "Done"},
        {"role": "assistant", "content": "Listed."},
        {"role": "user", "content": "thanks"}
      ]
    })");
    COMPARE_JSON(out, expected);
}

void TestTranslation::responsesRequestToAnthropic() {
    const QJsonObject out = translated(Dialect::OpenAIResponses, Dialect::AnthropicMessages, kResponsesRequest);
    const QJsonObject expected = parse(R"({
      "model": "target-model", "max_tokens": 5000, "stream": true,
      "system": [{"type": "text", "text": "Top instructions."}, {"type": "text", "text": "Developer rules."}],
      "tools": [{"name": "exec_command", "description": "Run", "input_schema": {"type": "object", "properties": {"cmd": {"type": "string"}}}},
                {"name": "apply_patch", "description": "Patch files",
                 "input_schema": {"type": "object", "properties": {"input": {"type": "string"}}, "required": ["input"]}}],
      "tool_choice": {"type": "auto"},
      "messages": [
        {"role": "user", "content": [{"type": "text", "text": "list files"}, {"type": "image", "source": {"type": "url", "url": "https://example.com/x.png"}}]},
        {"role": "assistant", "content": [
          {"type": "tool_use", "id": "call_1", "name": "exec_command", "input": {"cmd": "ls"}},
          {"type": "tool_use", "id": "call_2", "name": "apply_patch", "input": {"input": "*** Begin Patch\n*** End Patch"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "README.md"},
                                     {"type": "tool_result", "tool_use_id": "call_2", "content": "Done"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Listed."}]},
        {"role": "user", "content": [{"type": "text", "text": "thanks"}]}
      ]
    })");
    COMPARE_JSON(out, expected);
}

void TestTranslation::foreignToolIdsMapTheSameWayEveryTurn() {
    // Kimi restarts its numbering every turn: the same id twice in one history.
    const QByteArray turn = R"({"model": "m", "messages": [
      {"role": "user", "content": "go"},
      {"role": "assistant", "tool_calls": [{"id": "functions.Bash:0", "type": "function", "function": {"name": "Bash", "arguments": "{}"}}]},
      {"role": "tool", "tool_call_id": "functions.Bash:0", "content": "one"},
      {"role": "assistant", "tool_calls": [{"id": "functions.Bash:0", "type": "function", "function": {"name": "Bash", "arguments": "{}"}}]},
      {"role": "tool", "tool_call_id": "functions.Bash:0", "content": "two"}]})";
    const QJsonObject first = translated(Dialect::OpenAIChat, Dialect::AnthropicMessages, turn);
    const QJsonObject again = translated(Dialect::OpenAIChat, Dialect::AnthropicMessages, turn);
    COMPARE_JSON(first, again);
    const QJsonArray messages = first.value(u"messages").toArray();
    const auto idAt = [&messages](int message, const char* key) {
        return messages[message].toObject().value(u"content").toArray()[0].toObject().value(QLatin1String(key)).toString();
    };
    QCOMPARE(idAt(2, "tool_use_id"), idAt(1, "id"));
    QCOMPARE(idAt(4, "tool_use_id"), idAt(3, "id"));
    QVERIFY(idAt(1, "id") != idAt(3, "id"));
    for (int i : {1, 3})
        QVERIFY(QRegularExpression(QStringLiteral("^[a-zA-Z0-9_-]+$")).match(idAt(i, "id")).hasMatch());

    // In a response, the response id keeps per-turn ids unique for the client.
    const QByteArray chatResponse = R"({"id": "chatcmpl-%1", "model": "kimi", "choices": [{"index": 0, "finish_reason": "tool_calls",
      "message": {"role": "assistant", "tool_calls": [{"id": "functions.Bash:0", "type": "function", "function": {"name": "Bash", "arguments": "{}"}}]}}]})";
    const auto responseId = [&chatResponse](const char* turnId) {
        const QJsonObject out = response(Dialect::OpenAIChat, Dialect::AnthropicMessages, QByteArray(chatResponse).replace("%1", turnId));
        return out.value(u"content").toArray()[0].toObject().value(u"id").toString();
    };
    QCOMPARE(responseId("a"), responseId("a"));
    QVERIFY(responseId("a") != responseId("b"));
    QVERIFY(QRegularExpression(QStringLiteral("^[a-zA-Z0-9_-]+$")).match(responseId("a")).hasMatch());

    // OpenAI caps ids at 40 characters.
    const QByteArray longId = R"({"model": "m", "max_tokens": 10, "messages": [
      {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_0123456789012345678901234567890123456789", "name": "x", "input": {}}]},
      {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_0123456789012345678901234567890123456789", "content": "ok"}]}]})";
    const QJsonArray chat = translated(Dialect::AnthropicMessages, Dialect::OpenAIChat, longId).value(u"messages").toArray();
    const QString callId = chat[0].toObject().value(u"tool_calls").toArray()[0].toObject().value(u"id").toString();
    QVERIFY(callId.size() <= 40);
    QCOMPARE(chat[1].toObject().value(u"tool_call_id").toString(), callId);
}

void TestTranslation::thinkingCrossesFamiliesWithoutSignatures() {
    TargetTraits reasoningChat;
    reasoningChat.reasoningContent = true;
    // Anthropic thinking: text kept for a Chat target that reads reasoning_content, signature never sent.
    const QJsonObject chat = translated(Dialect::AnthropicMessages, Dialect::OpenAIChat, kAnthropicRequest, reasoningChat);
    const QJsonObject assistant = chat.value(u"messages").toArray()[2].toObject();
    QCOMPARE(assistant.value(u"reasoning_content").toString(), QStringLiteral("Let me look."));
    QVERIFY(!chat.value(u"messages").toArray().contains(QStringLiteral("sig-abc")));
    QVERIFY(!translateRequest(Dialect::AnthropicMessages, Dialect::OpenAIChat, kAnthropicRequest, "m", reasoningChat).body.contains("sig-abc"));
    // Without the trait (OpenAI itself) no reasoning_content.
    const QJsonObject plain = translated(Dialect::AnthropicMessages, Dialect::OpenAIChat, kAnthropicRequest);
    QVERIFY(!plain.value(u"messages").toArray()[2].toObject().contains(u"reasoning_content"));
    // Responses never gets Anthropic thinking (it would need OpenAI's encrypted content).
    QVERIFY(!translateRequest(Dialect::AnthropicMessages, Dialect::OpenAIResponses, kAnthropicRequest, "m").body.contains("reasoning"));

    // OpenAI encrypted reasoning never reaches Anthropic; Anthropic keeps only what it signed.
    const QByteArray body = translateRequest(Dialect::OpenAIResponses, Dialect::AnthropicMessages, kResponsesRequest, "m").body;
    QVERIFY(!body.contains("gAAAA-enc"));
    QVERIFY(!body.contains("\"thinking\""));
    // Thinking this proxy minted for an Anthropic client comes back marked and is dropped.
    const QByteArray minted = QByteArray(R"({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"},
      {"role": "assistant", "content": [{"type": "thinking", "thinking": "hmm", "signature": "SIG"}, {"type": "text", "text": "Hello"}]},
      {"role": "user", "content": "again"}]})").replace("SIG", kUnsignedThinkingSignature);
    const QJsonObject back = translated(Dialect::AnthropicMessages, Dialect::OpenAIChat, minted, reasoningChat);
    QCOMPARE(back.value(u"messages").toArray()[1].toObject().value(u"reasoning_content").toString(), QStringLiteral("hmm"));
    QVERIFY(!translateRequest(Dialect::AnthropicMessages, Dialect::OpenAIChat, minted, "m", reasoningChat).body.contains(kUnsignedThinkingSignature));
}

void TestTranslation::reasoningControlsOnlyForReasoningTargets() {
    TargetTraits reasoning;
    reasoning.reasoning = true;
    const QJsonObject plainChat = translated(Dialect::AnthropicMessages, Dialect::OpenAIChat, kAnthropicRequest);
    QVERIFY(!plainChat.contains(u"reasoning_effort"));
    const QJsonObject chat = translated(Dialect::AnthropicMessages, Dialect::OpenAIChat, kAnthropicRequest, reasoning);
    QCOMPARE(chat.value(u"reasoning_effort").toString(), QStringLiteral("low"));  // budget 2048
    QVERIFY(chat.contains(u"max_completion_tokens"));
    QVERIFY(!chat.contains(u"max_tokens"));

    const QJsonObject responses = translated(Dialect::AnthropicMessages, Dialect::OpenAIResponses, kAnthropicRequest, reasoning);
    QCOMPARE(responses.value(u"reasoning").toObject().value(u"effort").toString(), QStringLiteral("low"));
    QCOMPARE(responses.value(u"include").toArray(), QJsonArray{QStringLiteral("reasoning.encrypted_content")});

    // Codex's effort to an Anthropic target: thinking on, temperature off (Anthropic refuses both together).
    const QByteArray codex = R"({"model": "m", "max_output_tokens": 32000, "temperature": 0.3, "reasoning": {"effort": "medium"},
      "input": [{"type": "message", "role": "user", "content": "hi"}]})";
    const QJsonObject anthropic = translated(Dialect::OpenAIResponses, Dialect::AnthropicMessages, codex, reasoning);
    COMPARE_JSON(anthropic.value(u"thinking"), parse(R"({"type": "enabled", "budget_tokens": 8192})"));
    QVERIFY(!anthropic.contains(u"temperature"));
    QVERIFY(!translated(Dialect::OpenAIResponses, Dialect::AnthropicMessages, codex).contains(u"thinking"));

    // A pending tool call made without signed thinking: enabling thinking would be refused, so it stays off.
    const QByteArray pending = R"({"model": "m", "reasoning": {"effort": "high"}, "input": [
      {"type": "message", "role": "user", "content": "go"},
      {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
      {"type": "function_call_output", "call_id": "c1", "output": "x"}]})";
    QVERIFY(!translated(Dialect::OpenAIResponses, Dialect::AnthropicMessages, pending, reasoning).contains(u"thinking"));
}

void TestTranslation::maxTokensAreClamped() {
    TargetTraits small;
    small.maxOutputTokens = 8192;
    QCOMPARE(translated(Dialect::AnthropicMessages, Dialect::OpenAIChat, kAnthropicRequest, small).value(u"max_tokens").toInt(), 8192);
    QCOMPARE(translated(Dialect::AnthropicMessages, Dialect::OpenAIResponses, kAnthropicRequest, small).value(u"max_output_tokens").toInt(), 8192);
    QCOMPARE(translated(Dialect::OpenAIChat, Dialect::AnthropicMessages, kChatRequest, small).value(u"max_tokens").toInt(), 1000);
    // Anthropic requires max_tokens: a client that gave none gets a default within the target's limit.
    const QByteArray none = R"({"model": "m", "messages": [{"role": "user", "content": "hi"}]})";
    QCOMPARE(translated(Dialect::OpenAIChat, Dialect::AnthropicMessages, none).value(u"max_tokens").toInt(), 8192);
    TargetTraits tiny;
    tiny.maxOutputTokens = 4096;
    QCOMPARE(translated(Dialect::OpenAIChat, Dialect::AnthropicMessages, none, tiny).value(u"max_tokens").toInt(), 4096);
    QVERIFY(!translated(Dialect::AnthropicMessages, Dialect::OpenAIChat, R"({"model":"m","messages":[]})").contains(u"max_tokens"));
}

void TestTranslation::roundTrips_data() {
    QTest::addColumn<int>("dialect");
    QTest::addColumn<QByteArray>("body");
    // Everything each dialect can express about a request, in the form its encoder writes it.
    QTest::newRow("anthropic") << int(Dialect::AnthropicMessages) << QByteArray(R"({
      "model": "m", "max_tokens": 4000, "stream": true, "stop_sequences": ["X"],
      "metadata": {"user_id": "u"}, "thinking": {"type": "enabled", "budget_tokens": 2048},
      "system": [{"type": "text", "text": "S", "cache_control": {"type": "ephemeral"}}],
      "tools": [{"name": "t", "description": "d", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}}],
      "tool_choice": {"type": "tool", "name": "t", "disable_parallel_tool_use": true},
      "messages": [
        {"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}},
                                     {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}]},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm", "signature": "sig"},
                                          {"type": "redacted_thinking", "data": "opaque"},
                                          {"type": "tool_use", "id": "toolu_1", "name": "t", "input": {"a": 1}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok", "is_error": true},
                                     {"type": "tool_result", "tool_use_id": "toolu_1x", "content": [{"type": "text", "text": "a"}, {"type": "image", "source": {"type": "url", "url": "https://e/x.png"}}]}]}
      ]})");
    QTest::newRow("chat") << int(Dialect::OpenAIChat) << QByteArray(R"({
      "model": "m", "max_tokens": 4000, "stream": true, "stream_options": {"include_usage": true}, "temperature": 0.5,
      "top_p": 0.9, "stop": ["X"], "user": "u", "parallel_tool_calls": false,
      "response_format": {"type": "json_schema", "json_schema": {"name": "out", "schema": {"type": "object"}, "strict": true}},
      "tools": [{"type": "function", "function": {"name": "t", "description": "d", "parameters": {"type": "object"}, "strict": true}}],
      "tool_choice": "required",
      "messages": [
        {"role": "system", "content": "S"},
        {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]},
        {"role": "assistant", "content": "calling", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "t", "arguments": "{\"a\":1}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "ok"},
        {"role": "user", "content": "next"}
      ]})");
    QTest::newRow("responses") << int(Dialect::OpenAIResponses) << QByteArray(R"({
      "model": "m", "store": false, "stream": true, "max_output_tokens": 4000, "temperature": 0.5, "top_p": 0.9, "user": "u",
      "instructions": "S", "parallel_tool_calls": true, "tool_choice": {"type": "custom", "name": "p"},
      "text": {"format": {"type": "json_schema", "name": "out", "schema": {"type": "object"}, "strict": true}},
      "tools": [{"type": "function", "name": "t", "description": "d", "parameters": {"type": "object"}, "strict": false},
                {"type": "custom", "name": "p", "description": "patch", "format": {"type": "grammar", "syntax": "lark", "definition": "x"}}],
      "input": [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}, {"type": "input_image", "image_url": "https://e/x.png", "detail": "auto"}]},
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "hm"}], "encrypted_content": "enc"},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "calling", "annotations": []}]},
        {"type": "function_call", "call_id": "c1", "name": "t", "arguments": "{\"a\":1}"},
        {"type": "custom_tool_call", "call_id": "c2", "name": "p", "input": "raw patch"},
        {"type": "function_call_output", "call_id": "c1", "output": "ok"},
        {"type": "custom_tool_call_output", "call_id": "c2", "output": "done"},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "next"}]}
      ]})");
}

void TestTranslation::roundTrips() {
    QFETCH(int, dialect);
    QFETCH(QByteArray, body);
    TargetTraits traits;
    traits.reasoning = true;
    const std::optional<json::Tree> input = json::Tree::parse(body);
    QVERIFY(input);
    QByteArray output;
    switch (Dialect(dialect)) {
    case Dialect::AnthropicMessages: output = anthropic::encodeRequest(anthropic::decodeRequest(input->root()), traits); break;
    case Dialect::OpenAIChat: output = chat::encodeRequest(chat::decodeRequest(input->root()), TargetTraits{}); break;
    case Dialect::OpenAIResponses: output = responses::encodeRequest(responses::decodeRequest(input->root()), TargetTraits{}); break;
    }
    COMPARE_JSON(parse(output), parse(body));
}

void TestTranslation::invalidBodyIsAnError() {
    const Translated result = translateRequest(Dialect::AnthropicMessages, Dialect::OpenAIChat, "{\"model\": ", "m");
    QVERIFY(result.body.isEmpty());
    QVERIFY(result.error.contains(u"not valid JSON"));
    QVERIFY(!translateResponse(Dialect::OpenAIChat, Dialect::AnthropicMessages, "[1]").error.isEmpty());
}

// ---- responses ------------------------------------------------------------------------------------------------

void TestTranslation::chatResponseToAnthropic() {
    const QJsonObject out = response(Dialect::OpenAIChat, Dialect::AnthropicMessages, R"({
      "id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "qwen3-coder",
      "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": "Let me check.",
        "reasoning_content": "User wants files.",
        "tool_calls": [{"id": "call_a", "type": "function", "function": {"name": "Bash", "arguments": "{\"command\":\"ls\"}"}},
                       {"id": "call_b", "type": "function", "function": {"name": "Read", "arguments": "{\"path\":\"x\"}"}}]}}],
      "usage": {"prompt_tokens": 1200, "completion_tokens": 30, "total_tokens": 1230, "prompt_tokens_details": {"cached_tokens": 1000}}})");
    const QJsonObject expected = parse(QByteArray(R"({
      "id": "chatcmpl-1", "type": "message", "role": "assistant", "model": "qwen3-coder", "stop_reason": "tool_use", "stop_sequence": null,
      "content": [{"type": "thinking", "thinking": "User wants files.", "signature": "SIG"},
                  {"type": "text", "text": "Let me check."},
                  {"type": "tool_use", "id": "call_a", "name": "Bash", "input": {"command": "ls"}},
                  {"type": "tool_use", "id": "call_b", "name": "Read", "input": {"path": "x"}}],
      "usage": {"input_tokens": 200, "output_tokens": 30, "cache_read_input_tokens": 1000, "cache_creation_input_tokens": 0}})")
                                           .replace("SIG", kUnsignedThinkingSignature));
    COMPARE_JSON(out, expected);
}

void TestTranslation::anthropicResponseToChat() {
    const QJsonObject out = response(Dialect::AnthropicMessages, Dialect::OpenAIChat, R"({
      "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-opus-4-6", "stop_reason": "tool_use", "stop_sequence": null,
      "content": [{"type": "thinking", "thinking": "Plan.", "signature": "sig"}, {"type": "text", "text": "Checking."},
                  {"type": "tool_use", "id": "toolu_1", "name": "read", "input": {"path": "a"}}],
      "usage": {"input_tokens": 10, "output_tokens": 20, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 50}})");
    QVERIFY(out.value(u"created").isDouble());
    QJsonObject stable = out;
    stable.remove(QStringLiteral("created"));
    const QJsonObject expected = parse(R"({
      "id": "msg_1", "object": "chat.completion", "model": "claude-opus-4-6",
      "choices": [{"index": 0, "finish_reason": "tool_calls", "logprobs": null, "message": {
        "role": "assistant", "content": "Checking.", "refusal": null, "reasoning_content": "Plan.",
        "tool_calls": [{"id": "toolu_1", "type": "function", "function": {"name": "read", "arguments": "{\"path\":\"a\"}"}}]}}],
      "usage": {"prompt_tokens": 160, "completion_tokens": 20, "total_tokens": 180,
                "prompt_tokens_details": {"cached_tokens": 100, "cache_write_tokens": 50}, "completion_tokens_details": {"reasoning_tokens": 0}}})");
    COMPARE_JSON(stable, expected);
}

void TestTranslation::responsesResponseToAnthropic() {
    const QJsonObject out = response(Dialect::OpenAIResponses, Dialect::AnthropicMessages, R"({
      "id": "resp_1", "object": "response", "created_at": 1, "status": "completed", "model": "gpt-5.5",
      "output": [{"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Think."}], "encrypted_content": "enc"},
                 {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed", "content": [{"type": "output_text", "text": "Done.", "annotations": []}]},
                 {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "exec", "arguments": "{\"cmd\":\"ls\"}", "status": "completed"},
                 {"type": "custom_tool_call", "id": "ctc_1", "call_id": "call_2", "name": "apply_patch", "input": "*** Begin Patch"}],
      "usage": {"input_tokens": 500, "input_tokens_details": {"cached_tokens": 400}, "output_tokens": 9, "output_tokens_details": {"reasoning_tokens": 4}, "total_tokens": 509}})");
    const QJsonObject expected = parse(QByteArray(R"({
      "id": "resp_1", "type": "message", "role": "assistant", "model": "gpt-5.5", "stop_reason": "tool_use", "stop_sequence": null,
      "content": [{"type": "thinking", "thinking": "Think.", "signature": "SIG"},
                  {"type": "text", "text": "Done."},
                  {"type": "tool_use", "id": "call_1", "name": "exec", "input": {"cmd": "ls"}},
                  {"type": "tool_use", "id": "call_2", "name": "apply_patch", "input": {"input": "*** Begin Patch"}}],
      "usage": {"input_tokens": 100, "output_tokens": 9, "cache_read_input_tokens": 400, "cache_creation_input_tokens": 0}})")
                                           .replace("SIG", kUnsignedThinkingSignature));
    COMPARE_JSON(out, expected);
    const QJsonObject truncated = response(Dialect::OpenAIResponses, Dialect::AnthropicMessages,
                                           R"({"id": "r", "model": "m", "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}, "output": []})");
    QCOMPARE(truncated.value(u"stop_reason").toString(), QStringLiteral("max_tokens"));
}

void TestTranslation::anthropicResponseToResponses() {
    const QJsonObject out = response(Dialect::AnthropicMessages, Dialect::OpenAIResponses, R"({
      "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "stop_reason": "max_tokens",
      "content": [{"type": "thinking", "thinking": "Plan.", "signature": "sig"}, {"type": "text", "text": "Partial"},
                  {"type": "tool_use", "id": "toolu_1", "name": "exec", "input": {"cmd": "ls"}}],
      "usage": {"input_tokens": 10, "output_tokens": 20, "cache_read_input_tokens": 5, "cache_creation_input_tokens": 0}})");
    QCOMPARE(out.value(u"id").toString(), QStringLiteral("msg_1"));
    QCOMPARE(out.value(u"model").toString(), QStringLiteral("claude-sonnet-4-5"));
    QCOMPARE(out.value(u"status").toString(), QStringLiteral("incomplete"));
    COMPARE_JSON(out.value(u"incomplete_details"), parse(R"({"reason": "max_output_tokens"})"));
    COMPARE_JSON(out.value(u"usage"), parse(R"({"input_tokens": 15, "input_tokens_details": {"cached_tokens": 5}, "output_tokens": 20,
                                                "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 35})"));
    const QJsonArray output = out.value(u"output").toArray();
    QCOMPARE(output.size(), 3);
    const QJsonObject reasoning = output[0].toObject();
    QCOMPARE(reasoning.value(u"type").toString(), QStringLiteral("reasoning"));
    QVERIFY(reasoning.value(u"id").toString().startsWith(QLatin1String(kMintedReasoningPrefix)));
    QVERIFY(!reasoning.contains(u"encrypted_content"));  // an Anthropic signature means nothing to OpenAI
    QCOMPARE(output[1].toObject().value(u"content").toArray()[0].toObject().value(u"text").toString(), QStringLiteral("Partial"));
    const QJsonObject call = output[2].toObject();
    QCOMPARE(call.value(u"type").toString(), QStringLiteral("function_call"));
    QCOMPARE(call.value(u"call_id").toString(), QStringLiteral("toolu_1"));
    QCOMPARE(call.value(u"arguments").toString(), QStringLiteral("{\"cmd\":\"ls\"}"));
    QVERIFY(call.value(u"id").toString().startsWith(u"fc_"));
}

void TestTranslation::chatResponseToResponses() {
    const QJsonObject out = response(Dialect::OpenAIChat, Dialect::OpenAIResponses, R"({
      "id": "chatcmpl-9", "model": "deepseek-chat", "choices": [{"index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": "Hello!"}}],
      "usage": {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9}})");
    QCOMPARE(out.value(u"status").toString(), QStringLiteral("completed"));
    QCOMPARE(out.value(u"model").toString(), QStringLiteral("deepseek-chat"));
    const QJsonObject message = out.value(u"output").toArray()[0].toObject();
    QCOMPARE(message.value(u"type").toString(), QStringLiteral("message"));
    QCOMPARE(message.value(u"content").toArray()[0].toObject().value(u"text").toString(), QStringLiteral("Hello!"));
    QCOMPARE(out.value(u"usage").toObject().value(u"input_tokens").toInt(), 7);
    QCOMPARE(out.value(u"usage").toObject().value(u"total_tokens").toInt(), 9);
}

// ---- streams --------------------------------------------------------------------------------------------------

void TestTranslation::chatStreamToAnthropic() {
    const QByteArray upstream =
        chunk(R"({"id":"chatcmpl-7","object":"chat.completion.chunk","created":1,"model":"kimi-k2","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})") +
        chunk(R"({"id":"chatcmpl-7","model":"kimi-k2","choices":[{"index":0,"delta":{"reasoning_content":"Think"},"finish_reason":null}]})") +
        chunk(R"({"id":"chatcmpl-7","model":"kimi-k2","choices":[{"index":0,"delta":{"content":"Hi "},"finish_reason":null}]})") +
        chunk(R"({"id":"chatcmpl-7","model":"kimi-k2","choices":[{"index":0,"delta":{"content":"there"},"finish_reason":null}]})") +
        chunk(R"({"id":"chatcmpl-7","model":"kimi-k2","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"functions.Bash:0","type":"function","function":{"name":"Bash","arguments":""}}]},"finish_reason":null}]})") +
        chunk(R"({"id":"chatcmpl-7","model":"kimi-k2","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"command\":"}}]},"finish_reason":null}]})") +
        chunk(R"({"id":"chatcmpl-7","model":"kimi-k2","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"ls\"}"}}]},"finish_reason":null}]})") +
        chunk(R"({"id":"chatcmpl-7","model":"kimi-k2","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"functions.Read:1","type":"function","function":{"name":"Read","arguments":"{\"path\":\"a\"}"}}]},"finish_reason":null}]})") +
        chunk(R"({"id":"chatcmpl-7","model":"kimi-k2","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":null})") +
        chunk(R"({"id":"chatcmpl-7","model":"kimi-k2","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":12,"total_tokens":112,"prompt_tokens_details":{"cached_tokens":60}}})") +
        chunk("[DONE]");
    const QList<Event> out = transcode(Dialect::OpenAIChat, Dialect::AnthropicMessages, upstream);
    QCOMPARE(names(out), (QByteArrayList{"message_start",
                                         "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
                                         "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
                                         "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
                                         "content_block_start", "content_block_delta", "content_block_stop",
                                         "message_delta", "message_stop"}));
    const QJsonObject message = out[0].data.value(u"message").toObject();
    QCOMPARE(message.value(u"model").toString(), QStringLiteral("kimi-k2"));
    QCOMPARE(message.value(u"id").toString(), QStringLiteral("chatcmpl-7"));
    COMPARE_JSON(out[1].data.value(u"content_block"), parse(R"({"type": "thinking", "thinking": "", "signature": ""})"));
    COMPARE_JSON(out[2].data.value(u"delta"), parse(R"({"type": "thinking_delta", "thinking": "Think"})"));
    COMPARE_JSON(out[3].data.value(u"delta"), parse(QByteArray(R"({"type": "signature_delta", "signature": "SIG"})").replace("SIG", kUnsignedThinkingSignature)));
    COMPARE_JSON(out[6].data.value(u"delta"), parse(R"({"type": "text_delta", "text": "Hi "})"));
    COMPARE_JSON(out[7].data.value(u"delta"), parse(R"({"type": "text_delta", "text": "there"})"));
    const QJsonObject tool = out[9].data.value(u"content_block").toObject();
    QCOMPARE(out[9].data.value(u"index").toInt(), 2);
    QCOMPARE(tool.value(u"type").toString(), QStringLiteral("tool_use"));
    QCOMPARE(tool.value(u"name").toString(), QStringLiteral("Bash"));
    QVERIFY(QRegularExpression(QStringLiteral("^[a-zA-Z0-9_-]+$")).match(tool.value(u"id").toString()).hasMatch());
    COMPARE_JSON(tool.value(u"input"), QJsonObject{});
    QCOMPARE(out[10].data.value(u"delta").toObject().value(u"partial_json").toString() +
                 out[11].data.value(u"delta").toObject().value(u"partial_json").toString(),
             QStringLiteral("{\"command\":\"ls\"}"));
    QCOMPARE(out[13].data.value(u"content_block").toObject().value(u"name").toString(), QStringLiteral("Read"));
    QCOMPARE(out[13].data.value(u"index").toInt(), 3);
    COMPARE_JSON(out[16].data, parse(R"({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null},
      "usage": {"input_tokens": 40, "output_tokens": 12, "cache_read_input_tokens": 60, "cache_creation_input_tokens": 0}})"));
}

void TestTranslation::anthropicStreamToChat() {
    const QByteArray upstream =
        sse("message_start", R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-opus-4-6","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":50,"output_tokens":1,"cache_read_input_tokens":20}}})") +
        sse("ping", R"({"type":"ping"})") +
        sse("content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}})") +
        sse("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Hmm"}})") +
        sse("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig"}})") +
        sse("content_block_stop", R"({"type":"content_block_stop","index":0})") +
        sse("content_block_start", R"({"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}})") +
        sse("content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Sure."}})") +
        sse("content_block_stop", R"({"type":"content_block_stop","index":1})") +
        sse("content_block_start", R"({"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_9","name":"read","input":{}}})") +
        sse("content_block_delta", R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"pa"}})") +
        sse("content_block_delta", R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"th\":\"a\"}"}})") +
        sse("content_block_stop", R"({"type":"content_block_stop","index":2})") +
        sse("content_block_start", R"({"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_10","name":"read","input":{}}})") +
        sse("content_block_delta", R"({"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{}"}})") +
        sse("content_block_stop", R"({"type":"content_block_stop","index":3})") +
        sse("message_delta", R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":42}})") +
        sse("message_stop", R"({"type":"message_stop"})");
    const QList<Event> out = transcode(Dialect::AnthropicMessages, Dialect::OpenAIChat, upstream);
    QCOMPARE(chatShapes(out), (QByteArrayList{"content: role:assistant", "reasoning_content:Hmm", "content:Sure.", "tool_calls",
                                              "tool_calls", "tool_calls", "tool_calls", "tool_calls", "finish:tool_calls usage", "[DONE]"}));
    for (const Event& event : out) {
        if (!event.done) {
            QCOMPARE(event.data.value(u"model").toString(), QStringLiteral("claude-opus-4-6"));
            QCOMPARE(event.data.value(u"object").toString(), QStringLiteral("chat.completion.chunk"));
        }
    }
    const auto call = [&out](int i) { return out[i].data.value(u"choices").toArray()[0].toObject().value(u"delta").toObject().value(u"tool_calls").toArray()[0].toObject(); };
    COMPARE_JSON(call(3), parse(R"({"index": 0, "id": "toolu_9", "type": "function", "function": {"name": "read", "arguments": ""}})"));
    COMPARE_JSON(call(4), parse(R"({"index": 0, "function": {"arguments": "{\"pa"}})"));
    COMPARE_JSON(call(5), parse(R"({"index": 0, "function": {"arguments": "th\":\"a\"}"}})"));
    QCOMPARE(call(6).value(u"index").toInt(), 1);
    QCOMPARE(call(6).value(u"id").toString(), QStringLiteral("toolu_10"));
    COMPARE_JSON(out[8].data.value(u"usage"), parse(R"({"prompt_tokens": 70, "completion_tokens": 42, "total_tokens": 112,
      "prompt_tokens_details": {"cached_tokens": 20}, "completion_tokens_details": {"reasoning_tokens": 0}})"));
}

void TestTranslation::responsesStreamToAnthropic() {
    const QByteArray upstream =
        sse("response.created", R"({"type":"response.created","sequence_number":0,"response":{"id":"resp_5","object":"response","status":"in_progress","model":"gpt-5.5","output":[]}})") +
        sse("response.in_progress", R"({"type":"response.in_progress","sequence_number":1,"response":{"id":"resp_5","status":"in_progress","model":"gpt-5.5","output":[]}})") +
        sse("response.output_item.added", R"({"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[]}})") +
        sse("response.reasoning_summary_part.added", R"({"type":"response.reasoning_summary_part.added","sequence_number":3,"item_id":"rs_1","output_index":0,"summary_index":0,"part":{"type":"summary_text","text":""}})") +
        sse("response.reasoning_summary_text.delta", R"({"type":"response.reasoning_summary_text.delta","sequence_number":4,"item_id":"rs_1","output_index":0,"summary_index":0,"delta":"Plan"})") +
        sse("response.output_item.done", R"({"type":"response.output_item.done","sequence_number":5,"output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[{"type":"summary_text","text":"Plan"}],"encrypted_content":"enc"}})") +
        sse("response.output_item.added", R"({"type":"response.output_item.added","sequence_number":6,"output_index":1,"item":{"id":"msg_1","type":"message","role":"assistant","status":"in_progress","content":[]}})") +
        sse("response.content_part.added", R"({"type":"response.content_part.added","sequence_number":7,"item_id":"msg_1","output_index":1,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}})") +
        sse("response.output_text.delta", R"({"type":"response.output_text.delta","sequence_number":8,"item_id":"msg_1","output_index":1,"content_index":0,"delta":"Hello"})") +
        sse("response.output_text.done", R"({"type":"response.output_text.done","sequence_number":9,"item_id":"msg_1","output_index":1,"content_index":0,"text":"Hello"})") +
        sse("response.content_part.done", R"({"type":"response.content_part.done","sequence_number":10,"item_id":"msg_1","output_index":1,"content_index":0,"part":{"type":"output_text","text":"Hello","annotations":[]}})") +
        sse("response.output_item.done", R"({"type":"response.output_item.done","sequence_number":11,"output_index":1,"item":{"id":"msg_1","type":"message","role":"assistant","status":"completed","content":[{"type":"output_text","text":"Hello","annotations":[]}]}})") +
        sse("response.output_item.added", R"({"type":"response.output_item.added","sequence_number":12,"output_index":2,"item":{"id":"fc_1","type":"function_call","status":"in_progress","call_id":"call_1","name":"exec","arguments":""}})") +
        sse("response.function_call_arguments.delta", R"({"type":"response.function_call_arguments.delta","sequence_number":13,"item_id":"fc_1","output_index":2,"delta":"{\"cmd\":"})") +
        sse("response.function_call_arguments.delta", R"({"type":"response.function_call_arguments.delta","sequence_number":14,"item_id":"fc_1","output_index":2,"delta":"\"ls\"}"})") +
        sse("response.function_call_arguments.done", R"({"type":"response.function_call_arguments.done","sequence_number":15,"item_id":"fc_1","output_index":2,"arguments":"{\"cmd\":\"ls\"}"})") +
        sse("response.output_item.done", R"({"type":"response.output_item.done","sequence_number":16,"output_index":2,"item":{"id":"fc_1","type":"function_call","status":"completed","call_id":"call_1","name":"exec","arguments":"{\"cmd\":\"ls\"}"}})") +
        sse("response.completed", R"({"type":"response.completed","sequence_number":17,"response":{"id":"resp_5","status":"completed","model":"gpt-5.5","output":[],"usage":{"input_tokens":300,"input_tokens_details":{"cached_tokens":100},"output_tokens":25,"output_tokens_details":{"reasoning_tokens":10},"total_tokens":325}}})");
    const QList<Event> out = transcode(Dialect::OpenAIResponses, Dialect::AnthropicMessages, upstream);
    QCOMPARE(names(out), (QByteArrayList{"message_start",
                                         "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
                                         "content_block_start", "content_block_delta", "content_block_stop",
                                         "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
                                         "message_delta", "message_stop"}));
    QCOMPARE(out[0].data.value(u"message").toObject().value(u"model").toString(), QStringLiteral("gpt-5.5"));
    // OpenAI's encrypted reasoning is not an Anthropic signature: the client gets the unsigned marker instead.
    QCOMPARE(out[3].data.value(u"delta").toObject().value(u"signature").toString(), QString::fromLatin1(kUnsignedThinkingSignature));
    QCOMPARE(out[6].data.value(u"delta").toObject().value(u"text").toString(), QStringLiteral("Hello"));
    QCOMPARE(out[8].data.value(u"content_block").toObject().value(u"id").toString(), QStringLiteral("call_1"));
    COMPARE_JSON(out[12].data, parse(R"({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null},
      "usage": {"input_tokens": 200, "output_tokens": 25, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 0}})"));
}

void TestTranslation::anthropicStreamToResponses() {
    const QByteArray upstream =
        sse("message_start", R"({"type":"message_start","message":{"id":"msg_2","type":"message","role":"assistant","model":"glm-5","content":[],"usage":{"input_tokens":9,"output_tokens":1}}})") +
        sse("content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})") +
        sse("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}})") +
        sse("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"!"}})") +
        sse("content_block_stop", R"({"type":"content_block_stop","index":0})") +
        sse("content_block_start", R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_3","name":"exec_command","input":{}}})") +
        sse("content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"cmd\":\"ls\"}"}})") +
        sse("content_block_stop", R"({"type":"content_block_stop","index":1})") +
        sse("message_delta", R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":7}})") +
        sse("message_stop", R"({"type":"message_stop"})");
    const QList<Event> out = transcode(Dialect::AnthropicMessages, Dialect::OpenAIResponses, upstream);
    QCOMPARE(names(out), (QByteArrayList{"response.created", "response.in_progress",
                                         "response.output_item.added", "response.content_part.added",
                                         "response.output_text.delta", "response.output_text.delta",
                                         "response.output_text.done", "response.content_part.done", "response.output_item.done",
                                         "response.output_item.added", "response.function_call_arguments.delta",
                                         "response.function_call_arguments.done", "response.output_item.done",
                                         "response.completed"}));
    for (int i = 0; i < out.size(); ++i) {
        QCOMPARE(out[i].data.value(u"sequence_number").toInt(), i);
        QCOMPARE(out[i].data.value(u"type").toString(), QString::fromUtf8(out[i].name));
    }
    QCOMPARE(out[0].data.value(u"response").toObject().value(u"id").toString(), QStringLiteral("msg_2"));
    QCOMPARE(out[6].data.value(u"text").toString(), QStringLiteral("Hi!"));
    const QString messageId = out[2].data.value(u"item").toObject().value(u"id").toString();
    QCOMPARE(out[4].data.value(u"item_id").toString(), messageId);
    QCOMPARE(out[9].data.value(u"output_index").toInt(), 1);
    COMPARE_JSON(out[11].data.value(u"arguments"), QJsonValue(QStringLiteral("{\"cmd\":\"ls\"}")));
    const QJsonObject call = out[12].data.value(u"item").toObject();
    QCOMPARE(call.value(u"call_id").toString(), QStringLiteral("toolu_3"));
    QCOMPARE(call.value(u"name").toString(), QStringLiteral("exec_command"));
    QCOMPARE(call.value(u"status").toString(), QStringLiteral("completed"));
    const QJsonObject completed = out[13].data.value(u"response").toObject();
    QCOMPARE(completed.value(u"status").toString(), QStringLiteral("completed"));
    QCOMPARE(completed.value(u"model").toString(), QStringLiteral("glm-5"));
    QCOMPARE(completed.value(u"output").toArray().size(), 2);
    QCOMPARE(completed.value(u"usage").toObject().value(u"input_tokens").toInt(), 9);
    QCOMPARE(completed.value(u"usage").toObject().value(u"output_tokens").toInt(), 7);
}

void TestTranslation::chatStreamToResponses() {
    const QByteArray upstream =
        chunk(R"({"id":"c1","model":"qwen","choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]})") +
        chunk(R"({"id":"c1","model":"qwen","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_x","type":"function","function":{"name":"exec","arguments":"{\"a\""}}]},"finish_reason":null}]})") +
        chunk(R"({"id":"c1","model":"qwen","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]},"finish_reason":null}]})") +
        chunk(R"({"id":"c1","model":"qwen","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}})") +
        chunk("[DONE]");
    const QList<Event> out = transcode(Dialect::OpenAIChat, Dialect::OpenAIResponses, upstream);
    QCOMPARE(names(out), (QByteArrayList{"response.created", "response.in_progress", "response.output_item.added",
                                         "response.function_call_arguments.delta", "response.function_call_arguments.delta",
                                         "response.function_call_arguments.done", "response.output_item.done", "response.completed"}));
    QCOMPARE(out[5].data.value(u"arguments").toString(), QStringLiteral("{\"a\":1}"));
    const QJsonObject completed = out[7].data.value(u"response").toObject();
    QCOMPARE(completed.value(u"output").toArray()[0].toObject().value(u"call_id").toString(), QStringLiteral("call_x"));
    QCOMPARE(completed.value(u"usage").toObject().value(u"total_tokens").toInt(), 8);
}

void TestTranslation::responsesStreamToChat() {
    const QByteArray upstream =
        sse("response.created", R"({"type":"response.created","response":{"id":"resp_1","model":"gpt-5","status":"in_progress","output":[]}})") +
        sse("response.output_item.added", R"({"type":"response.output_item.added","output_index":0,"item":{"id":"msg_1","type":"message","role":"assistant","content":[]}})") +
        sse("response.content_part.added", R"({"type":"response.content_part.added","item_id":"msg_1","output_index":0,"content_index":0,"part":{"type":"output_text","text":""}})") +
        sse("response.output_text.delta", R"({"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hey"})") +
        sse("response.content_part.done", R"({"type":"response.content_part.done","item_id":"msg_1","output_index":0,"content_index":0})") +
        sse("response.output_item.done", R"({"type":"response.output_item.done","output_index":0,"item":{"id":"msg_1","type":"message"}})") +
        sse("response.incomplete", R"({"type":"response.incomplete","response":{"id":"resp_1","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"usage":{"input_tokens":4,"output_tokens":2,"total_tokens":6}}})");
    const QList<Event> out = transcode(Dialect::OpenAIResponses, Dialect::OpenAIChat, upstream);
    QCOMPARE(chatShapes(out), (QByteArrayList{"content: role:assistant", "content:Hey", "finish:length usage", "[DONE]"}));
    QCOMPARE(out[1].data.value(u"id").toString(), QStringLiteral("resp_1"));
    QCOMPARE(out[1].data.value(u"model").toString(), QStringLiteral("gpt-5"));
}

void TestTranslation::customToolCallStreamsAsWrappedInput() {
    const QByteArray upstream =
        sse("response.created", R"({"type":"response.created","response":{"id":"resp_2","model":"gpt-5.5"}})") +
        sse("response.output_item.added", R"({"type":"response.output_item.added","output_index":0,"item":{"id":"ctc_1","type":"custom_tool_call","call_id":"call_p","name":"apply_patch","input":""}})") +
        sse("response.custom_tool_call_input.delta", R"({"type":"response.custom_tool_call_input.delta","output_index":0,"item_id":"ctc_1","delta":"*** Begin \"Patch\"\n"})") +
        sse("response.custom_tool_call_input.delta", R"({"type":"response.custom_tool_call_input.delta","output_index":0,"item_id":"ctc_1","delta":"*** End Patch"})") +
        sse("response.output_item.done", R"({"type":"response.output_item.done","output_index":0,"item":{"id":"ctc_1","type":"custom_tool_call"}})") +
        sse("response.completed", R"({"type":"response.completed","response":{"id":"resp_2","status":"completed","usage":{"input_tokens":1,"output_tokens":1}}})");
    // Anthropic: the fragments concatenate to {"input": "<raw patch>"}.
    QString json;
    for (const Event& event : transcode(Dialect::OpenAIResponses, Dialect::AnthropicMessages, upstream))
        json += event.data.value(u"delta").toObject().value(u"partial_json").toString();
    COMPARE_JSON(parse(json.toUtf8()), parse(R"({"input": "*** Begin \"Patch\"\n*** End Patch"})"));
    // Chat: the same, in the arguments of the call.
    QString arguments;
    for (const Event& event : transcode(Dialect::OpenAIResponses, Dialect::OpenAIChat, upstream)) {
        if (event.done)
            continue;
        const QJsonArray calls = event.data.value(u"choices").toArray()[0].toObject().value(u"delta").toObject().value(u"tool_calls").toArray();
        if (!calls.isEmpty())
            arguments += calls[0].toObject().value(u"function").toObject().value(u"arguments").toString();
    }
    COMPARE_JSON(parse(arguments.toUtf8()), parse(R"({"input": "*** Begin \"Patch\"\n*** End Patch"})"));
}

void TestTranslation::inBandErrors_data() {
    QTest::addColumn<int>("from");
    QTest::addColumn<int>("to");
    QTest::addColumn<QByteArray>("upstream");
    QTest::addColumn<QByteArray>("expectedLast");
    const QByteArray anthropicError =
        sse("message_start", R"({"type":"message_start","message":{"id":"m","model":"claude","content":[],"usage":{"input_tokens":1}}})") +
        sse("error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
    const QByteArray chatError =
        chunk(R"({"id":"c","model":"x","choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]})") +
        chunk(R"({"error":{"message":"Rate limit reached, try again in 20s","type":"requests","code":"rate_limit_exceeded"}})");
    const QByteArray responsesError =
        sse("response.created", R"({"type":"response.created","response":{"id":"r","model":"gpt"}})") +
        sse("response.failed", R"({"type":"response.failed","response":{"id":"r","status":"failed","error":{"code":"context_length_exceeded","message":"Your input exceeds the context window of this model."}}})");
    QTest::newRow("anthropic->chat") << int(Dialect::AnthropicMessages) << int(Dialect::OpenAIChat) << anthropicError
                                     << QByteArray(R"({"error":{"message":"Overloaded","type":"server_error","param":null,"code":null}})");
    QTest::newRow("anthropic->responses") << int(Dialect::AnthropicMessages) << int(Dialect::OpenAIResponses) << anthropicError
                                          << QByteArray(R"({"code":"server_error","message":"Overloaded"})");
    QTest::newRow("chat->anthropic") << int(Dialect::OpenAIChat) << int(Dialect::AnthropicMessages) << chatError
                                     << QByteArray(R"({"type":"error","error":{"type":"rate_limit_error","message":"Rate limit reached, try again in 20s"}})");
    QTest::newRow("chat->responses") << int(Dialect::OpenAIChat) << int(Dialect::OpenAIResponses) << chatError
                                     << QByteArray(R"({"code":"rate_limit_exceeded","message":"Rate limit reached, try again in 20s"})");
    QTest::newRow("responses->anthropic") << int(Dialect::OpenAIResponses) << int(Dialect::AnthropicMessages) << responsesError
                                          << QByteArray(R"({"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: Your input exceeds the context window of this model."}})");
    QTest::newRow("responses->chat") << int(Dialect::OpenAIResponses) << int(Dialect::OpenAIChat) << responsesError
                                     << QByteArray(R"({"error":{"message":"Your input exceeds the context window of this model.","type":"invalid_request_error","param":null,"code":"context_length_exceeded"}})");
}

void TestTranslation::inBandErrors() {
    QFETCH(int, from);
    QFETCH(int, to);
    QFETCH(QByteArray, upstream);
    QFETCH(QByteArray, expectedLast);
    const QList<Event> out = transcode(Dialect(from), Dialect(to), upstream);
    QVERIFY(!out.isEmpty());
    // Nothing after the error: finish() adds no closing events to a failed stream.
    const Event& last = out.last();
    QJsonObject data = last.data;
    if (Dialect(to) == Dialect::OpenAIResponses) {
        QCOMPARE(last.name, QByteArray("response.failed"));
        data = data.value(u"response").toObject().value(u"error").toObject();
    }
    if (Dialect(to) == Dialect::AnthropicMessages)
        QCOMPARE(last.name, QByteArray("error"));
    COMPARE_JSON(data, parse(expectedLast));
}

void TestTranslation::finishClosesOnlyWhatIsMissing() {
    // A Chat upstream that ends without finish_reason, usage or [DONE]: finish() closes the Anthropic stream.
    const QByteArray cut = chunk(R"({"id":"c","model":"x","choices":[{"index":0,"delta":{"content":"partial"},"finish_reason":null}]})");
    QCOMPARE(names(transcode(Dialect::OpenAIChat, Dialect::AnthropicMessages, cut)),
             (QByteArrayList{"message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"}));
    // Without finish() nothing is closed yet: the stream is incremental.
    QCOMPARE(names(transcode(Dialect::OpenAIChat, Dialect::AnthropicMessages, cut, false)),
             (QByteArrayList{"message_start", "content_block_start", "content_block_delta"}));
    // A complete upstream: finish() adds nothing.
    const QByteArray complete = cut + chunk(R"({"id":"c","model":"x","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})") + chunk("[DONE]");
    const std::unique_ptr<StreamTranscoder> transcoder = makeStreamTranscoder(Dialect::OpenAIChat, Dialect::AnthropicMessages);
    http::SseReader reader;
    QList<http::SseEvent> raw;
    reader.feed(complete, raw);
    for (const http::SseEvent& event : raw)
        transcoder->feed(event);
    QVERIFY(transcoder->finish().isEmpty());
    // Anthropic upstream without message_stop: the Chat client still gets its finish chunk and [DONE].
    const QByteArray anthropicCut =
        sse("message_start", R"({"type":"message_start","message":{"id":"m","model":"claude","content":[],"usage":{"input_tokens":1}}})") +
        sse("content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})") +
        sse("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}})") +
        sse("message_delta", R"({"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":3}})");
    QCOMPARE(chatShapes(transcode(Dialect::AnthropicMessages, Dialect::OpenAIChat, anthropicCut)),
             (QByteArrayList{"content: role:assistant", "content:x", "finish:length usage", "[DONE]"}));
    // Codex treats a stream without response.completed as an error, so one always ends it.
    QCOMPARE(names(transcode(Dialect::OpenAIChat, Dialect::OpenAIResponses, cut)).last(), QByteArray("response.completed"));
}

void TestTranslation::streamSplitAnywhereGivesTheSameEvents() {
    // The transcoder sees whole SSE events; the reader in front of it reassembles any split. Feeding events one
    // at a time must equal feeding them all: no output depends on seeing the stream whole.
    const QByteArray upstream =
        chunk(R"({"id":"c","model":"x","choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]})") +
        chunk(R"({"id":"c","model":"x","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"k","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}]})") +
        chunk("[DONE]");
    const QList<Event> whole = transcode(Dialect::OpenAIChat, Dialect::AnthropicMessages, upstream);
    const std::unique_ptr<StreamTranscoder> transcoder = makeStreamTranscoder(Dialect::OpenAIChat, Dialect::AnthropicMessages);
    http::SseReader reader;
    QByteArray out;
    for (char byte : upstream) {
        QList<http::SseEvent> raw;
        reader.feed(QByteArrayView(&byte, 1), raw);
        for (const http::SseEvent& event : raw)
            out += transcoder->feed(event);
    }
    out += transcoder->finish();
    const QList<Event> split = events(out);
    QCOMPARE(names(split), names(whole));
    for (int i = 0; i < split.size(); ++i)
        COMPARE_JSON(split[i].data, whole[i].data);
}

// ---- errors, estimates, real traffic ---------------------------------------------------------------------------

void TestTranslation::errorBodies_data() {
    QTest::addColumn<int>("from");
    QTest::addColumn<int>("to");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("anthropic too long -> chat")
        << int(Dialect::AnthropicMessages) << int(Dialect::OpenAIChat) << 400
        << QByteArray(R"({"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"},"request_id":"req_1"})")
        << QByteArray(R"({"error":{"message":"prompt is too long: 210000 tokens > 200000 maximum","type":"invalid_request_error","param":null,"code":"context_length_exceeded"}})");
    QTest::newRow("openai too long -> anthropic")
        << int(Dialect::OpenAIChat) << int(Dialect::AnthropicMessages) << 400
        << QByteArray(R"({"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}})")
        << QByteArray(R"({"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: This model's maximum context length is 128000 tokens."}})");
    QTest::newRow("openai quota -> anthropic")
        << int(Dialect::OpenAIResponses) << int(Dialect::AnthropicMessages) << 429
        << QByteArray(R"({"error":{"message":"You exceeded your current quota.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}})")
        << QByteArray(R"({"type":"error","error":{"type":"billing_error","message":"You exceeded your current quota."}})");
    QTest::newRow("anthropic auth -> responses")
        << int(Dialect::AnthropicMessages) << int(Dialect::OpenAIResponses) << 401
        << QByteArray(R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}})")
        << QByteArray(R"({"error":{"message":"invalid x-api-key","type":"invalid_request_error","param":null,"code":"invalid_api_key"}})");
    QTest::newRow("vertex array -> anthropic")
        << int(Dialect::AnthropicMessages) << int(Dialect::AnthropicMessages) << 429
        << QByteArray(R"([{"error":{"code":429,"message":"Quota exceeded for aiplatform.googleapis.com","status":"RESOURCE_EXHAUSTED"}}])")
        << QByteArray(R"({"type":"error","error":{"type":"rate_limit_error","message":"Quota exceeded for aiplatform.googleapis.com"}})");
    QTest::newRow("plain text -> chat")
        << int(Dialect::OpenAIChat) << int(Dialect::OpenAIChat) << 502 << QByteArray("Bad Gateway\n")
        << QByteArray(R"({"error":{"message":"Bad Gateway","type":"server_error","param":null,"code":null}})");
}

void TestTranslation::errorBodies() {
    QFETCH(int, from);
    QFETCH(int, to);
    QFETCH(int, status);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, expected);
    COMPARE_JSON(parse(translateErrorBody(Dialect(from), Dialect(to), status, body)), parse(expected));
}

void TestTranslation::estimateInputTokens() {
    // 40 bytes of text in system + messages + tool call/result, plus a 7+1 byte tool with schema {} (2 bytes).
    const QByteArray body = R"({"model": "m", "system": "0123456789",
      "tools": [{"name": "toolnam", "description": "d", "input_schema": {}}],
      "messages": [{"role": "user", "content": "0123456789"},
                   {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "ab", "input": {}}]},
                   {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "01234567"},
                                                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}]}]})";
    // text: 10 + 10 + ("ab" + "{}") 4 + 8 = 32; tool: 7 + 1 + 2 = 10; 42 bytes -> 11 tokens, + 1600 for the image.
    QCOMPARE(understudy::estimateInputTokens(body), 11 + 1600);
    QCOMPARE(understudy::estimateInputTokens("not json"), 0);
    const int real = understudy::estimateInputTokens(fixtureBody(QStringLiteral("claude_code.messages.stream.json")));
    QVERIFY2(real > 10000 && real < 30000, qPrintable(QString::number(real)));  // ~76 KB of mostly text
}

void TestTranslation::fixturesTranslateEverywhere_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("from");
    for (const char* name : {"claude_code.messages.stream.json", "claude_code.messages.tool_result.json",
                             "opencode.anthropic.main.json", "anthropic_sdk_1.12.messages.json"})
        QTest::newRow(name) << QString::fromLatin1(name) << int(Dialect::AnthropicMessages);
    QTest::newRow("opencode.chat_completions.tool_result.json") << QStringLiteral("opencode.chat_completions.tool_result.json") << int(Dialect::OpenAIChat);
    for (const char* name : {"codex.responses.function_call_output.json", "opencode.responses.function_call_output.json"})
        QTest::newRow(name) << QString::fromLatin1(name) << int(Dialect::OpenAIResponses);
}

namespace {

// What a request holds, counted the same way whatever its dialect.
struct Census {
    int tools = 0;
    int calls = 0;
    int results = 0;
    QString userText;  // without white space: dialects join text blocks differently
};

Census census(Dialect dialect, const QJsonObject& object) {
    const std::optional<json::Tree> body = json::Tree::parse(QJsonDocument(object).toJson(QJsonDocument::Compact));
    canonical::Request request;
    switch (dialect) {
    case Dialect::AnthropicMessages: request = anthropic::decodeRequest(body->root()); break;
    case Dialect::OpenAIChat: request = chat::decodeRequest(body->root()); break;
    case Dialect::OpenAIResponses: request = responses::decodeRequest(body->root()); break;
    }
    Census out;
    out.tools = int(request.tools.size());
    for (const canonical::Message& message : request.messages) {
        for (const canonical::Block& block : message.content) {
            out.calls += block.kind == canonical::BlockKind::ToolCall;
            out.results += block.kind == canonical::BlockKind::ToolResult;
            if (message.role == canonical::Role::User && block.kind == canonical::BlockKind::Text)
                out.userText += block.text;
        }
    }
    out.userText.remove(QRegularExpression(QStringLiteral("\\s")));
    return out;
}

}  // namespace

void TestTranslation::fixturesTranslateEverywhere() {
    QFETCH(QString, file);
    QFETCH(int, from);
    const QByteArray body = fixtureBody(file);
    const QJsonObject original = parse(body);
    QVERIFY(!original.isEmpty());
    const Census before = census(Dialect(from), original);
    for (Dialect to : {Dialect::AnthropicMessages, Dialect::OpenAIChat, Dialect::OpenAIResponses}) {
        if (to == Dialect(from))
            continue;
        const Translated result = translateRequest(Dialect(from), to, body, QStringLiteral("fallback-model"));
        QVERIFY2(result.error.isEmpty(), qPrintable(result.error));
        QJsonParseError error;
        const QJsonDocument document = QJsonDocument::fromJson(result.body, &error);
        QVERIFY2(error.error == QJsonParseError::NoError && document.isObject(), qPrintable(dialectName(to)));
        const QJsonObject out = document.object();
        QCOMPARE(out.value(u"model").toString(), QStringLiteral("fallback-model"));
        QCOMPARE(out.value(u"stream").toBool(), original.value(u"stream").toBool());
        const Census after = census(to, out);
        QCOMPARE(after.tools, before.tools);
        QCOMPARE(after.calls, before.calls);
        QCOMPARE(after.results, before.results);
        QCOMPARE(after.userText, before.userText);
        if (to == Dialect::OpenAIChat && original.value(u"stream").toBool())
            COMPARE_JSON(out.value(u"stream_options"), parse(R"({"include_usage": true})"));
        if (to == Dialect::AnthropicMessages) {
            QVERIFY(out.value(u"max_tokens").toInt() > 0);
            QVERIFY(!result.body.contains("\"role\":\"system\""));
        } else {
            QVERIFY(!result.body.contains("cache_control"));
        }
    }
}

void TestTranslation::megabyteClaudeCodeRequestTranslates() {
    QJsonObject body = parse(fixtureBody(QStringLiteral("claude_code.messages.tool_result.json")));
    QJsonArray messages = body.value(u"messages").toArray();
    const QJsonArray turn{messages[2], messages[3]};  // the assistant tool_use and the user tool_result
    // Grow the history turn by turn, as a long session does, until the body passes 1 MB.
    for (int i = 0; QJsonDocument(body).toJson(QJsonDocument::Compact).size() < 1024 * 1024; ++i) {
        for (const QJsonValue& message : turn)
            messages.append(message);
        messages.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")},
                                    {QStringLiteral("content"), QString(4000, QChar(u'x')) + QString::number(i)}});
        messages.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("user")}, {QStringLiteral("content"), QStringLiteral("continue")}});
        body.insert(QStringLiteral("messages"), messages);
    }
    const QByteArray bytes = QJsonDocument(body).toJson(QJsonDocument::Compact);
    QVERIFY(bytes.size() >= 1024 * 1024);
    const Census before = census(Dialect::AnthropicMessages, body);
    for (Dialect to : {Dialect::OpenAIChat, Dialect::OpenAIResponses}) {
        const Translated result = translateRequest(Dialect::AnthropicMessages, to, bytes, QStringLiteral("m"));
        QVERIFY(result.error.isEmpty());
        const Census after = census(to, parse(result.body));
        QCOMPARE(after.calls, before.calls);
        QCOMPARE(after.results, before.results);
    }
}

// Text with every escape and non-ASCII form, and a large tool input, through each other dialect and back to
// Anthropic: nothing is lost or altered on the way.
void TestTranslation::stringsAndToolInputsSurviveEveryDialect() {
    QString tricky;
    for (char16_t c = 1; c < 0x20; ++c)
        tricky.append(QChar(c));
    tricky += QStringLiteral(R"( "quoted" back\slash /slash héllo €   😀 end)");
    const QJsonObject input{{QStringLiteral("command"), tricky},
                            {QStringLiteral("content"), QString(QStringLiteral("line \"x\"\n\té")).repeated(20000)},
                            {QStringLiteral("nested"), QJsonObject{{QStringLiteral("n"), 1.5}, {QStringLiteral("list"), QJsonArray{1, true, QJsonValue::Null, QStringLiteral("é")}}}}};
    const QJsonObject body{
        {QStringLiteral("model"), QStringLiteral("claude")},
        {QStringLiteral("max_tokens"), 1000},
        {QStringLiteral("messages"),
         QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")}, {QStringLiteral("content"), tricky}},
                    QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")},
                                {QStringLiteral("content"),
                                 QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("tool_use")},
                                                        {QStringLiteral("id"), QStringLiteral("toolu_1")},
                                                        {QStringLiteral("name"), QStringLiteral("Write")},
                                                        {QStringLiteral("input"), input}}}}},
                    QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                {QStringLiteral("content"),
                                 QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("tool_result")},
                                                        {QStringLiteral("tool_use_id"), QStringLiteral("toolu_1")},
                                                        {QStringLiteral("content"), tricky}}}}}}}};
    const QByteArray bytes = QJsonDocument(body).toJson(QJsonDocument::Compact);
    for (Dialect via : {Dialect::OpenAIChat, Dialect::OpenAIResponses}) {
        const Translated there = translateRequest(Dialect::AnthropicMessages, via, bytes, QStringLiteral("m"));
        QVERIFY(there.error.isEmpty());
        const QJsonObject back = translated(via, Dialect::AnthropicMessages, there.body, {}, QStringLiteral("claude"));
        const QJsonArray messages = back.value(u"messages").toArray();
        QCOMPARE(messages.size(), 3);
        QCOMPARE(messages[0].toObject().value(u"content").toArray()[0].toObject().value(u"text").toString(), tricky);
        const QJsonObject call = messages[1].toObject().value(u"content").toArray()[0].toObject();
        COMPARE_JSON(call.value(u"input"), input);
        const QJsonObject result = messages[2].toObject().value(u"content").toArray()[0].toObject();
        QCOMPARE(result.value(u"content").toString(), tricky);
    }
}

// Tool arguments that are already JSON travel as the client wrote them, not re-serialised: the number 1.50
// and the member order stay as they were.
void TestTranslation::toolArgumentsPassThroughAsBytes() {
    const QByteArray arguments = R"({"z":1.50,"a":"caf\u00e9 \"x\"","m":[]})";
    const QJsonObject chat{
        {QStringLiteral("model"), QStringLiteral("m")},
        {QStringLiteral("messages"),
         QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")}, {QStringLiteral("content"), QStringLiteral("go")}},
                    QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")},
                                {QStringLiteral("tool_calls"),
                                 QJsonArray{QJsonObject{{QStringLiteral("id"), QStringLiteral("call_1")},
                                                        {QStringLiteral("type"), QStringLiteral("function")},
                                                        {QStringLiteral("function"),
                                                         QJsonObject{{QStringLiteral("name"), QStringLiteral("t")},
                                                                     {QStringLiteral("arguments"), QString::fromUtf8(arguments)}}}}}}}}}};
    const Translated result = translateRequest(Dialect::OpenAIChat, Dialect::AnthropicMessages,
                                               QJsonDocument(chat).toJson(QJsonDocument::Compact), QStringLiteral("claude"));
    QVERIFY(result.error.isEmpty());
    QVERIFY2(result.body.contains("\"input\":" + arguments), result.body.constData());
}

// A raw line break inside a string is not JSON, but Qt reads it and some local servers send it: translation
// accepted such answers before it stopped using Qt's parser, and still does.
void TestTranslation::laxJsonFromUpstreamsStillTranslates() {
    const QByteArray body = "{\"id\":\"c\",\"model\":\"local\",\"choices\":[{\"index\":0,\"finish_reason\":\"stop\","
                            "\"message\":{\"role\":\"assistant\",\"content\":\"two\nlines\"}}]}";
    const QJsonObject out = response(Dialect::OpenAIChat, Dialect::AnthropicMessages, body);
    QCOMPARE(out.value(u"content").toArray()[0].toObject().value(u"text").toString(), QStringLiteral("two\nlines"));
}

QTEST_GUILESS_MAIN(TestTranslation)
#include "tst_translation.moc"
