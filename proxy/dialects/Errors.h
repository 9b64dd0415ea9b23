#pragma once

#include "dialects/Canonical.h"

#include <QByteArray>
#include <QJsonObject>

// Each dialect's error shape, to and from the canonical error. The message always travels verbatim: clients
// match on its wording ("prompt is too long", "try again in 20s").
namespace understudy::errors {

canonical::ErrorKind kindForStatus(int status);

// Any upstream error body: Anthropic, OpenAI, Google's (sometimes in an array) or Bedrock's {"message"}.
canonical::Error fromBody(int status, const QByteArray& body);
// The object under "error" in Anthropic's shape, or the whole event.
canonical::Error fromAnthropic(const QJsonObject& error);
// The object under "error" in OpenAI's shape (also Responses' {code, message}).
canonical::Error fromOpenAI(const QJsonObject& error, int status = 0);

// {"type":"error","error":{"type","message"}}
QJsonObject anthropicBody(const canonical::Error& error);
// The object that goes under "error": {"message","type","param","code"}.
QJsonObject openAIError(const canonical::Error& error);
// Codex reads response.failed's error.code ("context_length_exceeded", "rate_limit_exceeded", ...).
QString responsesCode(canonical::ErrorKind kind);

}  // namespace understudy::errors
