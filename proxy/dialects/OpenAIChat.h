#pragma once

#include "dialects/Canonical.h"
#include "dialects/Stream.h"
#include "dialects/Translation.h"

#include <QJsonObject>

#include <memory>

// OpenAI Chat Completions (/v1/chat/completions) to and from the canonical model.
namespace understudy::chat {

canonical::Request decodeRequest(const QJsonObject& body);
QJsonObject encodeRequest(const canonical::Request& request, const TargetTraits& traits);

canonical::Response decodeResponse(const QJsonObject& body);
QJsonObject encodeResponse(const canonical::Response& response);

QJsonObject encodeError(const canonical::Error& error);

std::unique_ptr<canonical::StreamDecoder> makeStreamDecoder();
std::unique_ptr<canonical::StreamEncoder> makeStreamEncoder();

}  // namespace understudy::chat
