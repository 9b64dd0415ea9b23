#include "providers/EventStream.h"

#include <zlib.h>

namespace understudy::aws {
namespace {

constexpr qsizetype kPreludeBytes = 12;  // total length, headers length, prelude CRC
constexpr qsizetype kOverheadBytes = 16;  // prelude + message CRC

quint64 readBig(const char* p, int bytes) {
    quint64 v = 0;
    for (int i = 0; i < bytes; ++i)
        v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}

void appendBig(QByteArray& out, quint64 v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i)
        out.append(static_cast<char>((v >> (8 * i)) & 0xff));
}

quint32 crc(QByteArrayView bytes) {
    return static_cast<quint32>(
        crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

// Value bytes of fixed-size types; -1 for the length-prefixed ones.
int fixedSize(EventHeader::Type type) {
    switch (type) {
    case EventHeader::Type::True:
    case EventHeader::Type::False: return 0;
    case EventHeader::Type::Byte: return 1;
    case EventHeader::Type::Short: return 2;
    case EventHeader::Type::Int: return 4;
    case EventHeader::Type::Long:
    case EventHeader::Type::Timestamp: return 8;
    case EventHeader::Type::Uuid: return 16;
    case EventHeader::Type::ByteArray:
    case EventHeader::Type::String: return -1;
    }
    return -1;
}

qint64 signExtend(quint64 v, int bytes) {
    const int shift = 64 - 8 * bytes;
    return static_cast<qint64>(v << shift) >> shift;
}

}  // namespace

EventHeader EventHeader::string(QByteArray name, QByteArray value) {
    EventHeader h;
    h.name = std::move(name);
    h.type = Type::String;
    h.bytes = std::move(value);
    return h;
}

QByteArray EventMessage::stringHeader(QByteArrayView name) const {
    for (const EventHeader& h : headers) {
        if (h.name == name && h.type == EventHeader::Type::String)
            return h.bytes;
    }
    return {};
}

QByteArray encodeEventMessage(const EventMessage& message) {
    QByteArray headers;
    for (const EventHeader& h : message.headers) {
        headers.append(static_cast<char>(h.name.size())).append(h.name).append(static_cast<char>(h.type));
        const int size = fixedSize(h.type);
        if (h.type == EventHeader::Type::Uuid)
            headers.append(h.bytes.leftJustified(16, '\0', true));
        else if (size > 0)
            appendBig(headers, static_cast<quint64>(h.integer), size);
        else if (size < 0) {
            appendBig(headers, static_cast<quint64>(h.bytes.size()), 2);
            headers.append(h.bytes);
        }
    }
    QByteArray out;
    const qsizetype total = kOverheadBytes + headers.size() + message.payload.size();
    out.reserve(total);
    appendBig(out, static_cast<quint64>(total), 4);
    appendBig(out, static_cast<quint64>(headers.size()), 4);
    appendBig(out, crc(out), 4);
    out.append(headers).append(message.payload);
    appendBig(out, crc(out), 4);
    return out;
}

bool EventStreamDecoder::feed(QByteArrayView bytes, QList<EventMessage>& out) {
    if (!m_error.isEmpty())
        return false;
    m_buffer.append(bytes);
    while (m_buffer.size() - m_offset >= kPreludeBytes) {
        const char* frame = m_buffer.constData() + m_offset;
        const quint32 total = static_cast<quint32>(readBig(frame, 4));
        const quint32 headersLength = static_cast<quint32>(readBig(frame + 4, 4));
        // The prelude is checked before waiting for the rest: a corrupt length must not make us wait for 4 GiB.
        if (crc(QByteArrayView(frame, 8)) != readBig(frame + 8, 4))
            return fail(QStringLiteral("prelude CRC mismatch"));
        if (total < kOverheadBytes || total > kMaxMessageBytes)
            return fail(QStringLiteral("frame length %1 outside 16..%2 bytes").arg(total).arg(kMaxMessageBytes));
        if (headersLength > kMaxHeaderBytes || headersLength > total - kOverheadBytes)
            return fail(QStringLiteral("headers length %1 does not fit a %2-byte frame").arg(headersLength).arg(total));
        if (m_buffer.size() - m_offset < total)
            break;
        const QByteArrayView whole(frame, total);
        if (crc(whole.first(total - 4)) != readBig(frame + total - 4, 4))
            return fail(QStringLiteral("message CRC mismatch"));
        EventMessage message;
        if (!decodeHeaders(whole.sliced(kPreludeBytes, headersLength), message.headers))
            return false;
        message.payload = whole.sliced(kPreludeBytes + headersLength, total - kOverheadBytes - headersLength).toByteArray();
        out.append(std::move(message));
        m_offset += total;
    }
    if (m_offset > 0 && m_offset * 2 >= m_buffer.size()) {  // compact once the decoded part dominates
        m_buffer.remove(0, m_offset);
        m_offset = 0;
    }
    return true;
}

bool EventStreamDecoder::decodeHeaders(QByteArrayView bytes, QList<EventHeader>& out) {
    qsizetype pos = 0;
    auto need = [&](qsizetype n) { return bytes.size() - pos >= n; };
    while (pos < bytes.size()) {
        const int nameLength = static_cast<unsigned char>(bytes[pos++]);
        if (nameLength == 0 || !need(nameLength + 1))
            return fail(QStringLiteral("malformed header name"));
        EventHeader h;
        h.name = bytes.sliced(pos, nameLength).toByteArray();
        pos += nameLength;
        const int type = static_cast<unsigned char>(bytes[pos++]);
        if (type > static_cast<int>(EventHeader::Type::Uuid))
            return fail(QStringLiteral("header '%1' has unknown type %2").arg(QString::fromUtf8(h.name)).arg(type));
        h.type = static_cast<EventHeader::Type>(type);
        int size = fixedSize(h.type);
        if (size < 0) {
            if (!need(2))
                return fail(QStringLiteral("header '%1' is truncated").arg(QString::fromUtf8(h.name)));
            size = static_cast<int>(readBig(bytes.data() + pos, 2));
            pos += 2;
        }
        if (!need(size))
            return fail(QStringLiteral("header '%1' is truncated").arg(QString::fromUtf8(h.name)));
        const char* value = bytes.data() + pos;
        switch (h.type) {
        case EventHeader::Type::True: h.boolean = true; break;
        case EventHeader::Type::False: h.boolean = false; break;
        case EventHeader::Type::Byte:
        case EventHeader::Type::Short:
        case EventHeader::Type::Int:
        case EventHeader::Type::Long:
        case EventHeader::Type::Timestamp: h.integer = signExtend(readBig(value, size), size); break;
        case EventHeader::Type::ByteArray:
        case EventHeader::Type::String:
        case EventHeader::Type::Uuid: h.bytes = QByteArray(value, size); break;
        }
        pos += size;
        out.append(std::move(h));
    }
    return true;
}

bool EventStreamDecoder::fail(const QString& why) {
    m_error = why;
    m_buffer.clear();
    m_offset = 0;
    return false;
}

}  // namespace understudy::aws
