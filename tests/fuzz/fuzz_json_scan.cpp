// scanObject: any bytes never crash it, and it is never more lenient than Qt's parser: whatever it accepts,
// QJsonDocument must accept as an object with the same keys. The value readers agree with Qt, a rewrite
// through replaced() stays valid, and quoted() always produces a string literal Qt reads back unchanged.
// json::Tree accepts the same documents (objects) and reads every value as Qt does; json::Writer writes any
// text byte for byte as Qt does.

#include "FuzzSupport.h"
#include "json/JsonScan.h"
#include "json/JsonTree.h"
#include "json/JsonWriter.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>

#include <cmath>

namespace json = understudy::json;

namespace {

bool sameAsQt(const json::Value& tree, const QJsonValue& qt) {
    switch (qt.type()) {
    case QJsonValue::Null: return tree.isNull();
    case QJsonValue::Bool: return tree.isBool() && tree.toBool() == qt.toBool();
    case QJsonValue::Double: return tree.isDouble() && tree.toInteger() == qt.toInteger() && tree.toInt() == qt.toInt();
    case QJsonValue::String: return tree.isString() && tree.toString() == qt.toString();
    case QJsonValue::Array: {
        const QJsonArray array = qt.toArray();
        qsizetype i = 0;
        for (const json::Value& element : tree) {
            if (i >= array.size() || !sameAsQt(element, array.at(i++)))
                return false;
        }
        return tree.isArray() && i == array.size();
    }
    case QJsonValue::Object: {
        const QJsonObject object = qt.toObject();
        for (auto it = object.begin(); it != object.end(); ++it) {
            if (!sameAsQt(tree.value(it.key()), it.value()))
                return false;
        }
        return tree.isObject();
    }
    case QJsonValue::Undefined: return tree.isUndefined();
    }
    return false;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    fuzz::quietQt();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char*>(data), qsizetype(size));
    const json::ObjectScan scan = json::scanObject(input);

    QJsonParseError qtError;
    const QJsonDocument doc = QJsonDocument::fromJson(input, &qtError);

    if (!scan.ok) {
        FUZZ_CHECK(!scan.error.isEmpty());
        FUZZ_CHECK(scan.errorOffset >= 0 && scan.errorOffset <= input.size());
    } else {
        if (qtError.error != QJsonParseError::NoError || !doc.isObject()) {
            std::fprintf(stderr, "scanObject accepted what Qt refuses: %s at %d\n",
                         qPrintable(qtError.errorString()), qtError.offset);
            FUZZ_CHECK(false);
        }
        const QJsonObject object = doc.object();
        QSet<QByteArray> seen;
        for (const json::Member& m : scan.members) {
            FUZZ_CHECK(m.value.begin >= 0 && m.value.begin < m.value.end && m.value.end <= input.size());
            seen.insert(scan.keyOf(m).toByteArray());
            // Each span alone is a valid JSON value.
            const QByteArray wrapped = "[" + input.mid(m.value.begin, m.value.end - m.value.begin) + "]";
            const QJsonDocument alone = QJsonDocument::fromJson(wrapped, &qtError);
            FUZZ_CHECK(qtError.error == QJsonParseError::NoError && alone.isArray() && alone.array().size() == 1);
            const QJsonValue value = alone.array().at(0);

            if (const auto s = json::stringAt(input, m.value))
                FUZZ_CHECK(value.isString() && value.toString() == *s);
            else
                FUZZ_CHECK(!value.isString());
            if (const auto b = json::boolAt(input, m.value))
                FUZZ_CHECK(value.isBool() && value.toBool() == *b);
            else
                FUZZ_CHECK(!value.isBool());
            if (const auto n = json::numberAt(input, m.value))
                FUZZ_CHECK(value.isDouble() && (value.toDouble() == *n || (std::isnan(*n) && std::isnan(value.toDouble()))));

            // Rewriting a value keeps the document valid.
            const QByteArray rewritten = json::replaced(input, m.value, "null");
            FUZZ_CHECK(json::scanObject(rewritten).ok);
        }
        // Keys without escapes must be Qt's keys too (escaped ones are kept raw by design).
        for (const QByteArray& key : seen)
            if (!key.contains('\\'))
                FUZZ_CHECK(object.contains(QString::fromUtf8(key)));
        if (scan.members.isEmpty())
            FUZZ_CHECK(object.isEmpty());
    }

    const std::optional<json::Tree> tree = json::Tree::parse(input);
    if (scan.ok)
        FUZZ_CHECK(tree && sameAsQt(tree->root(), doc.object()));
    if (tree && tree->root().isObject())
        FUZZ_CHECK(scan.ok);

    // quoted(): any text becomes a literal that reads back as the same text.
    const QString text = QString::fromUtf8(input);
    json::Writer writer;
    writer.string(text);
    FUZZ_CHECK(writer.take() == json::quoted(text));
    const QByteArray literal = json::quoted(text);
    const QJsonDocument back = QJsonDocument::fromJson("[" + literal + "]", &qtError);
    FUZZ_CHECK(qtError.error == QJsonParseError::NoError);
    FUZZ_CHECK(back.array().at(0).toString() == text);
    const QByteArray asObject = "{\"k\":" + literal + "}";
    const json::ObjectScan quotedScan = json::scanObject(asObject);
    FUZZ_CHECK(quotedScan.ok && quotedScan.members.size() == 1);
    const auto readBack = json::stringAt(asObject, quotedScan.members[0].value);
    FUZZ_CHECK(readBack && *readBack == text);
    return 0;
}
