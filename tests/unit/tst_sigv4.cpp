// The SigV4 signer against AWS's published Signature Version 4 test suite (tests/data/sigv4/README.md).
#include "providers/SigV4.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

using namespace understudy;

class TestSigV4 : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void suite_data();
    void suite();
    void pathSegmentsAreEncodedAgain();
    void queryIsSortedAndEncoded();
};

namespace {

QJsonObject vectors() {
    QFile file(QStringLiteral(UNDERSTUDY_TEST_DATA "/sigv4/vectors.json"));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

// A request of the suite's .req form: "METHOD URI HTTP/1.1", "Name:value" lines, a blank line, the body.
aws::SigningRequest parseRequest(const QByteArray& text) {
    aws::SigningRequest r;
    const qsizetype blank = text.indexOf("\n\n");
    const QByteArray head = blank < 0 ? text : text.left(blank);
    r.body = blank < 0 ? QByteArray() : text.mid(blank + 2);
    const QList<QByteArray> lines = head.split('\n');
    const QByteArray requestLine = lines.first();
    r.method = requestLine.left(requestLine.indexOf(' '));
    const QByteArray uri = requestLine.mid(r.method.size() + 1, requestLine.lastIndexOf(' ') - r.method.size() - 1);
    const qsizetype q = uri.indexOf('?');
    r.path = q < 0 ? uri : uri.left(q);
    r.query = q < 0 ? QByteArray() : uri.mid(q + 1);
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines[i].indexOf(':');
        r.headers.add(lines[i].left(colon), lines[i].mid(colon + 1));
    }
    return r;
}

}  // namespace

void TestSigV4::suite_data() {
    QTest::addColumn<QJsonObject>("test");
    const QJsonArray tests = vectors().value("tests").toArray();
    QVERIFY2(tests.size() >= 19, "tests/data/sigv4/vectors.json is missing or incomplete");
    for (const QJsonValue& t : tests)
        QTest::newRow(qPrintable(t.toObject().value("name").toString())) << t.toObject();
}

void TestSigV4::suite() {
    QFETCH(QJsonObject, test);
    const QJsonObject all = vectors();
    const aws::SigningRequest request = parseRequest(test.value("req").toString().toUtf8());
    const aws::SigningScope scope{all.value("region").toString().toUtf8(), all.value("service").toString().toUtf8(),
                                  request.headers.value("x-amz-date")};
    const aws::Credentials credentials{all.value("accessKeyId").toString().toUtf8(),
                                       all.value("secretAccessKey").toString().toUtf8(), {}};

    const QByteArray creq = aws::canonicalRequest(request);
    QCOMPARE(QString::fromUtf8(creq), test.value("creq").toString());
    const QByteArray sts = aws::stringToSign(creq, scope);
    QCOMPARE(QString::fromUtf8(sts), test.value("sts").toString());
    QCOMPARE(QString::fromUtf8(aws::authorization(request, credentials, scope)), test.value("authz").toString());
}

void TestSigV4::pathSegmentsAreEncodedAgain() {
    // Every service but S3: the wire path's %3A (a Bedrock model id's ':') is signed as %253A.
    QCOMPARE(aws::canonicalUri("/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke"),
             QByteArray("/model/us.anthropic.claude-sonnet-4-5-20250929-v1%253A0/invoke"));
    QCOMPARE(aws::canonicalUri("/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fx/invoke"),
             QByteArray("/model/arn%253Aaws%253Abedrock%253Aus-east-1%253A1%253Ainference-profile%252Fx/invoke"));
    QCOMPARE(aws::canonicalUri(""), QByteArray("/"));
    QCOMPARE(aws::uriEncode("a:b/c d~"), QByteArray("a%3Ab%2Fc%20d~"));
}

void TestSigV4::queryIsSortedAndEncoded() {
    QCOMPARE(aws::canonicalQuery("b=2&a=x%20y&a=1&flag"), QByteArray("a=1&a=x%20y&b=2&flag="));
}

QTEST_APPLESS_MAIN(TestSigV4)
#include "tst_sigv4.moc"
