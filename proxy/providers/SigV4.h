#pragma once

#include "http/Headers.h"

#include <QByteArray>
#include <QDateTime>

namespace understudy::aws {

struct Credentials {
    QByteArray accessKeyId;
    QByteArray secretAccessKey;
    QByteArray sessionToken;  // temporary (STS/SSO/role) credentials only; empty otherwise
};

// A request as AWS Signature Version 4 sees it. Every header in `headers` is signed, so it must hold exactly
// what goes on the wire: host, x-amz-date (and x-amz-security-token with temporary credentials) included.
struct SigningRequest {
    QByteArray method;
    QByteArray path;   // as on the request line, percent-encoded, e.g. /model/anthropic.claude-x-v1%3A0/invoke
    QByteArray query;  // as on the request line, without '?'
    http::Headers headers;
    QByteArray body;
};

struct SigningScope {
    QByteArray region;   // us-east-1
    QByteArray service;  // bedrock
    QByteArray amzDate;  // the request's x-amz-date, e.g. 20150830T123600Z
    QByteArray credentialScope() const;  // 20150830/us-east-1/bedrock/aws4_request
};

// The steps of AWS's "Create a signed AWS API request", each exposed so tests can compare it with the published
// test suite. The canonical URI follows the rule for every service but S3: each path segment is URI-encoded
// once more, so a model id's %3A is signed as %253A.
QByteArray amzDate(const QDateTime& utc);  // YYYYMMDDTHHMMSSZ
QByteArray uriEncode(QByteArrayView bytes);  // RFC 3986 unreserved characters kept, everything else %XX
QByteArray canonicalUri(QByteArrayView path);
QByteArray canonicalQuery(QByteArrayView query);
QByteArray signedHeaderNames(const http::Headers& headers);  // "host;x-amz-date"
QByteArray canonicalRequest(const SigningRequest& request);
QByteArray stringToSign(const QByteArray& canonicalRequest, const SigningScope& scope);
QByteArray signature(const QByteArray& stringToSign, const QByteArray& secretAccessKey, const SigningScope& scope);

// The Authorization header value for `request`.
QByteArray authorization(const SigningRequest& request, const Credentials& credentials, const SigningScope& scope);

QByteArray sha256Hex(QByteArrayView bytes);

}  // namespace understudy::aws
