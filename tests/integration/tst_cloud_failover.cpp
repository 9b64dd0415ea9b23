// Vertex AI and Azure OpenAI through the real proxy: a chain fails over to Vertex (whose mock checks the bearer
// token from the mock token endpoint and the rawPredict path), and a mock Azure resource serves streamed chats to
// an Anthropic client and an OpenAI client (checking api-key, deployment path and api-version).
#include "support/MockUpstream.h"
#include "support/ProxyUnderTest.h"
#include "support/TestClient.h"

#include "http/SseReader.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>

using namespace understudy;
using namespace understudy::test;

namespace {

const char kServiceAccountVariable[] = "UNDERSTUDY_TEST_VERTEX_SA";
const char kAzureKeyVariable[] = "UNDERSTUDY_TEST_AZURE_KEY";
const QByteArray kAzureKey = "test-azure-key-not-real";
const QByteArray kVertexPath = "/v1/projects/test-project/locations/us-east5/publishers/anthropic/models/"
                               "claude-sonnet-4-5@20250929";

// A private key made for this run (nothing committed), in a service-account JSON whose token_uri is the mock.
QByteArray serviceAccountJson(const QString& tokenUri) {
    static const QByteArray pem = [] {
        EVP_PKEY* key = EVP_RSA_gen(2048);
        BIO* bio = BIO_new(BIO_s_mem());
        PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
        char* data = nullptr;
        const long size = BIO_get_mem_data(bio, &data);
        QByteArray bytes(data, size);
        BIO_free(bio);
        EVP_PKEY_free(key);
        return bytes;
    }();
    return QJsonDocument(QJsonObject{{"type", "service_account"},
                                     {"project_id", "test-project"},
                                     {"private_key_id", "test-key-id-0001"},
                                     {"private_key", QString::fromLatin1(pem)},
                                     {"client_email", "understudy-test@test-project.iam.gserviceaccount.com"},
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

QJsonObject failover() {
    return {{"retriesBeforeFailover", 0}, {"maxRetryAfterWaitMs", 0}, {"connectTimeoutMs", 3000},
            {"firstTokenTimeoutMs", 5000}, {"firstTokenTimeoutPer100kTokensMs", 0}, {"streamIdleTimeoutMs", 5000},
            {"totalBudgetMs", 20000}, {"primaryRecoveryCheckIntervalMs", 60000}};
}

QByteArray configJson(const QJsonObject& providers, const QJsonArray& steps) {
    return QJsonDocument(QJsonObject{{"version", 1},
                                     {"listen", QJsonObject{{"host", "127.0.0.1"}, {"port", 8790}}},
                                     {"providers", providers},
                                     {"chains", QJsonObject{{"main", QJsonObject{{"steps", steps}}}}},
                                     {"activeChain", "main"},
                                     {"failover", failover()}})
        .toJson();
}

QJsonObject clientAuthProvider(const MockUpstream& mock) {
    return {{"type", "anthropic"}, {"baseUrl", mock.baseUrl()}, {"auth", "client"}};
}

// primary (answers 429) → Vertex → an optional backup.
QByteArray vertexChain(const MockUpstream& primary, const MockUpstream& vertexMock, const MockUpstream* backup = nullptr) {
    QJsonObject providers{{"primary", clientAuthProvider(primary)},
                          {"vertex", QJsonObject{{"type", "vertex"}, {"project", "test-project"}, {"region", "us-east5"},
                                                 {"serviceAccount", QStringLiteral("env:") + kServiceAccountVariable},
                                                 {"baseUrl", vertexMock.baseUrl()}}}};
    QJsonArray steps{QJsonObject{{"provider", "primary"}},
                     QJsonObject{{"provider", "vertex"}, {"model", "claude-sonnet-4-5"}}};
    if (backup) {
        providers.insert("backup", clientAuthProvider(*backup));
        steps.append(QJsonObject{{"provider", "backup"}, {"model", "backup-model"}});
    }
    return configJson(providers, steps);
}

QByteArray azureChain(const QString& endpoint, const QString& model) {
    const QJsonObject azure{{"type", "azure-openai"}, {"endpoint", endpoint},
                            {"apiKey", QStringLiteral("env:") + kAzureKeyVariable}};
    return configJson({{"azure", azure}}, {QJsonObject{{"provider", "azure"}, {"model", model}}});
}

MockReply rateLimited() {
    return errorReply(429, R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})");
}

http::Headers anthropicHeaders() {
    http::Headers h;
    h.set("x-api-key", "test-client-key-not-real");
    h.set("anthropic-version", "2023-06-01");
    return h;
}

ClientResponse postMessages(quint16 port, bool stream) {
    return request(port, "POST", "/v1/messages", messagesBody(QStringLiteral("claude-test"), stream), anthropicHeaders());
}

QJsonObject jsonOf(const QByteArray& body) { return QJsonDocument::fromJson(body).object(); }

// The text of an Anthropic or OpenAI Chat stream.
QString streamedText(const QByteArray& body) {
    http::SseReader reader;
    QList<http::SseEvent> events;
    reader.feed(body, events);
    QString text;
    for (const http::SseEvent& e : events) {
        const QJsonObject o = jsonOf(e.data);
        text += o.value("delta").toObject().value("text").toString();
        text += o.value("choices").toArray().at(0).toObject().value("delta").toObject().value("content").toString();
    }
    return text;
}

// Azure's streams open with a chunk that has no choices, only the prompt's content-filter results.
MockReply azureChatStream(const QStringList& deltas) {
    MockReply r = openAIChatStream(deltas, QStringLiteral("gpt-4o-2024-11-20"));
    r.chunks.prepend(http::formatSse({}, R"({"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]})"));
    return r;
}

}  // namespace

class TestCloudFailover : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void cleanup() {
        qunsetenv(kServiceAccountVariable);
        qunsetenv(kAzureKeyVariable);
    }

    void primary429_vertexServes_withItsToken_nonStreamedAndStreamed() {
        MockUpstream primary, vertexMock, tokens;
        primary.setDefault(rateLimited());
        tokens.enqueue(tokenReply("test-token-1", 3600));
        vertexMock.enqueue(anthropicMessage(QStringLiteral("from vertex"), QStringLiteral("claude-sonnet-4-5")));
        vertexMock.enqueue(anthropicStream({QStringLiteral("streamed "), QStringLiteral("from vertex")},
                                           QStringLiteral("claude-sonnet-4-5")));
        qputenv(kServiceAccountVariable, serviceAccountJson(tokens.baseUrl("/token")));
        ProxyUnderTest proxy(vertexChain(primary, vertexMock));
        QVERIFY(proxy.isListening());

        const ClientResponse plain = postMessages(proxy.port(), false);
        QCOMPARE(plain.status, 200);
        QCOMPARE(plain.headers.value("x-understudy-provider"), QByteArray("vertex"));
        QCOMPARE(jsonOf(plain.body).value("content").toArray().at(0).toObject().value("text").toString(), "from vertex");

        const ClientResponse streamed = postMessages(proxy.port(), true);
        QCOMPARE(streamed.status, 200);
        QCOMPARE(streamed.headers.value("x-understudy-provider"), QByteArray("vertex"));
        QVERIFY(streamed.headers.value("content-type").startsWith("text/event-stream"));
        QCOMPARE(streamedText(streamed.body), "streamed from vertex");
        QVERIFY(streamed.body.contains("event: message_stop"));

        QCOMPARE(vertexMock.hits(), 2);
        const http::Request& first = vertexMock.requests().at(0);
        QCOMPARE(first.path, kVertexPath + ":rawPredict");
        QCOMPARE(vertexMock.requests().at(1).path, kVertexPath + ":streamRawPredict");
        for (const http::Request& r : vertexMock.requests()) {
            QCOMPARE(r.headers.value("authorization"), QByteArray("Bearer test-token-1"));
            QVERIFY(!r.headers.contains("x-api-key"));  // the client's key is never sent to another provider
            const QJsonObject sent = jsonOf(r.body);
            QVERIFY(!sent.contains("model"));
            QCOMPARE(sent.value("anthropic_version").toString(), "vertex-2023-10-16");
            QCOMPARE(sent.value("messages").toArray().size(), 1);
        }
        QCOMPARE(tokens.hits(), 1);  // one token served both requests
        QVERIFY(!proxy.allEventText().contains("test-token-1"));
    }

    void tokenNearExpiry_isRefreshed_withoutFailingARequest() {
        MockUpstream primary, vertexMock, tokens;
        primary.setDefault(rateLimited());
        tokens.enqueue(tokenReply("test-token-short", 60));  // within the refresh margin at once
        tokens.enqueue(tokenReply("test-token-next", 3600));
        vertexMock.setDefault(anthropicMessage(QStringLiteral("from vertex"), QStringLiteral("claude-sonnet-4-5")));
        qputenv(kServiceAccountVariable, serviceAccountJson(tokens.baseUrl("/token")));
        ProxyUnderTest proxy(vertexChain(primary, vertexMock));

        QCOMPARE(postMessages(proxy.port(), false).status, 200);
        QCOMPARE(postMessages(proxy.port(), false).status, 200);
        QCOMPARE(postMessages(proxy.port(), false).status, 200);
        QCOMPARE(tokens.hits(), 2);
        QCOMPARE(vertexMock.requests().at(0).headers.value("authorization"), QByteArray("Bearer test-token-short"));
        QCOMPARE(vertexMock.requests().at(1).headers.value("authorization"), QByteArray("Bearer test-token-next"));
        QCOMPARE(vertexMock.requests().at(2).headers.value("authorization"), QByteArray("Bearer test-token-next"));
    }

    void revokedToken_401_isRenewedOnce_andTheRequestServed() {
        MockUpstream primary, vertexMock, tokens;
        primary.setDefault(rateLimited());
        tokens.enqueue(tokenReply("test-token-revoked", 3600));
        tokens.enqueue(tokenReply("test-token-renewed", 3600));
        vertexMock.enqueue(errorReply(401, R"({"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}})"));
        vertexMock.setDefault(anthropicMessage(QStringLiteral("from vertex"), QStringLiteral("claude-sonnet-4-5")));
        qputenv(kServiceAccountVariable, serviceAccountJson(tokens.baseUrl("/token")));
        ProxyUnderTest proxy(vertexChain(primary, vertexMock));

        const ClientResponse r = postMessages(proxy.port(), false);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("vertex"));
        QCOMPARE(vertexMock.hits(), 2);
        QCOMPARE(vertexMock.requests().at(0).headers.value("authorization"), QByteArray("Bearer test-token-revoked"));
        QCOMPARE(vertexMock.requests().at(1).headers.value("authorization"), QByteArray("Bearer test-token-renewed"));
        QCOMPARE(tokens.hits(), 2);

        // A key that keeps being refused is not retried in a loop: the 401 reaches the client.
        vertexMock.setDefault(errorReply(401, R"({"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}})"));
        tokens.setDefault(tokenReply("test-token-again", 3600));
        const ClientResponse refused = postMessages(proxy.port(), false);
        QCOMPARE(refused.status, 401);
        QCOMPARE(vertexMock.hits(), 4);
    }

    void concurrentRequests_shareOneTokenFetch() {
        MockUpstream primary, vertexMock, tokens;
        primary.setDefault(rateLimited());
        MockReply slowToken = tokenReply("test-token-shared", 3600);
        slowToken.headDelayMs = 300;  // so that the requests very likely overlap; the count holds either way
        tokens.enqueue(slowToken);
        tokens.setDefault(tokenReply("test-token-unexpected", 3600));
        vertexMock.setDefault(anthropicMessage(QStringLiteral("from vertex"), QStringLiteral("claude-sonnet-4-5")));
        qputenv(kServiceAccountVariable, serviceAccountJson(tokens.baseUrl("/token")));
        ProxyUnderTest proxy(vertexChain(primary, vertexMock));

        std::vector<std::unique_ptr<TestClient>> clients;
        for (int i = 0; i < 4; ++i) {
            clients.push_back(std::make_unique<TestClient>(proxy.port()));
            http::Headers headers = anthropicHeaders();
            headers.set("Content-Type", "application/json");
            clients.back()->send("POST", "/v1/messages", headers, messagesBody(QStringLiteral("claude-test"), false));
        }
        for (const auto& client : clients) {
            QVERIFY(client->waitDone(15000));
            QCOMPARE(client->response().status, 200);
        }
        QCOMPARE(tokens.hits(), 1);
        QCOMPARE(vertexMock.hits(), 4);
        for (const http::Request& r : vertexMock.requests())
            QCOMPARE(r.headers.value("authorization"), QByteArray("Bearer test-token-shared"));
    }

    void tokenEndpointRefuses_clearError_andFailover() {
        MockUpstream primary, vertexMock, tokens, backup;
        primary.setDefault(rateLimited());
        tokens.setDefault(errorReply(400, R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})"));
        backup.setDefault(anthropicMessage(QStringLiteral("from backup"), QStringLiteral("backup-model")));
        const QByteArray account = serviceAccountJson(tokens.baseUrl("/token"));
        qputenv(kServiceAccountVariable, account);
        ProxyUnderTest proxy(vertexChain(primary, vertexMock, &backup));

        const ClientResponse r = postMessages(proxy.port(), false);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("backup"));
        QCOMPARE(vertexMock.hits(), 0);
        QCOMPARE(tokens.hits(), 1);

        QVERIFY(proxy.waitForEvents("request", 1));
        const QString attempts = QString::fromUtf8(
            QJsonDocument(proxy.events("request").first().fields.value("attempts").toArray()).toJson());
        QVERIFY2(attempts.contains("provider 'vertex' got no access token: the token endpoint answered HTTP 400: "
                                   "invalid_grant (Invalid JWT Signature.)"),
                 qPrintable(attempts));
        // Neither the key nor the signed assertion shows anywhere.
        const QByteArray events = proxy.allEventText();
        QVERIFY(!events.contains("PRIVATE KEY"));
        QVERIFY(!events.contains(jsonOf(account).value("private_key").toString().mid(40, 40).toLatin1()));
        QVERIFY(!events.contains("eyJ"));  // a base64url JSON header: the start of any JWT

        // With nothing after Vertex, the client gets an error that names the token endpoint's answer.
        MockUpstream primary2, vertex2;
        primary2.setDefault(rateLimited());
        ProxyUnderTest alone(vertexChain(primary2, vertex2));
        const ClientResponse failed = postMessages(alone.port(), false);
        QCOMPARE(failed.status, 429);  // the last upstream status
        QVERIFY2(failed.body.contains("invalid_grant"), failed.body.constData());
    }

    void azureDeploymentEndpoint_streamsToAnAnthropicClient_andAnOpenAIClient() {
        MockUpstream azure;
        azure.setDefault(azureChatStream({QStringLiteral("hello "), QStringLiteral("from azure")}));
        qputenv(kAzureKeyVariable, kAzureKey);
        ProxyUnderTest proxy(azureChain(
            azure.baseUrl("/openai/deployments/gpt-4o-team/chat/completions?api-version=2024-10-21"), "gpt-4o"));
        QVERIFY(proxy.isListening());

        const ClientResponse anthropic = postMessages(proxy.port(), true);
        QCOMPARE(anthropic.status, 200);
        QCOMPARE(anthropic.headers.value("x-understudy-provider"), QByteArray("azure"));
        QVERIFY(anthropic.body.contains("event: message_start"));
        QVERIFY(anthropic.body.contains("event: message_stop"));
        QCOMPARE(streamedText(anthropic.body), "hello from azure");

        http::Headers openAIHeaders;
        openAIHeaders.set("Authorization", "Bearer test-openai-client-key-not-real");
        const ClientResponse openai = request(proxy.port(), "POST", "/v1/chat/completions",
                                              chatBody(QStringLiteral("gpt-4o"), true), openAIHeaders);
        QCOMPARE(openai.status, 200);
        QCOMPARE(streamedText(openai.body), "hello from azure");
        QVERIFY(openai.body.contains("data: [DONE]"));

        QCOMPARE(azure.hits(), 2);
        for (const http::Request& r : azure.requests()) {
            QCOMPARE(r.path, QByteArray("/openai/deployments/gpt-4o-team/chat/completions"));
            QCOMPARE(r.query, QByteArray("api-version=2024-10-21"));
            QCOMPARE(r.headers.value("api-key"), kAzureKey);
            QVERIFY(!r.headers.contains("authorization"));
            QVERIFY(!r.headers.contains("x-api-key"));
            QCOMPARE(jsonOf(r.body).value("stream").toBool(), true);
        }
        QVERIFY(!proxy.allEventText().contains(kAzureKey));
    }

    void azureResourceAndV1Endpoints_andAnEntraToken() {
        MockUpstream azure;
        azure.setDefault(openAIChat(QStringLiteral("from azure"), QStringLiteral("gpt-4o")));
        qputenv(kAzureKeyVariable, kAzureKey);

        {  // the bare resource URL: the step's model names the deployment
            QJsonObject provider{{"type", "azure-openai"}, {"endpoint", azure.baseUrl()}, {"apiVersion", "2024-06-01"},
                                 {"apiKey", QStringLiteral("env:") + kAzureKeyVariable}};
            ProxyUnderTest proxy(configJson({{"azure", provider}}, {QJsonObject{{"provider", "azure"}, {"model", "my-dep"}}}));
            const ClientResponse r = postMessages(proxy.port(), false);
            QCOMPARE(r.status, 200);
            QCOMPARE(jsonOf(r.body).value("content").toArray().at(0).toObject().value("text").toString(), "from azure");
            QCOMPARE(azure.requests().last().path, QByteArray("/openai/deployments/my-dep/chat/completions"));
            QCOMPARE(azure.requests().last().query, QByteArray("api-version=2024-06-01"));
        }
        {  // the v1 API: no api-version, the deployment goes in the body's model; an Entra ID token as bearer
            QJsonObject provider{{"type", "azure-openai"}, {"endpoint", azure.baseUrl("/openai/v1/")},
                                 {"bearerToken", QStringLiteral("env:") + kAzureKeyVariable}};
            ProxyUnderTest proxy(configJson({{"azure", provider}}, {QJsonObject{{"provider", "azure"}, {"model", "my-dep"}}}));
            const ClientResponse r = postMessages(proxy.port(), false);
            QCOMPARE(r.status, 200);
            const http::Request& sent = azure.requests().last();
            QCOMPARE(sent.path, QByteArray("/openai/v1/chat/completions"));
            QVERIFY(sent.query.isEmpty());
            QCOMPARE(jsonOf(sent.body).value("model").toString(), "my-dep");
            QCOMPARE(sent.headers.value("authorization"), "Bearer " + kAzureKey);
            QVERIFY(!sent.headers.contains("api-key"));
        }
    }
};

QTEST_GUILESS_MAIN(TestCloudFailover)
#include "tst_cloud_failover.moc"
