#include "dialects/OpenAIChat.h"

#include "dialects/Errors.h"
#include "dialects/ToolIds.h"
#include "dialects/Wire.h"
#include "json/JsonWriter.h"

#include <QDateTime>
#include <QHash>
#include <QJsonArray>

#include <algorithm>

namespace understudy::chat {
namespace {

using namespace canonical;

constexpr int kMaxStopSequences = 4;  // OpenAI refuses more

QString textOf(const json::Value& content) {
    if (content.isString())
        return content.toString();
    QStringList parts;
    for (const json::Value& part : content.toArray()) {
        const json::Value object = part.toObject();
        if (object.value(u"type").toString() == u"text")
            parts.append(object.value(u"text").toString());
        else if (object.value(u"type").toString() == u"refusal")
            parts.append(object.value(u"refusal").toString());
    }
    return parts.join(QString());
}

Block imageFromUrl(const QString& url) {
    Block block;
    block.kind = BlockKind::Image;
    // data:<media type>;base64,<data> is how Chat carries inline images.
    static const QLatin1String marker(";base64,");
    const qsizetype comma = url.indexOf(marker);
    if (url.startsWith(u"data:") && comma > 0) {
        block.mediaType = url.mid(5, comma - 5);
        block.data = url.mid(comma + marker.size());
    } else {
        block.url = url;
    }
    return block;
}

QString imageUrl(const Block& block) {
    return block.url.isEmpty() ? QStringLiteral("data:%1;base64,%2").arg(block.mediaType, block.data) : block.url;
}

QList<Block> decodeUserContent(const json::Value& content) {
    QList<Block> blocks;
    if (content.isString()) {
        blocks.append(Block::makeText(content.toString()));
        return blocks;
    }
    for (const json::Value& value : content.toArray()) {
        const json::Value part = value.toObject();
        const QString type = part.value(u"type").toString();
        if (type == u"text")
            blocks.append(Block::makeText(part.value(u"text").toString()));
        else if (type == u"image_url")
            blocks.append(imageFromUrl(part.value(u"image_url").toObject().value(u"url").toString()));
    }
    return blocks;
}

QString reasoningTextOf(const json::Value& message) {
    const QString content = message.value(u"reasoning_content").toString();
    return content.isEmpty() ? message.value(u"reasoning").toString() : content;
}

Block decodeToolCall(const json::Value& call) {
    Block block;
    block.kind = BlockKind::ToolCall;
    block.id = call.value(u"id").toString();
    if (call.value(u"type").toString() == u"custom") {
        const json::Value custom = call.value(u"custom").toObject();
        block.custom = true;
        block.name = custom.value(u"name").toString();
        block.arguments = custom.value(u"input").toString();
        return block;
    }
    const json::Value function = call.value(u"function").toObject();
    block.name = function.value(u"name").toString();
    block.arguments = function.value(u"arguments").toString();
    return block;
}

QList<Block> decodeAssistant(const json::Value& message) {
    QList<Block> blocks;
    const QString reasoning = reasoningTextOf(message);
    if (!reasoning.isEmpty()) {
        Block thinking;
        thinking.kind = BlockKind::Thinking;
        thinking.text = reasoning;
        blocks.append(thinking);
    }
    const QString text = textOf(message.value(u"content"));
    if (!text.isEmpty())
        blocks.append(Block::makeText(text));
    for (const json::Value& call : message.value(u"tool_calls").toArray())
        blocks.append(decodeToolCall(call.toObject()));
    return blocks;
}

Block decodeToolMessage(const json::Value& message) {
    Block block;
    block.kind = BlockKind::ToolResult;
    block.id = message.value(u"tool_call_id").toString();
    block.content.push_back(Block::makeText(textOf(message.value(u"content"))));
    return block;
}

std::optional<Tool> decodeTool(const json::Value& object) {
    Tool tool;
    const QString type = object.value(u"type").toString();
    if (type == u"custom") {
        const json::Value custom = object.value(u"custom").toObject();
        tool.custom = true;
        tool.name = custom.value(u"name").toString();
        tool.description = custom.value(u"description").toString();
        tool.format = custom.value(u"format").toJsonObject();
        return tool;
    }
    if (type != u"function")
        return std::nullopt;
    const json::Value function = object.value(u"function").toObject();
    tool.name = function.value(u"name").toString();
    tool.description = function.value(u"description").toString();
    tool.parameters = function.value(u"parameters").toJsonObject();
    if (function.value(u"strict").isBool())
        tool.strict = function.value(u"strict").toBool();
    return tool;
}

QJsonObject decodeResponseFormat(const json::Value& format) {
    const QString type = format.value(u"type").toString();
    if (type == u"json_object")
        return {{QStringLiteral("type"), type}};
    if (type != u"json_schema")
        return {};
    QJsonObject out = format.value(u"json_schema").toJsonObject();
    out.insert(QStringLiteral("type"), type);
    return out;
}

QJsonObject encodeResponseFormat(const QJsonObject& format) {
    const QString type = format.value(u"type").toString();
    if (type != u"json_schema")
        return {{QStringLiteral("type"), type}};
    QJsonObject schema = format;
    schema.remove(QStringLiteral("type"));
    if (!schema.contains(u"name"))
        schema.insert(QStringLiteral("name"), QStringLiteral("output"));
    return {{QStringLiteral("type"), type}, {QStringLiteral("json_schema"), schema}};
}

void writeToolCall(json::Writer& w, const Block& call) {
    const QString arguments = call.custom ? wire::wrappedCustomInput(call.arguments) : call.arguments;
    w.beginObject().member("id", toolids::chatId(call.id)).member("type", "function").key("function").beginObject();
    w.member("name", call.name).member("arguments", arguments.isEmpty() ? QStringLiteral("{}") : arguments);
    w.endObject().endObject();
}

void writeUserParts(json::Writer& w, const QList<Block>& blocks) {
    w.beginArray();
    for (const Block& block : blocks) {
        if (block.kind == BlockKind::Text && !block.text.isEmpty())
            w.beginObject().member("type", "text").member("text", block.text).endObject();
        else if (block.kind == BlockKind::Image)
            w.beginObject().member("type", "image_url").key("image_url").beginObject().member("url", imageUrl(block))
                .endObject().endObject();
    }
    w.endArray();
}

// Plain string content when there is only text: the most widely accepted form among compatible servers.
void writeUserContent(json::Writer& w, const QList<Block>& blocks) {
    const bool textOnly = std::all_of(blocks.begin(), blocks.end(), [](const Block& b) { return b.kind == BlockKind::Text; });
    if (textOnly)
        w.string(wire::joinedText(blocks));
    else
        writeUserParts(w, blocks);
}

// Tool results become `tool` messages, which must directly follow the assistant turn; Chat tool messages hold
// text only, so images from results follow in a user message with the rest of the turn.
void writeUser(json::Writer& w, const Message& message) {
    QList<Block> rest;
    for (const Block& block : message.content) {
        if (block.kind != BlockKind::ToolResult) {
            rest.append(block);
            continue;
        }
        QString text = wire::joinedText(QList<Block>(block.content.begin(), block.content.end()));
        if (block.isError && text.isEmpty())
            text = QStringLiteral("error");
        w.beginObject().member("role", "tool").member("tool_call_id", toolids::chatId(block.id)).member("content", text);
        w.endObject();
        for (const Block& part : block.content) {
            if (part.kind == BlockKind::Image)
                rest.append(part);
        }
    }
    const bool empty = std::none_of(rest.begin(), rest.end(), [](const Block& b) {
        return b.kind == BlockKind::Image || (b.kind == BlockKind::Text && !b.text.isEmpty());
    });
    if (empty)
        return;
    w.beginObject().member("role", "user").key("content");
    writeUserContent(w, rest);
    w.endObject();
}

QString reasoningText(const QList<Block>& content) {
    QStringList reasoning;
    for (const Block& block : content) {
        if (block.kind == BlockKind::Thinking && !block.text.isEmpty())
            reasoning.append(block.text);
    }
    return reasoning.join(QStringLiteral("\n\n"));
}

bool hasToolCall(const QList<Block>& content) {
    return std::any_of(content.begin(), content.end(), [](const Block& b) { return b.kind == BlockKind::ToolCall; });
}

// One assistant message; a response also says it refused nothing, and carries its reasoning whatever the traits.
void writeAssistant(json::Writer& w, const Message& message, bool withReasoning, bool withRefusal) {
    const QString text = wire::joinedText(message.content);
    w.beginObject().member("role", "assistant").key("content");
    text.isEmpty() ? w.null() : w.string(text);
    if (hasToolCall(message.content)) {
        w.key("tool_calls").beginArray();
        for (const Block& block : message.content) {
            if (block.kind == BlockKind::ToolCall)
                writeToolCall(w, block);
        }
        w.endArray();
    }
    const QString reasoning = withReasoning ? reasoningText(message.content) : QString();
    if (!reasoning.isEmpty())
        w.member("reasoning_content", reasoning);
    if (withRefusal)
        w.member("refusal", QJsonValue(QJsonValue::Null));
    w.endObject();
}

void writeTool(json::Writer& w, const Tool& tool) {
    w.beginObject().member("type", "function").key("function").beginObject().member("name", tool.name).key("parameters");
    if (tool.custom)
        w.raw(R"({"type":"object","properties":{"input":{"type":"string"}},"required":["input"]})");
    else if (tool.parameters.isEmpty())
        w.raw(R"({"type":"object","properties":{}})");
    else
        w.json(tool.parameters);
    if (!tool.description.isEmpty())
        w.member("description", tool.description);
    if (tool.strict && !tool.custom)
        w.member("strict", *tool.strict);
    w.endObject().endObject();
}

void writeToolChoice(json::Writer& w, const ToolChoice& choice) {
    switch (choice.mode) {
    case ToolChoice::Mode::Auto: w.string(QLatin1StringView("auto")); return;
    case ToolChoice::Mode::Required: w.string(QLatin1StringView("required")); return;
    case ToolChoice::Mode::None: w.string(QLatin1StringView("none")); return;
    case ToolChoice::Mode::Tool:
        w.beginObject().member("type", "function").key("function").beginObject().member("name", choice.name)
            .endObject().endObject();
        return;
    }
}

StopReason stopReasonOf(const QString& name) {
    if (name == u"length")
        return StopReason::MaxTokens;
    if (name == u"tool_calls" || name == u"function_call")
        return StopReason::ToolUse;
    if (name == u"content_filter")
        return StopReason::Refusal;
    return StopReason::EndTurn;
}

QString finishReasonName(StopReason reason) {
    switch (reason) {
    case StopReason::MaxTokens:
    case StopReason::ContextWindowExceeded: return QStringLiteral("length");
    case StopReason::ToolUse: return QStringLiteral("tool_calls");
    case StopReason::Refusal: return QStringLiteral("content_filter");
    default: return QStringLiteral("stop");
    }
}

// prompt_tokens includes the cache; the canonical input count does not.
Usage decodeUsage(const json::Value& object) {
    Usage usage;
    const json::Value prompt = object.value(u"prompt_tokens_details").toObject();
    usage.cacheReadTokens = prompt.value(u"cached_tokens").toInteger();
    usage.cacheWriteTokens = prompt.value(u"cache_write_tokens").toInteger();
    usage.inputTokens = std::max<qint64>(0, object.value(u"prompt_tokens").toInteger() - usage.cacheReadTokens - usage.cacheWriteTokens);
    usage.outputTokens = object.value(u"completion_tokens").toInteger();
    usage.reasoningTokens = object.value(u"completion_tokens_details").toObject().value(u"reasoning_tokens").toInteger();
    return usage;
}

QJsonObject encodeUsage(const Usage& usage) {
    const qint64 prompt = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
    QJsonObject details{{QStringLiteral("cached_tokens"), usage.cacheReadTokens}};
    if (usage.cacheWriteTokens > 0)
        details.insert(QStringLiteral("cache_write_tokens"), usage.cacheWriteTokens);
    return {{QStringLiteral("prompt_tokens"), prompt},
            {QStringLiteral("completion_tokens"), usage.outputTokens},
            {QStringLiteral("total_tokens"), prompt + usage.outputTokens},
            {QStringLiteral("prompt_tokens_details"), details},
            {QStringLiteral("completion_tokens_details"), QJsonObject{{QStringLiteral("reasoning_tokens"), usage.reasoningTokens}}}};
}

class Decoder final : public StreamDecoder {
protected:
    void decode(const http::SseEvent& event, QList<StreamEvent>& out) override {
        if (event.data.trimmed() == "[DONE]") {
            complete(pendingFinish(), out);
            return;
        }
        const std::optional<json::Tree> tree = wire::parseTree(event.data);
        if (!tree)
            return;  // malformed: dropped (the exchange logs it)
        const json::Value chunk = tree->root();
        if (chunk.value(u"error").isObject() || event.event == "error") {
            const json::Value error = chunk.value(u"error").toObject();
            fail(errors::fromOpenAI((error.isEmpty() ? chunk : error).toJsonObject()), out);
            return;
        }
        if (!started())
            m_responseSeed = chunk.value(u"id").toString();
        start(chunk.value(u"id").toString(), chunk.value(u"model").toString(), {}, out);
        const json::Value choices = chunk.value(u"choices").toArray();
        if (!choices.isEmpty())
            onChoice(choices.first().toObject(), out);
        if (chunk.value(u"usage").isObject()) {
            m_usage = decodeUsage(chunk.value(u"usage").toObject());
            m_haveUsage = true;
        }
        // With include_usage the usage chunk follows the finish_reason chunk; some servers put both in one.
        if (m_stopReason && m_haveUsage)
            complete(pendingFinish(), out);
    }

    StreamEvent pendingFinish() const override {
        StreamEvent finish = StreamDecoder::pendingFinish();
        if (m_stopReason)
            finish.stopReason = *m_stopReason;
        finish.usage = m_usage;
        return finish;
    }

private:
    void onChoice(const json::Value& choice, QList<StreamEvent>& out) {
        const json::Value delta = choice.value(u"delta").toObject();
        const QString reasoning = reasoningTextOf(delta);
        if (!reasoning.isEmpty())
            appendTo(BlockKind::Thinking, StreamEvent::DeltaKind::Thinking, reasoning, out);
        const QString text = delta.value(u"content").toString();
        if (!text.isEmpty())
            appendTo(BlockKind::Text, StreamEvent::DeltaKind::Text, text, out);
        for (const json::Value& call : delta.value(u"tool_calls").toArray())
            onToolCall(call.toObject(), out);
        if (choice.value(u"finish_reason").isString()) {
            m_stopReason = stopReasonOf(choice.value(u"finish_reason").toString());
            closeAll(out);
        }
    }

    // Text and reasoning arrive as runs; a change of kind ends the block before it.
    void appendTo(BlockKind kind, StreamEvent::DeltaKind deltaKind, const QString& text, QList<StreamEvent>& out) {
        if (m_current < 0 || !isOpen(m_current) || m_currentKind != kind) {
            closeCurrent(out);
            Block block;
            block.kind = kind;
            m_current = openBlock(block, out);
            m_currentKind = kind;
        }
        delta(m_current, deltaKind, text, out);
    }

    void closeCurrent(QList<StreamEvent>& out) {
        if (m_current >= 0)
            closeBlock(m_current, out);
        m_current = -1;
    }

    // Fragments are merged by their `index`; the first one of a call carries its id and name.
    void onToolCall(const json::Value& fragment, QList<StreamEvent>& out) {
        const int chatIndex = fragment.value(u"index").toInt();
        auto known = m_calls.constFind(chatIndex);
        if (known == m_calls.cend()) {
            closeCurrent(out);
            Block block = decodeToolCall(fragment);
            block.arguments.clear();
            if (block.id.isEmpty())
                block.id = wire::mintedId(QStringLiteral("call"), m_responseSeed + QString::number(chatIndex));
            m_current = openBlock(block, out);
            m_currentKind = BlockKind::ToolCall;
            known = m_calls.insert(chatIndex, m_current);
        } else if (*known != m_current) {
            closeCurrent(out);  // the next call began: the previous one is complete
        }
        const Block piece = decodeToolCall(fragment);
        delta(*known, StreamEvent::DeltaKind::Arguments, piece.arguments, out);
    }

    QHash<int, int> m_calls;  // Chat tool-call index -> canonical block index
    int m_current = -1;
    BlockKind m_currentKind = BlockKind::Text;
    std::optional<StopReason> m_stopReason;
    Usage m_usage;
    bool m_haveUsage = false;
    QString m_responseSeed;
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
        case StreamEvent::Type::Error:
            return http::formatSse({}, wire::compact({{QStringLiteral("error"), errors::openAIError(event.error)}}));
        }
        return {};
    }

private:
    struct Call {
        int chatIndex = 0;
        bool custom = false;
    };

    QByteArray chunk(const QJsonObject& delta, const QJsonValue& finishReason = QJsonValue::Null,
                     const QJsonValue& usage = QJsonValue::Null) const {
        const QJsonObject choice{{QStringLiteral("index"), 0},
                                 {QStringLiteral("delta"), delta},
                                 {QStringLiteral("finish_reason"), finishReason},
                                 {QStringLiteral("logprobs"), QJsonValue::Null}};
        QJsonObject object{{QStringLiteral("id"), m_id},
                           {QStringLiteral("object"), QStringLiteral("chat.completion.chunk")},
                           {QStringLiteral("created"), m_created},
                           {QStringLiteral("model"), m_model},
                           {QStringLiteral("choices"), QJsonArray{choice}}};
        if (!usage.isNull())
            object.insert(QStringLiteral("usage"), usage);
        return http::formatSse({}, wire::compact(object));
    }

    QByteArray argumentsChunk(const Call& call, const QString& fragment) const {
        const QJsonObject piece{{QStringLiteral("index"), call.chatIndex},
                                {QStringLiteral("function"), QJsonObject{{QStringLiteral("arguments"), fragment}}}};
        return chunk({{QStringLiteral("tool_calls"), QJsonArray{piece}}});
    }

    QByteArray onStart(const StreamEvent& event) {
        m_id = event.id.isEmpty() ? wire::mintedId(QStringLiteral("chatcmpl"), event.model) : event.id;
        m_model = event.model;
        m_created = QDateTime::currentSecsSinceEpoch();
        return chunk({{QStringLiteral("role"), QStringLiteral("assistant")}, {QStringLiteral("content"), QString()}});
    }

    QByteArray onBlockStart(const StreamEvent& event) {
        if (event.block.kind != BlockKind::ToolCall)
            return {};
        const Call call{int(m_calls.size()), event.block.custom};
        m_calls.insert(event.index, call);
        const QJsonObject piece{{QStringLiteral("index"), call.chatIndex},
                                {QStringLiteral("id"), toolids::chatId(event.block.id)},
                                {QStringLiteral("type"), QStringLiteral("function")},
                                {QStringLiteral("function"),
                                 QJsonObject{{QStringLiteral("name"), event.block.name},
                                             {QStringLiteral("arguments"), call.custom ? wire::customInputOpening() : QString()}}}};
        return chunk({{QStringLiteral("tool_calls"), QJsonArray{piece}}});
    }

    QByteArray onDelta(const StreamEvent& event) {
        switch (event.delta) {
        case StreamEvent::DeltaKind::Text: return chunk({{QStringLiteral("content"), event.text}});
        // Not part of OpenAI's schema, but what DeepSeek-style servers send and OpenAI-compatible clients show.
        case StreamEvent::DeltaKind::Thinking: return chunk({{QStringLiteral("reasoning_content"), event.text}});
        case StreamEvent::DeltaKind::Signature: return {};
        case StreamEvent::DeltaKind::Arguments: {
            const auto call = m_calls.constFind(event.index);
            if (call == m_calls.cend())
                return {};
            return argumentsChunk(*call, call->custom ? wire::customInputFragment(event.text) : event.text);
        }
        }
        return {};
    }

    QByteArray onBlockStop(const StreamEvent& event) {
        const auto call = m_calls.constFind(event.index);
        if (call == m_calls.cend() || !call->custom)
            return {};
        return argumentsChunk(*call, wire::customInputClosing());
    }

    // Usage rides on the finish chunk rather than a separate `choices: []` chunk, which clients that did not
    // ask for include_usage may not expect.
    QByteArray onFinish(const StreamEvent& event) {
        return chunk({}, finishReasonName(event.stopReason), encodeUsage(event.usage)) + http::formatSse({}, "[DONE]");
    }

    QString m_id;
    QString m_model;
    qint64 m_created = 0;
    QHash<int, Call> m_calls;  // canonical block index -> Chat tool-call index
};

}  // namespace

Request decodeRequest(const json::Value& body) {
    Request request;
    request.model = body.value(u"model").toString();
    for (const json::Value& value : body.value(u"messages").toArray()) {
        const json::Value message = value.toObject();
        const QString role = message.value(u"role").toString();
        if (role == u"system" || role == u"developer")
            request.system.append(Block::makeText(textOf(message.value(u"content"))));
        else if (role == u"assistant")
            request.messages.append({Role::Assistant, decodeAssistant(message)});
        else if (role == u"tool")
            request.messages.append({Role::User, {decodeToolMessage(message)}});
        else if (role == u"user")
            request.messages.append({Role::User, decodeUserContent(message.value(u"content"))});
    }
    for (const json::Value& value : body.value(u"tools").toArray()) {
        if (std::optional<Tool> tool = decodeTool(value.toObject()))
            request.tools.append(*tool);
    }
    if (body.contains(u"tool_choice"))
        request.toolChoice = wire::decodeOpenAIToolChoice(body.value(u"tool_choice"), wire::ToolChoiceShape::Nested);
    if (body.value(u"parallel_tool_calls").isBool())
        request.parallelToolCalls = body.value(u"parallel_tool_calls").toBool();
    const json::Value maxTokens = body.contains(u"max_completion_tokens") ? body.value(u"max_completion_tokens") : body.value(u"max_tokens");
    if (maxTokens.isDouble())
        request.maxTokens = maxTokens.toInt();
    if (body.value(u"temperature").isDouble())
        request.temperature = body.value(u"temperature").toDouble();
    if (body.value(u"top_p").isDouble())
        request.topP = body.value(u"top_p").toDouble();
    const json::Value stop = body.value(u"stop");
    if (stop.isString())
        request.stop.append(stop.toString());
    for (const json::Value& sequence : stop.toArray())
        request.stop.append(sequence.toString());
    request.user = body.value(u"user").toString();
    if (request.user.isEmpty())
        request.user = body.value(u"safety_identifier").toString();
    request.stream = body.value(u"stream").toBool();
    if (body.value(u"reasoning_effort").isString())
        request.reasoning = Reasoning{body.value(u"reasoning_effort").toString(), std::nullopt};
    request.outputFormat = decodeResponseFormat(body.value(u"response_format").toObject());
    return request;
}

QByteArray encodeRequest(const Request& request, const TargetTraits& traits, qsizetype sizeHint) {
    json::Writer w(sizeHint);
    w.beginObject().member("model", request.model).key("messages").beginArray();
    const QString system = wire::joinedText(request.system);
    if (!system.isEmpty())
        w.beginObject().member("role", "system").member("content", system).endObject();
    for (const Message& message : request.messages) {
        if (message.role == Role::User)
            writeUser(w, message);
        else if (!wire::joinedText(message.content).isEmpty() || hasToolCall(message.content))
            writeAssistant(w, message, traits.reasoningContent, false);
    }
    w.endArray();
    if (!request.tools.isEmpty()) {
        w.key("tools").beginArray();
        for (const Tool& tool : request.tools)
            writeTool(w, tool);
        w.endArray();
        if (request.toolChoice)
            writeToolChoice(w.key("tool_choice"), *request.toolChoice);
        if (request.parallelToolCalls)
            w.member("parallel_tool_calls", *request.parallelToolCalls);
    }
    // Reasoning models take only max_completion_tokens; many compatible servers know only max_tokens.
    if (const std::optional<int> maxTokens = wire::clampedMaxTokens(request.maxTokens, traits))
        w.member(traits.reasoning ? "max_completion_tokens" : "max_tokens", *maxTokens);
    if (request.temperature)
        w.member("temperature", *request.temperature);
    if (request.topP)
        w.member("top_p", *request.topP);
    if (!request.stop.isEmpty()) {
        w.key("stop").beginArray();
        for (const QString& stop : request.stop.mid(0, kMaxStopSequences))
            w.string(stop);
        w.endArray();
    }
    if (!request.user.isEmpty())
        w.member("user", request.user);
    if (request.stream)
        w.member("stream", true).key("stream_options").raw(R"({"include_usage":true})");
    if (request.reasoning && traits.reasoning)
        w.member("reasoning_effort", wire::effortOf(*request.reasoning));
    if (!request.outputFormat.isEmpty())
        w.member("response_format", encodeResponseFormat(request.outputFormat));
    return w.endObject().take();
}

Response decodeResponse(const json::Value& body) {
    Response response;
    response.id = body.value(u"id").toString();
    response.model = body.value(u"model").toString();
    const json::Value choice = body.value(u"choices").toArray().first().toObject();
    response.content = decodeAssistant(choice.value(u"message").toObject());
    // Some local servers send calls without ids; each needs its own for the client to answer it.
    for (qsizetype i = 0; i < response.content.size(); ++i) {
        Block& block = response.content[i];
        if (block.kind == BlockKind::ToolCall && block.id.isEmpty())
            block.id = wire::mintedId(QStringLiteral("call"), response.id + QString::number(i));
    }
    response.stopReason = stopReasonOf(choice.value(u"finish_reason").toString());
    response.usage = decodeUsage(body.value(u"usage").toObject());
    return response;
}

QByteArray encodeResponse(const Response& response) {
    json::Writer w;
    w.beginObject()
        .member("id", response.id.isEmpty() ? wire::mintedId(QStringLiteral("chatcmpl"), response.model) : response.id)
        .member("object", "chat.completion")
        .member("created", QDateTime::currentSecsSinceEpoch())
        .member("model", response.model)
        .key("choices").beginArray().beginObject().member("index", 0).key("message");
    writeAssistant(w, Message{Role::Assistant, response.content}, true, true);
    w.member("finish_reason", finishReasonName(response.stopReason)).member("logprobs", QJsonValue(QJsonValue::Null));
    return w.endObject().endArray().member("usage", encodeUsage(response.usage)).endObject().take();
}

QJsonObject encodeError(const Error& error) { return {{QStringLiteral("error"), errors::openAIError(error)}}; }

std::unique_ptr<StreamDecoder> makeStreamDecoder() { return std::make_unique<Decoder>(); }
std::unique_ptr<StreamEncoder> makeStreamEncoder() { return std::make_unique<Encoder>(); }

}  // namespace understudy::chat
