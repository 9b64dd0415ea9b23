#include "http/HeadWriter.h"

#include <charconv>
#include <cstring>

namespace understudy::http {

qsizetype HeadWriter::fieldBytes(const Headers& headers) {
    qsizetype bytes = 0;
    for (const Header& h : headers.fields())
        bytes += h.name.size() + h.value.size() + 4;  // ": " and CRLF
    return bytes;
}

HeadWriter::HeadWriter(const Headers& headers, qsizetype startLineBytes)
    : m_bytes(fieldBytes(headers) + startLineBytes + 2, Qt::Uninitialized) {}

void HeadWriter::grow(qsizetype needed) {
    m_bytes.resize(std::max(m_used + needed, 2 * m_bytes.size()));
}

HeadWriter& HeadWriter::operator<<(QByteArrayView bytes) {
    if (m_used + bytes.size() > m_bytes.size())
        grow(bytes.size());
    std::memcpy(m_bytes.data() + m_used, bytes.data(), bytes.size());
    m_used += bytes.size();
    return *this;
}

HeadWriter& HeadWriter::decimal(qint64 number) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, number).ptr;
    return *this << QByteArrayView(digits, end - digits);
}

HeadWriter& HeadWriter::field(QByteArrayView name, QByteArrayView value) {
    return *this << name << QByteArrayView(": ") << value << QByteArrayView("\r\n");
}

HeadWriter& HeadWriter::fields(const Headers& headers) {
    for (const Header& h : headers.fields())
        field(h.name, h.value);
    return *this;
}

QByteArray HeadWriter::finish() {
    *this << QByteArrayView("\r\n");
    m_bytes.truncate(m_used);
    m_used = 0;
    return std::move(m_bytes);
}

QByteArray chunkFrame(QByteArrayView data) {
    char size[20];
    const auto sizeEnd = std::to_chars(size, size + sizeof size, data.size(), 16).ptr;
    const qsizetype sizeBytes = sizeEnd - size;
    QByteArray frame(sizeBytes + 2 + data.size() + 2, Qt::Uninitialized);
    char* p = frame.data();
    std::memcpy(p, size, sizeBytes);
    p += sizeBytes;
    *p++ = '\r';
    *p++ = '\n';
    std::memcpy(p, data.data(), data.size());
    p += data.size();
    *p++ = '\r';
    *p = '\n';
    return frame;
}

}  // namespace understudy::http
