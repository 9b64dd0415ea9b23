// The proxy's front door end to end: what a client sees before and around the failover engine — malformed
// requests, connection handling, the local endpoints, credentials, header forwarding, chain selection, a real
// Claude Code request and config reloads (DESIGN.md §4, §5). Real proxy, real HTTP over loopback, mock upstreams.
#include "support/MockUpstream.h"
#include "support/ProxyUnderTest.h"
#include "support/TestClient.h"

#include "http/ResponseParser.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QtTest>

using namespace understudy;
using namespace understudy::test;

class TestFrontDoor : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void notJson_anthropicDialect_400NamesProblemAndOffset();
    void notJson_openAIDialect_400InOpenAIShape();
    void badChunkedEncoding_400();
    void oversizedHeaderBlock_431();
    void contentLengthOverLimit_413WithoutReadingBody();
    void slowSender_408AfterReadTimeout_connectionClosed();
    void unknownPath_404Json();
    void getOnMessages_405();

    void pipelinedRequests_answeredInOrder();
    void keepAlive_secondRequestOnSameConnection();
    void chunkedRequestBody_forwardedIntact();

    void headRoot_200WithoutBody();
    void healthz_ok();
    void status_showsChainsStepsAndCounters();
    void metrics_countRequestsAndTargetFailures();
    void models_listActiveChainModels();

    void clientAuth_forwardsClientCredentialUnchanged();
    void keyAuth_anthropicFallback_getsStoredKeyNeverClients();
    void keyAuth_openAIChatFallback_getsStoredBearerNeverClients();
    void noneAuth_sendsNoCredential();
    void unsetKeyVariable_skippedWithReason_noSecretInEvents();

    void anthropicHeadersForwarded_encodingIdentity_queryKept();
    void countTokens_forwardedUnderBaseUrlPath();

    void chainPrefix_selectsThatChain();
    void claudeCodeUserAgent_selectsClientChain();
    void unknownChainPrefix_404NamesAvailableChains();

    void claudeCodeRequest_keptModel_bodyByteIdentical();
    void claudeCodeRequest_mappedModel_onlyModelChanges();

    void reload_inFlightStreamCompletes_newRequestUsesNewConfig();
    void reloadThatRelistens_inFlightStreamCompletes();
};

namespace {

// Obviously fake credentials: a test that leaks one leaks nothing of value.
constexpr char kClientKey[] = "test-client-key-000";
constexpr char kClientToken[] = "test-client-token-000";
constexpr char kStoredKey[] = "test-stored-key-000";
constexpr char kKeyVariable[] = "UNDERSTUDY_TEST_KEY";
constexpr char kUnsetVariable[] = "UNDERSTUDY_TEST_UNSET_KEY";

QByteArray overloaded() { return R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"; }

QString providerJson(const QString& id, const QString& baseUrl, const QString& extra = QStringLiteral(R"("auth": "client")"),
                     const QString& type = QStringLiteral("anthropic")) {
    return QStringLiteral(R"("%1": {"type": "%2", "baseUrl": "%3", %4})").arg(id, type, baseUrl, extra);
}

// A full config around `providers` and `chains` (JSON members); short timeouts keep every test quick, and a
// 300 ms read timeout lets the slow-sender test run in well under a second.
QByteArray configJson(const QStringList& providers, const QString& chains, const QString& activeChain = QStringLiteral("main"),
                      const QString& extra = {}, int readTimeoutMs = 300) {
    return QStringLiteral(R"({"version": 1,
        "listen": {"host": "127.0.0.1", "port": 8790, "requestReadTimeoutMs": %1},
        "providers": {%2}, "chains": {%3}, "activeChain": "%4", %5
        "failover": {"retriesBeforeFailover": 1, "maxRetryAfterWaitMs": 0, "connectTimeoutMs": 1000,
                     "firstTokenTimeoutMs": 2000, "firstTokenTimeoutPer100kTokensMs": 0, "streamIdleTimeoutMs": 3000,
                     "totalBudgetMs": 8000, "primaryRecoveryCheckIntervalMs": 60000}})")
        .arg(readTimeoutMs)
        .arg(providers.join(QLatin1Char(',')), chains, activeChain, extra.isEmpty() ? QString() : extra + u',')
        .toUtf8();
}

// One chain "main" whose only step is `url`, the client's credential passed through.
QByteArray singleConfig(const QString& url) {
    return configJson({providerJson(QStringLiteral("primary"), url)}, QStringLiteral(R"("main": {"steps": [{"provider": "primary"}]})"));
}

// Chain "main": primary (client's credential) → fallback1 with its own `fallbackAuth`.
QByteArray failoverConfig(const QString& primaryUrl, const QString& fallbackUrl, const QString& fallbackAuth,
                          const QString& type = QStringLiteral("anthropic")) {
    return configJson({providerJson(QStringLiteral("primary"), primaryUrl, QStringLiteral(R"("auth": "client")"), type),
                       providerJson(QStringLiteral("fallback1"), fallbackUrl, fallbackAuth, type)},
                      QStringLiteral(R"("main": {"steps": [{"provider": "primary"},
                                                           {"provider": "fallback1", "model": "fallback1-model"}]})"));
}

QJsonObject jsonOf(const QByteArray& body) { return QJsonDocument::fromJson(body).object(); }

QString anthropicMessageOf(const ClientResponse& r) {
    return jsonOf(r.body).value("error").toObject().value("message").toString();
}

http::Headers clientHeaders() {
    http::Headers h;
    h.set("x-api-key", kClientKey);
    h.set("anthropic-version", "2023-06-01");
    return h;
}

ClientResponse postMessages(quint16 port, const QByteArray& target = "/v1/messages", http::Headers headers = clientHeaders(),
                            bool stream = false) {
    return request(port, "POST", target, messagesBody(QStringLiteral("claude-test"), stream), std::move(headers));
}

// Whether any header value or the body of what an upstream received carries `secret`.
bool carries(const http::Request& received, const QByteArray& secret) {
    for (const http::Header& h : received.headers.fields()) {
        if (h.value.contains(secret))
            return true;
    }
    return received.body.contains(secret);
}

// The proxy answers a fresh connection: a malformed request before must not have taken it down.
bool stillServing(quint16 port) {
    const ClientResponse r = request(port, "GET", "/healthz");
    return r.status == 200 && jsonOf(r.body).value("status").toString() == QLatin1String("ok");
}

// The value of an unlabelled Prometheus sample, or -1.
double metric(const QByteArray& text, const QByteArray& sample) {
    for (const QByteArray& line : text.split('\n')) {
        if (line.startsWith(sample + ' '))
            return line.mid(sample.size() + 1).toDouble();
    }
    return -1;
}

// A client connection driven byte by byte, for what TestClient cannot do: several responses on one connection,
// requests sent in pieces, and watching the proxy close the connection.
class RawConnection {
public:
    explicit RawConnection(quint16 port) {
        m_socket.connectToHost(QHostAddress::LocalHost, port);
        m_socket.waitForConnected(3000);
    }
    bool isConnected() const { return m_socket.state() == QAbstractSocket::ConnectedState; }
    void write(const QByteArray& bytes) {
        m_socket.write(bytes);
        m_socket.flush();
    }

    // The next response on the connection (status 0 if none arrived whole in time). Waits on the event loop,
    // never blocking it: mock upstreams live on this thread.
    ClientResponse next(int timeoutMs = 5000, bool toHead = false) {
        ClientResponse response;
        m_parser.reset();
        m_parser.setRequestWasHead(toHead);
        QElapsedTimer clock;
        clock.start();
        while (true) {
            m_buffer.append(m_socket.readAll());
            QByteArray body;
            const auto status = m_parser.parse(m_buffer, body);
            response.body.append(body);
            if (status == http::ResponseParser::Status::Complete) {
                response.status = m_parser.head().status;
                response.headers = m_parser.head().headers;
                response.complete = true;
                return response;
            }
            if (status == http::ResponseParser::Status::Error || clock.elapsed() > timeoutMs
                || m_socket.state() == QAbstractSocket::UnconnectedState)
                return response;
            const bool more = QTest::qWaitFor([this] {
                return m_socket.bytesAvailable() > 0 || m_socket.state() != QAbstractSocket::ConnectedState;
            }, static_cast<int>(timeoutMs - clock.elapsed()));
            if (!more)
                return response;
        }
    }

    // Whether the proxy closed the connection within `timeoutMs` (bytes after the last response are ignored).
    bool waitClosed(int timeoutMs) {
        return QTest::qWaitFor([this] {
            m_socket.readAll();
            return m_socket.state() == QAbstractSocket::UnconnectedState;
        }, timeoutMs);
    }

private:
    QTcpSocket m_socket;
    QByteArray m_buffer;
    http::ResponseParser m_parser;
};

QByteArray rawHead(const QByteArray& requestLine, const QByteArray& fields = {}) {
    return requestLine + "\r\nHost: 127.0.0.1\r\n" + fields + "\r\n";
}

// A request body as a chunked transfer coding, in chunks of `size` bytes.
QByteArray chunked(const QByteArray& body, int size) {
    QByteArray out;
    for (qsizetype at = 0; at < body.size(); at += size) {
        const QByteArray piece = body.mid(at, size);
        out += QByteArray::number(piece.size(), 16) + "\r\n" + piece + "\r\n";
    }
    return out + "0\r\n\r\n";
}

// The captured Claude Code request (DESIGN.md §6 fixtures): its headers as sent, the masked key replaced.
struct CapturedRequest {
    QByteArray target;
    http::Headers headers;
    QByteArray body;
};

CapturedRequest claudeCodeRequest() {
    QFile file(QFINDTESTDATA("../data/fixtures/claude_code.messages.stream.json"));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    const QJsonObject fixture = jsonOf(file.readAll());
    CapturedRequest captured;
    captured.target = fixture.value("path").toString().toUtf8() + '?' + fixture.value("query").toString().toUtf8();
    const QJsonObject headers = fixture.value("headers").toObject();
    for (auto it = headers.begin(); it != headers.end(); ++it) {
        const QByteArray name = it.key().toUtf8();
        // TestClient writes its own Host and Content-Length; the body is re-serialised, so its length differs.
        if (name.compare("Host", Qt::CaseInsensitive) == 0 || name.compare("Content-Length", Qt::CaseInsensitive) == 0)
            continue;
        captured.headers.add(name, name.compare("x-api-key", Qt::CaseInsensitive) == 0 ? QByteArray(kClientKey)
                                                                                       : it.value().toString().toUtf8());
    }
    captured.body = QJsonDocument(fixture.value("body").toObject()).toJson(QJsonDocument::Compact);
    return captured;
}

// An Anthropic stream slow enough to still be running while the test reloads the config.
MockReply slowStream() {
    MockReply r = anthropicStream({QStringLiteral("one "), QStringLiteral("two "), QStringLiteral("three "),
                                   QStringLiteral("four "), QStringLiteral("five "), QStringLiteral("six")},
                                  QStringLiteral("claude-test"));
    r.chunkDelayMs = 100;
    return r;
}

QString twoStepChain(const QString& first, const QString& second) {
    return QStringLiteral(R"("main": {"steps": [{"provider": "%1"}, {"provider": "%2"}]})").arg(first, second);
}

}  // namespace

void TestFrontDoor::initTestCase() {
    qputenv(kKeyVariable, kStoredKey);
    qunsetenv(kUnsetVariable);
}

// ---------------------------------------------------------------------------------------- malformed requests

void TestFrontDoor::notJson_anthropicDialect_400NamesProblemAndOffset() {
    MockUpstream primary;
    ProxyUnderTest proxy(singleConfig(primary.baseUrl()));
    QVERIFY(proxy.isListening());
    // The second comma, at byte 34, is where the document stops being JSON.
    const QByteArray body = R"({"model":"claude-test","stream":1,,"messages":[]})";
    const ClientResponse r = request(proxy.port(), "POST", "/v1/messages", body, clientHeaders());
    QCOMPARE(r.status, 400);
    const QJsonObject error = jsonOf(r.body);
    QCOMPARE(error.value("type").toString(), "error");
    QCOMPARE(error.value("error").toObject().value("type").toString(), "invalid_request_error");
    const QString message = anthropicMessageOf(r);
    QVERIFY2(message.contains("not valid JSON"), qPrintable(message));
    QVERIFY2(message.contains("at byte 34"), qPrintable(message));
    QCOMPARE(primary.hits(), 0);  // never worth an upstream round trip
    QVERIFY(stillServing(proxy.port()));
}

void TestFrontDoor::notJson_openAIDialect_400InOpenAIShape() {
    MockUpstream primary;
    ProxyUnderTest proxy(singleConfig(primary.baseUrl()));
    const ClientResponse r = request(proxy.port(), "POST", "/v1/chat/completions", "{\"model\": \"gpt-test\", \"messages\": [");
    QCOMPARE(r.status, 400);
    const QJsonObject body = jsonOf(r.body);
    QVERIFY2(!body.contains("type"), r.body.constData());  // OpenAI's shape has only "error" at the top
    const QJsonObject error = body.value("error").toObject();
    QCOMPARE(error.value("type").toString(), "invalid_request_error");
    const QString message = error.value("message").toString();
    QVERIFY2(message.contains("not valid JSON"), qPrintable(message));
    QVERIFY2(QRegularExpression(QStringLiteral("at byte \\d+")).match(message).hasMatch(), qPrintable(message));
    QCOMPARE(primary.hits(), 0);
    QVERIFY(stillServing(proxy.port()));
}

void TestFrontDoor::badChunkedEncoding_400() {
    MockUpstream primary;
    ProxyUnderTest proxy(singleConfig(primary.baseUrl()));
    RawConnection c(proxy.port());
    c.write(rawHead("POST /v1/messages HTTP/1.1", "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n")
            + "zz\r\n{}\r\n0\r\n\r\n");
    const ClientResponse r = c.next();
    QCOMPARE(r.status, 400);
    QVERIFY2(anthropicMessageOf(r).contains("chunk", Qt::CaseInsensitive), r.body.constData());
    QVERIFY(c.waitClosed(2000));  // the framing is lost: nothing after it can be trusted
    QCOMPARE(primary.hits(), 0);
    QVERIFY(stillServing(proxy.port()));
}

void TestFrontDoor::oversizedHeaderBlock_431() {
    MockUpstream primary;
    ProxyUnderTest proxy(singleConfig(primary.baseUrl()));
    RawConnection c(proxy.port());
    c.write(rawHead("GET /healthz HTTP/1.1", "X-Padding: " + QByteArray(66 * 1024, 'a') + "\r\n"));
    const ClientResponse r = c.next();
    QCOMPARE(r.status, 431);
    QVERIFY2(anthropicMessageOf(r).contains("65536"), r.body.constData());  // says what the limit is
    QVERIFY(c.waitClosed(2000));
    QVERIFY(stillServing(proxy.port()));
}

void TestFrontDoor::contentLengthOverLimit_413WithoutReadingBody() {
    MockUpstream primary;
    ProxyUnderTest proxy(singleConfig(primary.baseUrl()));
    RawConnection c(proxy.port());
    // The head alone must be enough: a proxy that first reads 40 MB to refuse it has already lost.
    c.write(rawHead("POST /v1/messages HTTP/1.1", "Content-Type: application/json\r\nContent-Length: 40000000\r\n"));
    const ClientResponse r = c.next(2000);
    QCOMPARE(r.status, 413);
    QCOMPARE(jsonOf(r.body).value("error").toObject().value("type").toString(), "request_too_large");
    QVERIFY(c.waitClosed(2000));
    QCOMPARE(primary.hits(), 0);
    QVERIFY(stillServing(proxy.port()));
}

void TestFrontDoor::slowSender_408AfterReadTimeout_connectionClosed() {
    MockUpstream primary;
    ProxyUnderTest proxy(singleConfig(primary.baseUrl()));
    const QByteArray body = messagesBody(QStringLiteral("claude-test"), false);
    RawConnection c(proxy.port());
    QElapsedTimer clock;
    clock.start();
    c.write(rawHead("POST /v1/messages HTTP/1.1", "Content-Type: application/json\r\nContent-Length: "
                                                      + QByteArray::number(body.size()) + "\r\n")
            + body.left(body.size() / 2));
    const ClientResponse r = c.next(3000);
    const qint64 elapsed = clock.elapsed();
    QCOMPARE(r.status, 408);
    QVERIFY2(elapsed >= 280 && elapsed < 2000, qPrintable(QString::number(elapsed)));  // the configured 300 ms
    QVERIFY2(anthropicMessageOf(r).contains("0.3 s"), r.body.constData());  // the limit as configured
    QVERIFY(c.waitClosed(2000));
    QCOMPARE(primary.hits(), 0);
    QVERIFY(stillServing(proxy.port()));
}

void TestFrontDoor::unknownPath_404Json() {
    MockUpstream primary;
    ProxyUnderTest proxy(singleConfig(primary.baseUrl()));
    const ClientResponse r = request(proxy.port(), "POST", "/v1/completions", "{}");
    QCOMPARE(r.status, 404);
    QVERIFY(r.headers.value("content-type").startsWith("application/json"));
    QVERIFY2(anthropicMessageOf(r).contains("/v1/completions"), r.body.constData());
    QCOMPARE(primary.hits(), 0);
    QVERIFY(stillServing(proxy.port()));
}

void TestFrontDoor::getOnMessages_405() {
    MockUpstream primary;
    ProxyUnderTest proxy(singleConfig(primary.baseUrl()));
    const ClientResponse r = request(proxy.port(), "GET", "/v1/messages");
    QCOMPARE(r.status, 405);
    QVERIFY2(anthropicMessageOf(r).contains("POST"), r.body.constData());
    QCOMPARE(primary.hits(), 0);
    QVERIFY(stillServing(proxy.port()));
}

// ------------------------------------------------------------------------------------------------ connections

void TestFrontDoor::pipelinedRequests_answeredInOrder() {
    MockUpstream primary;
    MockReply slowFirst = anthropicMessage(QStringLiteral("first"));
    slowFirst.headDelayMs = 300;  // the second answer would overtake the first if responses were not kept in order
    primary.enqueue(slowFirst);
    primary.enqueue(anthropicMessage(QStringLiteral("second")));
    ProxyUnderTest proxy(singleConfig(primary.baseUrl()));
    const QByteArray body = messagesBody(QStringLiteral("claude-test"), false);
    const QByteArray one = rawHead("POST /v1/messages HTTP/1.1", "Content-Type: application/json\r\nx-api-key: "
                                   + QByteArray(kClientKey) + "\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n") + body;
    RawConnection c(proxy.port());
    c.write(one + one);  // both in one write: the second waits in the proxy's buffer
    const ClientResponse first = c.next();
    const ClientResponse second = c.next();
    QCOMPARE(first.status, 200);
    QCOMPARE(second.status, 200);
    QCOMPARE(jsonOf(first.body).value("content").toArray().at(0).toObject().value("text").toString(), "first");
    QCOMPARE(jsonOf(second.body).value("content").toArray().at(0).toObject().value("text").toString(), "second");
    QCOMPARE(primary.hits(), 2);
}

void TestFrontDoor::keepAlive_secondRequestOnSameConnection() {
    MockUpstream primary;
    ProxyUnderTest proxy(singleConfig(primary.baseUrl()));
    RawConnection c(proxy.port());
    c.write(rawHead("GET /healthz HTTP/1.1"));
    const ClientResponse first = c.next();
    QCOMPARE(first.status, 200);
    QCOMPARE(first.headers.value("connection"), QByteArray("keep-alive"));
    QTest::qWait(100);  // a pause between requests, as an agent's think time
    QVERIFY(c.isConnected());
    c.write(rawHead("GET /status HTTP/1.1"));
    const ClientResponse second = c.next();
    QCOMPARE(second.status, 200);
    QCOMPARE(jsonOf(second.body).value("activeChain").toString(), "main");
}

void TestFrontDoor::chunkedRequestBody_forwardedIntact() {
    MockUpstream primary;
    ProxyUnderTest proxy(singleConfig(primary.baseUrl()));
    const QByteArray body = messagesBody(QStringLiteral("claude-test"), false, QStringLiteral("chunk me ").repeated(500));
    const QByteArray framed = chunked(body, 777);
    RawConnection c(proxy.port());
    c.write(rawHead("POST /v1/messages HTTP/1.1", "Content-Type: application/json\r\nx-api-key: " + QByteArray(kClientKey)
                                                      + "\r\nTransfer-Encoding: chunked\r\n"));
    // In pieces that cut through chunk-size lines and data, as a network may.
    for (qsizetype at = 0; at < framed.size(); at += 1000) {
        c.write(framed.mid(at, 1000));
        QTest::qWait(5);
    }
    const ClientResponse r = c.next();
    QCOMPARE(r.status, 200);
    QCOMPARE(primary.hits(), 1);
    const http::Request& received = primary.requests().first();
    QVERIFY(received.body == body);
    QVERIFY(!received.headers.contains("transfer-encoding"));  // a hop-by-hop framing, re-framed upstream
    QCOMPARE(received.headers.value("content-length"), QByteArray::number(body.size()));
}

// ---------------------------------------------------------------------------------------- local endpoints

void TestFrontDoor::headRoot_200WithoutBody() {
    MockUpstream primary;
    ProxyUnderTest proxy(singleConfig(primary.baseUrl()));
    RawConnection c(proxy.port());
    // Claude Code's warm-up: no credential. A body after the HEAD answer would corrupt the next response.
    c.write(rawHead("HEAD / HTTP/1.1") + rawHead("GET /healthz HTTP/1.1"));
    const ClientResponse head = c.next(5000, true);
    QCOMPARE(head.status, 200);
    QVERIFY(head.body.isEmpty());
    const ClientResponse next = c.next();
    QCOMPARE(next.status, 200);
    QCOMPARE(next.body, QByteArray(R"({"status":"ok"})"));
    QCOMPARE(primary.hits(), 0);
}

void TestFrontDoor::healthz_ok() {
    MockUpstream primary;
    primary.stop();  // liveness of the proxy, not of its upstreams
    ProxyUnderTest proxy(singleConfig(primary.baseUrl()));
    const ClientResponse r = request(proxy.port(), "GET", "/healthz");
    QCOMPARE(r.status, 200);
    QVERIFY(r.headers.value("content-type").startsWith("application/json"));
    QCOMPARE(jsonOf(r.body), QJsonObject({{"status", "ok"}}));
}

void TestFrontDoor::status_showsChainsStepsAndCounters() {
    MockUpstream primary, fallback;
    primary.setDefault(errorReply(529, overloaded()));
    ProxyUnderTest proxy(failoverConfig(primary.baseUrl(), fallback.baseUrl(), QStringLiteral(R"("auth": "client")")));
    QCOMPARE(postMessages(proxy.port()).headers.value("x-understudy-provider"), QByteArray("fallback1"));

    const ClientResponse r = request(proxy.port(), "GET", "/status");
    QCOMPARE(r.status, 200);
    const QJsonObject status = jsonOf(r.body);
    QCOMPARE(status.value("activeChain").toString(), "main");
    const QJsonArray steps = status.value("chains").toObject().value("main").toObject().value("steps").toArray();
    QCOMPARE(steps.size(), 2);
    QCOMPARE(steps.at(0).toObject().value("provider").toString(), "primary");
    QCOMPARE(steps.at(1).toObject().value("provider").toString(), "fallback1");
    QCOMPARE(steps.at(1).toObject().value("model").toString(), "fallback1-model");
    const QJsonObject counters = status.value("counters").toObject();
    QCOMPARE(counters.value("requests").toInt(), 1);
    QCOMPARE(counters.value("served").toInt(), 1);
    QCOMPARE(counters.value("servedByFallback").toInt(), 1);
    QCOMPARE(counters.value("failovers").toInt(), 1);
    const QJsonObject cooling = status.value("targets").toArray().first().toObject();
    QCOMPARE(cooling.value("target").toString(), "primary/claude-test");
    QVERIFY(cooling.value("state").toString() != QLatin1String("healthy"));
    QVERIFY(!cooling.value("coolingUntil").toString().isEmpty());
}

void TestFrontDoor::metrics_countRequestsAndTargetFailures() {
    MockUpstream primary, fallback;
    ProxyUnderTest proxy(failoverConfig(primary.baseUrl(), fallback.baseUrl(), QStringLiteral(R"("auth": "client")")));
    const ClientResponse before = request(proxy.port(), "GET", "/metrics");
    QCOMPARE(before.status, 200);
    QVERIFY(before.headers.value("content-type").startsWith("text/plain"));
    QVERIFY(before.body.contains("# TYPE understudy_requests_total counter\n"));
    QCOMPARE(metric(before.body, "understudy_requests_total"), 0.0);

    QCOMPARE(postMessages(proxy.port()).status, 200);
    QCOMPARE(metric(request(proxy.port(), "GET", "/metrics").body, "understudy_requests_total"), 1.0);

    primary.setDefault(errorReply(529, overloaded()));
    QCOMPARE(postMessages(proxy.port()).headers.value("x-understudy-provider"), QByteArray("fallback1"));
    const QByteArray after = request(proxy.port(), "GET", "/metrics").body;
    QCOMPARE(metric(after, "understudy_requests_total"), 2.0);
    QCOMPARE(metric(after, "understudy_failovers_total"), 1.0);
    QCOMPARE(metric(after, R"(understudy_target_failures_total{target="primary/claude-test"})"), 1.0);
    QCOMPARE(metric(after, R"(understudy_target_served_total{target="fallback1/fallback1-model"})"), 1.0);
    QCOMPARE(metric(after, R"(understudy_target_cooling{target="primary/claude-test"})"), 1.0);
}

void TestFrontDoor::models_listActiveChainModels() {
    MockUpstream primary;
    const QStringList providers{providerJson(QStringLiteral("primary"), primary.baseUrl()),
                                providerJson(QStringLiteral("other"), primary.baseUrl())};
    const QString chains = QStringLiteral(R"("main": {"steps": [{"provider": "primary"},
            {"provider": "other", "model": "glm-5"},
            {"provider": "other", "model": {"claude-*haiku*": "small-model", "*": "big-model"}},
            {"provider": "primary", "model": "glm-5"}]},
        "unused": {"steps": [{"provider": "other", "model": "not-in-active-chain"}]})");
    ProxyUnderTest proxy(configJson(providers, chains));
    const ClientResponse r = request(proxy.port(), "GET", "/v1/models");
    QCOMPARE(r.status, 200);
    QStringList ids;
    for (const QJsonValue& model : jsonOf(r.body).value("data").toArray())
        ids.append(model.toObject().value("id").toString());
    // In chain order, each once; a step that keeps the requested model names none.
    QCOMPARE(ids, QStringList({"glm-5", "small-model", "big-model"}));
    QCOMPARE(primary.hits(), 0);

    // A /chains/<id> prefix lists that chain's models; an unknown chain is a 404 naming the real ones.
    const ClientResponse unused = request(proxy.port(), "GET", "/chains/unused/v1/models");
    QCOMPARE(unused.status, 200);
    QCOMPARE(jsonOf(unused.body).value("data").toArray().first().toObject().value("id").toString(),
             QStringLiteral("not-in-active-chain"));
    const ClientResponse nope = request(proxy.port(), "GET", "/chains/nope/v1/models");
    QCOMPARE(nope.status, 404);
    QVERIFY(jsonOf(nope.body).value("error").toObject().value("message").toString().contains("main, unused"));
}

// ------------------------------------------------------------------------------------------------ credentials

void TestFrontDoor::clientAuth_forwardsClientCredentialUnchanged() {
    MockUpstream primary;
    ProxyUnderTest proxy(singleConfig(primary.baseUrl()));

    QCOMPARE(postMessages(proxy.port()).status, 200);
    const http::Request& withKey = primary.requests().at(0);
    QCOMPARE(withKey.headers.value("x-api-key"), QByteArray(kClientKey));
    QVERIFY(!withKey.headers.contains("authorization"));

    http::Headers bearer;
    bearer.set("Authorization", QByteArray("Bearer ") + kClientToken);  // ANTHROPIC_AUTH_TOKEN, subscription logins
    bearer.set("anthropic-version", "2023-06-01");
    QCOMPARE(postMessages(proxy.port(), "/v1/messages", bearer).status, 200);
    const http::Request& withToken = primary.requests().at(1);
    QCOMPARE(withToken.headers.value("authorization"), QByteArray("Bearer ") + kClientToken);
    QVERIFY(!withToken.headers.contains("x-api-key"));
}

void TestFrontDoor::keyAuth_anthropicFallback_getsStoredKeyNeverClients() {
    MockUpstream primary, fallback;
    primary.setDefault(errorReply(529, overloaded()));
    ProxyUnderTest proxy(failoverConfig(primary.baseUrl(), fallback.baseUrl(),
                                        QStringLiteral(R"("apiKey": "env:%1")").arg(kKeyVariable)));
    http::Headers both = clientHeaders();  // a client with both credentials set sends both
    both.set("Authorization", QByteArray("Bearer ") + kClientToken);
    QCOMPARE(postMessages(proxy.port(), "/v1/messages", both).headers.value("x-understudy-provider"), QByteArray("fallback1"));

    QCOMPARE(primary.requests().first().headers.value("x-api-key"), QByteArray(kClientKey));
    const http::Request& received = fallback.requests().first();
    QCOMPARE(received.headers.value("x-api-key"), QByteArray(kStoredKey));
    QVERIFY(!received.headers.contains("authorization"));
    QVERIFY(!carries(received, kClientKey));
    QVERIFY(!carries(received, kClientToken));
}

void TestFrontDoor::keyAuth_openAIChatFallback_getsStoredBearerNeverClients() {
    MockUpstream primary, fallback;
    primary.setDefault(errorReply(529, R"({"error":{"message":"overloaded","type":"server_error"}})"));
    fallback.setDefault(openAIChat(QStringLiteral("from fallback")));
    ProxyUnderTest proxy(failoverConfig(primary.baseUrl("/v1"), fallback.baseUrl("/v1"),
                                        QStringLiteral(R"("apiKey": "env:%1")").arg(kKeyVariable), QStringLiteral("openai-chat")));
    http::Headers both;
    both.set("Authorization", QByteArray("Bearer ") + kClientToken);
    both.set("x-api-key", kClientKey);
    const ClientResponse r = request(proxy.port(), "POST", "/v1/chat/completions", chatBody(QStringLiteral("gpt-test"), false), both);
    QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("fallback1"));

    QCOMPARE(primary.requests().first().headers.value("authorization"), QByteArray("Bearer ") + kClientToken);
    const http::Request& received = fallback.requests().first();
    QCOMPARE(received.headers.value("authorization"), QByteArray("Bearer ") + kStoredKey);
    QVERIFY(!received.headers.contains("x-api-key"));
    QVERIFY(!carries(received, kClientKey));
    QVERIFY(!carries(received, kClientToken));
}

void TestFrontDoor::noneAuth_sendsNoCredential() {
    MockUpstream primary, fallback;
    primary.setDefault(errorReply(529, overloaded()));
    ProxyUnderTest proxy(failoverConfig(primary.baseUrl(), fallback.baseUrl(), QStringLiteral(R"("auth": "none")")));
    http::Headers both = clientHeaders();
    both.set("Authorization", QByteArray("Bearer ") + kClientToken);
    QCOMPARE(postMessages(proxy.port(), "/v1/messages", both).headers.value("x-understudy-provider"), QByteArray("fallback1"));
    const http::Request& received = fallback.requests().first();
    QVERIFY(!received.headers.contains("x-api-key"));
    QVERIFY(!received.headers.contains("authorization"));
    QVERIFY(!carries(received, kClientKey));
    QVERIFY(!carries(received, kClientToken));
    QVERIFY(!carries(received, kStoredKey));
}

void TestFrontDoor::unsetKeyVariable_skippedWithReason_noSecretInEvents() {
    MockUpstream unkeyed, keyed;
    const QStringList providers{
        providerJson(QStringLiteral("unkeyed"), unkeyed.baseUrl(), QStringLiteral(R"("apiKey": "env:%1")").arg(kUnsetVariable)),
        providerJson(QStringLiteral("keyed"), keyed.baseUrl(), QStringLiteral(R"("apiKey": "env:%1")").arg(kKeyVariable))};
    const QString chains = QStringLiteral(R"("main": {"steps": [{"provider": "unkeyed"}, {"provider": "keyed"}]},
                                             "alone": {"steps": [{"provider": "unkeyed"}]})");
    ProxyUnderTest proxy(configJson(providers, chains));

    // With nothing else to try, the error names the variable to set.
    const ClientResponse alone = postMessages(proxy.port(), "/chains/alone/v1/messages");
    QCOMPARE(alone.status, 503);
    const QString message = anthropicMessageOf(alone);
    QVERIFY2(message.contains(kUnsetVariable) && message.contains("not set"), qPrintable(message));

    // With a next step, the request is served there and the skip is on record.
    const ClientResponse served = postMessages(proxy.port());
    QCOMPARE(served.status, 200);
    QCOMPARE(served.headers.value("x-understudy-provider"), QByteArray("keyed"));
    QCOMPARE(unkeyed.hits(), 0);
    QCOMPARE(keyed.requests().first().headers.value("x-api-key"), QByteArray(kStoredKey));

    QVERIFY(proxy.waitForEvents("request", 2));
    const QJsonArray attempts = proxy.events("request").last().fields.value(u"attempts").toArray();
    QCOMPARE(attempts.first().toObject().value("target").toString(), "unkeyed/claude-test");
    QVERIFY(attempts.first().toObject().value("outcome").toString().contains(kUnsetVariable));
    const QByteArray events = proxy.allEventText();
    QVERIFY(!events.contains(kStoredKey));
    QVERIFY(!events.contains(kClientKey));
}

// ------------------------------------------------------------------------------------------- what is forwarded

void TestFrontDoor::anthropicHeadersForwarded_encodingIdentity_queryKept() {
    MockUpstream primary;
    ProxyUnderTest proxy(singleConfig(primary.baseUrl()));
    http::Headers h = clientHeaders();
    h.set("anthropic-beta", "claude-code-20250219,interleaved-thinking-2025-05-14");
    h.set("Accept-Encoding", "gzip, deflate, br, zstd");
    QCOMPARE(postMessages(proxy.port(), "/v1/messages?beta=true", h).status, 200);

    const http::Request& received = primary.requests().first();
    QCOMPARE(received.path, QByteArray("/v1/messages"));
    QCOMPARE(received.query, QByteArray("beta=true"));
    QCOMPARE(received.headers.value("anthropic-version"), QByteArray("2023-06-01"));
    QCOMPARE(received.headers.value("anthropic-beta"), QByteArray("claude-code-20250219,interleaved-thinking-2025-05-14"));
    // The proxy reads streams to find the commit point: it asks for bytes it can read, once.
    int encodings = 0;
    for (const http::Header& field : received.headers.fields())
        encodings += field.name.compare("accept-encoding", Qt::CaseInsensitive) == 0;
    QCOMPARE(encodings, 1);
    QCOMPARE(received.headers.value("accept-encoding"), QByteArray("identity"));
}

void TestFrontDoor::countTokens_forwardedUnderBaseUrlPath() {
    MockUpstream primary;
    MockReply tokens;
    tokens.headers.set("Content-Type", "application/json");
    tokens.body = R"({"input_tokens":42})";
    primary.setDefault(tokens);
    // A base URL with a path, as z.ai's https://api.z.ai/api/anthropic.
    ProxyUnderTest proxy(singleConfig(primary.baseUrl(QStringLiteral("/api/anthropic"))));
    const ClientResponse r = request(proxy.port(), "POST", "/v1/messages/count_tokens?beta=true",
                                     R"({"model":"claude-test","messages":[{"role":"user","content":"hi"}]})", clientHeaders());
    QCOMPARE(r.status, 200);
    QCOMPARE(jsonOf(r.body).value("input_tokens").toInt(), 42);
    QCOMPARE(primary.requests().first().path, QByteArray("/api/anthropic/v1/messages/count_tokens"));
    QCOMPARE(primary.requests().first().query, QByteArray("beta=true"));
}

// ---------------------------------------------------------------------------------------------- chain choice

void TestFrontDoor::chainPrefix_selectsThatChain() {
    MockUpstream a, b;
    const QStringList providers{providerJson(QStringLiteral("a"), a.baseUrl()), providerJson(QStringLiteral("b"), b.baseUrl())};
    const QString chains = QStringLiteral(R"("main": {"steps": [{"provider": "a"}]}, "other": {"steps": [{"provider": "b"}]})");
    ProxyUnderTest proxy(configJson(providers, chains, QStringLiteral("main"), QStringLiteral(R"("clients": {"claude-code": "main"})")));

    const ClientResponse r = postMessages(proxy.port(), "/chains/other/v1/messages?beta=true");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.headers.value("x-understudy-chain"), QByteArray("other"));
    QCOMPARE(b.hits(), 1);
    QCOMPARE(b.requests().first().path, QByteArray("/v1/messages"));  // the prefix is the proxy's, not the provider's
    QCOMPARE(b.requests().first().query, QByteArray("beta=true"));

    // The path is an explicit choice: it wins over the detected client.
    http::Headers claude = clientHeaders();
    claude.set("User-Agent", "claude-cli/2.1.197 (external, sdk-cli)");
    QCOMPARE(postMessages(proxy.port(), "/chains/other/v1/messages", claude).headers.value("x-understudy-chain"), QByteArray("other"));
    QCOMPARE(b.hits(), 2);
    QCOMPARE(a.hits(), 0);
}

void TestFrontDoor::claudeCodeUserAgent_selectsClientChain() {
    MockUpstream a, c;
    const QStringList providers{providerJson(QStringLiteral("a"), a.baseUrl()), providerJson(QStringLiteral("c"), c.baseUrl())};
    const QString chains = QStringLiteral(R"("main": {"steps": [{"provider": "a"}]}, "cc": {"steps": [{"provider": "c"}]})");
    ProxyUnderTest proxy(configJson(providers, chains, QStringLiteral("main"), QStringLiteral(R"("clients": {"claude-code": "cc"})")));

    http::Headers claude = clientHeaders();
    claude.set("User-Agent", "claude-cli/2.1.197 (external, sdk-cli)");
    const ClientResponse r = postMessages(proxy.port(), "/v1/messages", claude);
    QCOMPARE(r.headers.value("x-understudy-chain"), QByteArray("cc"));
    QCOMPARE(c.hits(), 1);

    http::Headers sdk = clientHeaders();
    sdk.set("User-Agent", "Anthropic/JS 0.94.0");
    QCOMPARE(postMessages(proxy.port(), "/v1/messages", sdk).headers.value("x-understudy-chain"), QByteArray("main"));
    QCOMPARE(a.hits(), 1);
    QCOMPARE(c.hits(), 1);
}

void TestFrontDoor::unknownChainPrefix_404NamesAvailableChains() {
    MockUpstream a;
    const QStringList providers{providerJson(QStringLiteral("a"), a.baseUrl())};
    const QString chains = QStringLiteral(R"("main": {"steps": [{"provider": "a"}]}, "other": {"steps": [{"provider": "a"}]})");
    ProxyUnderTest proxy(configJson(providers, chains));
    const ClientResponse r = postMessages(proxy.port(), "/chains/nope/v1/messages");
    QCOMPARE(r.status, 404);
    const QString message = anthropicMessageOf(r);
    QVERIFY2(message.contains("'nope'") && message.contains("main") && message.contains("other"), qPrintable(message));
    QCOMPARE(a.hits(), 0);
}

// ---------------------------------------------------------------------------------------- a real client request

void TestFrontDoor::claudeCodeRequest_keptModel_bodyByteIdentical() {
    const CapturedRequest captured = claudeCodeRequest();
    QVERIFY2(!captured.body.isEmpty(), "tests/data/fixtures/claude_code.messages.stream.json is missing");
    MockUpstream primary;
    primary.setDefault(anthropicStream({QStringLiteral("hi")}, QStringLiteral("claude-opus-4-8")));
    ProxyUnderTest proxy(singleConfig(primary.baseUrl()));

    const ClientResponse r = request(proxy.port(), "POST", captured.target, captured.body, captured.headers);
    QCOMPARE(r.status, 200);
    QVERIFY(r.body.contains("event: message_stop"));
    const http::Request& received = primary.requests().first();
    QCOMPARE(received.body.size(), captured.body.size());
    QVERIFY(received.body == captured.body);
    QCOMPARE(received.query, QByteArray("beta=true"));
    // Every end-to-end header arrives as sent (hop-by-hop ones and Accept-Encoding are the proxy's to set).
    for (const http::Header& h : captured.headers.fields()) {
        const bool proxyOwned = h.name.compare("Connection", Qt::CaseInsensitive) == 0
                             || h.name.compare("Accept-Encoding", Qt::CaseInsensitive) == 0;
        if (!proxyOwned)
            QVERIFY2(received.headers.value(h.name) == h.value, h.name.constData());
    }
}

void TestFrontDoor::claudeCodeRequest_mappedModel_onlyModelChanges() {
    const CapturedRequest captured = claudeCodeRequest();
    QVERIFY2(!captured.body.isEmpty(), "tests/data/fixtures/claude_code.messages.stream.json is missing");
    MockUpstream primary, glm;
    glm.setDefault(anthropicStream({QStringLiteral("hi")}, QStringLiteral("glm-5")));
    const QStringList providers{providerJson(QStringLiteral("primary"), primary.baseUrl()),
                                providerJson(QStringLiteral("zai"), glm.baseUrl(), QStringLiteral(R"("apiKey": "env:%1")").arg(kKeyVariable))};
    const QString chains = QStringLiteral(R"("main": {"steps": [{"provider": "primary"}]},
                                             "glm": {"steps": [{"provider": "zai", "model": "glm-5"}]})");
    ProxyUnderTest proxy(configJson(providers, chains, QStringLiteral("main"), QStringLiteral(R"("clients": {"claude-code": "glm"})")));

    const ClientResponse r = request(proxy.port(), "POST", captured.target, captured.body, captured.headers);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.headers.value("x-understudy-model"), QByteArray("glm-5"));
    QVERIFY(r.body.contains("event: message_stop"));
    QCOMPARE(primary.hits(), 0);
    QJsonObject sent = jsonOf(glm.requests().first().body);
    QJsonObject original = jsonOf(captured.body);
    QVERIFY(!sent.isEmpty());
    QCOMPARE(sent.value("model").toString(), "glm-5");
    QCOMPARE(original.value("model").toString(), "claude-opus-4-8");
    sent.remove("model");
    original.remove("model");
    QCOMPARE(sent.keys(), original.keys());
    QVERIFY(sent == original);
}

// -------------------------------------------------------------------------------------------------- reloads

void TestFrontDoor::reload_inFlightStreamCompletes_newRequestUsesNewConfig() {
    MockUpstream a, b;
    a.setDefault(slowStream());
    b.setDefault(anthropicMessage(QStringLiteral("from b")));
    const QStringList providers{providerJson(QStringLiteral("a"), a.baseUrl()), providerJson(QStringLiteral("b"), b.baseUrl())};
    ProxyUnderTest proxy(configJson(providers, twoStepChain("a", "b")));

    TestClient stream(proxy.port());
    http::Headers h = clientHeaders();
    h.set("Content-Type", "application/json");
    stream.send("POST", "/v1/messages", h, messagesBody(QStringLiteral("claude-test"), true));
    QVERIFY(QTest::qWaitFor([&] { return !stream.response().body.isEmpty(); }, 3000));  // committed and streaming

    proxy.reload(configJson(providers, twoStepChain("b", "a")));
    const ClientResponse next = postMessages(proxy.port());
    QCOMPARE(next.headers.value("x-understudy-provider"), QByteArray("b"));
    QVERIFY(!stream.isDone());  // the reload really happened mid-stream

    QVERIFY(stream.waitDone(5000));
    const ClientResponse& r = stream.response();
    QCOMPARE(r.status, 200);
    QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("a"));
    QVERIFY(r.complete);
    QVERIFY(r.body.contains("event: message_stop"));
    QVERIFY(!r.body.contains("event: error"));
    QCOMPARE(a.hits(), 1);
}

void TestFrontDoor::reloadThatRelistens_inFlightStreamCompletes() {
    MockUpstream a;
    a.setDefault(slowStream());
    const QStringList providers{providerJson(QStringLiteral("a"), a.baseUrl())};
    const QString chains = QStringLiteral(R"("main": {"steps": [{"provider": "a"}]})");
    ProxyUnderTest proxy(configJson(providers, chains));

    TestClient stream(proxy.port());
    http::Headers h = clientHeaders();
    h.set("Content-Type", "application/json");
    stream.send("POST", "/v1/messages", h, messagesBody(QStringLiteral("claude-test"), true));
    QVERIFY(QTest::qWaitFor([&] { return !stream.response().body.isEmpty(); }, 3000));

    // A new listen setting makes the proxy open a new listening socket; the old one's connections must live on.
    proxy.reload(configJson(providers, chains, QStringLiteral("main"), {}, 5000));
    QVERIFY(stillServing(proxy.port()));
    QVERIFY(!stream.isDone());

    QVERIFY(stream.waitDone(5000));
    const ClientResponse& r = stream.response();
    QCOMPARE(r.status, 200);
    QVERIFY(r.complete);
    QVERIFY(r.body.contains("event: message_stop"));
}

QTEST_GUILESS_MAIN(TestFrontDoor)
#include "tst_front_door.moc"
