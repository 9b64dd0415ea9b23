#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

namespace understudy::aws {

// One header of an event-stream message (application/vnd.amazon.eventstream). The wire type decides which
// member carries the value: `boolean` (types 0/1), `integer` (byte, short, int, long, timestamp in epoch ms),
// `bytes` (byte array, string, 16-byte uuid).
struct EventHeader {
    enum class Type : quint8 { True = 0, False, Byte, Short, Int, Long, ByteArray, String, Timestamp, Uuid };
    QByteArray name;
    Type type = Type::String;
    bool boolean = false;
    qint64 integer = 0;
    QByteArray bytes;

    static EventHeader string(QByteArray name, QByteArray value);
    bool operator==(const EventHeader&) const = default;
};

struct EventMessage {
    QList<EventHeader> headers;
    QByteArray payload;

    // The value of a string header (":event-type", ":message-type", ...), or empty.
    QByteArray stringHeader(QByteArrayView name) const;
};

// The bytes of one message: prelude (total length, headers length, CRC32 of both), headers, payload, CRC32 of
// everything before it. All integers big-endian. Header names are at most 255 bytes and values 65535, as the
// format allows (what the decoder reads always fits).
QByteArray encodeEventMessage(const EventMessage& message);

// Incremental decoder of an event stream: feed it the body as it arrives, split anywhere. Both CRCs are
// checked; a corrupt or oversized frame stops the stream with an error (the bytes after it cannot be trusted
// to be aligned on a frame), and further input is ignored.
class EventStreamDecoder {
public:
    // AWS caps a message at 16 MiB and its headers at 128 KiB; a Bedrock chunk is a few hundred bytes.
    static constexpr quint32 kMaxMessageBytes = 16 * 1024 * 1024;
    static constexpr quint32 kMaxHeaderBytes = 128 * 1024;

    // Appends the messages completed by `bytes`. Returns false once the stream is corrupt (see error()).
    bool feed(QByteArrayView bytes, QList<EventMessage>& out);
    const QString& error() const { return m_error; }  // empty while the stream is sound
    qsizetype pendingBytes() const { return m_buffer.size() - m_offset; }

private:
    bool fail(const QString& why);
    bool decodeHeaders(QByteArrayView bytes, QList<EventHeader>& out);

    QByteArray m_buffer;
    qsizetype m_offset = 0;  // start of the first undecoded frame in m_buffer
    QString m_error;
};

}  // namespace understudy::aws
