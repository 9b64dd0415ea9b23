#include "dialects/OpenAIChat.h"

#include "dialects/Errors.h"
#include "dialects/ToolIds.h"
#include "dialects/Wire.h"

#include <QDateTime>
#include <QHash>
#include <QJsonArray>

#include <algorithm>

namespace understudy::chat {
namespace {

using namespace canonical;

constexpr int kMaxStopSequences = 4;  // OpenAI refuses more

QString textOf(const QJsonValue& content) {
    if (content.isString())
        return content.toString();
    QStringList parts;
    for (const QJsonValue& part : content.toArray()) {
        const QJsonObject object = part.toObject();
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

QList<Block> decodeUserContent(const QJsonValue& content) {
    QList<Block> blocks;
    if (content.isString()) {
        blocks.append(Block::makeText(content.toString()));
        return blocks;
    }
    for (const QJsonValue& value : content.toArray()) {
        const QJsonObject part = value.toObject();
        const QString type = part.value(u"type").toString();
        if (type == u"text")
            blocks.append(Block::makeText(part.value(u"text").toString()));
        else if (type == u"image_url")
            blocks.append(imageFromUrl(part.value(u"image_url").toObject().value(u"url").toString()));
    }
    return blocks;
}

QString reasoningTextOf(const QJsonObject& message) {
    const QString content = message.value(u"reasoning_content").toString();
    return content.isEmpty() ? message.value(u"reasoning").toString() : content;
}

Block decodeToolCall(const QJsonObject& call) {
    Block block;
    block.kind = BlockKind::ToolCall;
    block.id = call.value(u"id").toString();
    if (call.value(u"type").toString() == u"custom") {
        const QJsonObject custom = call.value(u"custom").toObject();
        block.custom = true;
        block.name = custom.value(u"name").toString();
        block.arguments = custom.value(u"input").toString();
        return block;
    }
    const QJsonObject function = call.value(u"function").toObject();
    block.name = function.value(u"name").toString();
    block.arguments = function.value(u"arguments").toString();
    return block;
}

QList<Block> decodeAssistant(const QJsonObject& message) {
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
    for (const QJsonValue& call : message.value(u"tool_calls").toArray())
        blocks.append(decodeToolCall(call.toObject()));
    return blocks;
}

Block decodeToolMessage(const QJsonObject& message) {
    Block block;
    block.kind = BlockKind::ToolResult;
    block.id = message.value(u"tool_call_id").toString();
    block.content.push_back(Block::makeText(textOf(message.value(u"content"))));
    return block;
}

std::optional<Tool> decodeTool(const QJsonObject& object) {
    Tool tool;
    const QString type = object.value(u"type").toString();
    if (type == u"custom") {
        const QJsonObject custom = object.value(u"custom").toObject();
        tool.custom = true;
        tool.name = custom.value(u"name").toString();
        tool.description = custom.value(u"description").toString();
        tool.format = custom.value(u"format").toObject();
        return tool;
    }
    if (type != u"function")
        return std::nullopt;
    const QJsonObject function = object.value(u"function").toObject();
    tool.name = function.value(u"name").toString();
    tool.description = function.value(u"description").toString();
    tool.parameters = function.value(u"parameters").toObject();
    if (function.value(u"strict").isBool())
        tool.strict = function.value(u"strict").toBool();
    return tool;
}

QJsonObject decodeResponseFormat(const QJsonObject& format) {
    const QString type = format.value(u"type").toString();
    if (type == u"json_object")
        return {{QStringLiteral("type"), type}};
    if (type != u"json_schema")
        return {};
    QJsonObject out = format.value(u"json_schema").toObject();
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

QJsonObject encodeToolCall(const Block& call) {
    const QString arguments = call.custom ? wire::wrappedCustomInput(call.arguments) : call.arguments;
    return {{QStringLiteral("id"), toolids::chatId(call.id)},
            {QStringLiteral("type"), QStringLiteral("function")},
            {QStringLiteral("function"),
             QJsonObject{{QStringLiteral("name"), call.name},
                         {QStringLiteral("arguments"), arguments.isEmpty() ? QStringLiteral("{}") : arguments}}}};
}

QJsonArray userParts(const QList<Block>& blocks) {
    QJsonArray parts;
    for (const Block& block : blocks) {
        if (block.kind == BlockKind::Text && !block.text.isEmpty())
            parts.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("text")}, {QStringLiteral("text"), block.text}});
        else if (block.kind == BlockKind::Image)
            parts.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("image_url")},
                                     {QStringLiteral("image_url"), QJsonObject{{QStringLiteral("url"), imageUrl(block)}}}});
    }
    return parts;
}

// Plain string content when there is only text: the most widely accepted form among compatible servers.
QJsonValue userContent(const QList<Block>& blocks) {
    const bool textOnly = std::all_of(blocks.begin(), blocks.end(), [](const Block& b) { return b.kind == BlockKind::Text; });
    if (textOnly)
        return wire::joinedText(blocks);
    return userParts(blocks);
}

// Tool results become `tool` messages, which must directly follow the assistant turn; Chat tool messages hold
// text only, so images from results follow in a user message with the rest of the turn.
void encodeUser(const Message& message, QJsonArray& out) {
    QList<Block> rest;
    for (const Block& block : message.content) {
        if (block.kind != BlockKind::ToolResult) {
            rest.append(block);
            continue;
        }
        QList<Block> content(block.content.begin(), block.content.end());
        QString text = wire::joinedText(content);
        if (block.isError && text.isEmpty())
            text = QStringLiteral("error");
        out.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("tool")},
                               {QStringLiteral("tool_call_id"), toolids::chatId(block.id)},
                               {QStringLiteral("content"), text}});
        for (const Block& part : block.content) {
            if (part.kind == BlockKind::Image)
                rest.append(part);
        }
    }
    const bool empty = std::none_of(rest.begin(), rest.end(), [](const Block& b) {
        return b.kind == BlockKind::Image || (b.kind == BlockKind::Text && !b.text.isEmpty());
    });
    if (!empty)
        out.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("user")}, {QStringLiteral("content"), userContent(rest)}});
}

void encodeAssistant(const Message& message, const TargetTraits& traits, QJsonArray& out) {
    QJsonArray calls;
    QStringList reasoning;
    for (const Block& block : message.content) {
        if (block.kind == BlockKind::ToolCall)
            calls.append(encodeToolCall(block));
        else if (block.kind == BlockKind::Thinking && !block.text.isEmpty())
            reasoning.append(block.text);
    }
    const QString text = wire::joinedText(message.content);
    if (text.isEmpty() && calls.isEmpty())
        return;
    QJsonObject encoded{{QStringLiteral("role"), QStringLiteral("assistant")},
                        {QStringLiteral("content"), text.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text)}};
    if (!calls.isEmpty())
        encoded.insert(QStringLiteral("tool_calls"), calls);
    if (traits.reasoningContent && !reasoning.isEmpty())
        encoded.insert(QStringLiteral("reasoning_content"), reasoning.join(QStringLiteral("\n\n")));
    out.append(encoded);
}

QJsonObject encodeTool(const Tool& tool) {
    QJsonObject parameters = tool.parameters;
    if (tool.custom)
        parameters = {{QStringLiteral("type"), QStringLiteral("object")},
                      {QStringLiteral("properties"),
                       QJsonObject{{QStringLiteral("input"), QJsonObject{{QStringLiteral("type"), QStringLiteral("string")}}}}},
                      {QStringLiteral("required"), QJsonArray{QStringLiteral("input")}}};
    if (parameters.isEmpty())
        parameters = {{QStringLiteral("type"), QStringLiteral("object")}, {QStringLiteral("properties"), QJsonObject{}}};
    QJsonObject function{{QStringLiteral("name"), tool.name}, {QStringLiteral("parameters"), parameters}};
    if (!tool.description.isEmpty())
        function.insert(QStringLiteral("description"), tool.description);
    if (tool.strict && !tool.custom)
        function.insert(QStringLiteral("strict"), *tool.strict);
    return {{QStringLiteral("type"), QStringLiteral("function")}, {QStringLiteral("function"), function}};
}

QJsonValue encodeToolChoice(const ToolChoice& choice) {
    switch (choice.mode) {
    case ToolChoice::Mode::Auto: return QStringLiteral("auto");
    case ToolChoice::Mode::Required: return QStringLiteral("required");
    case ToolChoice::Mode::None: return QStringLiteral("none");
    case ToolChoice::Mode::Tool:
        return QJsonObject{{QStringLiteral("type"), QStringLiteral("function")},
                           {QStringLiteral("function"), QJsonObject{{QStringLiteral("name"), choice.name}}}};
    }
    return QStringLiteral("auto");
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
Usage decodeUsage(const QJsonObject& object) {
    Usage usage;
    const QJsonObject prompt = object.value(u"prompt_tokens_details").toObject();
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
        const std::optional<QJsonObject> chunk = wire::parseObject(event.data);
        if (!chunk)
            return;  // malformed: dropped (the exchange logs it)
        if (chunk->value(u"error").isObject() || event.event == "error") {
            const QJsonObject error = chunk->value(u"error").toObject();
            fail(errors::fromOpenAI(error.isEmpty() ? *chunk : error), out);
            return;
        }
        if (!started())
            m_responseSeed = chunk->value(u"id").toString();
        start(chunk->value(u"id").toString(), chunk->value(u"model").toString(), {}, out);
        const QJsonArray choices = chunk->value(u"choices").toArray();
        if (!choices.isEmpty())
            onChoice(choices.first().toObject(), out);
        if (chunk->value(u"usage").isObject()) {
            m_usage = decodeUsage(chunk->value(u"usage").toObject());
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
    void onChoice(const QJsonObject& choice, QList<StreamEvent>& out) {
        const QJsonObject delta = choice.value(u"delta").toObject();
        const QString reasoning = reasoningTextOf(delta);
        if (!reasoning.isEmpty())
            appendTo(BlockKind::Thinking, StreamEvent::DeltaKind::Thinking, reasoning, out);
        const QString text = delta.value(u"content").toString();
        if (!text.isEmpty())
            appendTo(BlockKind::Text, StreamEvent::DeltaKind::Text, text, out);
        for (const QJsonValue& call : delta.value(u"tool_calls").toArray())
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
    void onToolCall(const QJsonObject& fragment, QList<StreamEvent>& out) {
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

Request decodeRequest(const QJsonObject& body) {
    Request request;
    request.model = body.value(u"model").toString();
    for (const QJsonValue& value : body.value(u"messages").toArray()) {
        const QJsonObject message = value.toObject();
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
    for (const QJsonValue& value : body.value(u"tools").toArray()) {
        if (std::optional<Tool> tool = decodeTool(value.toObject()))
            request.tools.append(*tool);
    }
    if (body.contains(u"tool_choice"))
        request.toolChoice = wire::decodeOpenAIToolChoice(body.value(u"tool_choice"), wire::ToolChoiceShape::Nested);
    if (body.value(u"parallel_tool_calls").isBool())
        request.parallelToolCalls = body.value(u"parallel_tool_calls").toBool();
    const QJsonValue maxTokens = body.contains(u"max_completion_tokens") ? body.value(u"max_completion_tokens") : body.value(u"max_tokens");
    if (maxTokens.isDouble())
        request.maxTokens = maxTokens.toInt();
    if (body.value(u"temperature").isDouble())
        request.temperature = body.value(u"temperature").toDouble();
    if (body.value(u"top_p").isDouble())
        request.topP = body.value(u"top_p").toDouble();
    const QJsonValue stop = body.value(u"stop");
    if (stop.isString())
        request.stop.append(stop.toString());
    for (const QJsonValue& sequence : stop.toArray())
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

QJsonObject encodeRequest(const Request& request, const TargetTraits& traits) {
    QJsonArray messages;
    const QString system = wire::joinedText(request.system);
    if (!system.isEmpty())
        messages.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("system")}, {QStringLiteral("content"), system}});
    for (const Message& message : request.messages) {
        if (message.role == Role::User)
            encodeUser(message, messages);
        else
            encodeAssistant(message, traits, messages);
    }
    QJsonObject out{{QStringLiteral("model"), request.model}, {QStringLiteral("messages"), messages}};
    if (!request.tools.isEmpty()) {
        QJsonArray tools;
        for (const Tool& tool : request.tools)
            tools.append(encodeTool(tool));
        out.insert(QStringLiteral("tools"), tools);
        if (request.toolChoice)
            out.insert(QStringLiteral("tool_choice"), encodeToolChoice(*request.toolChoice));
        if (request.parallelToolCalls)
            out.insert(QStringLiteral("parallel_tool_calls"), *request.parallelToolCalls);
    }
    // Reasoning models take only max_completion_tokens; many compatible servers know only max_tokens.
    if (const std::optional<int> maxTokens = wire::clampedMaxTokens(request.maxTokens, traits))
        out.insert(traits.reasoning ? QStringLiteral("max_completion_tokens") : QStringLiteral("max_tokens"), *maxTokens);
    if (request.temperature)
        out.insert(QStringLiteral("temperature"), *request.temperature);
    if (request.topP)
        out.insert(QStringLiteral("top_p"), *request.topP);
    if (!request.stop.isEmpty())
        out.insert(QStringLiteral("stop"), QJsonArray::fromStringList(request.stop.mid(0, kMaxStopSequences)));
    if (!request.user.isEmpty())
        out.insert(QStringLiteral("user"), request.user);
    if (request.stream) {
        out.insert(QStringLiteral("stream"), true);
        out.insert(QStringLiteral("stream_options"), QJsonObject{{QStringLiteral("include_usage"), true}});
    }
    if (request.reasoning && traits.reasoning)
        out.insert(QStringLiteral("reasoning_effort"), wire::effortOf(*request.reasoning));
    if (!request.outputFormat.isEmpty())
        out.insert(QStringLiteral("response_format"), encodeResponseFormat(request.outputFormat));
    return out;
}

Response decodeResponse(const QJsonObject& body) {
    Response response;
    response.id = body.value(u"id").toString();
    response.model = body.value(u"model").toString();
    const QJsonObject choice = body.value(u"choices").toArray().first().toObject();
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

QJsonObject encodeResponse(const Response& response) {
    Message message{Role::Assistant, response.content};
    QJsonArray encoded;
    encodeAssistant(message, TargetTraits{}, encoded);
    QJsonObject assistant = encoded.isEmpty() ? QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")},
                                                            {QStringLiteral("content"), QJsonValue::Null}}
                                              : encoded.first().toObject();
    QStringList reasoning;
    for (const Block& block : response.content) {
        if (block.kind == BlockKind::Thinking && !block.text.isEmpty())
            reasoning.append(block.text);
    }
    if (!reasoning.isEmpty())
        assistant.insert(QStringLiteral("reasoning_content"), reasoning.join(QStringLiteral("\n\n")));
    assistant.insert(QStringLiteral("refusal"), QJsonValue::Null);
    const QJsonObject choice{{QStringLiteral("index"), 0},
                             {QStringLiteral("message"), assistant},
                             {QStringLiteral("finish_reason"), finishReasonName(response.stopReason)},
                             {QStringLiteral("logprobs"), QJsonValue::Null}};
    return {{QStringLiteral("id"), response.id.isEmpty() ? wire::mintedId(QStringLiteral("chatcmpl"), response.model) : response.id},
            {QStringLiteral("object"), QStringLiteral("chat.completion")},
            {QStringLiteral("created"), QDateTime::currentSecsSinceEpoch()},
            {QStringLiteral("model"), response.model},
            {QStringLiteral("choices"), QJsonArray{choice}},
            {QStringLiteral("usage"), encodeUsage(response.usage)}};
}

QJsonObject encodeError(const Error& error) { return {{QStringLiteral("error"), errors::openAIError(error)}}; }

std::unique_ptr<StreamDecoder> makeStreamDecoder() { return std::make_unique<Decoder>(); }
std::unique_ptr<StreamEncoder> makeStreamEncoder() { return std::make_unique<Encoder>(); }

}  // namespace understudy::chat
