#pragma once

#include "config/Config.h"
#include "http/SseReader.h"
#include "http/Upstream.h"
#include "json/JsonScan.h"
#include "providers/EventStream.h"

#include <QDateTime>
#include <QString>

namespace understudy::bedrock {

// The Bedrock model id for a model name of a chain step or a client: a Claude name ("claude-sonnet-4-5",
// "claude-sonnet-4-5-20250929") maps through a table to its base id, prefixed with the cross-region inference
// profile of the region's geography ("us." for us-*, "eu." for eu-*, "apac." for ap-*), which newer models
// require; an id that already names a Bedrock model ("global.anthropic.…", "anthropic.…", an ARN) is kept as
// it is. Empty when the name is neither.
QString modelId(const QString& model, const QString& region);

// The InvokeModel body for an Anthropic Messages body: without `model` and `stream` (the URL carries both),
// with "anthropic_version": "bedrock-2023-05-31", and the betas of an `anthropic-beta` header that Bedrock
// accepts as an "anthropic_beta" array (Bedrock rejects a request naming any other beta). The members are
// copied as bytes, not parsed: bodies reach megabytes.
QByteArray invokeBody(const QByteArray& anthropicBody, QByteArrayView betaHeader);
QByteArray invokeBody(const QByteArray& anthropicBody, const json::ObjectScan& scan, QByteArrayView betaHeader);

// Turns the Anthropic Messages request the Exchange built into a SigV4-signed InvokeModel call (or
// InvokeModelWithResponseStream when the body asks for a stream): URL, body, headers, Authorization. Returns a
// user-actionable error (a missing secret, an unknown model) instead, with `out` untouched.
// `keychain`: the entries read with the config, for keychain: references.
QString prepare(const ProviderConfig& provider, const QString& model, http::OutboundRequest& out,
                const QDateTime& now = QDateTime::currentDateTimeUtc(), const KeychainValues* keychain = nullptr);

// Whether a response carries an AWS event stream (InvokeModelWithResponseStream's body).
bool isEventStream(const http::Headers& headers);

// Reads an InvokeModelWithResponseStream body and gives back the Anthropic SSE events it carries, as if an
// Anthropic upstream had sent them, so the rest of the stream path (commit point, translation, continuation,
// usage) works unchanged. An exception frame (throttlingException, ...) or a corrupt frame becomes an
// Anthropic `error` event and ends the stream.
class StreamTranscoder {
public:
    void feed(QByteArrayView bytes, QList<http::SseEvent>& out);

private:
    void emitError(const QByteArray& type, const QString& message, QList<http::SseEvent>& out);
    void readChunk(const aws::EventMessage& message, QList<http::SseEvent>& out);

    aws::EventStreamDecoder m_decoder;
    bool m_ended = false;
};

}  // namespace understudy::bedrock
