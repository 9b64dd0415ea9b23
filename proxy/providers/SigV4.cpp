#include "providers/SigV4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <QList>
#include <QPair>

#include <algorithm>

namespace understudy::aws {
namespace {

QByteArray hmacSha256(QByteArrayView key, QByteArrayView message) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
         static_cast<size_t>(message.size()), out, &length);
    return QByteArray(reinterpret_cast<const char*>(out), length);
}

bool isUnreserved(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~';
}

// Header values are signed trimmed, with runs of spaces collapsed to one (the test suite's get-header-value-trim).
QByteArray canonicalValue(QByteArrayView value) {
    QByteArray out;
    out.reserve(value.size());
    bool space = false;
    for (char c : value.trimmed()) {
        if (c == ' ' || c == '\t') {
            space = true;
            continue;
        }
        if (space && !out.isEmpty())
            out.append(' ');
        space = false;
        out.append(c);
    }
    return out;
}

// Lower-cased names in order, each with its values joined by ',' in arrival order.
QList<QPair<QByteArray, QByteArray>> canonicalHeaders(const http::Headers& headers) {
    QList<QPair<QByteArray, QByteArray>> out;
    for (const http::Header& h : headers.fields()) {
        const QByteArray name = h.name.toLower().trimmed();
        const QByteArray value = canonicalValue(h.value);
        auto it = std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.first == name; });
        if (it == out.end())
            out.append({name, value});
        else
            it->second += ',' + value;
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    return out;
}

}  // namespace

QByteArray SigningScope::credentialScope() const {
    return amzDate.left(8) + '/' + region + '/' + service + "/aws4_request";
}

QByteArray amzDate(const QDateTime& utc) {
    return utc.toUTC().toString(QStringLiteral("yyyyMMdd'T'HHmmss'Z'")).toLatin1();
}

QByteArray sha256Hex(QByteArrayView bytes) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(bytes.data(), static_cast<size_t>(bytes.size()), out, &length, EVP_sha256(), nullptr);
    return QByteArray(reinterpret_cast<const char*>(out), length).toHex();
}

QByteArray uriEncode(QByteArrayView bytes) {
    static const char hex[] = "0123456789ABCDEF";
    QByteArray out;
    out.reserve(bytes.size() * 3 / 2);
    for (char c : bytes) {
        if (isUnreserved(c)) {
            out.append(c);
        } else {
            const auto u = static_cast<unsigned char>(c);
            out.append('%').append(hex[u >> 4]).append(hex[u & 15]);
        }
    }
    return out;
}

QByteArray canonicalUri(QByteArrayView path) {
    if (path.isEmpty())
        return "/";
    QByteArray out;
    for (const QByteArray& segment : path.toByteArray().split('/'))  // keeps empty segments, so '/' stays '/'
        out.append(uriEncode(segment)).append('/');
    out.chop(1);
    return out;
}

QByteArray canonicalQuery(QByteArrayView query) {
    QList<QPair<QByteArray, QByteArray>> pairs;
    for (const QByteArray& item : query.toByteArray().split('&')) {
        if (item.isEmpty())
            continue;
        const qsizetype eq = item.indexOf('=');
        const QByteArray name = eq < 0 ? item : item.left(eq);
        const QByteArray value = eq < 0 ? QByteArray() : item.mid(eq + 1);
        pairs.append({uriEncode(QByteArray::fromPercentEncoding(name)), uriEncode(QByteArray::fromPercentEncoding(value))});
    }
    std::sort(pairs.begin(), pairs.end());  // by encoded name, then value
    QByteArray out;
    for (const auto& p : pairs)
        out.append(p.first).append('=').append(p.second).append('&');
    out.chop(1);
    return out;
}

QByteArray signedHeaderNames(const http::Headers& headers) {
    QByteArray out;
    for (const auto& h : canonicalHeaders(headers))
        out.append(h.first).append(';');
    out.chop(1);
    return out;
}

QByteArray canonicalRequest(const SigningRequest& request) {
    QByteArray out = request.method + '\n' + canonicalUri(request.path) + '\n' + canonicalQuery(request.query) + '\n';
    for (const auto& h : canonicalHeaders(request.headers))
        out.append(h.first).append(':').append(h.second).append('\n');
    out.append('\n').append(signedHeaderNames(request.headers)).append('\n').append(sha256Hex(request.body));
    return out;
}

QByteArray stringToSign(const QByteArray& canonicalRequest, const SigningScope& scope) {
    return "AWS4-HMAC-SHA256\n" + scope.amzDate + '\n' + scope.credentialScope() + '\n' + sha256Hex(canonicalRequest);
}

QByteArray signature(const QByteArray& stringToSign, const QByteArray& secretAccessKey, const SigningScope& scope) {
    const QByteArray date = hmacSha256("AWS4" + secretAccessKey, scope.amzDate.left(8));
    const QByteArray region = hmacSha256(date, scope.region);
    const QByteArray service = hmacSha256(region, scope.service);
    const QByteArray signing = hmacSha256(service, "aws4_request");
    return hmacSha256(signing, stringToSign).toHex();
}

QByteArray authorization(const SigningRequest& request, const Credentials& credentials, const SigningScope& scope) {
    const QByteArray sts = stringToSign(canonicalRequest(request), scope);
    return "AWS4-HMAC-SHA256 Credential=" + credentials.accessKeyId + '/' + scope.credentialScope() +
           ", SignedHeaders=" + signedHeaderNames(request.headers) +
           ", Signature=" + signature(sts, credentials.secretAccessKey, scope);
}

}  // namespace understudy::aws
