#include "http/Message.h"

#include <array>
#include <cstring>
#include <string_view>

namespace understudy::http {

bool Request::keepAlive() const
{
    if (framing::hasToken(headers, "Connection", "close"))
        return false;
    return versionMinor >= 1 || framing::hasToken(headers, "Connection", "keep-alive");
}

namespace framing {

namespace {

// RFC 9110 tchar: the bytes allowed in a header name or a method.
constexpr std::array<bool, 256> kTokenChars = [] {
    std::array<bool, 256> table{};
    for (int c = '0'; c <= '9'; ++c)
        table[c] = true;
    for (int c = 'a'; c <= 'z'; ++c)
        table[c] = table[c - 'a' + 'A'] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~"))
        table[static_cast<unsigned char>(c)] = true;
    return table;
}();

bool isOws(char c)
{
    return c == ' ' || c == '\t';
}

// Field values may hold tabs and obs-text but no other control character: a NUL or CR smuggled into a value
// could end it early for the next parser that sees it.
bool hasControlChar(QByteArrayView value)
{
    for (char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f)
            return true;
    }
    return false;
}

QByteArrayView trimOws(QByteArrayView bytes)
{
    while (!bytes.isEmpty() && isOws(bytes.front()))
        bytes = bytes.sliced(1);
    while (!bytes.isEmpty() && isOws(bytes.back()))
        bytes.chop(1);
    return bytes;
}

bool sameToken(QByteArrayView a, QByteArrayView b)
{
    return a.size() == b.size() && a.compare(b, Qt::CaseInsensitive) == 0;
}

// Calls `visit` with each trimmed element of a comma-separated list field, for every field called `name`.
template <typename Visit>
void forEachListElement(const Headers& headers, QByteArrayView name, Visit visit)
{
    for (const Header& field : headers.fields()) {
        if (!sameToken(field.name, name))
            continue;
        QByteArrayView rest = field.value;
        while (true) {
            const qsizetype comma = rest.indexOf(',');
            visit(trimOws(comma < 0 ? rest : rest.first(comma)));
            if (comma < 0)
                break;
            rest = rest.sliced(comma + 1);
        }
    }
}

QByteArray parseField(QByteArrayView line, Headers& headers)
{
    if (isOws(line.front()))
        return "A header line starts with whitespace (obsolete line folding); send each header on one line.";
    const qsizetype colon = line.indexOf(':');
    if (colon < 0)
        return "Header line " + quoted(line) + " has no colon; send each header as 'Name: value'.";
    const QByteArrayView name = line.first(colon);
    if (!name.isEmpty() && isOws(name.back()))
        return "Header " + quoted(name) + " has whitespace before its colon; remove it.";
    if (!isToken(name))
        return "Header name " + quoted(name) + " is empty or holds characters not allowed in a name; "
               "use letters, digits and '-'.";
    const QByteArrayView value = line.sliced(colon + 1);
    if (hasControlChar(value))
        return "Header " + quoted(name) + " holds a control character in its value; remove it.";
    headers.add(name, trimOws(value));
    return {};
}

bool parseDecimal(QByteArrayView digits, qint64& value)
{
    constexpr qsizetype kMaxDigits = 18;  // stays below 2^63
    if (digits.isEmpty() || digits.size() > kMaxDigits)
        return false;
    value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9')
            return false;
        value = value * 10 + (c - '0');
    }
    return true;
}

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// chunk-size [ BWS ";" chunk-ext ], with the extension ignored.
bool parseChunkSize(QByteArrayView line, qint64& size)
{
    constexpr qsizetype kMaxDigits = 15;  // stays below 2^60
    qsizetype digits = 0;
    size = 0;
    for (; digits < line.size() && hexValue(line[digits]) >= 0; ++digits) {
        if (digits == kMaxDigits)
            return false;
        size = size * 16 + hexValue(line[digits]);
    }
    const QByteArrayView rest = trimOws(line.sliced(digits));
    return digits > 0 && (rest.isEmpty() || rest.front() == ';');
}

}  // namespace

bool isToken(QByteArrayView bytes)
{
    for (char c : bytes) {
        if (!kTokenChars[static_cast<unsigned char>(c)])
            return false;
    }
    return !bytes.isEmpty();
}

qsizetype findHeadEnd(QByteArrayView buffer, qsizetype& scanned)
{
    const char* data = buffer.data();
    while (scanned < buffer.size()) {
        const auto* lf = static_cast<const char*>(std::memchr(data + scanned, '\n', buffer.size() - scanned));
        if (!lf) {
            scanned = buffer.size();
            return -1;
        }
        const qsizetype at = lf - data;
        scanned = at + 1;
        // The line ending here is blank when it starts the buffer or follows another LF.
        const qsizetype lineStart = (at > 0 && data[at - 1] == '\r') ? at - 1 : at;
        if (lineStart == 0 || data[lineStart - 1] == '\n')
            return at + 1;
    }
    return -1;
}

QByteArrayView takeLine(QByteArrayView& rest)
{
    const qsizetype lf = rest.indexOf('\n');
    QByteArrayView line = lf < 0 ? rest : rest.first(lf);
    rest = lf < 0 ? QByteArrayView() : rest.sliced(lf + 1);
    if (line.endsWith('\r'))
        line.chop(1);
    return line;
}

QByteArray parseFields(QByteArrayView lines, Headers& headers)
{
    for (QByteArrayView line = takeLine(lines); !line.isEmpty(); line = takeLine(lines)) {
        QByteArray error = parseField(line, headers);
        if (!error.isEmpty())
            return error;
    }
    return {};
}

bool hasToken(const Headers& headers, QByteArrayView name, QByteArrayView token)
{
    bool found = false;
    forEachListElement(headers, name, [&](QByteArrayView element) { found = found || sameToken(element, token); });
    return found;
}

bool isChunkedOnly(const Headers& headers)
{
    return sameToken(transferCodings(headers), "chunked");
}

QByteArray transferCodings(const Headers& headers)
{
    QByteArrayList codings;
    forEachListElement(headers, "Transfer-Encoding",
                       [&](QByteArrayView coding) { codings.append(coding.toByteArray()); });
    return codings.join(", ");
}

qint64 contentLength(const Headers& headers, QByteArray& error)
{
    qint64 length = -1;
    forEachListElement(headers, "Content-Length", [&](QByteArrayView element) {
        if (!error.isEmpty())
            return;
        qint64 value = 0;
        if (!parseDecimal(element, value))
            error = "Content-Length " + quoted(element) + " is not a decimal number";
        else if (length >= 0 && value != length)
            error = "Content-Length values " + QByteArray::number(length) + " and " + QByteArray::number(value)
                    + " disagree";
        length = value;
    });
    return length;
}

qsizetype moveBytes(QByteArray& from, qsizetype n, QByteArray& to)
{
    n = std::min(n, from.size());
    if (n == 0)
        return 0;
    if (n == from.size() && to.capacity() == 0) {
        to.swap(from);
    } else {
        to.append(from.constData(), n);
        from.remove(0, n);  // O(1) for Qt 6: erasing a prefix moves the begin pointer
    }
    return n;
}

QByteArray quoted(QByteArrayView bytes)
{
    constexpr qsizetype kMaxShown = 40;
    QByteArray shown = bytes.first(std::min(bytes.size(), kMaxShown)).toByteArray();
    for (char& c : shown) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f)
            c = '?';
    }
    return '\'' + shown + (bytes.size() > kMaxShown ? "...'" : "'");
}

ChunkedDecoder::Status ChunkedDecoder::decode(QByteArray& buffer, QByteArray& out, qsizetype maxBody,
                                              qsizetype maxLine)
{
    while (step(buffer, out, maxBody, maxLine)) {
    }
    if (m_phase == Phase::Done)
        return Status::Complete;
    return m_phase == Phase::Failed ? Status::Error : Status::NeedMore;
}

// Advances by one piece of the chunked body; false when more bytes are needed or decoding has ended.
bool ChunkedDecoder::step(QByteArray& buffer, QByteArray& out, qsizetype maxBody, qsizetype maxLine)
{
    switch (m_phase) {
    case Phase::Size:
        return readSize(buffer, maxBody, maxLine);
    case Phase::Data:
        return readData(buffer, out);
    case Phase::DataEnd:
        return readDataEnd(buffer);
    case Phase::Trailers:
        return readTrailers(buffer, maxLine);
    case Phase::Done:
    case Phase::Failed:
        break;
    }
    return false;
}

bool ChunkedDecoder::readSize(QByteArray& buffer, qsizetype maxBody, qsizetype maxLine)
{
    const qsizetype lf = buffer.indexOf('\n', m_scanned);
    m_scanned = lf < 0 ? buffer.size() : 0;
    if ((lf < 0 ? buffer.size() : lf) > maxLine)
        return fail(400, "A chunk-size line is too long; send chunk sizes without long extensions.");
    if (lf < 0)
        return false;
    QByteArrayView rest = QByteArrayView(buffer).first(lf + 1);
    const QByteArrayView line = takeLine(rest);
    qint64 size = 0;
    if (!parseChunkSize(line, size))
        return fail(400, "Invalid chunk-size line " + quoted(line)
                             + "; each chunk must start with its size in hexadecimal and CRLF.");
    if (size > maxBody - m_total)
        return fail(413, "The chunked body exceeds the " + QByteArray::number(maxBody) + "-byte limit.");
    buffer.remove(0, lf + 1);
    m_remaining = size;
    m_phase = size == 0 ? Phase::Trailers : Phase::Data;
    return true;
}

bool ChunkedDecoder::readData(QByteArray& buffer, QByteArray& out)
{
    const qsizetype moved = moveBytes(buffer, m_remaining, out);
    m_remaining -= moved;
    m_total += moved;
    if (m_remaining > 0)
        return false;
    m_phase = Phase::DataEnd;
    return true;
}

bool ChunkedDecoder::readDataEnd(QByteArray& buffer)
{
    if (buffer.startsWith("\r\n") || buffer.startsWith('\n')) {
        buffer.remove(0, buffer.startsWith('\n') ? 1 : 2);
        m_phase = Phase::Size;
        return true;
    }
    if (buffer.isEmpty() || buffer == "\r")
        return false;
    return fail(400, "Chunk data is not followed by CRLF; make each chunk size match the bytes that follow it.");
}

bool ChunkedDecoder::readTrailers(QByteArray& buffer, qsizetype maxLine)
{
    const qsizetype end = findHeadEnd(buffer, m_scanned);
    if ((end < 0 ? buffer.size() : end) > maxLine)
        return fail(400, "The chunked body's trailer section is too large; send fewer trailer fields.");
    if (end < 0)
        return false;
    buffer.remove(0, end);
    m_phase = Phase::Done;
    return false;
}

bool ChunkedDecoder::fail(int status, QByteArray message)
{
    m_phase = Phase::Failed;
    m_errorStatus = status;
    m_error = std::move(message);
    return false;
}

}  // namespace framing

}  // namespace understudy::http
