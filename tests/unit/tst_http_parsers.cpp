#include "http/Headers.h"
#include "http/Message.h"
#include "http/RequestParser.h"
#include "http/ResponseParser.h"
#include "http/SseReader.h"

#include <QElapsedTimer>
#include <QtTest>

using namespace understudy::http;

namespace {

// How a test feeds its input: all at once, a byte at a time, or in pieces that split every token somewhere.
struct FeedMode {
    const char* label;
    qsizetype step;  // 0: the whole input in one go
};
const FeedMode kFeedModes[] = {{"whole", 0}, {"bytewise", 1}, {"7-byte", 7}};

QList<QByteArray> pieces(const QByteArray& input, qsizetype step)
{
    if (step == 0)
        return {input};
    QList<QByteArray> out;
    for (qsizetype pos = 0; pos < input.size(); pos += step)
        out.append(input.mid(pos, step));
    return out;
}

struct RequestRun {
    QList<Request> requests;
    bool failed = false;
    RequestParser::Error error;
    bool inProgressAtEnd = false;
    QByteArray leftover;
};

// Feeds `input` the way a server would: parse after every read, take each complete request, go on.
RequestRun runRequests(const QByteArray& input, qsizetype step, RequestParser::Limits limits = {})
{
    RequestParser parser(limits);
    RequestRun run;
    QByteArray buffer;
    for (const QByteArray& piece : pieces(input, step)) {
        buffer.append(piece);
        RequestParser::Status status;
        while ((status = parser.parse(buffer)) == RequestParser::Status::Complete)
            run.requests.append(parser.takeRequest());
        if (status == RequestParser::Status::Error) {
            run.failed = true;
            run.error = parser.error();
            break;
        }
    }
    run.inProgressAtEnd = parser.inProgress();
    run.leftover = buffer;
    return run;
}

struct ResponseRun {
    ResponseParser::Status status = ResponseParser::Status::NeedMore;
    ResponseHead head;
    QByteArray body;
    bool keepAlive = false;
    QByteArray error;
};

ResponseRun runResponse(const QByteArray& input, qsizetype step, bool requestWasHead, bool eofAtEnd)
{
    ResponseParser parser;
    parser.setRequestWasHead(requestWasHead);
    ResponseRun run;
    QByteArray buffer;
    for (const QByteArray& piece : pieces(input, step)) {
        buffer.append(piece);
        run.status = parser.parse(buffer, run.body);
        if (run.status != ResponseParser::Status::NeedMore)
            break;
    }
    if (run.status == ResponseParser::Status::NeedMore && eofAtEnd)
        run.status = parser.finishOnEof();
    run.head = parser.head();
    run.keepAlive = parser.keepAlive();
    run.error = parser.errorMessage();
    return run;
}

QList<SseEvent> runSse(const QByteArray& input, qsizetype step, qsizetype* pending = nullptr)
{
    SseReader reader;
    QList<SseEvent> events;
    for (const QByteArray& piece : pieces(input, step))
        reader.feed(piece, events);
    if (pending)
        *pending = reader.pendingBytes();
    return events;
}

QByteArray chunked(const QByteArray& body, qsizetype chunkSize)
{
    QByteArray out;
    for (qsizetype pos = 0; pos < body.size(); pos += chunkSize) {
        const QByteArray chunk = body.mid(pos, chunkSize);
        out += QByteArray::number(chunk.size(), 16) + "\r\n" + chunk + "\r\n";
    }
    return out + "0\r\n\r\n";
}

// A literal that may hold NUL bytes.
template <qsizetype N>
QByteArray bytes(const char (&literal)[N])
{
    return QByteArray(literal, N - 1);
}

QByteArray patternBody(qsizetype size)
{
    QByteArray body(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        body[i] = char('a' + (i * 7 + i / 251) % 26);
    return body;
}

}  // namespace

class TestHttpParsers : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void headersAreCaseInsensitive();
    void headersSetReplacesInPlace();

    void request_data();
    void request();
    void requestKeepAlive_data();
    void requestKeepAlive();
    void requestErrors_data();
    void requestErrors();
    void requestLimitBoundaries();
    void bodyTooLargeIsRefusedBeforeItArrives();
    void pipelining_data();
    void pipelining();
    void inProgressTracksPartialRequests();
    void expectsContinue();
    void contentLengthBodyIsNotCopied();
    void largeChunkedRequest();

    void response_data();
    void response();
    void responseErrors_data();
    void responseErrors();
    void responseHeadBeforeBody();
    void responseBodyStreamsAsItArrives();
    void responseReuseOnKeepAlive();
    void largeChunkedResponse();

    void sse_data();
    void sse();
    void sseSplitAtEveryOffset();
    void sseBlankLineCrAtEndOfRead();
    void sseLongLineByteAtATimeIsLinear();
    void formatSse_data();
    void formatSse();
};

void TestHttpParsers::headersAreCaseInsensitive()
{
    Headers headers;
    headers.add("Content-Type", "application/json");
    headers.add("X-Api-Key", "k1");
    QCOMPARE(headers.value("content-type"), QByteArray("application/json"));
    QCOMPARE(headers.value("CONTENT-TYPE"), QByteArray("application/json"));
    QVERIFY(headers.contains("x-api-key"));
    QVERIFY(!headers.contains("x-api-ke"));
    QVERIFY(headers.value("Missing").isEmpty());
    QCOMPARE(headers.fields().at(1).name, QByteArray("X-Api-Key"));  // spelling kept

    headers.add("x-api-key", "k2");
    QCOMPARE(headers.value("X-API-KEY"), QByteArray("k1"));  // first match
    headers.remove("X-API-KEY");
    QVERIFY(!headers.contains("x-api-key"));
    QCOMPARE(headers.fields().size(), 1);

    // Only letters fold: bytes that differ by 0x20 elsewhere are different names.
    headers.add("a-b", "dash");
    headers.add("a@b", "at");
    QVERIFY(!headers.contains("a\rb"));  // '\r' is '-' without bit 0x20
    QVERIFY(!headers.contains("a`b"));    // '`' is '@' with bit 0x20
    QCOMPARE(headers.value("A-B"), QByteArray("dash"));
    QCOMPARE(headers.value("A@B"), QByteArray("at"));
}

void TestHttpParsers::headersSetReplacesInPlace()
{
    Headers headers;
    headers.add("A", "1");
    headers.add("Authorization", "old");
    headers.add("B", "2");
    headers.add("authorization", "older");
    headers.set("AUTHORIZATION", "new");
    QCOMPARE(headers.fields().size(), 3);
    QCOMPARE(headers.fields().at(1).name, QByteArray("Authorization"));
    QCOMPARE(headers.fields().at(1).value, QByteArray("new"));
    QCOMPARE(headers.fields().at(2).name, QByteArray("B"));

    headers.set("C", "3");
    QCOMPARE(headers.fields().size(), 4);
    QCOMPARE(headers.fields().last().value, QByteArray("3"));
    QVERIFY(!headers.isEmpty());
}

void TestHttpParsers::request_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<qsizetype>("step");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("query");
    QTest::addColumn<int>("versionMinor");
    QTest::addColumn<QByteArray>("headerName");
    QTest::addColumn<QByteArray>("headerValue");
    QTest::addColumn<QByteArray>("body");

    struct Case {
        const char* name;
        QByteArray input, method, target, path, query;
        int minor;
        QByteArray headerName, headerValue, body;
    };
    const QByteArray json = R"({"model":"claude","max_tokens":64000})";
    const Case cases[] = {
        {"get", "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:8790\r\n\r\n", "GET", "/healthz", "/healthz", "", 1,
         "host", "127.0.0.1:8790", ""},
        {"query split at first ?", "GET /v1/models?a=1?b=2 HTTP/1.1\r\nHost: x\r\n\r\n", "GET",
         "/v1/models?a=1?b=2", "/v1/models", "a=1?b=2", 1, "Host", "x", ""},
        {"empty query", "GET /p? HTTP/1.1\r\nHost: x\r\n\r\n", "GET", "/p?", "/p", "", 1, "Host", "x", ""},
        {"content-length body",
         "POST /v1/messages?beta=true HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
             + QByteArray::number(json.size()) + "\r\n\r\n" + json,
         "POST", "/v1/messages?beta=true", "/v1/messages", "beta=true", 1, "content-type", "application/json", json},
        {"chunked with extensions and trailers",
         "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
         "5;name=value\r\nhello\r\n1A ; ext\r\n abcdefghijklmnopqrstuvwxy\r\n0\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n",
         "POST", "/v1/chat/completions", "/v1/chat/completions", "", 1, "Transfer-Encoding", "chunked",
         "hello abcdefghijklmnopqrstuvwxy"},
        {"chunked without trailers", "PUT /a HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
         "PUT", "/a", "/a", "", 1, "transfer-encoding", "Chunked", "abc"},
        {"bare LF line ends", "POST /x HTTP/1.1\nHost: x\nContent-Length: 3\n\nabc", "POST", "/x", "/x", "", 1,
         "Content-Length", "3", "abc"},
        {"bare LF in chunked", "POST /x HTTP/1.1\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n", "POST", "/x", "/x",
         "", 1, "Transfer-Encoding", "chunked", "abc"},
        {"leading blank lines", "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET", "/", "/", "", 1, "Host", "x",
         ""},
        {"http/1.0", "GET / HTTP/1.0\r\n\r\n", "GET", "/", "/", "", 0, "", "", ""},
        {"value whitespace trimmed", "GET / HTTP/1.1\r\nX-Pad: \t  spaced  value \t\r\nX-Empty:\r\n\r\n", "GET",
         "/", "/", "", 1, "x-pad", "spaced  value", ""},
        {"obs-text and colons in value", "GET / HTTP/1.1\r\nX-Utf8: caf\xc3\xa9: yes\r\n\r\n", "GET", "/", "/", "",
         1, "X-Utf8", "caf\xc3\xa9: yes", ""},
        {"content-length zero", "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "POST", "/", "/", "", 1,
         "Content-Length", "0", ""},
        {"repeated equal content-length", "POST / HTTP/1.1\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok",
         "POST", "/", "/", "", 1, "content-length", "2, 2", "ok"},
        {"absolute-form target", "GET http://127.0.0.1/v1/models HTTP/1.1\r\n\r\n", "GET",
         "http://127.0.0.1/v1/models", "http://127.0.0.1/v1/models", "", 1, "", "", ""},
        {"binary body", "POST / HTTP/1.1\r\nContent-Length: 6\r\n\r\n" + bytes("\r\n\0\n\r\0"), "POST", "/", "/",
         "", 1, "", "", bytes("\r\n\0\n\r\0")},
    };
    for (const Case& c : cases) {
        for (const FeedMode& mode : kFeedModes) {
            QTest::addRow("%s/%s", c.name, mode.label) << c.input << mode.step << c.method << c.target << c.path
                                                       << c.query << c.minor << c.headerName << c.headerValue
                                                       << c.body;
        }
    }
}

void TestHttpParsers::request()
{
    QFETCH(QByteArray, input);
    QFETCH(qsizetype, step);
    const RequestRun run = runRequests(input, step);
    QVERIFY2(!run.failed, run.error.message.constData());
    QCOMPARE(run.requests.size(), 1);
    QVERIFY(run.leftover.isEmpty());
    QVERIFY(!run.inProgressAtEnd);

    const Request& request = run.requests.first();
    QTEST(request.method, "method");
    QTEST(request.target, "target");
    QTEST(request.path, "path");
    QTEST(request.query, "query");
    QTEST(request.versionMinor, "versionMinor");
    QTEST(request.body, "body");
    QFETCH(QByteArray, headerName);
    if (!headerName.isEmpty()) {
        QVERIFY(request.headers.contains(headerName));
        QTEST(request.headers.value(headerName), "headerValue");
    }
}

void TestHttpParsers::requestKeepAlive_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<bool>("keepAlive");
    QTest::newRow("1.1 default") << QByteArray("GET / HTTP/1.1\r\n\r\n") << true;
    QTest::newRow("1.1 close") << QByteArray("GET / HTTP/1.1\r\nConnection: close\r\n\r\n") << false;
    QTest::newRow("1.1 close in list") << QByteArray("GET / HTTP/1.1\r\nConnection: Upgrade, CLOSE\r\n\r\n")
                                       << false;
    QTest::newRow("1.1 close in second field")
        << QByteArray("GET / HTTP/1.1\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n") << false;
    QTest::newRow("1.1 not quite close") << QByteArray("GET / HTTP/1.1\r\nConnection: closed\r\n\r\n") << true;
    QTest::newRow("1.0 default") << QByteArray("GET / HTTP/1.0\r\n\r\n") << false;
    QTest::newRow("1.0 keep-alive") << QByteArray("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") << true;
    QTest::newRow("1.0 close") << QByteArray("GET / HTTP/1.0\r\nConnection: close\r\n\r\n") << false;
}

void TestHttpParsers::requestKeepAlive()
{
    QFETCH(QByteArray, input);
    const RequestRun run = runRequests(input, 0);
    QCOMPARE(run.requests.size(), 1);
    QTEST(run.requests.first().keepAlive(), "keepAlive");
}

void TestHttpParsers::requestErrors_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<qsizetype>("step");
    QTest::addColumn<int>("maxHeaderBytes");
    QTest::addColumn<int>("maxBodyBytes");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("mentions");

    struct Case {
        const char* name;
        QByteArray input;
        int status;
        QByteArray mentions;  // a word the message must contain
        int maxHeaderBytes = 64 * 1024;
        int maxBodyBytes = 1024;
    };
    const Case cases[] = {
        {"http/0.9 request line", "GET /\r\n\r\n", 400, "request line"},
        {"double space", "GET  / HTTP/1.1\r\n\r\n", 400, "request line"},
        {"trailing space", "GET / HTTP/1.1 \r\n\r\n", 400, "HTTP version"},
        {"method not a token", "GE(T / HTTP/1.1\r\n\r\n", 400, "request line"},
        {"control char in target", "GET /a\x01 HTTP/1.1\r\n\r\n", 400, "request line"},
        {"lowercase version", "GET / http/1.1\r\n\r\n", 400, "request line"},
        {"garbage version", "GET / HTTP/one\r\n\r\n", 400, "HTTP version"},
        {"http/2", "GET / HTTP/2.0\r\n\r\n", 505, "HTTP/2.0"},
        {"http/1.2", "GET / HTTP/1.2\r\n\r\n", 505, "HTTP/1.1"},
        {"binary junk", bytes("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n\n"), 400, "request line"},
        {"content-length and transfer-encoding",
         "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "both"},
        {"transfer-encoding and content-length",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n", 400, "both"},
        {"conflicting content-length fields", "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
         400, "disagree"},
        {"conflicting content-length list", "POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n", 400, "disagree"},
        {"negative content-length", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "Content-Length"},
        {"signed content-length", "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", 400, "Content-Length"},
        {"hex content-length", "POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", 400, "Content-Length"},
        {"empty content-length", "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400, "Content-Length"},
        {"huge content-length", "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400,
         "Content-Length"},
        {"gzip transfer-coding", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "gzip"},
        {"gzip then chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, "gzip"},
        {"chunked twice", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 501,
         "Transfer-Encoding"},
        {"chunked on http/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "HTTP/1.0"},
        {"bad chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "chunk"},
        {"empty chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", 400, "chunk"},
        {"negative chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n", 400, "chunk"},
        {"chunk size junk after digits", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\n", 400,
         "chunk"},
        {"chunk size overflow", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n", 400,
         "chunk"},
        {"chunk data longer than size",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n", 400, "CRLF"},
        {"header without colon", "GET / HTTP/1.1\r\nHost x\r\n\r\n", 400, "colon"},
        {"space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, "whitespace"},
        {"tab before colon", "GET / HTTP/1.1\r\nContent-Length\t: 0\r\n\r\n", 400, "whitespace"},
        {"empty header name", "GET / HTTP/1.1\r\n: x\r\n\r\n", 400, "name"},
        {"bad char in name", "GET / HTTP/1.1\r\nX(y): z\r\n\r\n", 400, "name"},
        {"obs-fold", "GET / HTTP/1.1\r\nX-A: one\r\n  two\r\n\r\n", 400, "folding"},
        {"obs-fold with tab", "GET / HTTP/1.1\r\nX-A: one\r\n\ttwo\r\n\r\n", 400, "folding"},
        {"NUL in value", bytes("GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n"), 400, "control"},
        {"bare CR in value", "GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", 400, "control"},
        {"escape in value", "GET / HTTP/1.1\r\nX-A: a\x1b[31m\r\n\r\n", 400, "control"},
        {"two Host headers", "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nhost: evil.example\r\n\r\n", 400, "Host"},
        {"headers too large", "GET / HTTP/1.1\r\nX-Big: " + QByteArray(300, 'a') + "\r\n\r\n", 431, "header", 256},
        {"many headers", "GET / HTTP/1.1\r\n" + QByteArray("X-A: b\r\n").repeated(40) + "\r\n", 431, "header",
         256},
        {"target too long", "GET /" + QByteArray(300, 'a') + " HTTP/1.1\r\n\r\n", 414, "URL", 256},
        {"body too large from content-length", "POST / HTTP/1.1\r\nContent-Length: 1025\r\n\r\n", 413, "1024"},
        {"body too large when de-chunking",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(QByteArray(1025, 'x'), 100), 413, "1024"},
        {"one huge chunk", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffff\r\n", 413, "1024"},
        {"trailers too large",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: " + QByteArray(300, 't') + "\r\n\r\n", 400,
         "trailer", 256},
    };
    for (const Case& c : cases) {
        for (const FeedMode& mode : kFeedModes) {
            QTest::addRow("%s/%s", c.name, mode.label)
                << c.input << mode.step << c.maxHeaderBytes << c.maxBodyBytes << c.status << c.mentions;
        }
    }
}

void TestHttpParsers::requestErrors()
{
    QFETCH(QByteArray, input);
    QFETCH(qsizetype, step);
    QFETCH(int, maxHeaderBytes);
    QFETCH(int, maxBodyBytes);
    QFETCH(QByteArray, mentions);
    const RequestRun run = runRequests(input, step, {maxHeaderBytes, maxBodyBytes});
    QVERIFY(run.requests.isEmpty());
    QVERIFY(run.failed);
    QTEST(run.error.httpStatus, "status");
    const QByteArray& message = run.error.message;
    QVERIFY2(message.contains(mentions), message.constData());
    QVERIFY2(message.endsWith('.') && !message.contains('\n'), message.constData());
    QVERIFY2(message.contains(';'), "the message should say what to do");
}

void TestHttpParsers::requestLimitBoundaries()
{
    const RequestParser::Limits limits{128, 16};
    const QByteArray start = "POST / HTTP/1.1\r\nX-Pad: ";
    const QByteArray end = "\r\nContent-Length: 16\r\n\r\n";
    const QByteArray head = start + QByteArray(128 - start.size() - end.size(), 'p') + end;
    QCOMPARE(head.size(), 128);
    for (const FeedMode& mode : kFeedModes) {
        const RequestRun fits = runRequests(head + QByteArray(16, 'b'), mode.step, limits);
        QVERIFY2(!fits.failed, fits.error.message.constData());
        QCOMPARE(fits.requests.size(), 1);
        QCOMPARE(fits.requests.first().body, QByteArray(16, 'b'));

        const RequestRun over = runRequests(start + "p" + head.sliced(start.size()) + QByteArray(16, 'b'),
                                            mode.step, limits);
        QVERIFY(over.failed);
        QCOMPARE(over.error.httpStatus, 431);

        const QByteArray chunkedHead = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        const RequestRun chunkedFits = runRequests(chunkedHead + chunked(QByteArray(16, 'c'), 5), mode.step, limits);
        QVERIFY2(!chunkedFits.failed, chunkedFits.error.message.constData());
        QCOMPARE(chunkedFits.requests.first().body, QByteArray(16, 'c'));
        const RequestRun chunkedOver = runRequests(chunkedHead + chunked(QByteArray(17, 'c'), 5), mode.step, limits);
        QCOMPARE(chunkedOver.error.httpStatus, 413);
    }
}

void TestHttpParsers::bodyTooLargeIsRefusedBeforeItArrives()
{
    RequestParser parser({64 * 1024, 1000});
    QByteArray buffer = "POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n";
    QCOMPARE(parser.parse(buffer), RequestParser::Status::Error);
    QCOMPARE(parser.error().httpStatus, 413);
    QCOMPARE(parser.parse(buffer), RequestParser::Status::Error);  // stays failed
    QVERIFY(!parser.inProgress());
}

void TestHttpParsers::pipelining_data()
{
    QTest::addColumn<qsizetype>("step");
    for (const FeedMode& mode : kFeedModes)
        QTest::newRow(mode.label) << mode.step;
}

void TestHttpParsers::pipelining()
{
    QFETCH(qsizetype, step);
    const QByteArray input = "POST /one HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
                             "POST /two HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n"
                             "\r\n"  // a stray CRLF after a body is allowed
                             "GET /three?x=1 HTTP/1.1\r\n\r\n"
                             "GET /four HTTP/1.1\r\nHo";
    const RequestRun run = runRequests(input, step);
    QVERIFY2(!run.failed, run.error.message.constData());
    QCOMPARE(run.requests.size(), 3);
    QCOMPARE(run.requests.at(0).path, QByteArray("/one"));
    QCOMPARE(run.requests.at(0).body, QByteArray("abc"));
    QCOMPARE(run.requests.at(1).path, QByteArray("/two"));
    QCOMPARE(run.requests.at(1).body, QByteArray("de"));
    QCOMPARE(run.requests.at(2).path, QByteArray("/three"));
    QCOMPARE(run.requests.at(2).query, QByteArray("x=1"));
    QVERIFY(run.requests.at(2).body.isEmpty());
    QCOMPARE(run.leftover, QByteArray("GET /four HTTP/1.1\r\nHo"));  // a partial head is not consumed
    QVERIFY(run.inProgressAtEnd);
}

void TestHttpParsers::inProgressTracksPartialRequests()
{
    RequestParser parser;
    QByteArray buffer;
    QVERIFY(!parser.inProgress());
    QCOMPARE(parser.parse(buffer), RequestParser::Status::NeedMore);
    QVERIFY(!parser.inProgress());

    buffer = "\r\n";
    QCOMPARE(parser.parse(buffer), RequestParser::Status::NeedMore);
    QVERIFY(buffer.isEmpty());
    QVERIFY(!parser.inProgress());  // blank lines between requests are not a request

    buffer = "P";
    QCOMPARE(parser.parse(buffer), RequestParser::Status::NeedMore);
    QCOMPARE(buffer, QByteArray("P"));
    QVERIFY(parser.inProgress());

    buffer += "OST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab";
    QCOMPARE(parser.parse(buffer), RequestParser::Status::NeedMore);
    QVERIFY(buffer.isEmpty());
    QVERIFY(parser.inProgress());

    buffer += "cdGET";
    QCOMPARE(parser.parse(buffer), RequestParser::Status::Complete);
    QVERIFY(!parser.inProgress());
    QCOMPARE(parser.parse(buffer), RequestParser::Status::Complete);  // until taken
    QCOMPARE(parser.takeRequest().body, QByteArray("abcd"));
    QCOMPARE(buffer, QByteArray("GET"));
    QVERIFY(!parser.inProgress());
    QCOMPARE(parser.parse(buffer), RequestParser::Status::NeedMore);
    QVERIFY(parser.inProgress());
}

void TestHttpParsers::expectsContinue()
{
    RequestParser parser;
    QByteArray buffer = "POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n";
    QVERIFY(!parser.expectsContinue());
    QCOMPARE(parser.parse(buffer), RequestParser::Status::NeedMore);
    QVERIFY(parser.expectsContinue());
    buffer = "a";
    QCOMPARE(parser.parse(buffer), RequestParser::Status::NeedMore);
    QVERIFY(!parser.expectsContinue());
    buffer = "bc";
    QCOMPARE(parser.parse(buffer), RequestParser::Status::Complete);
    QVERIFY(!parser.expectsContinue());
    parser.takeRequest();

    buffer = "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n";
    QCOMPARE(parser.parse(buffer), RequestParser::Status::NeedMore);
    QVERIFY(!parser.expectsContinue());
}

void TestHttpParsers::contentLengthBodyIsNotCopied()
{
    const QByteArray body = patternBody(2 * 1024 * 1024);
    const QByteArray head = "POST /v1/messages HTTP/1.1\r\nContent-Length: " + QByteArray::number(body.size())
                            + "\r\n\r\n";
    QByteArray buffer = head + body;
    const char* bodyBytes = buffer.constData() + head.size();
    RequestParser parser;
    QCOMPARE(parser.parse(buffer), RequestParser::Status::Complete);
    const Request request = parser.takeRequest();
    QCOMPARE(request.body, body);
    QVERIFY(request.body.constData() == bodyBytes);  // moved, not copied
    QVERIFY(buffer.isEmpty());
}

void TestHttpParsers::largeChunkedRequest()
{
    const QByteArray body = patternBody(5 * 1024 * 1024);
    const QByteArray input = "POST /v1/messages HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                             + chunked(body, 16 * 1024 + 3) + "GET /next HTTP/1.1\r\n\r\n";
    for (const qsizetype step : {qsizetype(0), qsizetype(1460), qsizetype(64 * 1024)}) {
        const RequestRun run = runRequests(input, step);
        QVERIFY2(!run.failed, run.error.message.constData());
        QCOMPARE(run.requests.size(), 2);
        QVERIFY(run.requests.first().body == body);
        QCOMPARE(run.requests.last().path, QByteArray("/next"));
    }
}

void TestHttpParsers::response_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<qsizetype>("step");
    QTest::addColumn<bool>("requestWasHead");
    QTest::addColumn<bool>("needsEof");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("reason");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<bool>("keepAlive");

    struct Case {
        const char* name;
        QByteArray input;
        int status;
        QByteArray reason, body;
        bool keepAlive;
        bool needsEof = false;
        bool requestWasHead = false;
    };
    const Case cases[] = {
        {"content-length", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
         200, "OK", "{\"a\":1}", true},
        {"chunked with trailers",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6;x=y\r\nevent:\r\n4\r\n ok\n\r\n0\r\nT: 1\r\n\r\n", 200,
         "OK", "event: ok\n", true},
        {"until close", "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: 1\n\ndata: 2\n\n", 200, "OK",
         "data: 1\n\ndata: 2\n\n", false, true},
        {"until close, empty", "HTTP/1.1 200 OK\r\n\r\n", 200, "OK", "", false, true},
        {"http/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, "OK", "ok", false},
        {"http/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", 200,
         "OK", "ok", true},
        {"connection close", "HTTP/1.1 529 Overloaded\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}", 529,
         "Overloaded", "{}", false},
        {"100 continue skipped", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx",
         201, "Created", "x", true},
        {"several 1xx skipped",
         "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\n"
         "Content-Length: 0\r\n\r\n",
         200, "OK", "", true},
        {"head ignores content-length", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 200, "OK", "", true, false,
         true},
        {"head ignores chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 200, "OK", "", true, false,
         true},
        {"204 has no body", "HTTP/1.1 204 No Content\r\n\r\n", 204, "No Content", "", true},
        {"304 has no body", "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n", 304, "Not Modified", "",
         true},
        {"no reason phrase", "HTTP/1.1 503\r\nContent-Length: 0\r\n\r\n", 503, "", "", true},
        {"empty reason phrase", "HTTP/1.1 429 \r\nRetry-After: 3\r\nContent-Length: 0\r\n\r\n", 429, "", "", true},
        {"bare LF", "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi", 200, "OK", "hi", true},
    };
    for (const Case& c : cases) {
        for (const FeedMode& mode : kFeedModes) {
            QTest::addRow("%s/%s", c.name, mode.label) << c.input << mode.step << c.requestWasHead << c.needsEof
                                                       << c.status << c.reason << c.body << c.keepAlive;
        }
    }
}

void TestHttpParsers::response()
{
    QFETCH(QByteArray, input);
    QFETCH(qsizetype, step);
    QFETCH(bool, requestWasHead);
    QFETCH(bool, needsEof);

    const ResponseRun withoutEof = runResponse(input, step, requestWasHead, false);
    QCOMPARE(withoutEof.status, needsEof ? ResponseParser::Status::NeedMore : ResponseParser::Status::Complete);

    const ResponseRun run = runResponse(input, step, requestWasHead, true);
    QVERIFY2(run.status == ResponseParser::Status::Complete, run.error.constData());
    QTEST(run.head.status, "status");
    QTEST(run.head.reason, "reason");
    QTEST(run.body, "body");
    QTEST(run.keepAlive, "keepAlive");
}

void TestHttpParsers::responseErrors_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<qsizetype>("step");
    QTest::addColumn<QByteArray>("mentions");

    struct Case {
        const char* name;
        QByteArray input, mentions;
    };
    const Case cases[] = {
        {"not http", "SSH-2.0-OpenSSH\r\n\r\n", "status line"},
        {"http/2 status line", "HTTP/2 200\r\n\r\n", "status line"},
        {"two-digit status", "HTTP/1.1 20 OK\r\n\r\n", "status line"},
        {"status below 100", "HTTP/1.1 099 Odd\r\n\r\n", "status line"},
        {"switching protocols", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", "101"},
        {"header without colon", "HTTP/1.1 200 OK\r\nBroken\r\n\r\n", "colon"},
        {"obs-fold", "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", "folding"},
        {"unsupported transfer-coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "gzip"},
        {"conflicting content-length", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
         "disagree"},
        {"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nnope\r\n", "chunk"},
        {"missing CRLF after chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", "CRLF"},
        {"head too large", "HTTP/1.1 200 OK\r\nX: " + QByteArray(70 * 1024, 'x'), "exceeds"},
        {"closed before a response", "", "without sending"},
        {"closed in the head", "HTTP/1.1 200 OK\r\nContent-Le", "head"},
        {"closed in a content-length body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "7 bytes"},
        {"closed in a chunked body", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "chunked"},
    };
    for (const Case& c : cases) {
        for (const FeedMode& mode : kFeedModes)
            QTest::addRow("%s/%s", c.name, mode.label) << c.input << mode.step << c.mentions;
    }
}

void TestHttpParsers::responseErrors()
{
    QFETCH(QByteArray, input);
    QFETCH(qsizetype, step);
    QFETCH(QByteArray, mentions);
    const ResponseRun run = runResponse(input, step, false, true);
    QCOMPARE(run.status, ResponseParser::Status::Error);
    QVERIFY2(run.error.contains(mentions), run.error.constData());
    QVERIFY2(run.error.endsWith('.'), run.error.constData());
    QVERIFY(!run.keepAlive);
}

void TestHttpParsers::responseHeadBeforeBody()
{
    ResponseParser parser;
    QByteArray buffer = "HTTP/1.1 100 Continue\r\n\r\n";
    QByteArray body;
    QCOMPARE(parser.parse(buffer, body), ResponseParser::Status::NeedMore);
    QVERIFY(!parser.headComplete());  // an interim response is not the head
    buffer += "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nx-request-id: 42\r\n\r\n";
    QCOMPARE(parser.parse(buffer, body), ResponseParser::Status::NeedMore);
    QVERIFY(parser.headComplete());
    QCOMPARE(parser.head().status, 200);
    QCOMPARE(parser.head().headers.value("X-Request-Id"), QByteArray("42"));
    QVERIFY(body.isEmpty());
    QVERIFY(buffer.isEmpty());
}

void TestHttpParsers::responseBodyStreamsAsItArrives()
{
    ResponseParser parser;
    QByteArray buffer = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n16\r\nevent: ping\ndata";
    QByteArray body;
    QCOMPARE(parser.parse(buffer, body), ResponseParser::Status::NeedMore);
    QCOMPARE(body, QByteArray("event: ping\ndata"));  // a partial chunk is handed out at once
    body.clear();
    buffer += ": {}\n\n\r\n";
    QCOMPARE(parser.parse(buffer, body), ResponseParser::Status::NeedMore);
    QCOMPARE(body, QByteArray(": {}\n\n"));
    body.clear();
    buffer += "5\r\n: {}\n\r\n";
    QCOMPARE(parser.parse(buffer, body), ResponseParser::Status::NeedMore);
    QCOMPARE(body, QByteArray(": {}\n"));
    buffer += "0\r\n\r\n";
    QCOMPARE(parser.parse(buffer, body), ResponseParser::Status::Complete);
    QVERIFY(parser.keepAlive());

    ResponseParser untilClose;
    buffer = "HTTP/1.1 200 OK\r\n\r\ndata: 1\n\n";
    body.clear();
    QCOMPARE(untilClose.parse(buffer, body), ResponseParser::Status::NeedMore);
    QCOMPARE(body, QByteArray("data: 1\n\n"));
    QVERIFY(buffer.isEmpty());
}

void TestHttpParsers::responseReuseOnKeepAlive()
{
    ResponseParser parser;
    QByteArray buffer = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
                        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}";
    QByteArray body;
    parser.setRequestWasHead(true);
    QCOMPARE(parser.parse(buffer, body), ResponseParser::Status::Complete);
    QVERIFY(body.isEmpty());
    QVERIFY(parser.keepAlive());

    parser.reset();  // also forgets that the last request was HEAD
    QVERIFY(!parser.headComplete());
    QCOMPARE(parser.parse(buffer, body), ResponseParser::Status::Complete);
    QCOMPARE(body, QByteArray("abc"));

    parser.reset();
    body.clear();
    QCOMPARE(parser.parse(buffer, body), ResponseParser::Status::Complete);
    QCOMPARE(parser.head().status, 404);
    QCOMPARE(parser.head().reason, QByteArray("Not Found"));
    QCOMPARE(body, QByteArray("{}"));
    QVERIFY(buffer.isEmpty());
}

void TestHttpParsers::largeChunkedResponse()
{
    const QByteArray payload = patternBody(5 * 1024 * 1024);
    const QByteArray input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(payload, 8000);
    for (const qsizetype step : {qsizetype(0), qsizetype(1460)}) {
        const ResponseRun run = runResponse(input, step, false, false);
        QCOMPARE(run.status, ResponseParser::Status::Complete);
        QVERIFY(run.body == payload);
    }
}

void TestHttpParsers::sse_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<qsizetype>("step");
    QTest::addColumn<QByteArrayList>("events");
    QTest::addColumn<QByteArrayList>("datas");
    QTest::addColumn<QByteArrayList>("raws");
    QTest::addColumn<qsizetype>("pending");

    struct Case {
        const char* name;
        QByteArray input;
        QByteArrayList events, datas, raws;
        qsizetype pending = 0;
    };
    const QByteArray start = "event: message_start\ndata: {\"type\":\"message_start\"}\n\n";
    const QByteArray delta = "event: content_block_delta\ndata: {\"delta\":{\"text\":\"Hi\"}}\n\n";
    const Case cases[] = {
        {"anthropic stream", start + delta,
         {"message_start", "content_block_delta"},
         {"{\"type\":\"message_start\"}", "{\"delta\":{\"text\":\"Hi\"}}"},
         {start, delta}},
        {"crlf", "event: a\r\ndata: 1\r\n\r\nevent: b\r\ndata: 2\r\n\r\n",
         {"a", "b"},
         {"1", "2"},
         {"event: a\r\ndata: 1\r\n\r\n", "event: b\r\ndata: 2\r\n\r\n"}},
        {"cr", "event: a\rdata: 1\r\rdata: 2\r\r", {"a", ""}, {"1", "2"}, {"event: a\rdata: 1\r\r", "data: 2\r\r"}},
        {"mixed line ends", "data: a\r\ndata: b\ndata: c\rdata: d\r\n\n",
         {""},
         {"a\nb\nc\nd"},
         {"data: a\r\ndata: b\ndata: c\rdata: d\r\n\n"}},
        {"multi-line data", "data: a\ndata: b\ndata:\ndata: c\n\n", {""}, {"a\nb\n\nc"},
         {"data: a\ndata: b\ndata:\ndata: c\n\n"}},
        {"one optional space", "data:x\n\ndata:  y\n\n", {"", ""}, {"x", " y"}, {"data:x\n\n", "data:  y\n\n"}},
        {"openai done", "data: {\"choices\":[]}\n\ndata: [DONE]\n\n",
         {"", ""},
         {"{\"choices\":[]}", "[DONE]"},
         {"data: {\"choices\":[]}\n\n", "data: [DONE]\n\n"}},
        {"comments", ": keepalive\n\n: OPENROUTER PROCESSING\nevent: a\n: mid\ndata: 1\n\n",
         {"a"},
         {"1"},
         {": OPENROUTER PROCESSING\nevent: a\n: mid\ndata: 1\n\n"}},
        {"only comments", ": ping\n\n:\n\n", {}, {}, {}},
        {"id and retry ignored", "id: 7\nretry: 1000\ndata: x\n\n", {""}, {"x"}, {"id: 7\nretry: 1000\ndata: x\n\n"}},
        {"event without data", "event: a\n\ndata: 1\n\n", {""}, {"1"}, {"data: 1\n\n"}},
        {"field name without colon", "data\n\n", {""}, {""}, {"data\n\n"}},
        {"unknown field and last event name wins", "foo: bar\nevent: a\nevent: b\ndata: 1\n\n",
         {"b"},
         {"1"},
         {"foo: bar\nevent: a\nevent: b\ndata: 1\n\n"}},
        {"field names are case-sensitive", "Data: x\nEVENT: y\ndata: z\n\n", {""}, {"z"},
         {"Data: x\nEVENT: y\ndata: z\n\n"}},
        {"colons in value", "data: {\"a\":\"b: c\"}\n\n", {""}, {"{\"a\":\"b: c\"}"}, {"data: {\"a\":\"b: c\"}\n\n"}},
        {"blank lines between events", "\n\ndata: 1\n\n\n\r\n\rdata: 2\n\n",
         {"", ""},
         {"1", "2"},
         {"data: 1\n\n", "data: 2\n\n"}},
        {"incomplete tail kept", "data: 1\n\nevent: x\ndata: 2\n", {""}, {"1"}, {"data: 1\n\n"}, 17},
        {"cut mid line", "data: 1\n\ndata: par", {""}, {"1"}, {"data: 1\n\n"}, 9},
    };
    for (const Case& c : cases) {
        for (const FeedMode& mode : kFeedModes) {
            QTest::addRow("%s/%s", c.name, mode.label)
                << c.input << mode.step << c.events << c.datas << c.raws << c.pending;
        }
    }
}

void TestHttpParsers::sse()
{
    QFETCH(QByteArray, input);
    QFETCH(qsizetype, step);
    qsizetype pending = -1;
    const QList<SseEvent> events = runSse(input, step, &pending);
    QByteArrayList names, datas, raws;
    for (const SseEvent& event : events) {
        names.append(event.event);
        datas.append(event.data);
        raws.append(event.raw);
    }
    QTEST(names, "events");
    QTEST(datas, "datas");
    QTEST(raws, "raws");
    QTEST(pending, "pending");
}

void TestHttpParsers::sseSplitAtEveryOffset()
{
    const QByteArray stream = "event: message_start\r\ndata: {\"a\":1}\r\n\r\n: ping\r\n\r\n"
                              "event: content_block_delta\r\ndata: line1\r\ndata: line2\r\n\r\n"
                              "data: x\n\n";
    const QList<SseEvent> whole = runSse(stream, 0);
    QCOMPARE(whole.size(), 3);
    QCOMPARE(whole.at(1).data, QByteArray("line1\nline2"));
    for (qsizetype split = 1; split < stream.size(); ++split) {
        SseReader reader;
        QList<SseEvent> events;
        reader.feed(QByteArrayView(stream).first(split), events);
        reader.feed(QByteArrayView(stream).sliced(split), events);
        QCOMPARE(events.size(), whole.size());
        for (qsizetype i = 0; i < events.size(); ++i) {
            QCOMPARE(events.at(i).event, whole.at(i).event);
            QCOMPARE(events.at(i).data, whole.at(i).data);
            QCOMPARE(events.at(i).raw, whole.at(i).raw);
        }
        QCOMPARE(reader.pendingBytes(), 0);
    }
}

void TestHttpParsers::sseBlankLineCrAtEndOfRead()
{
    SseReader reader;
    QList<SseEvent> events;

    reader.feed("data: 1\r\r", events);  // CR-only stream: no LF is coming, dispatch now
    QCOMPARE(events.size(), 1);
    QCOMPARE(reader.pendingBytes(), 0);

    reader.feed("data: 2\r\n\r", events);  // CRLF stream: wait for the LF so that raw keeps it
    QCOMPARE(events.size(), 1);
    QCOMPARE(reader.pendingBytes(), 10);
    reader.feed("\n", events);
    QCOMPARE(events.size(), 2);
    QCOMPARE(events.last().raw, QByteArray("data: 2\r\n\r\n"));

    reader.feed("data: 3\r\n\r", events);
    reader.feed("data: 4\r\r", events);  // it was a lone CR after all
    QCOMPARE(events.size(), 4);
    QCOMPARE(events.at(2).raw, QByteArray("data: 3\r\n\r"));
    QCOMPARE(events.at(3).data, QByteArray("4"));

    reader.feed("data: 5\n\r", events);  // LF lines ending in a CR blank line: dispatched at once
    QCOMPARE(events.size(), 5);
    reader.feed("\ndata: 6\n\n", events);  // that CR's LF makes an empty block
    QCOMPARE(events.size(), 6);
    QCOMPARE(events.last().raw, QByteArray("data: 6\n\n"));
    QCOMPARE(reader.pendingBytes(), 0);
}

void TestHttpParsers::sseLongLineByteAtATimeIsLinear()
{
    // Quadratic rescanning of a 1 MB line fed a byte at a time would take minutes; linear takes milliseconds.
    const QByteArray payload = patternBody(1024 * 1024);
    const QByteArray stream = "data: " + payload + "\n\n";
    SseReader reader;
    QList<SseEvent> events;
    QElapsedTimer timer;
    timer.start();
    for (qsizetype i = 0; i < stream.size(); ++i)
        reader.feed(QByteArrayView(stream).sliced(i, 1), events);
    QVERIFY2(timer.elapsed() < 5000, QByteArray::number(timer.elapsed()).constData());
    QCOMPARE(events.size(), 1);
    QVERIFY(events.first().data == payload);
}

void TestHttpParsers::formatSse_data()
{
    QTest::addColumn<QByteArray>("event");
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<QByteArray>("expected");
    QTest::addColumn<QByteArray>("readBack");
    QTest::newRow("data only") << QByteArray() << QByteArray("{\"a\":1}") << QByteArray("data: {\"a\":1}\n\n")
                               << QByteArray("{\"a\":1}");
    QTest::newRow("event and data") << QByteArray("message_stop") << QByteArray("{}")
                                    << QByteArray("event: message_stop\ndata: {}\n\n") << QByteArray("{}");
    QTest::newRow("empty data") << QByteArray("ping") << QByteArray() << QByteArray("event: ping\ndata: \n\n")
                                << QByteArray();
    QTest::newRow("multi-line data") << QByteArray() << QByteArray("a\nb\n")
                                     << QByteArray("data: a\ndata: b\ndata: \n\n") << QByteArray("a\nb\n");
    QTest::newRow("cr and crlf in data") << QByteArray() << QByteArray("a\r\nb\rc")
                                         << QByteArray("data: a\ndata: b\ndata: c\n\n") << QByteArray("a\nb\nc");
    QTest::newRow("leading space kept") << QByteArray() << QByteArray(" x") << QByteArray("data:  x\n\n")
                                        << QByteArray(" x");
}

void TestHttpParsers::formatSse()
{
    QFETCH(QByteArray, event);
    QFETCH(QByteArray, data);
    const QByteArray formatted = understudy::http::formatSse(event, data);
    QTEST(formatted, "expected");
    const QList<SseEvent> events = runSse(formatted, 0);
    QCOMPARE(events.size(), 1);
    QCOMPARE(events.first().event, event);
    QTEST(events.first().data, "readBack");
    QCOMPARE(events.first().raw, formatted);
}

QTEST_MAIN(TestHttpParsers)
#include "tst_http_parsers.moc"
