#include "dialects/AnthropicMessages.h"

#include "dialects/Errors.h"
#include "dialects/ToolIds.h"
#include "dialects/Wire.h"
#include "json/JsonWriter.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>

namespace understudy::anthropic {
namespace {

using namespace canonical;

// Anthropic requires max_tokens; 8192 is accepted by every current Claude model and most compatible vendors.
constexpr int kDefaultMaxTokens = 8192;
constexpr int kMinThinkingBudget = 1024;

// Thinking minted by this proxy from another family's reasoning: Anthropic clients need some signature, and
// this one tells the decoder (and the same-dialect path) that no upstream can verify it.
const QString kUnsignedSignature = QString::fromLatin1(kUnsignedThinkingSignature);

std::optional<Block> decodeImage(const json::Value& object) {
    const json::Value source = object.value(u"source");
    Block block;
    block.kind = BlockKind::Image;
    block.cacheControl = object.value(u"cache_control").toJsonObject();
    if (source.value(u"type").toString() == u"base64") {
        block.mediaType = source.value(u"media_type").toString();
        block.data = source.value(u"data").toString();
        return block;
    }
    if (source.value(u"type").toString() == u"url") {
        block.url = source.value(u"url").toString();
        return block;
    }
    return std::nullopt;  // file ids mean nothing to another vendor
}

std::optional<Block> decodeBlock(const json::Value& object);

std::vector<Block> decodeToolResultContent(const json::Value& content) {
    std::vector<Block> blocks;
    if (content.isString()) {
        blocks.push_back(Block::makeText(content.toString()));
        return blocks;
    }
    for (const json::Value& value : content.toArray()) {
        if (std::optional<Block> block = decodeBlock(value.toObject()))
            blocks.push_back(*block);
    }
    return blocks;
}

Block decodeThinking(const json::Value& object) {
    Block block;
    block.kind = BlockKind::Thinking;
    if (object.value(u"type").toString() == u"redacted_thinking") {
        block.redacted = true;
        block.signature = object.value(u"data").toString();
        block.family = ThinkingFamily::Anthropic;
        return block;
    }
    block.text = object.value(u"thinking").toString();
    block.signature = object.value(u"signature").toString();
    const bool signedByUpstream = !block.signature.isEmpty() && block.signature != kUnsignedSignature;
    block.family = signedByUpstream ? ThinkingFamily::Anthropic : ThinkingFamily::None;
    if (!signedByUpstream)
        block.signature.clear();
    return block;
}

std::optional<Block> decodeBlock(const json::Value& object) {
    const QString type = object.value(u"type").toString();
    Block block;
    block.cacheControl = object.value(u"cache_control").toJsonObject();
    if (type == u"text") {
        block.text = object.value(u"text").toString();
        return block;
    }
    if (type == u"image")
        return decodeImage(object);
    if (type == u"document" && object.value(u"source").toObject().value(u"type").toString() == u"text") {
        block.text = object.value(u"source").toObject().value(u"data").toString();
        return block;
    }
    if (type == u"tool_use") {
        block.kind = BlockKind::ToolCall;
        block.id = object.value(u"id").toString();
        block.name = object.value(u"name").toString();
        block.arguments = QString::fromUtf8(wire::compactObject(object.value(u"input")));
        return block;
    }
    if (type == u"tool_result") {
        block.kind = BlockKind::ToolResult;
        block.id = object.value(u"tool_use_id").toString();
        block.content = decodeToolResultContent(object.value(u"content"));
        block.isError = object.value(u"is_error").toBool();
        return block;
    }
    if (type == u"thinking" || type == u"redacted_thinking")
        return decodeThinking(object);
    return std::nullopt;  // server tools and their results run only on Anthropic's side
}

QList<Block> decodeContent(const json::Value& content) {
    QList<Block> blocks;
    if (content.isString()) {
        blocks.append(Block::makeText(content.toString()));
        return blocks;
    }
    for (const json::Value& value : content.toArray()) {
        if (std::optional<Block> block = decodeBlock(value.toObject()))
            blocks.append(*block);
    }
    return blocks;
}

std::optional<Tool> decodeTool(const json::Value& object) {
    const QString type = object.value(u"type").toString();
    if (!type.isEmpty() && type != u"custom")
        return std::nullopt;  // versioned server tools (web_search_..., bash_...) exist only on Anthropic
    Tool tool;
    tool.name = object.value(u"name").toString();
    tool.description = object.value(u"description").toString();
    tool.parameters = object.value(u"input_schema").toJsonObject();
    tool.cacheControl = object.value(u"cache_control").toJsonObject();
    if (object.contains(u"strict"))
        tool.strict = object.value(u"strict").toBool();
    return tool;
}

void decodeToolChoice(const json::Value& object, Request& request) {
    if (object.isEmpty())
        return;
    const QString type = object.value(u"type").toString();
    ToolChoice choice;
    if (type == u"any")
        choice.mode = ToolChoice::Mode::Required;
    else if (type == u"none")
        choice.mode = ToolChoice::Mode::None;
    else if (type == u"tool")
        choice = {ToolChoice::Mode::Tool, object.value(u"name").toString()};
    request.toolChoice = choice;
    if (object.value(u"disable_parallel_tool_use").toBool())
        request.parallelToolCalls = false;
}

void decodeReasoning(const json::Value& body, Request& request) {
    const json::Value thinking = body.value(u"thinking").toObject();
    const json::Value outputConfig = body.value(u"output_config").toObject();
    const QString type = thinking.value(u"type").toString();
    const QString effort = outputConfig.value(u"effort").toString();
    if (type == u"enabled" || type == u"adaptive" || (!effort.isEmpty() && type != u"disabled")) {
        Reasoning reasoning;
        reasoning.effort = effort;
        if (thinking.contains(u"budget_tokens"))
            reasoning.budgetTokens = thinking.value(u"budget_tokens").toInt();
        request.reasoning = reasoning;
    }
    const json::Value format = outputConfig.value(u"format").toObject();
    if (format.value(u"type").toString() == u"json_schema")
        request.outputFormat = format.toJsonObject();
}

void writeImageMembers(json::Writer& w, const Block& block) {
    w.member("type", "image").key("source").beginObject();
    if (block.url.isEmpty())
        w.member("type", "base64").member("media_type", block.mediaType).member("data", block.data);
    else
        w.member("type", "url").member("url", block.url);
    w.endObject();
}

void writeImage(json::Writer& w, const Block& block) {
    w.beginObject();
    writeImageMembers(w, block);
    w.endObject();
}

void writeTextBlock(json::Writer& w, const QString& text, const QJsonObject& cacheControl = {}) {
    w.beginObject().member("type", "text").member("text", text);
    if (!cacheControl.isEmpty())
        w.member("cache_control", cacheControl);
    w.endObject();
}

void writeToolResultContent(json::Writer& w, const std::vector<Block>& content) {
    if (content.size() == 1 && content.front().kind == BlockKind::Text) {
        w.string(content.front().text);
        return;
    }
    w.beginArray();
    for (const Block& block : content) {
        if (block.kind == BlockKind::Image)
            writeImage(w, block);
        else if (block.kind == BlockKind::Text && !block.text.isEmpty())
            writeTextBlock(w, block.text);
    }
    w.endArray();
}

// Only Anthropic can verify an Anthropic signature; anything else would be a broken signature. Anthropic
// rejects empty text blocks.
bool encodes(const Block& block) {
    switch (block.kind) {
    case BlockKind::Text: return !block.text.isEmpty();
    case BlockKind::Thinking: return block.family == ThinkingFamily::Anthropic && !block.signature.isEmpty();
    default: return true;
    }
}

void writeBlock(json::Writer& w, const Block& block, toolids::AnthropicIdMapper& ids) {
    w.beginObject();
    switch (block.kind) {
    case BlockKind::Text: w.member("type", "text").member("text", block.text); break;
    case BlockKind::Image: writeImageMembers(w, block); break;
    case BlockKind::ToolCall:
        w.member("type", "tool_use").member("id", ids.call(block.id)).member("name", block.name).key("input");
        wire::writeArgumentsObject(w, block);
        break;
    case BlockKind::ToolResult:
        w.member("type", "tool_result").member("tool_use_id", ids.result(block.id));
        if (!block.content.empty()) {
            w.key("content");
            writeToolResultContent(w, block.content);
        }
        if (block.isError)
            w.member("is_error", true);
        break;
    case BlockKind::Thinking:
        if (block.redacted)
            w.member("type", "redacted_thinking").member("data", block.signature);
        else
            w.member("type", "thinking").member("thinking", block.text).member("signature", block.signature);
        w.endObject();
        return;
    }
    if (!block.cacheControl.isEmpty())
        w.member("cache_control", block.cacheControl);
    w.endObject();
}

bool hasEncodedBlock(const Message& message) { return std::any_of(message.content.begin(), message.content.end(), encodes); }

// Chat sends each tool result as its own message; Anthropic wants consecutive turns of one role together, so a
// run of same-role messages becomes one message.
void writeMessages(json::Writer& w, const QList<Message>& messages) {
    toolids::AnthropicIdMapper ids;
    w.beginArray();
    std::optional<Role> open;
    for (const Message& message : messages) {
        if (!hasEncodedBlock(message))
            continue;
        if (open != message.role) {
            if (open)
                w.endArray().endObject();
            w.beginObject().member("role", message.role == Role::User ? "user" : "assistant").key("content").beginArray();
            open = message.role;
        }
        for (const Block& block : message.content) {
            if (encodes(block))
                writeBlock(w, block, ids);
        }
    }
    if (open)
        w.endArray().endObject();
    w.endArray();
}

void writeSystem(json::Writer& w, const QList<Block>& system) {
    w.key("system").beginArray();
    for (const Block& block : system) {
        if (!block.text.isEmpty())
            writeTextBlock(w, block.text, block.cacheControl);
    }
    w.endArray();
}

void writeTool(json::Writer& w, const Tool& tool) {
    w.beginObject().member("name", tool.name).key("input_schema");
    if (tool.custom)
        w.raw(R"({"type":"object","properties":{"input":{"type":"string"}},"required":["input"]})");
    else if (tool.parameters.isEmpty())
        w.raw(R"({"type":"object"})");
    else
        w.json(tool.parameters);
    if (!tool.description.isEmpty())
        w.member("description", tool.description);
    if (!tool.cacheControl.isEmpty())
        w.member("cache_control", tool.cacheControl);
    w.endObject();
}

void writeToolChoice(json::Writer& w, const Request& request) {
    const ToolChoice choice = request.toolChoice.value_or(ToolChoice{});
    if (choice.mode == ToolChoice::Mode::None) {
        w.key("tool_choice").raw(R"({"type":"none"})");
        return;
    }
    if (request.parallelToolCalls != false && !request.toolChoice)
        return;
    w.key("tool_choice").beginObject();
    switch (choice.mode) {
    case ToolChoice::Mode::Required: w.member("type", "any"); break;
    case ToolChoice::Mode::Tool: w.member("type", "tool").member("name", choice.name); break;
    default: w.member("type", "auto"); break;
    }
    if (request.parallelToolCalls == false)
        w.member("disable_parallel_tool_use", true);
    w.endObject();
}

// With thinking on, Anthropic wants the assistant turn that called the pending tools to start with a signed
// thinking block; a history from another family has none, so thinking stays off for that request.
bool canThink(const Request& request) {
    for (auto message = request.messages.crbegin(); message != request.messages.crend(); ++message) {
        if (message->role != Role::Assistant)
            continue;
        const bool calls = std::any_of(message->content.begin(), message->content.end(),
                                       [](const Block& b) { return b.kind == BlockKind::ToolCall; });
        if (!calls)
            return true;
        const Block& first = message->content.first();
        return first.kind == BlockKind::Thinking && first.family == ThinkingFamily::Anthropic;
    }
    return true;
}

// The thinking budget to ask for, if the request thinks on this target at all.
std::optional<int> thinkingBudget(const Request& request, const TargetTraits& traits, int maxTokens) {
    if (!request.reasoning || !traits.reasoning || !canThink(request))
        return std::nullopt;
    const QString effort = wire::effortOf(*request.reasoning);
    int budget = request.reasoning->budgetTokens.value_or(effort == u"low" ? 2048 : effort == u"medium" ? 8192 : 16384);
    budget = std::min(budget, maxTokens - 1);
    if (budget < kMinThinkingBudget)
        return std::nullopt;
    return budget;
}

QString stopReasonName(StopReason reason) {
    switch (reason) {
    case StopReason::EndTurn: return QStringLiteral("end_turn");
    case StopReason::MaxTokens: return QStringLiteral("max_tokens");
    case StopReason::StopSequence: return QStringLiteral("stop_sequence");
    case StopReason::ToolUse: return QStringLiteral("tool_use");
    case StopReason::Refusal: return QStringLiteral("refusal");
    case StopReason::PauseTurn: return QStringLiteral("pause_turn");
    case StopReason::ContextWindowExceeded: return QStringLiteral("model_context_window_exceeded");
    }
    return QStringLiteral("end_turn");
}

StopReason stopReasonOf(const QString& name) {
    if (name == u"max_tokens")
        return StopReason::MaxTokens;
    if (name == u"stop_sequence")
        return StopReason::StopSequence;
    if (name == u"tool_use")
        return StopReason::ToolUse;
    if (name == u"refusal")
        return StopReason::Refusal;
    if (name == u"pause_turn")
        return StopReason::PauseTurn;
    if (name == u"model_context_window_exceeded")
        return StopReason::ContextWindowExceeded;
    return StopReason::EndTurn;
}

// Stream usage is cumulative: present fields overwrite, absent ones keep their value.
void mergeUsage(const json::Value& object, Usage& usage) {
    const auto take = [&object](const char16_t* key, qint64& field) {
        const json::Value value = object.value(key);
        if (value.isDouble())
            field = value.toInteger();
    };
    take(u"input_tokens", usage.inputTokens);
    take(u"output_tokens", usage.outputTokens);
    take(u"cache_read_input_tokens", usage.cacheReadTokens);
    take(u"cache_creation_input_tokens", usage.cacheWriteTokens);
    const json::Value thinking = object.value(u"output_tokens_details").toObject().value(u"thinking_tokens");
    if (thinking.isDouble())
        usage.reasoningTokens = thinking.toInteger();
}

QJsonObject encodeUsage(const Usage& usage) {
    return {{QStringLiteral("input_tokens"), usage.inputTokens},
            {QStringLiteral("output_tokens"), usage.outputTokens},
            {QStringLiteral("cache_creation_input_tokens"), usage.cacheWriteTokens},
            {QStringLiteral("cache_read_input_tokens"), usage.cacheReadTokens}};
}

// A response block for the client. Tool ids from other vendors are made valid here, salted with the response
// id so vendors that number calls per turn still give unique ids across the conversation.
std::optional<QJsonObject> encodeResponseBlock(const Block& block, const QString& responseId) {
    switch (block.kind) {
    case BlockKind::Text:
        return QJsonObject{{QStringLiteral("type"), QStringLiteral("text")}, {QStringLiteral("text"), block.text}};
    case BlockKind::ToolCall:
        return QJsonObject{{QStringLiteral("type"), QStringLiteral("tool_use")},
                           {QStringLiteral("id"), toolids::anthropicId(block.id, responseId)},
                           {QStringLiteral("name"), block.name},
                           {QStringLiteral("input"), wire::argumentsObject(block)}};
    case BlockKind::Thinking:
        if (block.redacted)
            return QJsonObject{{QStringLiteral("type"), QStringLiteral("redacted_thinking")},
                               {QStringLiteral("data"), block.signature}};
        return QJsonObject{{QStringLiteral("type"), QStringLiteral("thinking")},
                           {QStringLiteral("thinking"), block.text},
                           {QStringLiteral("signature"),
                            block.family == ThinkingFamily::Anthropic ? block.signature : kUnsignedSignature}};
    default: return std::nullopt;
    }
}

class Decoder final : public StreamDecoder {
protected:
    void decode(const http::SseEvent& event, QList<StreamEvent>& out) override {
        const std::optional<json::Tree> tree = wire::parseTree(event.data);
        if (!tree)
            return;  // malformed: dropped (the exchange logs it)
        const json::Value data = tree->root();
        const QString type = event.event.isEmpty() ? data.value(u"type").toString() : QString::fromUtf8(event.event);
        if (type == u"message_start")
            onMessageStart(data.value(u"message").toObject(), out);
        else if (type == u"content_block_start")
            onBlockStart(data, out);
        else if (type == u"content_block_delta")
            onBlockDelta(data, out);
        else if (type == u"content_block_stop")
            closeBlock(m_blocks.value(data.value(u"index").toInt(), -1), out);
        else if (type == u"message_delta")
            onMessageDelta(data);
        else if (type == u"message_stop")
            complete(m_finish, out);
        else if (type == u"error")
            fail(errors::fromAnthropic(data.value(u"error").toJsonObject()), out);
    }

    StreamEvent pendingFinish() const override { return m_finish; }

private:
    void onMessageStart(const json::Value& message, QList<StreamEvent>& out) {
        mergeUsage(message.value(u"usage").toObject(), m_finish.usage);
        start(message.value(u"id").toString(), message.value(u"model").toString(), m_finish.usage, out);
    }

    void onBlockStart(const json::Value& data, QList<StreamEvent>& out) {
        const std::optional<Block> block = decodeBlock(data.value(u"content_block").toObject());
        if (!block)
            return;  // server tools: their events are skipped by index
        Block opened = *block;
        opened.text.clear();
        const int index = openBlock(opened, out);
        m_blocks.insert(data.value(u"index").toInt(), index);
        // Some compatible vendors put the text or the whole tool input in the start event itself.
        if (block->kind == BlockKind::Text)
            delta(index, StreamEvent::DeltaKind::Text, block->text, out);
        if (block->kind == BlockKind::ToolCall && block->arguments != u"{}")
            delta(index, StreamEvent::DeltaKind::Arguments, block->arguments, out);
    }

    void onBlockDelta(const json::Value& data, QList<StreamEvent>& out) {
        const int index = m_blocks.value(data.value(u"index").toInt(), -1);
        const json::Value d = data.value(u"delta").toObject();
        const QString type = d.value(u"type").toString();
        if (type == u"text_delta")
            delta(index, StreamEvent::DeltaKind::Text, d.value(u"text").toString(), out);
        else if (type == u"thinking_delta")
            delta(index, StreamEvent::DeltaKind::Thinking, d.value(u"thinking").toString(), out);
        else if (type == u"signature_delta")
            delta(index, StreamEvent::DeltaKind::Signature, d.value(u"signature").toString(), out);
        else if (type == u"input_json_delta")
            delta(index, StreamEvent::DeltaKind::Arguments, d.value(u"partial_json").toString(), out);
    }

    void onMessageDelta(const json::Value& data) {
        const json::Value d = data.value(u"delta").toObject();
        if (d.value(u"stop_reason").isString())
            m_finish.stopReason = stopReasonOf(d.value(u"stop_reason").toString());
        m_finish.stopSequence = d.value(u"stop_sequence").toString();
        mergeUsage(data.value(u"usage").toObject(), m_finish.usage);
    }

    QHash<int, int> m_blocks;  // Anthropic index -> canonical index
    StreamEvent m_finish;
};

class Encoder final : public StreamEncoder {
public:
    QByteArray encode(const StreamEvent& event) override {
        switch (event.type) {
        case StreamEvent::Type::Start: return onStart(event);
        case StreamEvent::Type::BlockStart: return onBlockStart(event);
        case StreamEvent::Type::Delta: return onDelta(event);
        case StreamEvent::Type::BlockStop: return onBlockStop(event);
        case StreamEvent::Type::Finish: return onFinish(event);
        case StreamEvent::Type::Error: return sse("error", errors::anthropicBody(event.error));
        }
        return {};
    }

private:
    struct Open {
        BlockKind kind;
        bool custom = false;
        bool signedByUpstream = false;
    };

    static QByteArray sse(const char* name, const QJsonObject& data) {
        QJsonObject object{{QStringLiteral("type"), QString::fromLatin1(name)}};
        for (auto it = data.begin(); it != data.end(); ++it)
            object.insert(it.key(), it.value());
        return http::formatSse(name, wire::compact(object));
    }

    QByteArray blockDelta(int index, const QJsonObject& delta) {
        return sse("content_block_delta", {{QStringLiteral("index"), index}, {QStringLiteral("delta"), delta}});
    }

    QByteArray onStart(const StreamEvent& event) {
        m_id = event.id.isEmpty() ? wire::mintedId(QStringLiteral("msg"), event.model) : event.id;
        const QJsonObject message{{QStringLiteral("id"), m_id},
                                  {QStringLiteral("type"), QStringLiteral("message")},
                                  {QStringLiteral("role"), QStringLiteral("assistant")},
                                  {QStringLiteral("model"), event.model},
                                  {QStringLiteral("content"), QJsonArray{}},
                                  {QStringLiteral("stop_reason"), QJsonValue::Null},
                                  {QStringLiteral("stop_sequence"), QJsonValue::Null},
                                  {QStringLiteral("usage"), encodeUsage(event.usage)}};
        return sse("message_start", {{QStringLiteral("message"), message}});
    }

    QByteArray onBlockStart(const StreamEvent& event) {
        Block block = event.block;
        block.text.clear();
        block.arguments.clear();
        std::optional<QJsonObject> content = encodeResponseBlock(block, m_id);
        if (!content)
            return {};
        if (block.kind == BlockKind::ToolCall)
            content->insert(QStringLiteral("input"), QJsonObject{});
        if (block.kind == BlockKind::Thinking)
            content->insert(QStringLiteral("signature"), QString());
        m_open.insert(event.index, {block.kind, block.custom, block.family == ThinkingFamily::Anthropic});
        QByteArray out = sse("content_block_start", {{QStringLiteral("index"), event.index}, {QStringLiteral("content_block"), *content}});
        if (block.custom)
            out += argumentsDelta(event.index, wire::customInputOpening());
        return out;
    }

    QByteArray argumentsDelta(int index, const QString& fragment) {
        return blockDelta(index, {{QStringLiteral("type"), QStringLiteral("input_json_delta")},
                                  {QStringLiteral("partial_json"), fragment}});
    }

    QByteArray onDelta(const StreamEvent& event) {
        const auto open = m_open.constFind(event.index);
        if (open == m_open.cend())
            return {};
        switch (event.delta) {
        case StreamEvent::DeltaKind::Text:
            return blockDelta(event.index, {{QStringLiteral("type"), QStringLiteral("text_delta")}, {QStringLiteral("text"), event.text}});
        case StreamEvent::DeltaKind::Thinking:
            return blockDelta(event.index, {{QStringLiteral("type"), QStringLiteral("thinking_delta")},
                                            {QStringLiteral("thinking"), event.text}});
        case StreamEvent::DeltaKind::Signature:
            if (!open->signedByUpstream)
                return {};  // e.g. OpenAI encrypted reasoning: meaningless to an Anthropic client
            return blockDelta(event.index, {{QStringLiteral("type"), QStringLiteral("signature_delta")},
                                            {QStringLiteral("signature"), event.text}});
        case StreamEvent::DeltaKind::Arguments:
            return argumentsDelta(event.index, open->custom ? wire::customInputFragment(event.text) : event.text);
        }
        return {};
    }

    QByteArray onBlockStop(const StreamEvent& event) {
        const Open open = m_open.take(event.index);
        QByteArray out;
        if (open.custom)
            out += argumentsDelta(event.index, wire::customInputClosing());
        if (open.kind == BlockKind::Thinking && !open.signedByUpstream)
            out += blockDelta(event.index, {{QStringLiteral("type"), QStringLiteral("signature_delta")},
                                            {QStringLiteral("signature"), kUnsignedSignature}});
        return out + sse("content_block_stop", {{QStringLiteral("index"), event.index}});
    }

    QByteArray onFinish(const StreamEvent& event) {
        const QJsonObject delta{{QStringLiteral("stop_reason"), stopReasonName(event.stopReason)},
                                {QStringLiteral("stop_sequence"),
                                 event.stopSequence.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(event.stopSequence)}};
        return sse("message_delta", {{QStringLiteral("delta"), delta}, {QStringLiteral("usage"), encodeUsage(event.usage)}}) +
               sse("message_stop", {});
    }

    QString m_id;
    QHash<int, Open> m_open;
};

}  // namespace

Request decodeRequest(const json::Value& body) {
    Request request;
    request.model = body.value(u"model").toString();
    request.system = decodeContent(body.value(u"system"));
    for (const json::Value& message : body.value(u"messages").toArray()) {
        const QString role = message.value(u"role").toString();
        QList<Block> content = decodeContent(message.value(u"content"));
        // Mid-conversation system messages (a beta other upstreams lack) join the system prompt.
        if (role == u"system")
            request.system.append(std::move(content));
        else
            request.messages.append({role == u"assistant" ? Role::Assistant : Role::User, std::move(content)});
    }
    for (const json::Value& value : body.value(u"tools").toArray()) {
        if (std::optional<Tool> tool = decodeTool(value))
            request.tools.append(std::move(*tool));
    }
    decodeToolChoice(body.value(u"tool_choice").toObject(), request);
    if (body.contains(u"max_tokens"))
        request.maxTokens = body.value(u"max_tokens").toInt();
    if (body.value(u"temperature").isDouble())
        request.temperature = body.value(u"temperature").toDouble();
    if (body.value(u"top_p").isDouble())
        request.topP = body.value(u"top_p").toDouble();
    for (const json::Value& stop : body.value(u"stop_sequences").toArray())
        request.stop.append(stop.toString());
    request.user = body.value(u"metadata").toObject().value(u"user_id").toString();
    request.stream = body.value(u"stream").toBool();
    decodeReasoning(body, request);
    return request;
}

QByteArray encodeRequest(const Request& request, const TargetTraits& traits, qsizetype sizeHint) {
    const int maxTokens = *wire::clampedMaxTokens(request.maxTokens, traits, kDefaultMaxTokens);
    const std::optional<int> budget = thinkingBudget(request, traits, maxTokens);
    json::Writer w(sizeHint);
    w.beginObject().member("model", request.model).member("max_tokens", maxTokens);
    if (std::any_of(request.system.begin(), request.system.end(), [](const Block& b) { return !b.text.isEmpty(); }))
        writeSystem(w, request.system);
    w.key("messages");
    writeMessages(w, request.messages);
    if (!request.tools.isEmpty()) {
        w.key("tools").beginArray();
        for (const Tool& tool : request.tools)
            writeTool(w, tool);
        w.endArray();
        writeToolChoice(w, request);
    }
    // Anthropic refuses sampling parameters other than the defaults while thinking.
    if (request.temperature && !budget)
        w.member("temperature", *request.temperature);
    if (request.topP && !budget)
        w.member("top_p", *request.topP);
    if (!request.stop.isEmpty()) {
        w.key("stop_sequences").beginArray();
        for (const QString& stop : request.stop)
            w.string(stop);
        w.endArray();
    }
    if (!request.user.isEmpty())
        w.key("metadata").beginObject().member("user_id", request.user).endObject();
    if (request.stream)
        w.member("stream", true);
    if (request.outputFormat.value(u"type").toString() == u"json_schema")
        w.key("output_config").beginObject().key("format").beginObject().member("type", "json_schema")
            .member("schema", request.outputFormat.value(u"schema")).endObject().endObject();
    if (budget)
        w.key("thinking").beginObject().member("type", "enabled").member("budget_tokens", *budget).endObject();
    return w.endObject().take();
}

Response decodeResponse(const json::Value& body) {
    Response response;
    response.id = body.value(u"id").toString();
    response.model = body.value(u"model").toString();
    response.content = decodeContent(body.value(u"content"));
    response.stopReason = stopReasonOf(body.value(u"stop_reason").toString());
    response.stopSequence = body.value(u"stop_sequence").toString();
    mergeUsage(body.value(u"usage").toObject(), response.usage);
    return response;
}

QByteArray encodeResponse(const Response& response) {
    const QString id = response.id.isEmpty() ? wire::mintedId(QStringLiteral("msg"), response.model) : response.id;
    QJsonArray content;
    for (const Block& block : response.content) {
        if (std::optional<QJsonObject> encoded = encodeResponseBlock(block, id))
            content.append(*encoded);
    }
    return wire::compact({{QStringLiteral("id"), id},
                          {QStringLiteral("type"), QStringLiteral("message")},
                          {QStringLiteral("role"), QStringLiteral("assistant")},
                          {QStringLiteral("model"), response.model},
                          {QStringLiteral("content"), content},
                          {QStringLiteral("stop_reason"), stopReasonName(response.stopReason)},
                          {QStringLiteral("stop_sequence"),
                           response.stopSequence.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(response.stopSequence)},
                          {QStringLiteral("usage"), encodeUsage(response.usage)}});
}

QJsonObject encodeError(const Error& error) { return errors::anthropicBody(error); }

std::unique_ptr<StreamDecoder> makeStreamDecoder() { return std::make_unique<Decoder>(); }
std::unique_ptr<StreamEncoder> makeStreamEncoder() { return std::make_unique<Encoder>(); }

}  // namespace understudy::anthropic
