#pragma once

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QUrl>

#include <functional>
#include <optional>

namespace understudy {
namespace http {
class UpstreamCall;
class UpstreamPool;
struct ResponseHead;
}

// Google service-account credentials (Vertex AI): the OAuth2 JWT-bearer grant of
// https://developers.google.com/identity/protocols/oauth2/service-account, done with OpenSSL and the proxy's
// own HTTP client. Nothing here ever puts the private key, the assertion or a token into a message.
namespace google {

inline constexpr char kCloudPlatformScope[] = "https://www.googleapis.com/auth/cloud-platform";

// The fields of a service-account key file ("Create key → JSON" in the Cloud console) that the grant needs.
struct ServiceAccount {
    QString clientEmail;
    QByteArray privateKeyPem;  // PKCS#8 PEM
    QString privateKeyId;      // sent as the JWT's "kid", so Google picks the right public key at once
    QUrl tokenUri;             // https://oauth2.googleapis.com/token
};

struct ServiceAccountResult {
    std::optional<ServiceAccount> account;
    QString error;  // which field is missing or wrong; never quotes the key
};
ServiceAccountResult parseServiceAccount(const QByteArray& json);

struct Assertion {
    QByteArray jwt;  // header.claims.signature, each base64url without padding
    QString error;
};
// An RS256 JWT asking for the cloud-platform scope, valid from `nowSeconds` for an hour (Google's maximum).
Assertion signAssertion(const ServiceAccount& account, qint64 nowSeconds);

// The form body of the token request.
QByteArray tokenRequestBody(const QByteArray& assertion);

struct AccessToken {
    QByteArray value;       // empty when error is set
    QString error;          // the token endpoint's own words ("invalid_grant: Invalid JWT Signature."), or why none came
    qint64 expiresAtMs = 0; // epoch ms
};
// Reads the token endpoint's answer: {"access_token", "expires_in", "token_type"} or {"error", "error_description"}.
AccessToken readTokenResponse(int status, const QByteArray& body, qint64 nowMs);

// Access tokens per service account, shared by every request of the proxy: a token is fetched once, reused until
// it is within `refreshMarginMs` of expiry, and requests that arrive while a fetch is under way wait for that
// same fetch. A failed fetch is not remembered: the next request tries again (the target's cooldown paces that).
class TokenCache : public QObject {
    Q_OBJECT
public:
    explicit TokenCache(http::UpstreamPool* pool, QObject* parent = nullptr);
    ~TokenCache() override;

    // `serviceAccount` is the key file's JSON, or the path of the file (as GOOGLE_APPLICATION_CREDENTIALS holds).
    // Calls `done` with a token or an error: at once (before returning) when a fresh token is cached, otherwise
    // later on this thread. Nothing is called once `context` is destroyed.
    void get(const QByteArray& serviceAccount, QObject* context, std::function<void(const AccessToken&)> done);

    // Drops `token` when it is still the cached one: the API refused it (revoked before its stated expiry), so
    // the next get() fetches a new one. Several refusals of one token cause one fetch, not several.
    void forget(const QByteArray& serviceAccount, const QByteArray& token);

    int fetchesStarted() const { return m_fetchesStarted; }

    qint64 refreshMarginMs = 5 * 60 * 1000;
    int fetchTimeoutMs = 20000;  // a token endpoint that hangs must not hold requests forever

private:
    struct Waiter {
        QPointer<QObject> context;
        std::function<void(const AccessToken&)> done;
    };
    struct Entry {
        AccessToken token;
        bool fetching = false;
        int generation = 0;                  // of the latest fetch: a late answer to an older one is ignored
        http::UpstreamCall* call = nullptr;  // the fetch under way
        int status = 0;
        QByteArray body;
        QList<Waiter> waiters;
    };

    void fetch(const QByteArray& serviceAccount, Entry& entry);
    void complete(const QByteArray& serviceAccount, int generation, const AccessToken& token);

    http::UpstreamPool* m_pool;
    QHash<QByteArray, Entry> m_entries;
    int m_fetchesStarted = 0;
};

}  // namespace google
}  // namespace understudy
