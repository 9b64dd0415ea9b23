#include "dialects/AnthropicMessages.h"

#include "dialects/Errors.h"
#include "dialects/ToolIds.h"
#include "dialects/Wire.h"

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

std::optional<Block> decodeImage(const QJsonObject& object) {
    const QJsonObject source = object.value(u"source").toObject();
    Block block;
    block.kind = BlockKind::Image;
    block.cacheControl = object.value(u"cache_control").toObject();
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

std::optional<Block> decodeBlock(const QJsonObject& object);

std::vector<Block> decodeToolResultContent(const QJsonValue& content) {
    std::vector<Block> blocks;
    if (content.isString()) {
        blocks.push_back(Block::makeText(content.toString()));
        return blocks;
    }
    for (const QJsonValue& value : content.toArray()) {
        if (std::optional<Block> block = decodeBlock(value.toObject()))
            blocks.push_back(*block);
    }
    return blocks;
}

Block decodeThinking(const QJsonObject& object) {
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

std::optional<Block> decodeBlock(const QJsonObject& object) {
    const QString type = object.value(u"type").toString();
    Block block;
    block.cacheControl = object.value(u"cache_control").toObject();
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
        block.arguments = QString::fromUtf8(wire::compact(object.value(u"input").toObject()));
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

QList<Block> decodeContent(const QJsonValue& content) {
    QList<Block> blocks;
    if (content.isString()) {
        blocks.append(Block::makeText(content.toString()));
        return blocks;
    }
    for (const QJsonValue& value : content.toArray()) {
        if (std::optional<Block> block = decodeBlock(value.toObject()))
            blocks.append(*block);
    }
    return blocks;
}

std::optional<Tool> decodeTool(const QJsonObject& object) {
    const QString type = object.value(u"type").toString();
    if (!type.isEmpty() && type != u"custom")
        return std::nullopt;  // versioned server tools (web_search_..., bash_...) exist only on Anthropic
    Tool tool;
    tool.name = object.value(u"name").toString();
    tool.description = object.value(u"description").toString();
    tool.parameters = object.value(u"input_schema").toObject();
    tool.cacheControl = object.value(u"cache_control").toObject();
    if (object.contains(u"strict"))
        tool.strict = object.value(u"strict").toBool();
    return tool;
}

void decodeToolChoice(const QJsonObject& object, Request& request) {
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

void decodeReasoning(const QJsonObject& body, Request& request) {
    const QJsonObject thinking = body.value(u"thinking").toObject();
    const QJsonObject outputConfig = body.value(u"output_config").toObject();
    const QString type = thinking.value(u"type").toString();
    const QString effort = outputConfig.value(u"effort").toString();
    if (type == u"enabled" || type == u"adaptive" || (!effort.isEmpty() && type != u"disabled")) {
        Reasoning reasoning;
        reasoning.effort = effort;
        if (thinking.contains(u"budget_tokens"))
            reasoning.budgetTokens = thinking.value(u"budget_tokens").toInt();
        request.reasoning = reasoning;
    }
    const QJsonObject format = outputConfig.value(u"format").toObject();
    if (format.value(u"type").toString() == u"json_schema")
        request.outputFormat = format;
}

QJsonObject encodeImage(const Block& block) {
    QJsonObject source;
    if (block.url.isEmpty())
        source = {{QStringLiteral("type"), QStringLiteral("base64")},
                  {QStringLiteral("media_type"), block.mediaType},
                  {QStringLiteral("data"), block.data}};
    else
        source = {{QStringLiteral("type"), QStringLiteral("url")}, {QStringLiteral("url"), block.url}};
    return {{QStringLiteral("type"), QStringLiteral("image")}, {QStringLiteral("source"), source}};
}

QJsonValue encodeToolResultContent(const std::vector<Block>& content) {
    if (content.size() == 1 && content.front().kind == BlockKind::Text)
        return content.front().text;
    QJsonArray blocks;
    for (const Block& block : content) {
        if (block.kind == BlockKind::Image)
            blocks.append(encodeImage(block));
        else if (block.kind == BlockKind::Text && !block.text.isEmpty())
            blocks.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("text")}, {QStringLiteral("text"), block.text}});
    }
    return blocks;
}

std::optional<QJsonObject> encodeThinking(const Block& block) {
    // Only Anthropic can verify an Anthropic signature; anything else would be a broken signature.
    if (block.family != ThinkingFamily::Anthropic || block.signature.isEmpty())
        return std::nullopt;
    if (block.redacted)
        return QJsonObject{{QStringLiteral("type"), QStringLiteral("redacted_thinking")},
                           {QStringLiteral("data"), block.signature}};
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("thinking")},
                       {QStringLiteral("thinking"), block.text},
                       {QStringLiteral("signature"), block.signature}};
}

std::optional<QJsonObject> encodeBlock(const Block& block, toolids::AnthropicIdMapper& ids) {
    QJsonObject out;
    switch (block.kind) {
    case BlockKind::Text:
        if (block.text.isEmpty())
            return std::nullopt;  // Anthropic rejects empty text blocks
        out = {{QStringLiteral("type"), QStringLiteral("text")}, {QStringLiteral("text"), block.text}};
        break;
    case BlockKind::Image: out = encodeImage(block); break;
    case BlockKind::ToolCall:
        out = {{QStringLiteral("type"), QStringLiteral("tool_use")},
               {QStringLiteral("id"), ids.call(block.id)},
               {QStringLiteral("name"), block.name},
               {QStringLiteral("input"), wire::argumentsObject(block)}};
        break;
    case BlockKind::ToolResult:
        out = {{QStringLiteral("type"), QStringLiteral("tool_result")}, {QStringLiteral("tool_use_id"), ids.result(block.id)}};
        if (!block.content.empty())
            out.insert(QStringLiteral("content"), encodeToolResultContent(block.content));
        if (block.isError)
            out.insert(QStringLiteral("is_error"), true);
        break;
    case BlockKind::Thinking: return encodeThinking(block);
    }
    if (!block.cacheControl.isEmpty())
        out.insert(QStringLiteral("cache_control"), block.cacheControl);
    return out;
}

QJsonArray encodeMessages(const QList<Message>& messages) {
    toolids::AnthropicIdMapper ids;
    QJsonArray out;
    QString lastRole;
    for (const Message& message : messages) {
        QJsonArray blocks;
        for (const Block& block : message.content) {
            if (std::optional<QJsonObject> encoded = encodeBlock(block, ids))
                blocks.append(*encoded);
        }
        if (blocks.isEmpty())
            continue;
        const QString role = message.role == Role::User ? QStringLiteral("user") : QStringLiteral("assistant");
        // Chat sends each tool result as its own message; Anthropic wants them together in one user turn.
        if (role == lastRole) {
            QJsonObject last = out.last().toObject();
            QJsonArray merged = last.value(u"content").toArray();
            for (const QJsonValue& block : blocks)
                merged.append(block);
            last.insert(QStringLiteral("content"), merged);
            out.replace(out.size() - 1, last);
            continue;
        }
        out.append(QJsonObject{{QStringLiteral("role"), role}, {QStringLiteral("content"), blocks}});
        lastRole = role;
    }
    return out;
}

QJsonArray encodeSystem(const QList<Block>& system) {
    QJsonArray blocks;
    for (const Block& block : system) {
        if (block.text.isEmpty())
            continue;
        QJsonObject text{{QStringLiteral("type"), QStringLiteral("text")}, {QStringLiteral("text"), block.text}};
        if (!block.cacheControl.isEmpty())
            text.insert(QStringLiteral("cache_control"), block.cacheControl);
        blocks.append(text);
    }
    return blocks;
}

QJsonObject encodeTool(const Tool& tool) {
    QJsonObject schema = tool.parameters;
    if (tool.custom)
        schema = {{QStringLiteral("type"), QStringLiteral("object")},
                  {QStringLiteral("properties"),
                   QJsonObject{{QStringLiteral("input"), QJsonObject{{QStringLiteral("type"), QStringLiteral("string")}}}}},
                  {QStringLiteral("required"), QJsonArray{QStringLiteral("input")}}};
    if (schema.isEmpty())
        schema = {{QStringLiteral("type"), QStringLiteral("object")}};
    QJsonObject out{{QStringLiteral("name"), tool.name}, {QStringLiteral("input_schema"), schema}};
    if (!tool.description.isEmpty())
        out.insert(QStringLiteral("description"), tool.description);
    if (!tool.cacheControl.isEmpty())
        out.insert(QStringLiteral("cache_control"), tool.cacheControl);
    return out;
}

std::optional<QJsonObject> encodeToolChoice(const Request& request) {
    QJsonObject out;
    const ToolChoice choice = request.toolChoice.value_or(ToolChoice{});
    switch (choice.mode) {
    case ToolChoice::Mode::Auto: out.insert(QStringLiteral("type"), QStringLiteral("auto")); break;
    case ToolChoice::Mode::Required: out.insert(QStringLiteral("type"), QStringLiteral("any")); break;
    case ToolChoice::Mode::None: return QJsonObject{{QStringLiteral("type"), QStringLiteral("none")}};
    case ToolChoice::Mode::Tool:
        out = {{QStringLiteral("type"), QStringLiteral("tool")}, {QStringLiteral("name"), choice.name}};
        break;
    }
    if (request.parallelToolCalls == false)
        out.insert(QStringLiteral("disable_parallel_tool_use"), true);
    else if (!request.toolChoice)
        return std::nullopt;
    return out;
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

void encodeThinkingControl(const Request& request, const TargetTraits& traits, QJsonObject& out) {
    const int maxTokens = out.value(u"max_tokens").toInt();
    if (!request.reasoning || !traits.reasoning || !canThink(request))
        return;
    const QString effort = wire::effortOf(*request.reasoning);
    int budget = request.reasoning->budgetTokens.value_or(effort == u"low" ? 2048 : effort == u"medium" ? 8192 : 16384);
    budget = std::min(budget, maxTokens - 1);
    if (budget < kMinThinkingBudget)
        return;
    out.insert(QStringLiteral("thinking"),
               QJsonObject{{QStringLiteral("type"), QStringLiteral("enabled")}, {QStringLiteral("budget_tokens"), budget}});
    // Anthropic refuses sampling parameters other than the defaults while thinking.
    out.remove(QStringLiteral("temperature"));
    out.remove(QStringLiteral("top_p"));
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
void mergeUsage(const QJsonObject& object, Usage& usage) {
    const auto take = [&object](const char* key, qint64& field) {
        const QJsonValue value = object.value(QLatin1String(key));
        if (value.isDouble())
            field = value.toInteger();
    };
    take("input_tokens", usage.inputTokens);
    take("output_tokens", usage.outputTokens);
    take("cache_read_input_tokens", usage.cacheReadTokens);
    take("cache_creation_input_tokens", usage.cacheWriteTokens);
    const QJsonValue thinking = object.value(u"output_tokens_details").toObject().value(u"thinking_tokens");
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
        const std::optional<QJsonObject> data = wire::parseObject(event.data);
        if (!data)
            return;  // malformed: dropped (the exchange logs it)
        const QString type = event.event.isEmpty() ? data->value(u"type").toString() : QString::fromUtf8(event.event);
        if (type == u"message_start")
            onMessageStart(data->value(u"message").toObject(), out);
        else if (type == u"content_block_start")
            onBlockStart(*data, out);
        else if (type == u"content_block_delta")
            onBlockDelta(*data, out);
        else if (type == u"content_block_stop")
            closeBlock(m_blocks.value(data->value(u"index").toInt(), -1), out);
        else if (type == u"message_delta")
            onMessageDelta(*data);
        else if (type == u"message_stop")
            complete(m_finish, out);
        else if (type == u"error")
            fail(errors::fromAnthropic(data->value(u"error").toObject()), out);
    }

    StreamEvent pendingFinish() const override { return m_finish; }

private:
    void onMessageStart(const QJsonObject& message, QList<StreamEvent>& out) {
        mergeUsage(message.value(u"usage").toObject(), m_finish.usage);
        start(message.value(u"id").toString(), message.value(u"model").toString(), m_finish.usage, out);
    }

    void onBlockStart(const QJsonObject& data, QList<StreamEvent>& out) {
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

    void onBlockDelta(const QJsonObject& data, QList<StreamEvent>& out) {
        const int index = m_blocks.value(data.value(u"index").toInt(), -1);
        const QJsonObject d = data.value(u"delta").toObject();
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

    void onMessageDelta(const QJsonObject& data) {
        const QJsonObject d = data.value(u"delta").toObject();
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

Request decodeRequest(const QJsonObject& body) {
    Request request;
    request.model = body.value(u"model").toString();
    request.system = decodeContent(body.value(u"system"));
    for (const QJsonValue& value : body.value(u"messages").toArray()) {
        const QJsonObject message = value.toObject();
        const QString role = message.value(u"role").toString();
        const QList<Block> content = decodeContent(message.value(u"content"));
        // Mid-conversation system messages (a beta other upstreams lack) join the system prompt.
        if (role == u"system")
            request.system.append(content);
        else
            request.messages.append({role == u"assistant" ? Role::Assistant : Role::User, content});
    }
    for (const QJsonValue& value : body.value(u"tools").toArray()) {
        if (std::optional<Tool> tool = decodeTool(value.toObject()))
            request.tools.append(*tool);
    }
    decodeToolChoice(body.value(u"tool_choice").toObject(), request);
    if (body.contains(u"max_tokens"))
        request.maxTokens = body.value(u"max_tokens").toInt();
    if (body.value(u"temperature").isDouble())
        request.temperature = body.value(u"temperature").toDouble();
    if (body.value(u"top_p").isDouble())
        request.topP = body.value(u"top_p").toDouble();
    for (const QJsonValue& stop : body.value(u"stop_sequences").toArray())
        request.stop.append(stop.toString());
    request.user = body.value(u"metadata").toObject().value(u"user_id").toString();
    request.stream = body.value(u"stream").toBool();
    decodeReasoning(body, request);
    return request;
}

QJsonObject encodeRequest(const Request& request, const TargetTraits& traits) {
    QJsonObject out{{QStringLiteral("model"), request.model},
                    {QStringLiteral("max_tokens"), *wire::clampedMaxTokens(request.maxTokens, traits, kDefaultMaxTokens)},
                    {QStringLiteral("messages"), encodeMessages(request.messages)}};
    const QJsonArray system = encodeSystem(request.system);
    if (!system.isEmpty())
        out.insert(QStringLiteral("system"), system);
    if (!request.tools.isEmpty()) {
        QJsonArray tools;
        for (const Tool& tool : request.tools)
            tools.append(encodeTool(tool));
        out.insert(QStringLiteral("tools"), tools);
        if (const std::optional<QJsonObject> choice = encodeToolChoice(request))
            out.insert(QStringLiteral("tool_choice"), *choice);
    }
    if (request.temperature)
        out.insert(QStringLiteral("temperature"), *request.temperature);
    if (request.topP)
        out.insert(QStringLiteral("top_p"), *request.topP);
    if (!request.stop.isEmpty())
        out.insert(QStringLiteral("stop_sequences"), QJsonArray::fromStringList(request.stop));
    if (!request.user.isEmpty())
        out.insert(QStringLiteral("metadata"), QJsonObject{{QStringLiteral("user_id"), request.user}});
    if (request.stream)
        out.insert(QStringLiteral("stream"), true);
    if (request.outputFormat.value(u"type").toString() == u"json_schema")
        out.insert(QStringLiteral("output_config"),
                   QJsonObject{{QStringLiteral("format"),
                                QJsonObject{{QStringLiteral("type"), QStringLiteral("json_schema")},
                                            {QStringLiteral("schema"), request.outputFormat.value(u"schema")}}}});
    encodeThinkingControl(request, traits, out);
    return out;
}

Response decodeResponse(const QJsonObject& body) {
    Response response;
    response.id = body.value(u"id").toString();
    response.model = body.value(u"model").toString();
    response.content = decodeContent(body.value(u"content"));
    response.stopReason = stopReasonOf(body.value(u"stop_reason").toString());
    response.stopSequence = body.value(u"stop_sequence").toString();
    mergeUsage(body.value(u"usage").toObject(), response.usage);
    return response;
}

QJsonObject encodeResponse(const Response& response) {
    const QString id = response.id.isEmpty() ? wire::mintedId(QStringLiteral("msg"), response.model) : response.id;
    QJsonArray content;
    for (const Block& block : response.content) {
        if (std::optional<QJsonObject> encoded = encodeResponseBlock(block, id))
            content.append(*encoded);
    }
    return {{QStringLiteral("id"), id},
            {QStringLiteral("type"), QStringLiteral("message")},
            {QStringLiteral("role"), QStringLiteral("assistant")},
            {QStringLiteral("model"), response.model},
            {QStringLiteral("content"), content},
            {QStringLiteral("stop_reason"), stopReasonName(response.stopReason)},
            {QStringLiteral("stop_sequence"),
             response.stopSequence.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(response.stopSequence)},
            {QStringLiteral("usage"), encodeUsage(response.usage)}};
}

QJsonObject encodeError(const Error& error) { return errors::anthropicBody(error); }

std::unique_ptr<StreamDecoder> makeStreamDecoder() { return std::make_unique<Decoder>(); }
std::unique_ptr<StreamEncoder> makeStreamEncoder() { return std::make_unique<Encoder>(); }

}  // namespace understudy::anthropic
