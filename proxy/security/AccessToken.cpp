#include "security/AccessToken.h"

#include <QCryptographicHash>

namespace understudy {
namespace {

constexpr QByteArrayView kTokenHeader("x-understudy-token");
constexpr QByteArrayView kPathPrefix("/t/");

QByteArray digest(QByteArrayView secret) { return QCryptographicHash::hash(secret, QCryptographicHash::Sha256); }

// Both inputs are 32-byte digests: the loop runs the same for any pair.
bool sameDigest(const QByteArray& a, const QByteArray& b) {
    unsigned char difference = a.size() == b.size() ? 0 : 1;
    for (qsizetype i = 0; i < a.size() && i < b.size(); ++i)
        difference |= static_cast<unsigned char>(a[i] ^ b[i]);
    return difference == 0;
}

// "/t/<token>/v1/messages" → token "<token>", path "/v1/messages". Nothing when the path has no such prefix.
std::optional<QByteArray> takePathToken(http::Request& request) {
    if (!request.path.startsWith(kPathPrefix))
        return std::nullopt;
    const QByteArrayView rest = QByteArrayView(request.path).sliced(kPathPrefix.size());
    const qsizetype slash = rest.indexOf('/');
    const QByteArray token = (slash < 0 ? rest : rest.first(slash)).toByteArray();
    request.path = slash < 0 ? QByteArray("/") : rest.sliced(slash).toByteArray();
    request.target = request.query.isEmpty() ? request.path : request.path + '?' + request.query;
    return token;
}

QByteArray bearerOf(const QByteArray& authorization) {
    static constexpr QByteArrayView scheme("bearer ");
    if (authorization.size() <= scheme.size() || authorization.first(scheme.size()).toLower() != scheme)
        return {};
    return authorization.mid(scheme.size()).trimmed();
}

QString howToSend() {
    return QStringLiteral("Send it in the header x-understudy-token, or start the path with /t/<token> (base URL "
                          "http://127.0.0.1:8790/t/<token>, or .../t/<token>/v1 for OpenAI clients), or use it as the "
                          "client's API key when the chain's steps use stored keys. `understudy token` prints it.");
}

}  // namespace

bool sameSecret(QByteArrayView a, QByteArrayView b) { return sameDigest(digest(a), digest(b)); }

void AccessGate::require(const QByteArray& token, const QString& unreadable) {
    m_required = !token.isEmpty() || !unreadable.isEmpty();
    m_digest = token.isEmpty() ? QByteArray() : digest(token);
    m_unreadable = unreadable;
}

bool AccessGate::carriesToken(QByteArrayView candidate) const {
    return !candidate.isEmpty() && !m_digest.isEmpty() && sameDigest(digest(candidate), m_digest);
}

std::optional<Refusal> AccessGate::admit(http::Request& request) const {
    const std::optional<QByteArray> fromPath = takePathToken(request);
    const QByteArray fromHeader = request.headers.value(kTokenHeader).trimmed();
    request.headers.remove(kTokenHeader);
    if (!m_required || request.path == "/healthz")
        return std::nullopt;
    if (!m_unreadable.isEmpty())
        return Refusal{503, QStringLiteral("Understudy requires an access token but cannot read it: %1. It refuses "
                                           "every request until the token can be read.").arg(m_unreadable)};
    if ((fromPath && carriesToken(*fromPath)) || carriesToken(fromHeader))
        return std::nullopt;
    // A client API key is the token only when it matches; any other key is the client's own and stays.
    if (carriesToken(request.headers.value("x-api-key").trimmed())) {
        request.headers.remove("x-api-key");
        return std::nullopt;
    }
    if (carriesToken(bearerOf(request.headers.value("authorization")))) {
        request.headers.remove("authorization");
        return std::nullopt;
    }
    if (fromPath || !fromHeader.isEmpty())
        return Refusal{401, QStringLiteral("Refused: the Understudy access token in this request is wrong. ") + howToSend()};
    return Refusal{401, QStringLiteral("Refused: this Understudy requires its access token, and the request has none. ")
                            + howToSend()};
}

}  // namespace understudy
