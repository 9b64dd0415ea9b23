// The byte-level JSON tree and writer that request translation uses instead of QJsonDocument: they must read
// and write exactly what Qt's JSON does, so swapping them in changes no translation.
#include "json/JsonScan.h"
#include "json/JsonTree.h"
#include "json/JsonWriter.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QtTest>

using namespace understudy;

class TestJsonTree : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void readsLikeQt_data();
    void readsLikeQt();
    void refusesWhatQtRefuses();
    void numbersConvertLikeQt();
    void duplicateKeysLastWins();
    void rawStringIsTheDocumentsBytes();
    void writerEscapesLikeQt_data();
    void writerEscapesLikeQt();
    void writerRandomTextRoundTrips();
    void writerStructure();
};

namespace {

// Whether a tree value reads as Qt's value for the same bytes, recursively.
bool same(const json::Value& tree, const QJsonValue& qt) {
    switch (qt.type()) {
    case QJsonValue::Null: return tree.isNull();
    case QJsonValue::Bool: return tree.isBool() && tree.toBool() == qt.toBool();
    case QJsonValue::Double: return tree.isDouble() && tree.toDouble() == qt.toDouble() && tree.toInteger() == qt.toInteger();
    case QJsonValue::String: return tree.isString() && tree.toString() == qt.toString();
    case QJsonValue::Array: {
        const QJsonArray array = qt.toArray();
        if (!tree.isArray() || tree.size() != array.size())
            return false;
        qsizetype i = 0;
        for (const json::Value& element : tree) {
            if (!same(element, array.at(i++)))
                return false;
        }
        return true;
    }
    case QJsonValue::Object: {
        const QJsonObject object = qt.toObject();
        if (!tree.isObject())
            return false;
        for (auto it = object.begin(); it != object.end(); ++it) {
            if (!same(tree.value(it.key()), it.value()))
                return false;
        }
        return true;
    }
    case QJsonValue::Undefined: return tree.isUndefined();
    }
    return false;
}

QByteArray qtLiteral(const QString& text) {
    return QJsonDocument(QJsonArray{text}).toJson(QJsonDocument::Compact).chopped(1).sliced(1);
}

QByteArray written(const QString& text) {
    json::Writer w;
    w.string(text);
    return w.take();
}

}  // namespace

void TestJsonTree::readsLikeQt_data() {
    QTest::addColumn<QByteArray>("document");
    QTest::newRow("flat") << QByteArray(R"({"model":"m","max_tokens":64000,"stream":true,"stop":null})");
    QTest::newRow("nested") << QByteArray(R"({"a":[1,-2.5e3,true,false,null,{"b":"c","d":[[],{}]}],"e":{}})");
    QTest::newRow("escapes") << QByteArray(R"({"s":"q\" b\\ \/ \b\f\n\r\t \u0000 \u001f \u00e9 \u2028"})");
    QTest::newRow("surrogate pair") << QByteArray(R"({"s":"\ud83d\ude00 and \uD83D\uDE00"})");
    QTest::newRow("lone surrogates") << QByteArray(R"({"s":"a\ud800b\udc00c\ud83d"})");
    QTest::newRow("raw utf-8") << QByteArray("{\"s\":\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\",\"\xc3\xa9\":1}");
    QTest::newRow("escaped key") << QByteArray(R"({"t\u0079pe":"text","a\"b":2})");
    QTest::newRow("white space") << QByteArray(" \n{ \"a\" : [ 1 , { \"b\" : \"c\" } ] } \t");
    QTest::newRow("long text") << QByteArray("{\"text\":\"" + QByteArray(100000, 'x') + "\\n" + QByteArray(5000, 'y') + "\"}");
}

void TestJsonTree::readsLikeQt() {
    QFETCH(QByteArray, document);
    const std::optional<json::Tree> tree = json::Tree::parse(document);
    QVERIFY(tree);
    QVERIFY(same(tree->root(), QJsonDocument::fromJson(document).object()));
}

void TestJsonTree::refusesWhatQtRefuses() {
    for (const QByteArray& bad : {QByteArray(R"({"a":1,})"), QByteArray("{\"a\":\"\xc3\"}"),
                                  QByteArray(R"({"a":1e400})"), QByteArray(R"({"a":1} x)")}) {
        QVERIFY2(!json::Tree::parse(bad), bad.constData());
        QVERIFY2(QJsonDocument::fromJson(bad).isNull(), bad.constData());
    }
    // Stricter than Qt 6.4, which reads "\x" as "x" and lets a raw line break into a string: the tree refuses
    // what the hot path's scan refuses (RFC 8259 refuses both).
    for (const QByteArray& bad : {QByteArray(R"({"a":"\x"})"), QByteArray("{\"a\":\"b\nc\"}")}) {
        QVERIFY(!json::Tree::parse(bad));
        QVERIFY(!json::scanObject(bad).ok);
    }
}

void TestJsonTree::numbersConvertLikeQt() {
    const QByteArray document = R"([0, -0, 7, 1.0, 1.5, -3e2, 2147483648, 9007199254740993, 1e300, -2147483648])";
    const std::optional<json::Tree> tree = json::Tree::parse(document);
    QVERIFY(tree);
    const QJsonArray qt = QJsonDocument::fromJson(document).array();
    qsizetype i = 0;
    for (const json::Value& number : tree->root()) {
        const QJsonValue expected = qt.at(i++);
        QCOMPARE(number.toInt(-1), expected.toInt(-1));
        QCOMPARE(number.toInteger(-1), expected.toInteger(-1));
        QCOMPARE(number.toDouble(), expected.toDouble());
    }
}

void TestJsonTree::duplicateKeysLastWins() {
    const QByteArray document = R"({"a":1,"b":2,"a":3})";
    const std::optional<json::Tree> tree = json::Tree::parse(document);
    QCOMPARE(tree->root().value(u"a").toInt(), QJsonDocument::fromJson(document).object().value(u"a").toInt());
    QCOMPARE(tree->root().value(u"a").toInt(), 3);
}

void TestJsonTree::rawStringIsTheDocumentsBytes() {
    const QByteArray document = R"({"plain":"abc","escaped":"a\nb\u00e9","input":{ "k" : [1, "v"] }})";
    const std::optional<json::Tree> tree = json::Tree::parse(document);
    const json::Value root = tree->root();
    QCOMPARE(root.value(u"plain").rawString(), QByteArrayView("abc"));
    QVERIFY(!root.value(u"plain").hasEscapes());
    QCOMPARE(root.value(u"escaped").rawString(), QByteArrayView(R"(a\nb\u00e9)"));
    QVERIFY(root.value(u"escaped").hasEscapes());
    QCOMPARE(root.value(u"input").raw(), QByteArrayView(R"({ "k" : [1, "v"] })"));
    QVERIFY(root.value(u"missing").isUndefined());
    QVERIFY(root.value(u"plain").value(u"x").isUndefined());  // reading into a string is empty, as in Qt
}

void TestJsonTree::writerEscapesLikeQt_data() {
    QTest::addColumn<QString>("text");
    QString controls;
    for (char16_t c = 0; c < 0x20; ++c)
        controls.append(QChar(c));
    QTest::newRow("empty") << QString();
    QTest::newRow("controls") << controls;
    QTest::newRow("quotes and slashes") << QStringLiteral(R"(say "hi" \ / \\n)");
    QTest::newRow("non-ascii") << QStringLiteral("h\u00e9llo \u20ac \u2028 \U0001F600 \uFFFD");
    QTest::newRow("lone surrogates") << QStringLiteral("a") + QChar(0xD800) + u'b' + QChar(0xDC00) + u'c' + QChar(0xD83D)
                                            + QChar(0xDE00) + QChar(0xD800);
    QTest::newRow("long mixed") << QString(QStringLiteral("abcdefg\"\n\u00e9\U0001F600 ")).repeated(5000);
}

void TestJsonTree::writerEscapesLikeQt() {
    QFETCH(QString, text);
    QCOMPARE(written(text), qtLiteral(text));
}

// Random code points, ASCII-heavy like prompts, with every escape: byte-for-byte what Qt writes, and read back
// by the tree as the same text.
void TestJsonTree::writerRandomTextRoundTrips() {
    QRandomGenerator random(11);
    for (int round = 0; round < 200; ++round) {
        QString text;
        const int length = random.bounded(1, 400);
        for (int i = 0; i < length; ++i) {
            const int pick = random.bounded(10);
            char32_t c = pick < 6 ? char32_t(random.bounded(0x20, 0x7F)) : pick < 7 ? char32_t(random.bounded(0, 0x20))
                       : pick < 9 ? char32_t(random.bounded(0x80, 0xD800)) : char32_t(random.bounded(0x10000, 0x110000));
            text.append(QString::fromUcs4(&c, 1));
        }
        const QByteArray literal = written(text);
        QCOMPARE(literal, qtLiteral(text));
        const std::optional<json::Tree> tree = json::Tree::parse("[" + literal + "]");
        QVERIFY(tree);
        QCOMPARE(tree->root().first().toString(), text);
    }
}

void TestJsonTree::writerStructure() {
    json::Writer w;
    w.beginObject().member("a", 1).member("b", QStringLiteral("x")).key("c").beginArray();
    w.boolean(true).null().number(1.5).number(2.0).beginObject().endObject().beginArray().endArray();
    w.endArray().member("d", QJsonObject{{QStringLiteral("k"), 1}}).key("e").raw(R"({"r":[]})");
    QCOMPARE(w.endObject().take(), QByteArray(R"({"a":1,"b":"x","c":[true,null,1.5,2,{},[]],"d":{"k":1},"e":{"r":[]}})"));
}

QTEST_GUILESS_MAIN(TestJsonTree)
#include "tst_json_tree.moc"
