#pragma once

#include "json/JsonScan.h"

#include <QByteArray>
#include <QString>
#include <QUrl>

namespace understudy::vertex {

// Claude on Google Vertex AI (https://platform.claude.com/docs/en/api/claude-on-vertex-ai): the Anthropic Messages
// API behind Google's prediction endpoints, authenticated with a service account's OAuth2 access token.

inline constexpr char kAnthropicVersion[] = "vertex-2023-10-16";

// Vertex names dated models with '@': "claude-sonnet-4-5" → "claude-sonnet-4-5@20250929",
// "claude-sonnet-4-5-20250929" → "claude-sonnet-4-5@20250929". Ids that already have '@', and models Vertex names
// without a date (the 4.6 family) or that are not known here, pass through.
QString modelId(const QString& model);

// The API root for a region: "us-east5" → https://us-east5-aiplatform.googleapis.com, "global" →
// https://aiplatform.googleapis.com, "us" / "eu" → the multi-region hosts.
QUrl apiRoot(const QString& region);

// .../v1/projects/{project}/locations/{region}/publishers/anthropic/models/{model}:rawPredict (or
// :streamRawPredict, or models/count-tokens:rawPredict). `root` replaces the regional host when set (a Private
// Service Connect endpoint).
QUrl requestUrl(const QUrl& root, const QString& project, const QString& region, const QString& model, bool stream,
                bool countTokens);

// An Anthropic Messages body made a Vertex one: "model" removed (it is in the URL; count_tokens keeps it, as
// `countTokensModel`) and "anthropic_version" set. Edits the bytes in place of a parse: bodies reach megabytes.
QByteArray requestBody(QByteArrayView body, const json::ObjectScan& scan, bool countTokens,
                       const QString& countTokensModel);

}  // namespace understudy::vertex
