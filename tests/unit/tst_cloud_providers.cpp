// Vertex AI and Azure OpenAI building blocks: the service-account JWT (verified with OpenSSL against the public key
// of a key pair made for the test), the access-token cache against a mock token endpoint on loopback, and the
// URL / body / config rules of both providers.
#include "support/MockUpstream.h"

#include "config/Config.h"
#include "http/Upstream.h"
#include "json/JsonScan.h"
#include "providers/Azure.h"
#include "providers/GoogleAuth.h"
#include "providers/Vertex.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QUrlQuery>
#include <QtTest>

#include <openssl/evp.h>
#include <openssl/pem.h>

using namespace understudy;
using namespace understudy::test;

namespace {

struct KeyPair {
    QByteArray privatePem;  // PKCS#8, as in a service-account key file
    QByteArray publicPem;
};

QByteArray drain(BIO* bio) {
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    QByteArray bytes(data, size);
    BIO_free(bio);
    return bytes;
}

// A fresh RSA key for this run: no key material is committed to the repository.
KeyPair makeKeyPair() {
    EVP_PKEY* key = EVP_RSA_gen(2048);
    BIO* privateBio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(privateBio, key, nullptr, nullptr, 0, nullptr, nullptr);
    BIO* publicBio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(publicBio, key);
    EVP_PKEY_free(key);
    return {drain(privateBio), drain(publicBio)};
}

bool verifiesRs256(const QByteArray& publicPem, const QByteArray& signingInput, const QByteArray& signature) {
    BIO* bio = BIO_new_mem_buf(publicPem.constData(), static_cast<int>(publicPem.size()));
    EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    const bool ok = key && EVP_DigestVerifyInit(context, nullptr, EVP_sha256(), nullptr, key) == 1
        && EVP_DigestVerify(context, reinterpret_cast<const unsigned char*>(signature.constData()),
                            static_cast<size_t>(signature.size()),
                            reinterpret_cast<const unsigned char*>(signingInput.constData()),
                            static_cast<size_t>(signingInput.size())) == 1;
    EVP_MD_CTX_free(context);
    EVP_PKEY_free(key);
    return ok;
}

QByteArray fromBase64Url(const QByteArray& part) {
    return QByteArray::fromBase64(part, QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
}

QJsonObject jsonOf(const QByteArray& bytes) { return QJsonDocument::fromJson(bytes).object(); }

QByteArray serviceAccountJson(const KeyPair& keys, const QString& tokenUri) {
    return QJsonDocument(QJsonObject{{"type", "service_account"},
                                     {"project_id", "test-project"},
                                     {"private_key_id", "test-key-id-0001"},
                                     {"private_key", QString::fromLatin1(keys.privatePem)},
                                     {"client_email", "understudy-test@test-project.iam.gserviceaccount.com"},
                                     {"client_id", "100000000000000000001"},
                                     {"token_uri", tokenUri}})
        .toJson(QJsonDocument::Compact);
}

MockReply tokenReply(const QString& token, int expiresIn) {
    MockReply r;
    r.headers.set("Content-Type", "application/json");
    r.body = QJsonDocument(QJsonObject{{"access_token", token}, {"expires_in", expiresIn}, {"token_type", "Bearer"}})
                 .toJson(QJsonDocument::Compact);
    return r;
}

// The assertion a token request carried, from its form body.
QByteArray assertionOf(const QByteArray& formBody) {
    return QUrlQuery(QString::fromLatin1(formBody)).queryItemValue(QStringLiteral("assertion")).toLatin1();
}

QByteArray azureConfigText(const QString& provider);

QByteArray azureConfig(const QJsonObject& fields) {
    QJsonObject provider = fields;
    provider.insert("type", "azure-openai");
    return azureConfigText(QString::fromUtf8(QJsonDocument(provider).toJson(QJsonDocument::Compact)));
}

QByteArray azureConfigText(const QString& provider) {
    return QStringLiteral(R"({"version": 1, "providers": {"azure": %1}, )"
                          R"("chains": {"main": {"steps": [{"provider": "azure", "model": "gpt-4o"}]}}, "activeChain": "main"})")
        .arg(provider).toUtf8();
}

QString problems(const ConfigResult& result) {
    QStringList lines;
    for (const ConfigProblem& p : result.problems)
        lines.append(p.path + QStringLiteral(": ") + p.message);
    return lines.join(QLatin1Char('\n'));
}

}  // namespace

class TestCloudProviders : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { m_keys = makeKeyPair(); }

    // ------------------------------------------------------------------ the JWT

    void jwt_verifiesAgainstThePublicKey_withGooglesClaims() {
        const auto account = google::parseServiceAccount(serviceAccountJson(m_keys, "https://oauth2.googleapis.com/token"));
        QVERIFY2(account.account, qPrintable(account.error));
        const qint64 now = 1760000000;
        const google::Assertion assertion = google::signAssertion(*account.account, now);
        QVERIFY2(assertion.error.isEmpty(), qPrintable(assertion.error));

        const QList<QByteArray> parts = assertion.jwt.split('.');
        QCOMPARE(parts.size(), 3);
        for (const QByteArray& part : parts)
            QVERIFY(!part.contains('=') && !part.contains('+') && !part.contains('/'));  // base64url, no padding
        const QJsonObject header = jsonOf(fromBase64Url(parts[0]));
        QCOMPARE(header.value("alg").toString(), "RS256");
        QCOMPARE(header.value("typ").toString(), "JWT");
        QCOMPARE(header.value("kid").toString(), "test-key-id-0001");
        const QJsonObject claims = jsonOf(fromBase64Url(parts[1]));
        QCOMPARE(claims.value("iss").toString(), "understudy-test@test-project.iam.gserviceaccount.com");
        QCOMPARE(claims.value("scope").toString(), "https://www.googleapis.com/auth/cloud-platform");
        QCOMPARE(claims.value("aud").toString(), "https://oauth2.googleapis.com/token");
        QCOMPARE(claims.value("iat").toInteger(), now);
        QCOMPARE(claims.value("exp").toInteger(), now + 3600);
        QCOMPARE(claims.size(), 5);

        const QByteArray signingInput = parts[0] + '.' + parts[1];
        QVERIFY(verifiesRs256(m_keys.publicPem, signingInput, fromBase64Url(parts[2])));
        // The check has teeth: altered claims, or another key, do not verify.
        QVERIFY(!verifiesRs256(m_keys.publicPem, parts[0] + '.' + parts[1] + "x", fromBase64Url(parts[2])));
        QVERIFY(!verifiesRs256(makeKeyPair().publicPem, signingInput, fromBase64Url(parts[2])));
    }

    void serviceAccount_problemsAreNamed_andNeverQuoteTheKey() {
        QCOMPARE(google::parseServiceAccount("not json").error, "the service account is not valid key-file JSON");
        QJsonObject withoutEmail = jsonOf(serviceAccountJson(m_keys, "https://oauth2.googleapis.com/token"));
        withoutEmail.remove("client_email");
        QVERIFY(google::parseServiceAccount(QJsonDocument(withoutEmail).toJson()).error.contains("client_email"));
        const auto user = google::parseServiceAccount(R"({"type": "authorized_user", "client_id": "x"})");
        QVERIFY(user.error.contains("authorized_user"));

        google::ServiceAccount broken;
        broken.clientEmail = QStringLiteral("a@b.iam.gserviceaccount.com");
        // A PEM frame around bytes that are no key (assembled so that secret scanners do not mistake it for one).
        const QByteArray dashes("-----");
        broken.privateKeyPem = dashes + "BEGIN PRIVATE KEY" + dashes + "\nnot-a-key\n" + dashes + "END PRIVATE KEY" + dashes + "\n";
        broken.tokenUri = QUrl(QStringLiteral("https://oauth2.googleapis.com/token"));
        const google::Assertion assertion = google::signAssertion(broken, 1760000000);
        QVERIFY(assertion.jwt.isEmpty());
        QVERIFY(assertion.error.contains("private_key"));
        QVERIFY(!assertion.error.contains("not-a-key"));
    }

    void tokenResponse_successAndOAuthErrors() {
        const google::AccessToken ok = google::readTokenResponse(
            200, R"({"access_token":"test-token-1","expires_in":3599,"token_type":"Bearer"})", 1000);
        QCOMPARE(ok.value, QByteArray("test-token-1"));
        QCOMPARE(ok.expiresAtMs, 1000 + 3599 * 1000);
        const google::AccessToken bad = google::readTokenResponse(
            400, R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})", 1000);
        QVERIFY(bad.value.isEmpty());
        QCOMPARE(bad.error, "the token endpoint answered HTTP 400: invalid_grant (Invalid JWT Signature.)");
        QCOMPARE(google::tokenRequestBody("a.b.c"),
                 QByteArray("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a.b.c"));
    }

    // ------------------------------------------------------------------ the token cache

    void tokenCache_fetchesOnce_thenReuses_withAValidGrant() {
        MockUpstream tokenEndpoint;
        tokenEndpoint.enqueue(tokenReply("test-token-1", 3600));
        http::UpstreamPool pool;
        google::TokenCache cache(&pool);
        const QByteArray account = serviceAccountJson(m_keys, tokenEndpoint.baseUrl("/token"));

        google::AccessToken first;
        cache.get(account, this, [&](const google::AccessToken& t) { first = t; });
        QTRY_VERIFY_WITH_TIMEOUT(!first.value.isEmpty() || !first.error.isEmpty(), 10000);
        QCOMPARE(first.value, QByteArray("test-token-1"));
        QCOMPARE(tokenEndpoint.hits(), 1);

        const http::Request& sent = tokenEndpoint.requests().first();
        QCOMPARE(sent.path, QByteArray("/token"));
        QCOMPARE(sent.headers.value("content-type"), QByteArray("application/x-www-form-urlencoded"));
        QVERIFY(sent.body.startsWith("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="));
        const QList<QByteArray> parts = assertionOf(sent.body).split('.');
        QCOMPARE(parts.size(), 3);
        QVERIFY(verifiesRs256(m_keys.publicPem, parts[0] + '.' + parts[1], fromBase64Url(parts[2])));
        QCOMPARE(jsonOf(fromBase64Url(parts[1])).value("aud").toString(), tokenEndpoint.baseUrl("/token"));

        // A fresh token is handed out at once, with no second fetch.
        google::AccessToken second;
        cache.get(account, this, [&](const google::AccessToken& t) { second = t; });
        QCOMPARE(second.value, QByteArray("test-token-1"));
        QCOMPARE(tokenEndpoint.hits(), 1);
        QCOMPARE(cache.fetchesStarted(), 1);
    }

    void tokenCache_concurrentRequestsShareOneFetch() {
        MockUpstream tokenEndpoint;
        tokenEndpoint.enqueue(tokenReply("test-token-shared", 3600));
        tokenEndpoint.setDefault(tokenReply("test-token-unexpected", 3600));
        http::UpstreamPool pool;
        google::TokenCache cache(&pool);
        const QByteArray account = serviceAccountJson(m_keys, tokenEndpoint.baseUrl("/token"));

        QList<QByteArray> tokens;
        for (int i = 0; i < 5; ++i)  // all before the event loop runs: the fetch is certainly still under way
            cache.get(account, this, [&](const google::AccessToken& t) { tokens.append(t.value); });
        QVERIFY(tokens.isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(tokens.size(), 5, 10000);
        QCOMPARE(tokens, QList<QByteArray>(5, "test-token-shared"));
        QCOMPARE(tokenEndpoint.hits(), 1);
    }

    void tokenCache_refreshesATokenNearExpiry() {
        MockUpstream tokenEndpoint;
        tokenEndpoint.enqueue(tokenReply("test-token-short", 60));  // inside the 5-minute margin from the start
        tokenEndpoint.enqueue(tokenReply("test-token-next", 3600));
        http::UpstreamPool pool;
        google::TokenCache cache(&pool);
        const QByteArray account = serviceAccountJson(m_keys, tokenEndpoint.baseUrl("/token"));

        QByteArray first, second, third;
        cache.get(account, this, [&](const google::AccessToken& t) { first = t.value; });
        QTRY_VERIFY_WITH_TIMEOUT(!first.isEmpty(), 10000);
        QCOMPARE(first, QByteArray("test-token-short"));  // the request that fetched it still gets served with it
        cache.get(account, this, [&](const google::AccessToken& t) { second = t.value; });
        QVERIFY(second.isEmpty());  // not handed out again: it is refreshed first
        QTRY_VERIFY_WITH_TIMEOUT(!second.isEmpty(), 10000);
        QCOMPARE(second, QByteArray("test-token-next"));
        cache.get(account, this, [&](const google::AccessToken& t) { third = t.value; });
        QCOMPARE(third, QByteArray("test-token-next"));
        QCOMPARE(tokenEndpoint.hits(), 2);
    }

    void tokenCache_failureIsAnError_andNotRemembered() {
        MockUpstream tokenEndpoint;
        tokenEndpoint.enqueue(errorReply(400, R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})"));
        tokenEndpoint.enqueue(tokenReply("test-token-after", 3600));
        http::UpstreamPool pool;
        google::TokenCache cache(&pool);
        const QByteArray account = serviceAccountJson(m_keys, tokenEndpoint.baseUrl("/token"));

        google::AccessToken failed, retried;
        cache.get(account, this, [&](const google::AccessToken& t) { failed = t; });
        QTRY_VERIFY_WITH_TIMEOUT(!failed.error.isEmpty() || !failed.value.isEmpty(), 10000);
        QVERIFY(failed.value.isEmpty());
        QCOMPARE(failed.error, "the token endpoint answered HTTP 400: invalid_grant (Invalid JWT Signature.)");
        cache.get(account, this, [&](const google::AccessToken& t) { retried = t; });
        QTRY_VERIFY_WITH_TIMEOUT(!retried.value.isEmpty() || !retried.error.isEmpty(), 10000);
        QCOMPARE(retried.value, QByteArray("test-token-after"));
    }

    void tokenCache_unreachableEndpointAndBadAccount_areErrors() {
        quint16 closedPort = 0;
        {
            MockUpstream gone;
            closedPort = gone.port();
            gone.stop();
        }
        http::UpstreamPool pool;
        google::TokenCache cache(&pool);
        google::AccessToken unreachable, unreadable;
        cache.get(serviceAccountJson(m_keys, QStringLiteral("http://127.0.0.1:%1/token").arg(closedPort)), this,
                  [&](const google::AccessToken& t) { unreachable = t; });
        cache.get("{\"type\": \"service_account\"}", this, [&](const google::AccessToken& t) { unreadable = t; });
        QVERIFY(unreadable.error.isEmpty());  // never answered from inside get()
        QTRY_VERIFY_WITH_TIMEOUT(!unreachable.error.isEmpty() && !unreadable.error.isEmpty(), 10000);
        QCOMPARE(unreachable.error, "the token endpoint could not be reached (connection refused)");
        QCOMPARE(unreadable.error, "the service account has no \"client_email\"");
    }

    void tokenCache_aDestroyedRequesterIsNotCalled() {
        MockUpstream tokenEndpoint;
        tokenEndpoint.enqueue(tokenReply("test-token-1", 3600));
        http::UpstreamPool pool;
        google::TokenCache cache(&pool);
        const QByteArray account = serviceAccountJson(m_keys, tokenEndpoint.baseUrl("/token"));
        bool calledGone = false;
        QByteArray kept;
        {
            QObject gone;
            cache.get(account, &gone, [&](const google::AccessToken&) { calledGone = true; });
        }
        cache.get(account, this, [&](const google::AccessToken& t) { kept = t.value; });
        QTRY_VERIFY_WITH_TIMEOUT(!kept.isEmpty(), 10000);
        QVERIFY(!calledGone);
    }

    // ------------------------------------------------------------------ Vertex

    void vertex_modelIds() {
        QCOMPARE(vertex::modelId("claude-sonnet-4-5"), "claude-sonnet-4-5@20250929");
        QCOMPARE(vertex::modelId("claude-sonnet-4-5-20250929"), "claude-sonnet-4-5@20250929");
        QCOMPARE(vertex::modelId("claude-haiku-4-5-20251001"), "claude-haiku-4-5@20251001");
        QCOMPARE(vertex::modelId("claude-opus-4-5"), "claude-opus-4-5@20251101");
        QCOMPARE(vertex::modelId("claude-sonnet-4-5@20250929"), "claude-sonnet-4-5@20250929");
        QCOMPARE(vertex::modelId("claude-opus-4-6"), "claude-opus-4-6");  // Vertex names it without a date
        QCOMPARE(vertex::modelId("some-other-model"), "some-other-model");
    }

    void vertex_urls() {
        QCOMPARE(vertex::requestUrl({}, "my-project", "us-east5", "claude-sonnet-4-5", false, false).toString(),
                 "https://us-east5-aiplatform.googleapis.com/v1/projects/my-project/locations/us-east5/publishers/"
                 "anthropic/models/claude-sonnet-4-5@20250929:rawPredict");
        QCOMPARE(vertex::requestUrl({}, "my-project", "europe-west1", "claude-sonnet-4-5@20250929", true, false)
                     .toString(QUrl::FullyEncoded),
                 "https://europe-west1-aiplatform.googleapis.com/v1/projects/my-project/locations/europe-west1/"
                 "publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict");
        QCOMPARE(vertex::requestUrl({}, "p", "global", "claude-opus-4-6", true, false).toString(),
                 "https://aiplatform.googleapis.com/v1/projects/p/locations/global/publishers/anthropic/models/"
                 "claude-opus-4-6:streamRawPredict");
        QCOMPARE(vertex::requestUrl({}, "p", "eu", "claude-opus-4-6", false, false).host(),
                 "aiplatform.eu.rep.googleapis.com");
        QCOMPARE(vertex::requestUrl({}, "p", "us-east5", "claude-sonnet-4-5", false, true).toString(),
                 "https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/publishers/anthropic/"
                 "models/count-tokens:rawPredict");
        QCOMPARE(vertex::requestUrl(QUrl("http://127.0.0.1:9999/psc"), "p", "us-east5", "claude-sonnet-4-5", false, false)
                     .toString(),
                 "http://127.0.0.1:9999/psc/v1/projects/p/locations/us-east5/publishers/anthropic/models/"
                 "claude-sonnet-4-5@20250929:rawPredict");
    }

    void vertex_body_dropsModel_addsVersion_keepsTheRest() {
        const QList<QByteArray> bodies{
            R"({"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]})",
            R"({"max_tokens":64, "messages":[{"role":"user","content":"hi"}], "stream":true, "model" : "claude-sonnet-4-5" })",
            R"({"max_tokens":64,"anthropic_version":"vertex-2023-10-16","model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}],"stream":true})",
            R"({"max_tokens":64,"messages":[{"role":"user","content":"hi"}],"stream":true})"};
        for (const QByteArray& body : bodies) {
            const QByteArray out = vertex::requestBody(body, json::scanObject(body), false, "claude-sonnet-4-5");
            QVERIFY2(json::scanObject(out).ok, out.constData());
            const QJsonObject sent = jsonOf(out);
            QVERIFY2(!sent.contains("model"), out.constData());
            QCOMPARE(sent.value("anthropic_version").toString(), "vertex-2023-10-16");
            QCOMPARE(sent.value("stream").toBool(), true);  // Vertex keeps "stream" in the body
            QCOMPARE(sent.value("max_tokens").toInt(), 64);
            QCOMPARE(sent.value("messages").toArray().size(), 1);
            QCOMPARE(sent.size(), 4);
        }
        const QByteArray count = R"({"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]})";
        const QJsonObject counted = jsonOf(vertex::requestBody(count, json::scanObject(count), true, "claude-sonnet-4-5"));
        QCOMPARE(counted.value("model").toString(), "claude-sonnet-4-5@20250929");  // count-tokens keeps it
        QCOMPARE(counted.value("anthropic_version").toString(), "vertex-2023-10-16");
    }

    // ------------------------------------------------------------------ Azure

    void azure_endpointForms() {
        const azure::Endpoint resource = azure::parseEndpoint("https://res.openai.azure.com/");
        QVERIFY(resource.error.isEmpty());
        QCOMPARE(azure::chatUrl(resource, "2024-10-21", "gpt-4o").toString(),
                 "https://res.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21");

        const azure::Endpoint target = azure::parseEndpoint(
            "https://res.openai.azure.com/openai/deployments/my-gpt4o/chat/completions?api-version=2025-01-01-preview");
        QVERIFY(target.error.isEmpty());
        QCOMPARE(target.deployment, "my-gpt4o");
        QCOMPARE(target.apiVersion, "2025-01-01-preview");
        QVERIFY(!target.v1);
        QCOMPARE(azure::chatUrl(target, target.apiVersion, "ignored-model").toString(),
                 "https://res.openai.azure.com/openai/deployments/my-gpt4o/chat/completions"
                 "?api-version=2025-01-01-preview");

        const azure::Endpoint v1 = azure::parseEndpoint("https://res.openai.azure.com/openai/v1/");
        QVERIFY(v1.error.isEmpty());
        QVERIFY(v1.v1);
        QCOMPARE(azure::chatUrl(v1, {}, "my-gpt4o").toString(), "https://res.openai.azure.com/openai/v1/chat/completions");
        QCOMPARE(azure::chatUrl(v1, "preview", "my-gpt4o").toString(),
                 "https://res.openai.azure.com/openai/v1/chat/completions?api-version=preview");
        QVERIFY(azure::parseEndpoint("https://res.openai.azure.com/openai/v1/chat/completions").v1);

        // A gateway (API Management) in front keeps its path prefix.
        const azure::Endpoint gateway = azure::parseEndpoint("https://gw.example.com/team-a/openai/deployments/dep1");
        QCOMPARE(azure::chatUrl(gateway, "2024-10-21", "x").toString(),
                 "https://gw.example.com/team-a/openai/deployments/dep1/chat/completions?api-version=2024-10-21");

        QVERIFY(!azure::parseEndpoint("res.openai.azure.com").error.isEmpty());
        QVERIFY(!azure::parseEndpoint("https://res.openai.azure.com/openai/deployments/").error.isEmpty());
        QVERIFY(!azure::parseEndpoint("https://res.openai.azure.com/openai/images/generations").error.isEmpty());
    }

    void azure_config() {
        const ConfigResult plain = parseConfig(azureConfig({{"endpoint", "https://res.openai.azure.com"}, {"apiVersion", "2024-10-21"}, {"apiKey", "env:AZURE_KEY"}}));
        QVERIFY2(plain.config, qPrintable(problems(plain)));
        const ProviderConfig& p = plain.config->providers.value("azure");
        QCOMPARE(p.apiVersion, "2024-10-21");
        QCOMPARE(p.apiKey, "env:AZURE_KEY");
        QVERIFY(!p.bearerToken);

        const ConfigResult pasted = parseConfig(azureConfig({{"endpoint", "https://res.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-06-01"}, {"bearerToken", "env:AZURE_TOKEN"}}));
        QVERIFY2(pasted.config, qPrintable(problems(pasted)));
        QCOMPARE(pasted.config->providers.value("azure").apiVersion, "2024-06-01");  // taken from the endpoint
        QVERIFY(pasted.config->providers.value("azure").bearerToken);

        const ConfigResult v1 = parseConfig(azureConfig({{"endpoint", "https://res.openai.azure.com/openai/v1/"}, {"apiKey", "env:AZURE_KEY"}}));
        QVERIFY2(v1.config, qPrintable(problems(v1)));

        const ConfigResult noVersion = parseConfig(azureConfig({{"endpoint", "https://res.openai.azure.com"}, {"apiKey", "env:AZURE_KEY"}}));
        QVERIFY(!noVersion.config);
        QCOMPARE(noVersion.problems.first().path, "$.providers.azure.apiVersion");
        QVERIFY(noVersion.problems.first().message.contains("openai/v1"));

        const ConfigResult both = parseConfig(azureConfig({{"endpoint", "https://res.openai.azure.com/openai/v1/"}, {"apiKey", "env:A"}, {"bearerToken", "env:B"}}));
        QVERIFY(!both.config);
        QVERIFY(problems(both).contains("exactly one"));

        const ConfigResult conflict = parseConfig(azureConfig({{"endpoint", "https://r.openai.azure.com/openai/deployments/d?api-version=2024-06-01"}, {"apiVersion", "2024-10-21"}, {"apiKey", "env:A"}}));
        QVERIFY(!conflict.config);
        QVERIFY(problems(conflict).contains("differs"));
    }

    void vertex_config_acceptsABaseUrl() {
        const QJsonObject provider{{"type", "vertex"}, {"project", "p"}, {"region", "us-east5"},
                                   {"serviceAccount", "env:VERTEX_SA"}, {"baseUrl", "https://psc.example.com/"}};
        const QJsonObject config{{"version", 1}, {"providers", QJsonObject{{"vertex", provider}}},
                                 {"chains", QJsonObject{{"main", QJsonObject{{"steps", QJsonArray{QJsonObject{{"provider", "vertex"}}}}}}}},
                                 {"activeChain", "main"}};
        const ConfigResult result = parseConfig(QJsonDocument(config).toJson());
        QVERIFY2(result.config, qPrintable(problems(result)));
        QCOMPARE(result.config->providers.value("vertex").baseUrl.toString(), "https://psc.example.com");
    }

private:
    KeyPair m_keys;
};

QTEST_GUILESS_MAIN(TestCloudProviders)
#include "tst_cloud_providers.moc"
