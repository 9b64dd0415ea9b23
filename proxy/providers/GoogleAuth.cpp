#include "providers/GoogleAuth.h"

#include "http/Upstream.h"

#include <QDateTime>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>
#include <QUrlQuery>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <utility>

namespace understudy::google {
namespace {

QByteArray base64Url(const QByteArray& bytes) {
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QByteArray compact(const QJsonObject& object) { return QJsonDocument(object).toJson(QJsonDocument::Compact); }

// RSA-SHA256 (PKCS#1 v1.5) of `data` with the PEM private key; empty when the key cannot be read or used.
QByteArray rsaSha256(const QByteArray& pem, const QByteArray& data, QString* error) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.constData(), static_cast<int>(pem.size())),
                                                  &BIO_free);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr, &EVP_PKEY_free);
    ERR_clear_error();  // OpenSSL's messages could describe the key material; ours say what to do
    if (!key) {
        *error = QStringLiteral("private_key is not a readable PEM private key; download a new JSON key for the "
                                "service account");
        return {};
    }
    if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
        *error = QStringLiteral("private_key is not an RSA key; Google service-account keys are RSA");
        return {};
    }
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    size_t length = 0;
    QByteArray signature;
    bool ok = context && EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1
           && EVP_DigestSign(context.get(), nullptr, &length, reinterpret_cast<const unsigned char*>(data.constData()),
                             static_cast<size_t>(data.size())) == 1;
    if (ok) {
        signature.resize(static_cast<qsizetype>(length));
        ok = EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                            reinterpret_cast<const unsigned char*>(data.constData()),
                            static_cast<size_t>(data.size())) == 1;
        signature.resize(static_cast<qsizetype>(length));
    }
    ERR_clear_error();
    if (!ok) {
        *error = QStringLiteral("signing with private_key failed");
        return {};
    }
    return signature;
}

// The key file's JSON, read from the file when the secret holds a path rather than the JSON itself.
QByteArray serviceAccountJson(const QByteArray& secret, QString* error) {
    if (secret.startsWith('{'))
        return secret;
    QFile file(QString::fromLocal8Bit(secret));
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("the service account is neither key-file JSON nor a readable file (%1)")
                     .arg(file.errorString());
        return {};
    }
    return file.readAll();
}

}  // namespace

ServiceAccountResult parseServiceAccount(const QByteArray& json) {
    QJsonParseError parseError;
    const QJsonObject object = QJsonDocument::fromJson(json, &parseError).object();
    if (parseError.error != QJsonParseError::NoError || object.isEmpty())
        return {std::nullopt, QStringLiteral("the service account is not valid key-file JSON")};
    const QString type = object.value(QLatin1String("type")).toString();
    if (!type.isEmpty() && type != u"service_account")
        return {std::nullopt, QStringLiteral("the credentials are of type \"%1\"; Vertex needs a service-account "
                                             "key (\"type\": \"service_account\")").arg(type)};
    ServiceAccount account;
    account.clientEmail = object.value(QLatin1String("client_email")).toString();
    account.privateKeyPem = object.value(QLatin1String("private_key")).toString().toUtf8();
    account.privateKeyId = object.value(QLatin1String("private_key_id")).toString();
    const QString tokenUri = object.value(QLatin1String("token_uri")).toString();
    account.tokenUri = tokenUri.isEmpty() ? QUrl(QStringLiteral("https://oauth2.googleapis.com/token")) : QUrl(tokenUri);
    if (account.clientEmail.isEmpty())
        return {std::nullopt, QStringLiteral("the service account has no \"client_email\"")};
    if (account.privateKeyPem.isEmpty())
        return {std::nullopt, QStringLiteral("the service account has no \"private_key\"")};
    const QString scheme = account.tokenUri.scheme();
    if (!account.tokenUri.isValid() || account.tokenUri.host().isEmpty() || (scheme != u"https" && scheme != u"http"))
        return {std::nullopt, QStringLiteral("the service account's \"token_uri\" is not an http(s) URL")};
    return {account, {}};
}

Assertion signAssertion(const ServiceAccount& account, qint64 nowSeconds) {
    QJsonObject header{{QStringLiteral("alg"), QStringLiteral("RS256")}, {QStringLiteral("typ"), QStringLiteral("JWT")}};
    if (!account.privateKeyId.isEmpty())
        header.insert(QStringLiteral("kid"), account.privateKeyId);
    const QJsonObject claims{{QStringLiteral("iss"), account.clientEmail},
                             {QStringLiteral("scope"), QString::fromLatin1(kCloudPlatformScope)},
                             {QStringLiteral("aud"), account.tokenUri.toString()},
                             {QStringLiteral("iat"), nowSeconds},
                             {QStringLiteral("exp"), nowSeconds + 3600}};
    const QByteArray signingInput = base64Url(compact(header)) + '.' + base64Url(compact(claims));
    QString error;
    const QByteArray signature = rsaSha256(account.privateKeyPem, signingInput, &error);
    if (signature.isEmpty())
        return {{}, error};
    return {signingInput + '.' + base64Url(signature), {}};
}

QByteArray tokenRequestBody(const QByteArray& assertion) {
    // The assertion is base64url and dots: nothing in it needs escaping.
    return "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + assertion;
}

AccessToken readTokenResponse(int status, const QByteArray& body, qint64 nowMs) {
    const QJsonObject object = QJsonDocument::fromJson(body).object();
    if (status < 200 || status >= 300) {
        // OAuth errors: {"error":"invalid_grant","error_description":"Invalid JWT Signature."}
        const QString code = object.value(QLatin1String("error")).toString();
        const QString description = object.value(QLatin1String("error_description")).toString();
        QString message = QStringLiteral("the token endpoint answered HTTP %1").arg(status);
        if (!code.isEmpty())
            message += QStringLiteral(": ") + code;
        if (!description.isEmpty())
            message += QStringLiteral(" (%1)").arg(description.left(300));
        return {{}, message, 0};
    }
    const QByteArray token = object.value(QLatin1String("access_token")).toString().toUtf8();
    const double expiresIn = object.value(QLatin1String("expires_in")).toDouble(3600);
    if (token.isEmpty())
        return {{}, QStringLiteral("the token endpoint's answer has no access_token"), 0};
    return {token, {}, nowMs + static_cast<qint64>(expiresIn * 1000)};
}

TokenCache::TokenCache(http::UpstreamPool* pool, QObject* parent) : QObject(parent), m_pool(pool) {}

TokenCache::~TokenCache() {
    for (Entry& entry : m_entries) {
        if (entry.call)
            entry.call->disconnect(this);
    }
}

void TokenCache::get(const QByteArray& serviceAccount, QObject* context, std::function<void(const AccessToken&)> done) {
    Entry& entry = m_entries[serviceAccount];
    if (!entry.fetching && !entry.token.value.isEmpty()
        && QDateTime::currentMSecsSinceEpoch() < entry.token.expiresAtMs - refreshMarginMs) {
        done(entry.token);
        return;
    }
    entry.waiters.append({context, std::move(done)});
    if (!entry.fetching)
        fetch(serviceAccount, entry);
}

void TokenCache::forget(const QByteArray& serviceAccount, const QByteArray& token) {
    const auto entry = m_entries.find(serviceAccount);
    if (entry != m_entries.end() && entry->token.value == token)
        entry->token = {};
}

void TokenCache::fetch(const QByteArray& serviceAccount, Entry& entry) {
    ++m_fetchesStarted;
    entry.fetching = true;
    const int generation = ++entry.generation;
    QString error;
    const QByteArray json = serviceAccountJson(serviceAccount, &error);
    const ServiceAccountResult account = error.isEmpty() ? parseServiceAccount(json) : ServiceAccountResult{{}, error};
    const Assertion assertion = account.account
        ? signAssertion(*account.account, QDateTime::currentSecsSinceEpoch()) : Assertion{{}, account.error};
    if (!assertion.error.isEmpty()) {
        // Answered on the next turn of the event loop, as a fetch would be: callers may not expect re-entry.
        QTimer::singleShot(0, this, [this, serviceAccount, generation, error = assertion.error] {
            complete(serviceAccount, generation, {{}, error, 0});
        });
        return;
    }
    http::OutboundRequest request;
    request.url = account.account->tokenUri;
    request.headers.set("Content-Type", "application/x-www-form-urlencoded");
    request.headers.set("Accept", "application/json");
    request.headers.set("Accept-Encoding", "identity");
    request.body = tokenRequestBody(assertion.jwt);
    entry.status = 0;
    entry.body.clear();
    http::UpstreamCall* call = m_pool->send(std::move(request), this);
    entry.call = call;
    connect(call, &http::UpstreamCall::headReceived, this, [this, serviceAccount](const http::ResponseHead& head) {
        m_entries[serviceAccount].status = head.status;
    });
    connect(call, &http::UpstreamCall::bodyReceived, this, [this, serviceAccount](const QByteArray& bytes) {
        QByteArray& body = m_entries[serviceAccount].body;
        if (body.size() < 64 * 1024)  // a token answer is well under 4 KB
            body.append(bytes);
    });
    connect(call, &http::UpstreamCall::finished, this, [this, serviceAccount, generation] {
        const Entry& done = m_entries[serviceAccount];
        complete(serviceAccount, generation, readTokenResponse(done.status, done.body, QDateTime::currentMSecsSinceEpoch()));
    });
    connect(call, &http::UpstreamCall::failed, this, [this, serviceAccount, generation](http::TransportFailure failure) {
        complete(serviceAccount, generation,
                 {{}, QStringLiteral("the token endpoint could not be reached (%1)").arg(http::describe(failure)), 0});
    });
    QTimer::singleShot(fetchTimeoutMs, call, [this, serviceAccount, generation] {
        complete(serviceAccount, generation, {{}, QStringLiteral("the token endpoint did not answer within %1 s")
                                          .arg(fetchTimeoutMs / 1000), 0});
    });
}

void TokenCache::complete(const QByteArray& serviceAccount, int generation, const AccessToken& token) {
    Entry& entry = m_entries[serviceAccount];
    if (!entry.fetching || entry.generation != generation)
        return;
    entry.fetching = false;
    if (entry.call) {
        entry.call->disconnect(this);
        entry.call->deleteLater();  // it may be the sender of the signal that brought us here
        entry.call = nullptr;
    }
    entry.token = token;
    entry.body.clear();
    // A callback may ask again (a fallback with the same account): it must find the entry settled.
    const QList<Waiter> waiters = std::exchange(entry.waiters, {});
    for (const Waiter& waiter : waiters) {
        if (waiter.context)
            waiter.done(token);
    }
}

}  // namespace understudy::google
