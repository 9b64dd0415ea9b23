#include "dialects/Wire.h"

#include "json/JsonScan.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>

namespace understudy::wire {

QByteArray compact(const QJsonObject& object) { return QJsonDocument(object).toJson(QJsonDocument::Compact); }

std::optional<QJsonObject> parseObject(const QByteArray& text) {
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(text, &error);
    if (error.error != QJsonParseError::NoError || !document.isObject())
        return std::nullopt;
    return document.object();
}

std::optional<json::Tree> parseTree(const QByteArray& text) {
    std::optional<json::Tree> tree = json::Tree::parse(text);
    if (!tree || !tree->root().isObject())
        return std::nullopt;
    return tree;
}

QByteArray compactObject(const json::Value& value) {
    if (!value.isObject())
        return QByteArrayLiteral("{}");
    const QByteArrayView raw = value.raw();
    QByteArray out;
    out.reserve(raw.size());
    bool inString = false;
    for (qsizetype i = 0; i < raw.size(); ++i) {
        const char c = raw[i];
        if (inString) {
            out.append(c);
            if (c == '\\')
                out.append(raw[++i]);  // the escaped character, which may be a quote
            else if (c == '"')
                inString = false;
        } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
            out.append(c);
            inString = c == '"';
        }
    }
    return out;
}

QString joinedText(const QList<canonical::Block>& blocks, const QString& separator) {
    QStringList parts;
    parts.reserve(blocks.size());
    for (const canonical::Block& block : blocks) {
        if (block.kind == canonical::BlockKind::Text && !block.text.isEmpty())
            parts.append(block.text);
    }
    return parts.size() == 1 ? parts.front() : parts.join(separator);  // one part: shared, not copied
}

std::optional<int> clampedMaxTokens(std::optional<int> requested, const TargetTraits& traits,
                                    std::optional<int> fallback) {
    std::optional<int> value = requested ? requested : fallback;
    if (value && traits.maxOutputTokens)
        value = std::min(*value, *traits.maxOutputTokens);
    return value;
}

QString effortOf(const canonical::Reasoning& reasoning) {
    if (!reasoning.effort.isEmpty())
        return reasoning.effort;
    const int budget = reasoning.budgetTokens.value_or(8192);
    if (budget < 4096)
        return QStringLiteral("low");
    return budget < 16384 ? QStringLiteral("medium") : QStringLiteral("high");
}

QString wrappedCustomInput(const QString& raw) {
    return QString::fromUtf8(compact(QJsonObject{{QStringLiteral("input"), raw}}));
}

std::optional<QString> unwrappedCustomInput(const QString& arguments) {
    const std::optional<QJsonObject> object = parseObject(arguments.toUtf8());
    if (!object || object->size() != 1 || !object->value(u"input").isString())
        return std::nullopt;
    return object->value(u"input").toString();
}

QString customInputOpening() { return QStringLiteral("{\"input\":\""); }

QString customInputFragment(const QString& rawFragment) {
    // A JSON string literal of the fragment without its quotes: escaping is local to each character.
    const QString quoted = QString::fromUtf8(QJsonDocument(QJsonArray{rawFragment}).toJson(QJsonDocument::Compact));
    return quoted.mid(2, quoted.size() - 4);
}

QString customInputClosing() { return QStringLiteral("\"}"); }

QJsonObject argumentsObject(const canonical::Block& call) {
    if (call.custom)
        return QJsonObject{{QStringLiteral("input"), call.arguments}};
    if (call.arguments.trimmed().isEmpty())
        return {};
    if (const std::optional<QJsonObject> object = parseObject(call.arguments.toUtf8()))
        return *object;
    return QJsonObject{{QStringLiteral("input"), call.arguments}};
}

void writeArgumentsObject(json::Writer& w, const canonical::Block& call) {
    if (call.custom) {
        w.beginObject().member("input", call.arguments).endObject();
        return;
    }
    if (call.arguments.trimmed().isEmpty()) {
        w.raw("{}");
        return;
    }
    const QByteArray utf8 = call.arguments.toUtf8();
    if (json::scanObject(utf8).ok)
        w.raw(utf8);
    else
        w.beginObject().member("input", call.arguments).endObject();
}

QString mintedId(const QString& prefix, const QString& seed) {
    const QByteArray hash = QCryptographicHash::hash(seed.toUtf8(), QCryptographicHash::Sha1).toHex().left(24);
    return prefix + QLatin1Char('_') + QString::fromLatin1(hash);
}

std::optional<canonical::ToolChoice> decodeOpenAIToolChoice(const json::Value& value, ToolChoiceShape shape) {
    using canonical::ToolChoice;
    if (value.isString()) {
        const QString mode = value.toString();
        if (mode == u"required")
            return ToolChoice{ToolChoice::Mode::Required, {}};
        if (mode == u"none")
            return ToolChoice{ToolChoice::Mode::None, {}};
        return ToolChoice{};
    }
    const json::Value object = value.toObject();
    const QString type = object.value(u"type").toString();
    const json::Value details = shape == ToolChoiceShape::Nested ? object.value(type).toObject() : object;
    if (type == u"function" || type == u"custom")
        return ToolChoice{ToolChoice::Mode::Tool, details.value(u"name").toString()};
    if (type == u"allowed_tools") {
        const bool required = details.value(u"mode").toString() == u"required";
        return ToolChoice{required ? ToolChoice::Mode::Required : ToolChoice::Mode::Auto, {}};
    }
    return std::nullopt;
}

}  // namespace understudy::wire
