#pragma once

#include "config/Config.h"
#include "http/SseReader.h"

#include <QByteArray>
#include <QString>

#include <optional>

namespace understudy {

// The wire formats a client or an upstream speaks.
enum class Dialect { AnthropicMessages, OpenAIChat, OpenAIResponses };
QString dialectName(Dialect dialect);

// The dialect a provider type speaks natively; nullopt for types this version cannot call.
std::optional<Dialect> dialectOf(ProviderType type);

// The dialect an inbound path speaks, or nullopt for paths that are not model requests.
std::optional<Dialect> dialectForPath(QByteArrayView path);

// What follows a provider's baseUrl for a request in its dialect: Anthropic-style base URLs stop before /v1,
// OpenAI-style ones include it.
QByteArray upstreamPath(Dialect upstream, bool countTokens);

// An error body in the shape the dialect's SDKs parse.
QByteArray errorBody(Dialect dialect, int status, const QString& message);

// An in-band stream error event that ends a stream the client has already started reading.
QByteArray streamErrorEvent(Dialect dialect, const QString& message);

// Where a stream event stands relative to the commit point (DESIGN.md §3).
enum class StreamEventKind {
    Preamble,   // held until commit: message_start, ping, role-only chunks
    Content,    // the first one commits the stream
    End,        // the upstream finished the message properly
    Error,      // in-band error
    Malformed,  // not valid for the dialect: dropped, never forwarded
};
// After the commit only End, Error and Malformed matter, which is cheaper to tell.
StreamEventKind classifyStreamEvent(Dialect dialect, const http::SseEvent& event, bool committed);

}  // namespace understudy
