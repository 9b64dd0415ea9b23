// The one-pass JSON scanner on the hot path: it must accept exactly what a JSON parser accepts and locate
// top-level values, without building a DOM.
#include "json/JsonScan.h"

#include <QJsonDocument>
#include <QRandomGenerator>
#include <QtTest>

using namespace understudy;

class TestJsonScan : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void validity_data();
    void validity();
    void locatesTopLevelValues();
    void escapedStringValues();
    void agreesWithQtParser();
};

void TestJsonScan::validity_data() {
    QTest::addColumn<QByteArray>("document");
    QTest::addColumn<bool>("valid");
    QTest::newRow("empty object") << QByteArray("{}") << true;
    QTest::newRow("nested") << QByteArray(R"({"a":[1,-2.5e3,true,false,null,{"b":"c"}],"d":{}})") << true;
    QTest::newRow("escapes") << QByteArray(R"({"s":"q\" b\\ \/ \b\f\n\r\t \u00e9"})") << true;
    QTest::newRow("utf-8") << QByteArray("{\"s\":\"h\xc3\xa9llo w\xc3\xb6rld, a long plain run\"}") << true;
    QTest::newRow("whitespace") << QByteArray(" \n{ \"a\" : 1 } \t") << true;
    QTest::newRow("array root") << QByteArray("[1]") << false;
    QTest::newRow("empty") << QByteArray("") << false;
    QTest::newRow("unterminated string") << QByteArray(R"({"a":"abcdefghijklmnop)") << false;
    QTest::newRow("raw newline in string") << QByteArray("{\"a\":\"abcdefgh\nijklmnop\"}") << false;
    QTest::newRow("raw tab late in a long run") << QByteArray("{\"a\":\"abcdefghijklmno\tp\"}") << false;
    QTest::newRow("bad escape") << QByteArray("{\"a\":\"\\x\"}") << false;
    QTest::newRow("short unicode escape") << QByteArray("{\"a\":\"\\u12\"}") << false;
    QTest::newRow("trailing comma") << QByteArray(R"({"a":1,})") << false;
    QTest::newRow("missing colon") << QByteArray(R"({"a" 1})") << false;
    QTest::newRow("leading zero") << QByteArray(R"({"a":01})") << false;
    QTest::newRow("bare word") << QByteArray(R"({"a":yes})") << false;
    QTest::newRow("trailing data") << QByteArray(R"({"a":1} x)") << false;
    QTest::newRow("unclosed") << QByteArray(R"({"a":[1,2)") << false;
    QTest::newRow("number out of range") << QByteArray(R"({"n":1E400})") << false;
    QTest::newRow("invalid utf-8") << QByteArray("{\"s\":\"abc\xff\xfe long enough to skip\"}") << false;
    QTest::newRow("overlong utf-8") << QByteArray("{\"s\":\"\xc0\xaf\"}") << false;
    QTest::newRow("utf-8 4-byte") << QByteArray("{\"s\":\"emoji \xf0\x9f\x98\x80 here\"}") << true;
}
void TestJsonScan::validity() {
    QFETCH(QByteArray, document);
    QFETCH(bool, valid);
    const json::ObjectScan scan = json::scanObject(document);
    QCOMPARE(scan.ok, valid);
    if (!valid)
        QVERIFY(!scan.error.isEmpty() && scan.errorOffset >= 0 && scan.errorOffset <= document.size());
}

void TestJsonScan::locatesTopLevelValues() {
    const QByteArray doc = R"({"model":"claude-x","stream":true,"messages":[{"model":"inner"}],"n":12})";
    const json::ObjectScan scan = json::scanObject(doc);
    QVERIFY(scan.ok);
    QCOMPARE(scan.members.size(), 4);
    QCOMPARE(json::stringAt(doc, scan.find("model")), std::optional<QString>(QStringLiteral("claude-x")));
    QCOMPARE(json::boolAt(doc, scan.find("stream")), std::optional<bool>(true));
    QCOMPARE(json::numberAt(doc, scan.find("n")), std::optional<double>(12));
    QVERIFY(!json::boolAt(doc, scan.find("n")));
    QVERIFY(!scan.find("missing").isValid());
    const QByteArray rewritten = json::replaced(doc, scan.find("model"), json::quoted(QStringLiteral("glm-5")));
    QCOMPARE(rewritten, QByteArray(R"({"model":"glm-5","stream":true,"messages":[{"model":"inner"}],"n":12})"));
}

void TestJsonScan::escapedStringValues() {
    const QByteArray doc = "{\"model\":\"a\\\"b\\u00e9\"}";
    QCOMPARE(json::stringAt(doc, json::scanObject(doc).find("model")), std::optional<QString>(QStringLiteral("a\"bé")));
    const QByteArray expected = "\"a\\\"b\\n\"";
    QCOMPARE(json::quoted(QStringLiteral("a\"b\n")), expected);
}

// Random corruptions of a document: whatever the scanner accepts, a JSON parser accepts too (Qt's parser is more
// lenient: it takes "2." and raw control characters, so the converse is not expected).
void TestJsonScan::agreesWithQtParser() {
    QRandomGenerator rng(20261122);
    const QByteArray alphabet = "{}[]\":,\\ abcdefgh01-.eE\n\ttruefalsenull\x01";
    int accepted = 0;
    for (int i = 0; i < 20000; ++i) {
        QByteArray doc = R"({"k":"plain text run of some length","a":[1,2.5,{"x":"y z"}],"b":null})";
        const int edits = rng.bounded(4);
        for (int e = 0; e < edits; ++e)
            doc[rng.bounded(doc.size())] = alphabet[rng.bounded(alphabet.size())];
        if (!json::scanObject(doc).ok)
            continue;
        ++accepted;
        QJsonParseError error;
        const QJsonDocument qt = QJsonDocument::fromJson(doc, &error);
        QVERIFY2(error.error == QJsonParseError::NoError && qt.isObject(), doc.constData());
    }
    QVERIFY(accepted > 5000 && accepted < 20000);  // both outcomes were exercised
}

QTEST_GUILESS_MAIN(TestJsonScan)
#include "tst_json_scan.moc"
