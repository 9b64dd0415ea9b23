#pragma once

#include "dialects/Canonical.h"
#include "dialects/Stream.h"
#include "dialects/Translation.h"

#include "json/JsonTree.h"

#include <QJsonObject>

#include <memory>

// OpenAI Chat Completions (/v1/chat/completions) to and from the canonical model.
namespace understudy::chat {

// Requests are encoded straight to bytes (they run to megabytes); `sizeHint` is what to reserve for them.
canonical::Request decodeRequest(const json::Value& body);
QByteArray encodeRequest(const canonical::Request& request, const TargetTraits& traits, qsizetype sizeHint = 0);

canonical::Response decodeResponse(const json::Value& body);
QByteArray encodeResponse(const canonical::Response& response);

QJsonObject encodeError(const canonical::Error& error);

std::unique_ptr<canonical::StreamDecoder> makeStreamDecoder();
std::unique_ptr<canonical::StreamEncoder> makeStreamEncoder();

}  // namespace understudy::chat
