// Who gets in and what the proxy holds on to (issue 10, docs/security.md): the local access token, the
// connection cap, backpressure for a slow-reading client, and refusals of oversize and slow requests while another
// client is being served. Real proxy, real HTTP over loopback, mock upstreams.
#include "support/MockUpstream.h"
#include "support/ProxyUnderTest.h"
#include "support/TestClient.h"

#include "http/ResponseParser.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QEventLoop>
#include <QTcpSocket>
#include <QTimer>
#include <QtTest>

#ifdef Q_OS_UNIX
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

using namespace understudy;
using namespace understudy::test;

class TestRobustness : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void token_missing_401InEachDialect_namesWhereToFindIt();
    void token_wrong_401_neverEchoed();
    void token_inHeader_served_neverForwarded();
    void token_inPathPrefix_served_prefixRemoved();
    void token_asClientApiKey_served_neverForwarded();
    void token_clientsOwnKeyNotTheToken_stillRefused_keptForUpstream();
    void token_healthzOpen_statusClosed();
    void token_unreadable_refusesEverything();
    void token_nonLoopbackListenWithoutToken_isConfigError();

    void connectionCap_extraConnectionGets503_othersKeepServing();
    void slowReader_upstreamPaused_outputBounded_streamCompletesWhenRead();
    void oversizeAndSlowRequests_refused_whileAnotherClientIsServed();
};

namespace {

// Obviously fake values: a test that leaks one leaks nothing of value.
constexpr char kTokenVariable[] = "UNDERSTUDY_TEST_ACCESS_TOKEN";
constexpr char kToken[] = "test-access-token-000";
constexpr char kClientKey[] = "test-client-key-000";
constexpr char kStoredKeyVariable[] = "UNDERSTUDY_TEST_STORED_KEY";
constexpr char kStoredKey[] = "test-stored-key-000";

QByteArray configJson(const QString& providers, const QString& listenExtra = {}) {
    return QStringLiteral(R"({"version": 1,
        "listen": {"host": "127.0.0.1", "port": 8790, "requestReadTimeoutMs": 300 %1},
        "providers": {%2},
        "chains": {"main": {"steps": [{"provider": "primary"}]}}, "activeChain": "main",
        "failover": {"retriesBeforeFailover": 0, "maxRetryAfterWaitMs": 0, "connectTimeoutMs": 2000,
                     "firstTokenTimeoutMs": 5000, "firstTokenTimeoutPer100kTokensMs": 0, "streamIdleTimeoutMs": 5000,
                     "totalBudgetMs": 120000, "primaryRecoveryCheckIntervalMs": 60000}})")
        .arg(listenExtra.isEmpty() ? QString() : QStringLiteral(", ") + listenExtra, providers)
        .toUtf8();
}

QString provider(const QString& url, const QString& auth = QStringLiteral(R"("auth": "client")"),
                 const QString& type = QStringLiteral("anthropic")) {
    return QStringLiteral(R"("primary": {"type": "%1", "baseUrl": "%2", %3})").arg(type, url, auth);
}

QByteArray tokenConfig(const QString& url, const QString& auth = QStringLiteral(R"("auth": "client")"),
                       const QString& type = QStringLiteral("anthropic")) {
    return configJson(provider(url, auth, type), QStringLiteral(R"("accessToken": "env:%1")").arg(kTokenVariable));
}

QJsonObject jsonOf(const QByteArray& body) { return QJsonDocument::fromJson(body).object(); }

QString errorMessage(const ClientResponse& r) {
    return jsonOf(r.body).value("error").toObject().value("message").toString();
}

http::Headers anthropicHeaders() {
    http::Headers h;
    h.set("x-api-key", kClientKey);
    h.set("anthropic-version", "2023-06-01");
    return h;
}

ClientResponse postMessages(quint16 port, http::Headers headers = anthropicHeaders(), const QByteArray& target = "/v1/messages") {
    return request(port, "POST", target, messagesBody(QStringLiteral("claude-test"), false), std::move(headers));
}

// Whether any header value or the body of what an upstream received carries `secret`.
bool carries(const http::Request& received, const QByteArray& secret) {
    for (const http::Header& h : received.headers.fields()) {
        if (h.value.contains(secret) || h.name.contains(secret))
            return true;
    }
    return received.body.contains(secret) || received.target.contains(secret);
}

// The value of an unlabelled Prometheus sample, or -1.
double metric(quint16 port, const QByteArray& sample, http::Headers headers = {}) {
    const ClientResponse r = request(port, "GET", "/metrics", {}, std::move(headers));
    for (const QByteArray& line : r.body.split('\n')) {
        if (line.startsWith(sample + ' '))
            return line.mid(sample.size() + 1).toDouble();
    }
    return -1;
}

// A client connection driven by hand: kept open across requests, written in pieces, read when the test says.
class RawConnection {
public:
    explicit RawConnection(quint16 port) {
        m_socket.connectToHost(QHostAddress::LocalHost, port);
        m_socket.waitForConnected(3000);
    }
    // Adopts a socket the test connected itself (e.g. with a small receive buffer).
    explicit RawConnection(qintptr descriptor, qint64 readBufferSize) {
        m_socket.setSocketDescriptor(descriptor);
        m_socket.setReadBufferSize(readBufferSize);
    }
    void write(const QByteArray& bytes) {
        m_socket.write(bytes);
        m_socket.flush();
    }
    // The next response (status 0 if none arrived whole in time). Waits on the event loop, never blocking it:
    // mock upstreams live on this thread.
    // An event loop rather than QTest::qWaitFor, which sleeps 10 ms between polls: megabytes of stream through a
    // small window would take minutes.
    ClientResponse next(int timeoutMs = 5000) {
        ClientResponse response;
        m_parser.reset();
        QEventLoop loop;
        const auto consume = [&] {
            m_buffer.append(m_socket.readAll());
            QByteArray body;
            const auto status = m_parser.parse(m_buffer, body);
            response.body.append(body);
            if (status == http::ResponseParser::Status::Complete) {
                response.status = m_parser.head().status;
                response.headers = m_parser.head().headers;
                response.complete = true;
            }
            if (status != http::ResponseParser::Status::NeedMore || m_socket.state() != QAbstractSocket::ConnectedState)
                loop.quit();
        };
        const QMetaObject::Connection reading = QObject::connect(&m_socket, &QTcpSocket::readyRead, &loop, consume);
        const QMetaObject::Connection closing = QObject::connect(&m_socket, &QTcpSocket::disconnected, &loop, consume);
        QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
        QTimer::singleShot(0, &loop, consume);
        loop.exec();
        QObject::disconnect(reading);
        QObject::disconnect(closing);
        return response;
    }
    // From now on, read as fast as the data comes.
    void readFreely() { m_socket.setReadBufferSize(0); }
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

QByteArray rawRequest(const QByteArray& requestLine, const QByteArray& fields = {}, const QByteArray& body = {}) {
    return requestLine + "\r\nHost: 127.0.0.1\r\n" + fields + "\r\n" + body;
}

#ifdef Q_OS_UNIX
// A connection whose receive window stays small, as a client on a slow link has: the kernel cannot soak up what
// the proxy sends, so whatever the client does not read stays in the proxy unless the proxy stops reading.
qintptr connectWithSmallWindow(quint16 port, int windowBytes) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &windowBytes, sizeof windowBytes);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}
#endif

}  // namespace

void TestRobustness::initTestCase() {
    qputenv(kTokenVariable, kToken);
    qputenv(kStoredKeyVariable, kStoredKey);
}

// ---------------------------------------------------------------------------------------------- access token

void TestRobustness::token_missing_401InEachDialect_namesWhereToFindIt() {
    MockUpstream primary;
    ProxyUnderTest proxy(tokenConfig(primary.baseUrl()));
    QVERIFY(proxy.isListening());

    const ClientResponse anthropic = postMessages(proxy.port());
    QCOMPARE(anthropic.status, 401);
    QCOMPARE(jsonOf(anthropic.body).value("type").toString(), "error");
    QCOMPARE(jsonOf(anthropic.body).value("error").toObject().value("type").toString(), "authentication_error");
    QVERIFY2(errorMessage(anthropic).contains("understudy token"), anthropic.body.constData());
    QVERIFY2(errorMessage(anthropic).contains("x-understudy-token"), anthropic.body.constData());

    for (const QByteArray path : {QByteArray("/v1/chat/completions"), QByteArray("/v1/responses")}) {
        const QByteArray body = path.endsWith("completions") ? chatBody(QStringLiteral("gpt-test"), false)
                                                             : QByteArray(R"({"model":"gpt-test","input":"hi"})");
        const ClientResponse openAI = request(proxy.port(), "POST", path, body);
        QCOMPARE(openAI.status, 401);
        const QJsonObject object = jsonOf(openAI.body);
        QVERIFY2(!object.contains("type"), openAI.body.constData());  // OpenAI's shape: only "error" at the top
        QVERIFY2(errorMessage(openAI).contains("understudy token"), openAI.body.constData());
    }
    QCOMPARE(primary.hits(), 0);
}

void TestRobustness::token_wrong_401_neverEchoed() {
    MockUpstream primary;
    ProxyUnderTest proxy(tokenConfig(primary.baseUrl()));
    const QByteArray wrong = "test-wrong-token-999";
    http::Headers headers = anthropicHeaders();
    headers.set("x-understudy-token", wrong);
    const ClientResponse byHeader = postMessages(proxy.port(), headers);
    QCOMPARE(byHeader.status, 401);
    QVERIFY2(errorMessage(byHeader).contains("wrong"), byHeader.body.constData());
    QVERIFY(!byHeader.body.contains(wrong));

    const ClientResponse byPath = postMessages(proxy.port(), anthropicHeaders(), "/t/" + wrong + "/v1/messages");
    QCOMPARE(byPath.status, 401);
    QVERIFY(!byPath.body.contains(wrong));
    // A prefix of the right token is not the token.
    const ClientResponse prefix = postMessages(proxy.port(), anthropicHeaders(), "/t/" + QByteArray(kToken).chopped(1) + "/v1/messages");
    QCOMPARE(prefix.status, 401);
    QCOMPARE(primary.hits(), 0);
    QVERIFY(!proxy.allEventText().contains(wrong));
}

void TestRobustness::token_inHeader_served_neverForwarded() {
    MockUpstream primary;
    ProxyUnderTest proxy(tokenConfig(primary.baseUrl()));
    http::Headers headers = anthropicHeaders();
    headers.set("X-Understudy-Token", kToken);
    const ClientResponse r = postMessages(proxy.port(), headers);
    QCOMPARE(r.status, 200);
    QCOMPARE(primary.hits(), 1);
    const http::Request& received = primary.requests().first();
    QVERIFY(!carries(received, kToken));
    QVERIFY(!received.headers.contains("x-understudy-token"));
    QCOMPARE(received.headers.value("x-api-key"), QByteArray(kClientKey));  // auth: client still gets the client's key
    QVERIFY(!proxy.allEventText().contains(kToken));
}

void TestRobustness::token_inPathPrefix_served_prefixRemoved() {
    MockUpstream primary;
    ProxyUnderTest proxy(tokenConfig(primary.baseUrl()));
    const ClientResponse r = postMessages(proxy.port(), anthropicHeaders(), QByteArray("/t/") + kToken + "/v1/messages?beta=true");
    QCOMPARE(r.status, 200);
    QCOMPARE(primary.hits(), 1);
    QCOMPARE(primary.requests().first().target, QByteArray("/v1/messages?beta=true"));
    QVERIFY(!carries(primary.requests().first(), kToken));
    // Local endpoints take the prefix too, so one base URL serves everything.
    QCOMPARE(request(proxy.port(), "GET", QByteArray("/t/") + kToken + "/v1/models").status, 200);
    QVERIFY(!proxy.allEventText().contains(kToken));
}

void TestRobustness::token_asClientApiKey_served_neverForwarded() {
    MockUpstream anthropic;
    ProxyUnderTest anthropicProxy(tokenConfig(anthropic.baseUrl(), QStringLiteral(R"("apiKey": "env:%1")").arg(kStoredKeyVariable)));
    http::Headers headers;
    headers.set("x-api-key", kToken);
    headers.set("anthropic-version", "2023-06-01");
    QCOMPARE(postMessages(anthropicProxy.port(), headers).status, 200);
    QCOMPARE(anthropic.hits(), 1);
    QVERIFY(!carries(anthropic.requests().first(), kToken));
    QCOMPARE(anthropic.requests().first().headers.value("x-api-key"), QByteArray(kStoredKey));

    // Codex and the OpenAI SDKs send their key as a bearer token.
    MockUpstream openAI;
    ProxyUnderTest openAIProxy(tokenConfig(openAI.baseUrl(QStringLiteral("/v1")),
                                           QStringLiteral(R"("apiKey": "env:%1")").arg(kStoredKeyVariable),
                                           QStringLiteral("openai-chat")));
    openAI.setDefault(openAIChat(QStringLiteral("hi")));
    http::Headers bearer;
    bearer.set("Authorization", QByteArray("Bearer ") + kToken);
    QCOMPARE(request(openAIProxy.port(), "POST", "/v1/chat/completions", chatBody(QStringLiteral("gpt-test"), false), bearer).status, 200);
    QCOMPARE(openAI.hits(), 1);
    QVERIFY(!carries(openAI.requests().first(), kToken));
    QCOMPARE(openAI.requests().first().headers.value("authorization"), QByteArray("Bearer ") + kStoredKey);
}

void TestRobustness::token_clientsOwnKeyNotTheToken_stillRefused_keptForUpstream() {
    MockUpstream primary;
    ProxyUnderTest proxy(tokenConfig(primary.baseUrl()));
    // The client's own key is not the token: refused, and the message does not echo the key.
    const ClientResponse refused = postMessages(proxy.port());
    QCOMPARE(refused.status, 401);
    QVERIFY(!refused.body.contains(kClientKey));
    // With the token in the path, the client's own key goes on to the auth: client upstream unchanged.
    QCOMPARE(postMessages(proxy.port(), anthropicHeaders(), QByteArray("/t/") + kToken + "/v1/messages").status, 200);
    QCOMPARE(primary.requests().first().headers.value("x-api-key"), QByteArray(kClientKey));
}

void TestRobustness::token_healthzOpen_statusClosed() {
    MockUpstream primary;
    ProxyUnderTest proxy(tokenConfig(primary.baseUrl()));
    QCOMPARE(request(proxy.port(), "GET", "/healthz").status, 200);
    QCOMPARE(request(proxy.port(), "GET", "/status").status, 401);  // names chains and providers
    QCOMPARE(request(proxy.port(), "GET", "/metrics").status, 401);
    http::Headers headers;
    headers.set("x-understudy-token", kToken);
    QCOMPARE(request(proxy.port(), "GET", "/status", {}, headers).status, 200);
}

void TestRobustness::token_unreadable_refusesEverything() {
    qunsetenv("UNDERSTUDY_TEST_UNSET_TOKEN");
    MockUpstream primary;
    ProxyUnderTest proxy(configJson(provider(primary.baseUrl()), QStringLiteral(R"("accessToken": "env:UNDERSTUDY_TEST_UNSET_TOKEN")")));
    QVERIFY(proxy.isListening());
    http::Headers headers = anthropicHeaders();
    headers.set("x-understudy-token", kToken);
    const ClientResponse r = postMessages(proxy.port(), headers);
    QCOMPARE(r.status, 503);  // fail closed: a token that cannot be read lets nobody in
    QVERIFY2(errorMessage(r).contains("UNDERSTUDY_TEST_UNSET_TOKEN"), r.body.constData());
    QCOMPARE(primary.hits(), 0);
    QCOMPARE(request(proxy.port(), "GET", "/healthz").status, 200);
}

void TestRobustness::token_nonLoopbackListenWithoutToken_isConfigError() {
    const auto listenProblems = [](const QString& listen) {
        const QByteArray json = QStringLiteral(R"({"version": 1, "listen": {%1},
            "providers": {"a": {"type": "anthropic", "baseUrl": "https://api.anthropic.com", "auth": "client"}},
            "chains": {"main": {"steps": [{"provider": "a"}]}}, "activeChain": "main"})").arg(listen).toUtf8();
        QStringList found;
        for (const ConfigProblem& p : parseConfig(json).problems)
            found.append(p.path + QStringLiteral(": ") + p.message);
        return found;
    };
    const QStringList exposed = listenProblems(QStringLiteral(R"("host": "0.0.0.0")"));
    QCOMPARE(exposed.size(), 1);
    QVERIFY2(exposed.first().startsWith("$.listen.host: "), qPrintable(exposed.first()));
    QVERIFY2(exposed.first().contains("accessToken"), qPrintable(exposed.first()));
    QVERIFY(!listenProblems(QStringLiteral(R"("host": "192.168.1.20")")).isEmpty());
    QVERIFY(listenProblems(QStringLiteral(R"("host": "0.0.0.0", "accessToken": "env:UNDERSTUDY_TOKEN")")).isEmpty());
    for (const char* loopback : {"127.0.0.1", "127.1.2.3", "localhost", "::1"})
        QVERIFY2(listenProblems(QStringLiteral(R"("host": "%1")").arg(QLatin1String(loopback))).isEmpty(), loopback);
    QVERIFY(!listenProblems(QStringLiteral(R"("host": "127.0.0.1", "accessToken": "hunter2")")).isEmpty());  // not a reference
}

// ---------------------------------------------------------------------------------------------- connections

void TestRobustness::connectionCap_extraConnectionGets503_othersKeepServing() {
    MockUpstream primary;
    ProxyUnderTest proxy(configJson(provider(primary.baseUrl()), QStringLiteral(R"("maxConnections": 3)")));
    std::vector<std::unique_ptr<RawConnection>> open;
    for (int i = 0; i < 3; ++i) {
        open.push_back(std::make_unique<RawConnection>(proxy.port()));
        open.back()->write(rawRequest("GET /healthz HTTP/1.1"));
        QCOMPARE(open.back()->next().status, 200);  // accepted, and kept alive
    }
    // The fourth gets an answer that says why, with its request sent (and drained) before the refusal is read.
    RawConnection extra(proxy.port());
    extra.write(rawRequest("POST /v1/messages HTTP/1.1", "Content-Type: application/json\r\nContent-Length: 1000\r\n",
                           QByteArray(1000, ' ')));
    const ClientResponse refused = extra.next();
    QCOMPARE(refused.status, 503);
    QCOMPARE(refused.headers.value("retry-after"), QByteArray("1"));
    QVERIFY2(errorMessage(refused).contains("maximum of 3 connections"), refused.body.constData());
    QVERIFY(extra.waitClosed(3000));
    QCOMPARE(primary.hits(), 0);

    for (auto& connection : open) {  // the three in use never noticed
        connection->write(rawRequest("POST /v1/messages HTTP/1.1",
                                     "Content-Type: application/json\r\nx-api-key: test-client-key-000\r\nContent-Length: "
                                         + QByteArray::number(messagesBody(QStringLiteral("claude-test"), false).size()) + "\r\n",
                                     messagesBody(QStringLiteral("claude-test"), false)));
        QCOMPARE(connection->next().status, 200);
    }
    // A slot freed is a slot for the next client.
    open.pop_back();
    QVERIFY(QTest::qWaitFor([&] { return request(proxy.port(), "GET", "/healthz", {}, {}, 2000).status == 200; }, 5000));
}

void TestRobustness::slowReader_upstreamPaused_outputBounded_streamCompletesWhenRead() {
#ifndef Q_OS_UNIX
    QSKIP("sets the client's receive window with POSIX sockets");
#else
    // 24 MiB of stream, far beyond what the kernel buffers between the proxy and a client with a 16 KiB window.
    constexpr int kDeltas = 3000;
    QStringList deltas;
    for (int i = 0; i < kDeltas; ++i)
        deltas.append(QString(8 * 1024, QLatin1Char('a' + i % 26)));
    MockUpstream primary;
    primary.setDefault(anthropicStream(deltas, QStringLiteral("claude-test")));
    ProxyUnderTest proxy(configJson(provider(primary.baseUrl())));

    const qintptr fd = connectWithSmallWindow(proxy.port(), 16 * 1024);
    QVERIFY(fd >= 0);
    RawConnection slow(fd, 16 * 1024);
    const QByteArray body = messagesBody(QStringLiteral("claude-test"), true);
    slow.write(rawRequest("POST /v1/messages HTTP/1.1",
                          "Content-Type: application/json\r\nx-api-key: test-client-key-000\r\nContent-Length: "
                              + QByteArray::number(body.size()) + "\r\n",
                          body));
    // The client reads nothing: the proxy must notice and stop reading the upstream.
    QVERIFY(QTest::qWaitFor([&] { return metric(proxy.port(), "understudy_client_congestions_total") >= 1; }, 30000));
    // Give an upstream that was not paused every chance to flood the proxy: 24 MiB cross loopback in well under this.
    QTest::qWait(1000);
    constexpr double kBound = (1 << 20) + (256 << 10);  // high-water mark + one upstream read, transcoded
    const double whilePaused = metric(proxy.port(), "understudy_client_output_peak_bytes");
    QVERIFY2(whilePaused > 0 && whilePaused <= kBound, qPrintable(QString::number(whilePaused)));

    slow.readFreely();
    const ClientResponse r = slow.next(60000);  // now the client reads everything
    QCOMPARE(r.status, 200);
    QVERIFY(r.complete);
    QCOMPARE(r.body.count("\"text_delta\""), kDeltas);
    QVERIFY(r.body.contains("message_stop"));
    const double peak = metric(proxy.port(), "understudy_client_output_peak_bytes");
    QVERIFY2(peak <= kBound, qPrintable(QString::number(peak)));
#endif
}

void TestRobustness::oversizeAndSlowRequests_refused_whileAnotherClientIsServed() {
    MockUpstream primary;
    MockReply stream = anthropicStream({QStringLiteral("one "), QStringLiteral("two "), QStringLiteral("three "),
                                        QStringLiteral("four "), QStringLiteral("five")},
                                       QStringLiteral("claude-test"));
    stream.chunkDelayMs = 200;  // still streaming while the refusals below happen
    primary.setDefault(stream);
    ProxyUnderTest proxy(configJson(provider(primary.baseUrl())));

    TestClient served(proxy.port());
    http::Headers headers = anthropicHeaders();
    headers.set("Content-Type", "application/json");
    served.send("POST", "/v1/messages", headers, messagesBody(QStringLiteral("claude-test"), true));
    QVERIFY(QTest::qWaitFor([&] { return primary.hits() == 1; }, 5000));

    // Oversize head: 431.
    RawConnection bigHead(proxy.port());
    bigHead.write(rawRequest("GET /healthz HTTP/1.1", "X-Padding: " + QByteArray(66 * 1024, 'a') + "\r\n"));
    QCOMPARE(bigHead.next().status, 431);
    // Oversize body, and the client goes on sending it: the 413 still arrives whole (lingering close, no reset).
    RawConnection bigBody(proxy.port());
    bigBody.write(rawRequest("POST /v1/messages HTTP/1.1", "Content-Type: application/json\r\nContent-Length: 40000000\r\n",
                             QByteArray(2 * 1024 * 1024, ' ')));
    const ClientResponse tooLarge = bigBody.next();
    QCOMPARE(tooLarge.status, 413);
    QVERIFY(tooLarge.complete);
    // Slowloris: half a request, then nothing: 408 after listen.requestReadTimeoutMs.
    RawConnection slowloris(proxy.port());
    const QByteArray body = messagesBody(QStringLiteral("claude-test"), false);
    slowloris.write(rawRequest("POST /v1/messages HTTP/1.1", "Content-Type: application/json\r\nContent-Length: "
                                                                 + QByteArray::number(body.size()) + "\r\n",
                               body.left(body.size() / 2)));
    QCOMPARE(slowloris.next().status, 408);
    QVERIFY(slowloris.waitClosed(3000));
    QVERIFY(bigHead.waitClosed(3000));
    QVERIFY(bigBody.waitClosed(6000));

    QVERIFY(served.waitDone(10000));
    QCOMPARE(served.response().status, 200);
    QVERIFY(served.response().complete);
    QCOMPARE(served.response().body.count("\"text_delta\""), 5);
    QCOMPARE(primary.hits(), 1);
}

QTEST_GUILESS_MAIN(TestRobustness)
#include "tst_robustness.moc"
