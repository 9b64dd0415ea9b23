#pragma once

#include "dialects/Canonical.h"
#include "dialects/Translation.h"
#include "json/JsonTree.h"
#include "json/JsonWriter.h"

#include <QByteArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>

#include <optional>

// Small pieces of JSON handling that the three dialect codecs share.
namespace understudy::wire {

QByteArray compact(const QJsonObject& object);
std::optional<QJsonObject> parseObject(const QByteArray& text);
// The document as a tree whose root is an object; nullopt for anything else.
std::optional<json::Tree> parseTree(const QByteArray& text);
// An object value's JSON without white space outside strings, as QJsonDocument would write it but in the
// document's own member order; "{}" for other values.
QByteArray compactObject(const json::Value& value);

// The text blocks of `blocks` joined with `separator`; other kinds are skipped.
QString joinedText(const QList<canonical::Block>& blocks, const QString& separator = QStringLiteral("\n\n"));

// The output cap to send: the client's, else `fallback`, never above the target's limit.
std::optional<int> clampedMaxTokens(std::optional<int> requested, const TargetTraits& traits,
                                    std::optional<int> fallback = std::nullopt);

// A reasoning effort for dialects that take one; derived from a thinking budget when the client gave none.
QString effortOf(const canonical::Reasoning& reasoning);

// Dialects without freeform tools carry a custom tool's raw input as the arguments {"input": "<raw>"}, the
// shape Codex's apply_patch also accepts as a function tool. Streams wrap fragment by fragment, unbuffered.
QString wrappedCustomInput(const QString& raw);
std::optional<QString> unwrappedCustomInput(const QString& arguments);
QString customInputOpening();
QString customInputFragment(const QString& rawFragment);
QString customInputClosing();

// Tool arguments as the JSON object Anthropic wants. Text that is not a JSON object (a custom tool's input,
// or a model's malformed arguments) travels as {"input": "<text>"} so nothing is lost.
QJsonObject argumentsObject(const canonical::Block& call);
// The same written as JSON; arguments that are already an object are copied as they are, not re-parsed.
void writeArgumentsObject(json::Writer& w, const canonical::Block& call);

// OpenAI's tool_choice: "auto" | "required" | "none", or an object naming one tool or the allowed tools. Chat
// nests the details under the type's name ({"type":"function","function":{"name":…}}); Responses puts them
// beside "type" ({"type":"function","name":…}). Nullopt for choices with no canonical form.
enum class ToolChoiceShape { Nested, Flat };
std::optional<canonical::ToolChoice> decodeOpenAIToolChoice(const json::Value& value, ToolChoiceShape shape);

// A deterministic id for something the source dialect did not name, e.g. ("fc", "resp_1", 2) -> "fc_<hash>".
QString mintedId(const QString& prefix, const QString& seed);

}  // namespace understudy::wire
