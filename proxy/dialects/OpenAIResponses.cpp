#include "dialects/OpenAIResponses.h"

#include "dialects/Errors.h"
#include "dialects/Wire.h"
#include "json/JsonWriter.h"

#include <QDateTime>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>

#include <algorithm>

namespace understudy::responses {
namespace {

using namespace canonical;

QJsonObject object(std::initializer_list<QPair<QString, QJsonValue>> members) { return QJsonObject(members); }

QString imageUrl(const Block& block) {
    return block.url.isEmpty() ? QStringLiteral("data:%1;base64,%2").arg(block.mediaType, block.data) : block.url;
}

Block imageFromUrl(const QString& url) {
    Block block;
    block.kind = BlockKind::Image;
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

QList<Block> decodeParts(const json::Value& content) {
    QList<Block> blocks;
    if (content.isString()) {
        blocks.append(Block::makeText(content.toString()));
        return blocks;
    }
    for (const json::Value& value : content.toArray()) {
        const json::Value part = value.toObject();
        const QString type = part.value(u"type").toString();
        if (type == u"input_text" || type == u"output_text" || type == u"text")
            blocks.append(Block::makeText(part.value(u"text").toString()));
        else if (type == u"refusal")
            blocks.append(Block::makeText(part.value(u"refusal").toString()));
        else if (type == u"input_image" && part.value(u"image_url").isString())
            blocks.append(imageFromUrl(part.value(u"image_url").toString()));
    }
    return blocks;
}

Block decodeCall(const json::Value& item) {
    Block block;
    block.kind = BlockKind::ToolCall;
    block.id = item.value(u"call_id").toString();
    block.name = item.value(u"name").toString();
    block.custom = item.value(u"type").toString() == u"custom_tool_call";
    block.arguments = block.custom ? item.value(u"input").toString() : item.value(u"arguments").toString();
    return block;
}

Block decodeOutput(const json::Value& item) {
    Block block;
    block.kind = BlockKind::ToolResult;
    block.id = item.value(u"call_id").toString();
    const QList<Block> parts = decodeParts(item.value(u"output"));
    block.content.assign(parts.begin(), parts.end());
    return block;
}

Block decodeReasoning(const json::Value& item) {
    Block block;
    block.kind = BlockKind::Thinking;
    block.id = item.value(u"id").toString();
    QStringList texts;
    for (const json::Value& part : item.value(u"summary").toArray())
        texts.append(part.toObject().value(u"text").toString());
    if (texts.isEmpty()) {
        for (const json::Value& part : item.value(u"content").toArray())
            texts.append(part.toObject().value(u"text").toString());
    }
    block.text = texts.join(QStringLiteral("\n\n"));
    block.signature = item.value(u"encrypted_content").toString();
    block.family = block.signature.isEmpty() ? ThinkingFamily::None : ThinkingFamily::OpenAI;
    return block;
}

// Items of one turn arrive one by one (reasoning, message, calls); canonical messages hold the whole turn.
void appendTo(QList<Message>& messages, Role role, const QList<Block>& blocks) {
    if (blocks.isEmpty())
        return;
    if (!messages.isEmpty() && messages.last().role == role)
        messages.last().content.append(blocks);
    else
        messages.append({role, blocks});
}

void decodeItem(const json::Value& item, Request& request) {
    const QString type = item.value(u"type").toString();
    if (type == u"message" || (type.isEmpty() && item.contains(u"role"))) {
        const QString role = item.value(u"role").toString();
        const QList<Block> parts = decodeParts(item.value(u"content"));
        if (role == u"system" || role == u"developer")
            request.system.append(parts);
        else
            appendTo(request.messages, role == u"assistant" ? Role::Assistant : Role::User, parts);
    } else if (type == u"function_call" || type == u"custom_tool_call") {
        appendTo(request.messages, Role::Assistant, {decodeCall(item)});
    } else if (type == u"function_call_output" || type == u"custom_tool_call_output") {
        appendTo(request.messages, Role::User, {decodeOutput(item)});
    } else if (type == u"reasoning") {
        appendTo(request.messages, Role::Assistant, {decodeReasoning(item)});
    }
}

std::optional<Tool> decodeTool(const json::Value& object) {
    const QString type = object.value(u"type").toString();
    if (type != u"function" && type != u"custom")
        return std::nullopt;  // hosted tools (web_search, file_search, ...) run only on OpenAI's side
    Tool tool;
    tool.name = object.value(u"name").toString();
    tool.description = object.value(u"description").toString();
    tool.custom = type == u"custom";
    tool.parameters = object.value(u"parameters").toJsonObject();
    tool.format = object.value(u"format").toJsonObject();
    if (object.value(u"strict").isBool())
        tool.strict = object.value(u"strict").toBool();
    return tool;
}

QJsonValue encodeToolChoice(const ToolChoice& choice, const QSet<QString>& customTools) {
    switch (choice.mode) {
    case ToolChoice::Mode::Auto: return QStringLiteral("auto");
    case ToolChoice::Mode::Required: return QStringLiteral("required");
    case ToolChoice::Mode::None: return QStringLiteral("none");
    case ToolChoice::Mode::Tool:
        return object({{QStringLiteral("type"), customTools.contains(choice.name) ? QStringLiteral("custom") : QStringLiteral("function")},
                       {QStringLiteral("name"), choice.name}});
    }
    return QStringLiteral("auto");
}

void writeTool(json::Writer& w, const Tool& tool) {
    w.beginObject().member("type", tool.custom ? "custom" : "function").member("name", tool.name);
    if (!tool.description.isEmpty())
        w.member("description", tool.description);
    if (tool.custom) {
        if (!tool.format.isEmpty())
            w.member("format", tool.format);
        w.endObject();
        return;
    }
    w.key("parameters");
    tool.parameters.isEmpty() ? w.raw(R"({"type":"object","properties":{}})") : w.json(tool.parameters);
    // Responses defaults strict to true, which would reject schemas written for the other dialects.
    w.member("strict", tool.strict.value_or(false)).endObject();
}

// Calls to a tool the request declares as custom go upstream as custom calls, whatever dialect carried them
// in between (Chat and Anthropic clients hold them as {"input": "..."} function calls).
struct CustomCalls {
    QSet<QString> tools;
    QSet<QString> callIds;

    std::optional<QString> rawInput(const Block& call) const {
        if (call.custom)
            return call.arguments;
        if (!tools.contains(call.name))
            return std::nullopt;
        return wire::unwrappedCustomInput(call.arguments);
    }
};

void writeUserParts(json::Writer& w, const QList<Block>& blocks) {
    w.beginArray();
    for (const Block& block : blocks) {
        if (block.kind == BlockKind::Text && !block.text.isEmpty())
            w.beginObject().member("type", "input_text").member("text", block.text).endObject();
        else if (block.kind == BlockKind::Image)
            w.beginObject().member("type", "input_image").member("image_url", imageUrl(block)).member("detail", "auto").endObject();
    }
    w.endArray();
}

bool hasUserParts(const QList<Block>& blocks) {
    return std::any_of(blocks.begin(), blocks.end(), [](const Block& b) {
        return b.kind == BlockKind::Image || (b.kind == BlockKind::Text && !b.text.isEmpty());
    });
}

void writeOutputContent(json::Writer& w, const std::vector<Block>& content) {
    const QList<Block> blocks(content.begin(), content.end());
    const bool textOnly = std::all_of(blocks.begin(), blocks.end(), [](const Block& b) { return b.kind == BlockKind::Text; });
    if (textOnly)
        w.string(wire::joinedText(blocks));
    else
        writeUserParts(w, blocks);
}

void writeUser(json::Writer& w, const Message& message, const CustomCalls& custom) {
    QList<Block> rest;
    for (const Block& block : message.content) {
        if (block.kind != BlockKind::ToolResult) {
            rest.append(block);
            continue;
        }
        const bool isCustom = custom.callIds.contains(block.id);
        w.beginObject().member("type", isCustom ? "custom_tool_call_output" : "function_call_output").member("call_id", block.id);
        writeOutputContent(w.key("output"), block.content);
        w.endObject();
    }
    if (!hasUserParts(rest))
        return;
    w.beginObject().member("type", "message").member("role", "user").key("content");
    writeUserParts(w, rest);
    w.endObject();
}

// The call's members; the caller closes the object (a response adds its id and status).
void writeCallMembers(json::Writer& w, const Block& call, const CustomCalls& custom) {
    if (const std::optional<QString> raw = custom.rawInput(call)) {
        w.member("type", "custom_tool_call").member("call_id", call.id).member("name", call.name).member("input", *raw);
        return;
    }
    w.member("type", "function_call").member("call_id", call.id).member("name", call.name)
        .member("arguments", call.arguments.isEmpty() ? QStringLiteral("{}") : call.arguments);
}

void writeAssistantMessageMembers(json::Writer& w, const QString& text) {
    w.member("type", "message").member("role", "assistant").key("content").beginArray().beginObject();
    w.member("type", "output_text").member("text", text).key("annotations").raw("[]").endObject().endArray();
}

void writeAssistant(json::Writer& w, const Message& message, const CustomCalls& custom) {
    for (const Block& block : message.content) {
        if (block.kind == BlockKind::Text && !block.text.isEmpty()) {
            writeAssistantMessageMembers(w.beginObject(), block.text);
            w.endObject();
        } else if (block.kind == BlockKind::ToolCall) {
            writeCallMembers(w.beginObject(), block, custom);
            w.endObject();
        } else if (block.kind == BlockKind::Thinking && block.family == ThinkingFamily::OpenAI && !block.signature.isEmpty()) {
            // Only OpenAI can read its encrypted reasoning; other families' thinking is dropped.
            w.beginObject().member("type", "reasoning").member("id", block.id).key("summary").beginArray();
            if (!block.text.isEmpty())
                w.beginObject().member("type", "summary_text").member("text", block.text).endObject();
            w.endArray().member("encrypted_content", block.signature).endObject();
        }
    }
}

// An output item for a response (small): written once, read back as Qt JSON for the response's own encoder.
template <typename WriteMembers>
QJsonObject item(WriteMembers&& writeMembers) {
    json::Writer w;
    w.beginObject();
    writeMembers(w);
    return QJsonDocument::fromJson(w.endObject().take()).object();
}

QJsonObject encodeCall(const Block& call, const CustomCalls& custom) {
    return item([&](json::Writer& w) { writeCallMembers(w, call, custom); });
}

QJsonObject assistantMessage(const QString& text) {
    return item([&](json::Writer& w) { writeAssistantMessageMembers(w, text); });
}

CustomCalls customCallsOf(const Request& request) {
    CustomCalls custom;
    for (const Tool& tool : request.tools) {
        if (tool.custom)
            custom.tools.insert(tool.name);
    }
    for (const Message& message : request.messages) {
        for (const Block& block : message.content) {
            if (block.kind == BlockKind::ToolCall && custom.rawInput(block))
                custom.callIds.insert(block.id);
        }
    }
    return custom;
}

QJsonObject encodeTextFormat(const QJsonObject& format) {
    if (format.value(u"type").toString() != u"json_schema" || format.contains(u"name"))
        return format;
    QJsonObject named = format;
    named.insert(QStringLiteral("name"), QStringLiteral("output"));
    return named;
}

// input_tokens includes the cache; the canonical input count does not.
Usage decodeUsage(const json::Value& usage) {
    Usage out;
    const json::Value details = usage.value(u"input_tokens_details").toObject();
    out.cacheReadTokens = details.value(u"cached_tokens").toInteger();
    out.cacheWriteTokens = details.value(u"cache_write_tokens").toInteger();
    out.inputTokens = std::max<qint64>(0, usage.value(u"input_tokens").toInteger() - out.cacheReadTokens - out.cacheWriteTokens);
    out.outputTokens = usage.value(u"output_tokens").toInteger();
    out.reasoningTokens = usage.value(u"output_tokens_details").toObject().value(u"reasoning_tokens").toInteger();
    return out;
}

QJsonObject encodeUsage(const Usage& usage) {
    const qint64 input = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
    QJsonObject details{{QStringLiteral("cached_tokens"), usage.cacheReadTokens}};
    if (usage.cacheWriteTokens > 0)
        details.insert(QStringLiteral("cache_write_tokens"), usage.cacheWriteTokens);
    return {{QStringLiteral("input_tokens"), input},
            {QStringLiteral("input_tokens_details"), details},
            {QStringLiteral("output_tokens"), usage.outputTokens},
            {QStringLiteral("output_tokens_details"), object({{QStringLiteral("reasoning_tokens"), usage.reasoningTokens}})},
            {QStringLiteral("total_tokens"), input + usage.outputTokens}};
}

StopReason stopReasonOf(const json::Value& response, bool calledTools) {
    if (response.value(u"status").toString() == u"incomplete") {
        const QString reason = response.value(u"incomplete_details").toObject().value(u"reason").toString();
        return reason == u"content_filter" ? StopReason::Refusal : StopReason::MaxTokens;
    }
    return calledTools ? StopReason::ToolUse : StopReason::EndTurn;
}

// Responses has no stop reason beyond "incomplete": max tokens and refusals say why there; the rest complete.
std::optional<QString> incompleteReason(StopReason reason) {
    if (reason == StopReason::MaxTokens || reason == StopReason::ContextWindowExceeded)
        return QStringLiteral("max_output_tokens");
    if (reason == StopReason::Refusal)
        return QStringLiteral("content_filter");
    return std::nullopt;
}

QJsonObject responseObject(const QString& id, const QString& model, qint64 createdAt, const QString& status,
                           const QJsonArray& output) {
    return {{QStringLiteral("id"), id},
            {QStringLiteral("object"), QStringLiteral("response")},
            {QStringLiteral("created_at"), createdAt},
            {QStringLiteral("status"), status},
            {QStringLiteral("model"), model},
            {QStringLiteral("output"), output},
            {QStringLiteral("error"), QJsonValue::Null},
            {QStringLiteral("incomplete_details"), QJsonValue::Null},
            {QStringLiteral("usage"), QJsonValue::Null}};
}

void finishResponse(QJsonObject& response, StopReason reason, const Usage& usage) {
    const std::optional<QString> incomplete = incompleteReason(reason);
    response.insert(QStringLiteral("status"), incomplete ? QStringLiteral("incomplete") : QStringLiteral("completed"));
    if (incomplete)
        response.insert(QStringLiteral("incomplete_details"), object({{QStringLiteral("reason"), *incomplete}}));
    response.insert(QStringLiteral("usage"), encodeUsage(usage));
}

// Ids for items this proxy builds from another dialect's output. Reasoning items carry a recognisable prefix:
// no OpenAI upstream can resolve them, so they must not reach one.
QString itemId(const char* prefix, const QString& responseId, int outputIndex) {
    return wire::mintedId(QString::fromLatin1(prefix), responseId + QLatin1Char('#') + QString::number(outputIndex));
}

QJsonObject encodeOutputItem(const Block& block, const QString& responseId, int outputIndex) {
    switch (block.kind) {
    case BlockKind::Text: {
        QJsonObject message = assistantMessage(block.text);
        message.insert(QStringLiteral("id"), itemId("msg", responseId, outputIndex));
        message.insert(QStringLiteral("status"), QStringLiteral("completed"));
        return message;
    }
    case BlockKind::ToolCall: {
        QJsonObject call = encodeCall(block, {});
        call.insert(QStringLiteral("id"), itemId(block.custom ? "ctc" : "fc", responseId, outputIndex));
        call.insert(QStringLiteral("status"), QStringLiteral("completed"));
        return call;
    }
    case BlockKind::Thinking: {
        QJsonObject reasoning{{QStringLiteral("type"), QStringLiteral("reasoning")},
                              {QStringLiteral("id"), block.family == ThinkingFamily::OpenAI && !block.id.isEmpty()
                                                         ? block.id
                                                         : itemId(kMintedReasoningPrefix, responseId, outputIndex)},
                              {QStringLiteral("summary"),
                               QJsonArray{object({{QStringLiteral("type"), QStringLiteral("summary_text")},
                                                  {QStringLiteral("text"), block.text}})}}};
        if (block.family == ThinkingFamily::OpenAI)
            reasoning.insert(QStringLiteral("encrypted_content"), block.signature);
        return reasoning;
    }
    default: return {};
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
        const int outputIndex = data.value(u"output_index").toInt();
        if (type == u"response.created" || type == u"response.in_progress") {
            const json::Value response = data.value(u"response").toObject();
            start(response.value(u"id").toString(), response.value(u"model").toString(), {}, out);
        } else if (type == u"response.output_item.added") {
            onItemAdded(outputIndex, data.value(u"item").toObject(), out);
        } else if (type == u"response.content_part.added") {
            const int index = openBlock(Block{}, out);
            m_parts.insert(partKey(outputIndex, data.value(u"content_index").toInt()), index);
        } else if (type == u"response.output_text.delta" || type == u"response.refusal.delta") {
            delta(m_parts.value(partKey(outputIndex, data.value(u"content_index").toInt()), -1),
                  StreamEvent::DeltaKind::Text, data.value(u"delta").toString(), out);
        } else if (type == u"response.content_part.done") {
            closeBlock(m_parts.value(partKey(outputIndex, data.value(u"content_index").toInt()), -1), out);
        } else if (type == u"response.function_call_arguments.delta" || type == u"response.custom_tool_call_input.delta") {
            delta(m_items.value(outputIndex, -1), StreamEvent::DeltaKind::Arguments, data.value(u"delta").toString(), out);
        } else if (type == u"response.reasoning_summary_text.delta" || type == u"response.reasoning_text.delta") {
            delta(m_items.value(outputIndex, -1), StreamEvent::DeltaKind::Thinking, data.value(u"delta").toString(), out);
        } else if (type == u"response.reasoning_summary_part.added" && data.value(u"summary_index").toInt() > 0) {
            delta(m_items.value(outputIndex, -1), StreamEvent::DeltaKind::Thinking, QStringLiteral("\n\n"), out);
        } else if (type == u"response.output_item.done") {
            onItemDone(outputIndex, data.value(u"item").toObject(), out);
        } else if (type == u"response.completed" || type == u"response.incomplete") {
            onCompleted(data.value(u"response").toObject(), out);
        } else if (type == u"response.failed") {
            fail(errors::fromOpenAI(data.value(u"response").toObject().value(u"error").toJsonObject()), out);
        } else if (type == u"error") {
            const json::Value error = data.value(u"error").isObject() ? data.value(u"error") : data;
            fail(errors::fromOpenAI(error.toJsonObject()), out);
        }
    }

private:
    static qint64 partKey(int outputIndex, int contentIndex) { return (qint64(outputIndex) << 32) | quint32(contentIndex); }

    void onItemAdded(int outputIndex, const json::Value& item, QList<StreamEvent>& out) {
        const QString type = item.value(u"type").toString();
        if (type == u"function_call" || type == u"custom_tool_call") {
            Block call = decodeCall(item);
            call.arguments.clear();
            m_items.insert(outputIndex, openBlock(call, out));
        } else if (type == u"reasoning") {
            Block thinking;
            thinking.kind = BlockKind::Thinking;
            thinking.id = item.value(u"id").toString();
            thinking.family = ThinkingFamily::OpenAI;
            m_items.insert(outputIndex, openBlock(thinking, out));
        }
    }

    void onItemDone(int outputIndex, const json::Value& item, QList<StreamEvent>& out) {
        const int index = m_items.value(outputIndex, -1);
        if (item.value(u"type").toString() == u"reasoning")
            delta(index, StreamEvent::DeltaKind::Signature, item.value(u"encrypted_content").toString(), out);
        closeBlock(index, out);
    }

    void onCompleted(const json::Value& response, QList<StreamEvent>& out) {
        StreamEvent finish;
        finish.stopReason = stopReasonOf(response, sawToolCall());
        finish.usage = decodeUsage(response.value(u"usage").toObject());
        complete(finish, out);
    }

    QHash<int, int> m_items;      // output_index -> canonical index (calls, reasoning)
    QHash<qint64, int> m_parts;   // (output_index, content_index) -> canonical index (text)
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
        case StreamEvent::Type::Error: return onError(event);
        }
        return {};
    }

private:
    struct Item {
        int outputIndex = 0;
        QString id;
        Block block;  // accumulates text or arguments for the .done events
    };

    QByteArray send(const char* type, QJsonObject fields) {
        fields.insert(QStringLiteral("type"), QString::fromLatin1(type));
        fields.insert(QStringLiteral("sequence_number"), m_sequence++);
        return http::formatSse(type, wire::compact(fields));
    }

    QJsonObject response(const QString& status) const { return responseObject(m_id, m_model, m_createdAt, status, m_output); }

    QJsonObject itemFields(const Item& item) const {
        return {{QStringLiteral("item_id"), item.id}, {QStringLiteral("output_index"), item.outputIndex}};
    }

    QByteArray onStart(const StreamEvent& event) {
        m_id = event.id.isEmpty() ? wire::mintedId(QStringLiteral("resp"), event.model) : event.id;
        m_model = event.model;
        m_createdAt = QDateTime::currentSecsSinceEpoch();
        QByteArray out = send("response.created", {{QStringLiteral("response"), response(QStringLiteral("in_progress"))}});
        return out + send("response.in_progress", {{QStringLiteral("response"), response(QStringLiteral("in_progress"))}});
    }

    QByteArray onBlockStart(const StreamEvent& event) {
        if (event.block.kind != BlockKind::Text && event.block.kind != BlockKind::ToolCall && event.block.kind != BlockKind::Thinking)
            return {};
        Item item{m_nextOutput++, {}, event.block};
        item.block.text.clear();
        item.block.arguments.clear();
        QJsonObject added = encodeOutputItem(item.block, m_id, item.outputIndex);
        item.id = added.value(u"id").toString();
        added.insert(QStringLiteral("status"), QStringLiteral("in_progress"));
        if (item.block.kind == BlockKind::Text)
            added.insert(QStringLiteral("content"), QJsonArray{});
        QByteArray out = send("response.output_item.added", {{QStringLiteral("output_index"), item.outputIndex}, {QStringLiteral("item"), added}});
        if (item.block.kind == BlockKind::Text) {
            QJsonObject fields = itemFields(item);
            fields.insert(QStringLiteral("content_index"), 0);
            fields.insert(QStringLiteral("part"), textPart(QString()));
            out += send("response.content_part.added", fields);
        } else if (item.block.kind == BlockKind::Thinking) {
            QJsonObject fields = itemFields(item);
            fields.insert(QStringLiteral("summary_index"), 0);
            fields.insert(QStringLiteral("part"), summaryPart(QString()));
            out += send("response.reasoning_summary_part.added", fields);
        }
        m_items.insert(event.index, item);
        return out;
    }

    static QJsonObject textPart(const QString& text) {
        return {{QStringLiteral("type"), QStringLiteral("output_text")}, {QStringLiteral("text"), text}, {QStringLiteral("annotations"), QJsonArray{}}};
    }
    static QJsonObject summaryPart(const QString& text) {
        return {{QStringLiteral("type"), QStringLiteral("summary_text")}, {QStringLiteral("text"), text}};
    }

    QByteArray onDelta(const StreamEvent& event) {
        const auto found = m_items.find(event.index);
        if (found == m_items.end())
            return {};
        Item& item = *found;
        QJsonObject fields = itemFields(item);
        fields.insert(QStringLiteral("delta"), event.text);
        switch (event.delta) {
        case StreamEvent::DeltaKind::Text:
            item.block.text += event.text;
            fields.insert(QStringLiteral("content_index"), 0);
            fields.insert(QStringLiteral("logprobs"), QJsonArray{});
            return send("response.output_text.delta", fields);
        case StreamEvent::DeltaKind::Thinking:
            item.block.text += event.text;
            fields.insert(QStringLiteral("summary_index"), 0);
            return send("response.reasoning_summary_text.delta", fields);
        case StreamEvent::DeltaKind::Arguments:
            item.block.arguments += event.text;
            return send(item.block.custom ? "response.custom_tool_call_input.delta" : "response.function_call_arguments.delta", fields);
        case StreamEvent::DeltaKind::Signature:
            if (item.block.family == ThinkingFamily::OpenAI)
                item.block.signature += event.text;
            return {};
        }
        return {};
    }

    QByteArray onBlockStop(const StreamEvent& event) {
        const auto found = m_items.constFind(event.index);
        if (found == m_items.cend())
            return {};
        const Item item = *found;
        m_items.remove(event.index);
        QByteArray out;
        QJsonObject fields = itemFields(item);
        if (item.block.kind == BlockKind::Text) {
            fields.insert(QStringLiteral("content_index"), 0);
            out += send("response.output_text.done", [&] { QJsonObject f = fields; f.insert(QStringLiteral("text"), item.block.text); return f; }());
            fields.insert(QStringLiteral("part"), textPart(item.block.text));
            out += send("response.content_part.done", fields);
        } else if (item.block.kind == BlockKind::Thinking) {
            fields.insert(QStringLiteral("summary_index"), 0);
            out += send("response.reasoning_summary_text.done", [&] { QJsonObject f = fields; f.insert(QStringLiteral("text"), item.block.text); return f; }());
            fields.insert(QStringLiteral("part"), summaryPart(item.block.text));
            out += send("response.reasoning_summary_part.done", fields);
        } else if (item.block.custom) {
            fields.insert(QStringLiteral("input"), item.block.arguments);
            out += send("response.custom_tool_call_input.done", fields);
        } else {
            fields.insert(QStringLiteral("arguments"), item.block.arguments);
            out += send("response.function_call_arguments.done", fields);
        }
        const QJsonObject done = encodeOutputItem(item.block, m_id, item.outputIndex);
        // The final response repeats every item: Responses clients take the output from it. Items are small next
        // to the request, and this is the only state kept past an item's end.
        m_output.append(done);
        return out + send("response.output_item.done", {{QStringLiteral("output_index"), item.outputIndex}, {QStringLiteral("item"), done}});
    }

    QByteArray onFinish(const StreamEvent& event) {
        QJsonObject final = response(QStringLiteral("completed"));
        finishResponse(final, event.stopReason, event.usage);
        const bool incomplete = final.value(u"status").toString() == u"incomplete";
        return send(incomplete ? "response.incomplete" : "response.completed", {{QStringLiteral("response"), final}});
    }

    // Codex reads error.code from response.failed (context_length_exceeded, rate_limit_exceeded, ...).
    QByteArray onError(const StreamEvent& event) {
        QJsonObject failed = response(QStringLiteral("failed"));
        failed.insert(QStringLiteral("error"), object({{QStringLiteral("code"), errors::responsesCode(event.error.kind)},
                                                       {QStringLiteral("message"), event.error.message}}));
        return send("response.failed", {{QStringLiteral("response"), failed}});
    }

    QString m_id;
    QString m_model;
    qint64 m_createdAt = 0;
    qint64 m_sequence = 0;
    int m_nextOutput = 0;
    QHash<int, Item> m_items;  // open blocks by canonical index
    QJsonArray m_output;       // finished items, for response.completed
};

}  // namespace

Request decodeRequest(const json::Value& body) {
    Request request;
    request.model = body.value(u"model").toString();
    const QString instructions = body.value(u"instructions").toString();
    if (!instructions.isEmpty())
        request.system.append(Block::makeText(instructions));
    const json::Value input = body.value(u"input");
    if (input.isString())
        request.messages.append({Role::User, {Block::makeText(input.toString())}});
    for (const json::Value& item : input.toArray())
        decodeItem(item.toObject(), request);
    for (const json::Value& value : body.value(u"tools").toArray()) {
        if (std::optional<Tool> tool = decodeTool(value.toObject()))
            request.tools.append(*tool);
    }
    if (body.contains(u"tool_choice"))
        request.toolChoice = wire::decodeOpenAIToolChoice(body.value(u"tool_choice"), wire::ToolChoiceShape::Flat);
    if (body.value(u"parallel_tool_calls").isBool())
        request.parallelToolCalls = body.value(u"parallel_tool_calls").toBool();
    if (body.value(u"max_output_tokens").isDouble())
        request.maxTokens = body.value(u"max_output_tokens").toInt();
    if (body.value(u"temperature").isDouble())
        request.temperature = body.value(u"temperature").toDouble();
    if (body.value(u"top_p").isDouble())
        request.topP = body.value(u"top_p").toDouble();
    request.user = body.value(u"user").toString();
    if (request.user.isEmpty())
        request.user = body.value(u"safety_identifier").toString();
    request.stream = body.value(u"stream").toBool();
    const QString effort = body.value(u"reasoning").toObject().value(u"effort").toString();
    if (!effort.isEmpty() && effort != u"none")
        request.reasoning = Reasoning{effort, std::nullopt};
    const json::Value format = body.value(u"text").toObject().value(u"format").toObject();
    if (format.value(u"type").toString() != u"text")
        request.outputFormat = format.toJsonObject();
    return request;
}

QByteArray encodeRequest(const Request& request, const TargetTraits& traits, qsizetype sizeHint) {
    const CustomCalls custom = customCallsOf(request);
    json::Writer w(sizeHint);
    // Nothing is stored upstream: the client resends the history every turn, as Codex does.
    w.beginObject().member("model", request.model).member("store", false);
    const QString instructions = wire::joinedText(request.system);
    if (!instructions.isEmpty())
        w.member("instructions", instructions);
    w.key("input").beginArray();
    for (const Message& message : request.messages) {
        if (message.role == Role::User)
            writeUser(w, message, custom);
        else
            writeAssistant(w, message, custom);
    }
    w.endArray();
    if (!request.tools.isEmpty()) {
        w.key("tools").beginArray();
        for (const Tool& tool : request.tools)
            writeTool(w, tool);
        w.endArray();
        if (request.toolChoice)
            w.member("tool_choice", encodeToolChoice(*request.toolChoice, custom.tools));
        if (request.parallelToolCalls)
            w.member("parallel_tool_calls", *request.parallelToolCalls);
    }
    if (const std::optional<int> maxTokens = wire::clampedMaxTokens(request.maxTokens, traits))
        w.member("max_output_tokens", *maxTokens);
    if (request.temperature)
        w.member("temperature", *request.temperature);
    if (request.topP)
        w.member("top_p", *request.topP);
    if (!request.user.isEmpty())
        w.member("user", request.user);
    if (request.stream)
        w.member("stream", true);
    if (request.reasoning && traits.reasoning) {
        w.key("reasoning").beginObject().member("effort", wire::effortOf(*request.reasoning)).endObject();
        w.key("include").raw(R"(["reasoning.encrypted_content"])");
    }
    if (!request.outputFormat.isEmpty())
        w.key("text").beginObject().member("format", encodeTextFormat(request.outputFormat)).endObject();
    return w.endObject().take();
}

Response decodeResponse(const json::Value& body) {
    Response response;
    response.id = body.value(u"id").toString();
    response.model = body.value(u"model").toString();
    bool calledTools = false;
    for (const json::Value& value : body.value(u"output").toArray()) {
        const json::Value item = value.toObject();
        const QString type = item.value(u"type").toString();
        if (type == u"message") {
            response.content.append(decodeParts(item.value(u"content")));
        } else if (type == u"function_call" || type == u"custom_tool_call") {
            response.content.append(decodeCall(item));
            calledTools = true;
        } else if (type == u"reasoning") {
            response.content.append(decodeReasoning(item));
        }
    }
    response.stopReason = stopReasonOf(body, calledTools);
    response.usage = decodeUsage(body.value(u"usage").toObject());
    return response;
}

QByteArray encodeResponse(const Response& response) {
    const QString id = response.id.isEmpty() ? wire::mintedId(QStringLiteral("resp"), response.model) : response.id;
    QJsonArray output;
    for (const Block& block : response.content) {
        const QJsonObject item = encodeOutputItem(block, id, int(output.size()));
        if (!item.isEmpty())
            output.append(item);
    }
    QJsonObject out = responseObject(id, response.model, QDateTime::currentSecsSinceEpoch(), QStringLiteral("completed"), output);
    finishResponse(out, response.stopReason, response.usage);
    return wire::compact(out);
}

QJsonObject encodeError(const Error& error) { return {{QStringLiteral("error"), errors::openAIError(error)}}; }

std::unique_ptr<StreamDecoder> makeStreamDecoder() { return std::make_unique<Decoder>(); }
std::unique_ptr<StreamEncoder> makeStreamEncoder() { return std::make_unique<Encoder>(); }

}  // namespace understudy::responses
