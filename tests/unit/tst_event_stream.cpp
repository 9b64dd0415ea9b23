// The AWS event-stream decoder: frames written by an independent encoder (tests/data/eventstream), split at
// every byte boundary, every header value type, corrupt CRCs and lengths.
#include "providers/EventStream.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtEndian>
#include <QtTest>

#include <zlib.h>

using namespace understudy::aws;

class TestEventStream : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void realFramesDecode();
    void everySplitGivesTheSameMessages();
    void everyHeaderTypeRoundTrips();
    void encoderMatchesTheIndependentOne();
    void corruptMessageCrcIsAnError();
    void corruptPreludeCrcIsAnErrorBeforeTheFrameArrives();
    void oversizedFrameIsAnError();
    void headersLongerThanTheFrameAreAnError();
};

namespace {

QByteArray data(const QString& name) {
    QFile file(QStringLiteral(UNDERSTUDY_TEST_DATA "/eventstream/") + name);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

quint32 crc(QByteArrayView bytes) {
    return quint32(crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), uInt(bytes.size())));
}

QList<EventMessage> decodeAll(QByteArrayView bytes, QString* error = nullptr) {
    EventStreamDecoder decoder;
    QList<EventMessage> out;
    decoder.feed(bytes, out);
    if (error)
        *error = decoder.error();
    return out;
}

// The Anthropic event inside a Bedrock chunk's {"bytes": base64} payload.
QJsonObject chunkEvent(const EventMessage& m) {
    const QByteArray b64 = QJsonDocument::fromJson(m.payload).object().value("bytes").toString().toLatin1();
    return QJsonDocument::fromJson(QByteArray::fromBase64(b64)).object();
}

}  // namespace

void TestEventStream::realFramesDecode() {
    const QByteArray stream = data("bedrock-stream.bin");
    QVERIFY(!stream.isEmpty());
    QString error;
    const QList<EventMessage> messages = decodeAll(stream, &error);
    QCOMPARE(error, QString());
    QCOMPARE(messages.size(), 7);
    for (const EventMessage& m : messages) {
        QCOMPARE(m.stringHeader(":message-type"), QByteArray("event"));
        QCOMPARE(m.stringHeader(":event-type"), QByteArray("chunk"));
        QCOMPARE(m.stringHeader(":content-type"), QByteArray("application/json"));
    }
    QCOMPARE(chunkEvent(messages[0]).value("type").toString(), "message_start");
    QCOMPARE(chunkEvent(messages[2]).value("delta").toObject().value("text").toString(), "Hello");
    QCOMPARE(chunkEvent(messages[3]).value("delta").toObject().value("text").toString(), " there");
    QCOMPARE(chunkEvent(messages[6]).value("type").toString(), "message_stop");

    const QList<EventMessage> exception = decodeAll(data("throttling.bin"));
    QCOMPARE(exception.size(), 1);
    QCOMPARE(exception[0].stringHeader(":message-type"), QByteArray("exception"));
    QCOMPARE(exception[0].stringHeader(":exception-type"), QByteArray("throttlingException"));
    QCOMPARE(QJsonDocument::fromJson(exception[0].payload).object().value("message").toString(),
             "Too many requests, please wait before trying again.");
}

void TestEventStream::everySplitGivesTheSameMessages() {
    const QByteArray stream = data("bedrock-stream.bin") + data("throttling.bin");
    const QList<EventMessage> whole = decodeAll(stream);
    QCOMPARE(whole.size(), 8);
    for (qsizetype cut = 0; cut <= stream.size(); ++cut) {
        EventStreamDecoder decoder;
        QList<EventMessage> out;
        QVERIFY(decoder.feed(QByteArrayView(stream).first(cut), out));
        QVERIFY(decoder.feed(QByteArrayView(stream).sliced(cut), out));
        QCOMPARE(decoder.pendingBytes(), 0);
        QCOMPARE(out.size(), whole.size());
        for (qsizetype i = 0; i < out.size(); ++i) {
            QCOMPARE(out[i].headers, whole[i].headers);
            QCOMPARE(out[i].payload, whole[i].payload);
        }
    }
    EventStreamDecoder byteByByte;
    QList<EventMessage> out;
    for (char c : stream)
        QVERIFY(byteByByte.feed(QByteArrayView(&c, 1), out));
    QCOMPARE(out.size(), whole.size());
}

void TestEventStream::everyHeaderTypeRoundTrips() {
    EventMessage m;
    auto add = [&](const char* name, EventHeader::Type type, qint64 integer = 0, QByteArray bytes = {}) {
        EventHeader h;
        h.name = name;
        h.type = type;
        h.boolean = type == EventHeader::Type::True;
        h.integer = integer;
        h.bytes = bytes;
        m.headers.append(h);
    };
    add("t", EventHeader::Type::True);
    add("f", EventHeader::Type::False);
    add("byte", EventHeader::Type::Byte, -7);
    add("short", EventHeader::Type::Short, -30000);
    add("int", EventHeader::Type::Int, 2000000000);
    add("long", EventHeader::Type::Long, -9000000000000LL);
    add("bytes", EventHeader::Type::ByteArray, 0, QByteArray("\x00\x01\xff", 3));
    add("string", EventHeader::Type::String, 0, "h\xc3\xa9llo");
    add("time", EventHeader::Type::Timestamp, 1763793000000LL);
    add("uuid", EventHeader::Type::Uuid, 0, QByteArray("0123456789abcdef"));
    m.payload = "{}";
    const QList<EventMessage> back = decodeAll(encodeEventMessage(m));
    QCOMPARE(back.size(), 1);
    QCOMPARE(back[0].headers, m.headers);
    QCOMPARE(back[0].payload, m.payload);
}

void TestEventStream::encoderMatchesTheIndependentOne() {
    // The frames the tests and the fuzz corpus build with encodeEventMessage are byte-identical to Python's.
    const QByteArray throttling = data("throttling.bin");
    QCOMPARE(encodeEventMessage(decodeAll(throttling).first()), throttling);
}

void TestEventStream::corruptMessageCrcIsAnError() {
    QByteArray stream = data("bedrock-stream.bin");
    const QList<EventMessage> good = decodeAll(stream);
    // Flip one payload byte of the second frame: the first still decodes, then a clean error, nothing after.
    const qsizetype second = qsizetype(qFromBigEndian<quint32>(stream.constData()));
    stream[second + 40] = char(stream[second + 40] ^ 0x20);
    EventStreamDecoder decoder;
    QList<EventMessage> out;
    QVERIFY(!decoder.feed(stream, out));
    QCOMPARE(out.size(), 1);
    QCOMPARE(out[0].payload, good[0].payload);
    QVERIFY2(decoder.error().contains("message CRC"), qPrintable(decoder.error()));
    QVERIFY(!decoder.feed(data("throttling.bin"), out));  // a broken stream stays broken
    QCOMPARE(out.size(), 1);
}

void TestEventStream::corruptPreludeCrcIsAnErrorBeforeTheFrameArrives() {
    QByteArray frame = data("throttling.bin");
    frame[3] = char(frame[3] ^ 0x01);  // the total length no longer matches the prelude CRC
    EventStreamDecoder decoder;
    QList<EventMessage> out;
    QVERIFY(!decoder.feed(frame.first(12), out));
    QVERIFY2(decoder.error().contains("prelude CRC"), qPrintable(decoder.error()));
}

void TestEventStream::oversizedFrameIsAnError() {
    // A prelude with a valid CRC that announces 64 MiB: refused at once rather than buffered.
    EventMessage m;
    m.payload = "x";
    QByteArray frame = encodeEventMessage(m);
    qToBigEndian<quint32>(64u << 20, frame.data());
    qToBigEndian<quint32>(crc(QByteArrayView(frame).first(8)), frame.data() + 8);
    EventStreamDecoder decoder;
    QList<EventMessage> out;
    QVERIFY(!decoder.feed(frame, out));
    QVERIFY2(decoder.error().contains("frame length"), qPrintable(decoder.error()));
}

void TestEventStream::headersLongerThanTheFrameAreAnError() {
    EventMessage m;
    m.payload = "payload";
    QByteArray frame = encodeEventMessage(m);
    qToBigEndian<quint32>(100, frame.data() + 4);
    qToBigEndian<quint32>(crc(QByteArrayView(frame).first(8)), frame.data() + 8);
    QString error;
    QVERIFY(decodeAll(frame, &error).isEmpty());
    QVERIFY2(error.contains("headers length"), qPrintable(error));
}

QTEST_APPLESS_MAIN(TestEventStream)
#include "tst_event_stream.moc"
