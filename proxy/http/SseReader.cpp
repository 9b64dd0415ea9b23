#include "http/SseReader.h"

#include <algorithm>
#include <cstring>

namespace understudy::http {

namespace {

// Finds CR and LF bytes with memchr, remembering where the next of each is so that a stream using only one
// of them is not searched for the other at every line.
class LineBreaks {
public:
    explicit LineBreaks(QByteArrayView data) : m_data(data) {}

    // The offset of the first CR or LF at or after `from`, or -1. `from` must not decrease between calls.
    qsizetype find(qsizetype from)
    {
        if (from >= m_data.size())
            return -1;
        const qsizetype at = std::min(next(m_nextCr, '\r', from), next(m_nextLf, '\n', from));
        return at < m_data.size() ? at : -1;
    }

    // The length of the line break at `at`: 2 for a CRLF whose LF has arrived, else 1.
    qsizetype length(qsizetype at) const
    {
        return m_data[at] == '\r' && at + 1 < m_data.size() && m_data[at + 1] == '\n' ? 2 : 1;
    }

private:
    // The first `c` at or after `from`, or the size when there is none; `cached` is the previous answer.
    qsizetype next(qsizetype& cached, char c, qsizetype from)
    {
        if (cached < from) {
            const void* found = std::memchr(m_data.data() + from, c, m_data.size() - from);
            cached = found ? static_cast<const char*>(found) - m_data.data() : m_data.size();
        }
        return cached;
    }

    QByteArrayView m_data;
    qsizetype m_nextCr = -1;
    qsizetype m_nextLf = -1;
};

// Applies one non-empty line of a block. Returns whether it was a "data:" field.
bool applyField(QByteArrayView line, SseEvent& event, bool hasData)
{
    const qsizetype colon = line.indexOf(':');
    if (colon == 0)
        return false;  // a comment
    const QByteArrayView name = colon < 0 ? line : line.first(colon);
    QByteArrayView value = colon < 0 ? QByteArrayView() : line.sliced(colon + 1);
    if (value.startsWith(' '))
        value = value.sliced(1);
    if (name == "event") {
        event.event = value.toByteArray();
    } else if (name == "data") {
        if (hasData)
            event.data.append('\n').append(value);
        else
            event.data = value.toByteArray();
        return true;
    }
    return false;
}

// Turns a block (lines up to and including the blank line) into an event, unless it has no "data:" field.
void dispatch(QByteArrayView block, QList<SseEvent>& out)
{
    SseEvent event;
    bool hasData = false;
    LineBreaks breaks(block);
    for (qsizetype pos = 0, at = 0; (at = breaks.find(pos)) > pos; pos = at + breaks.length(at))
        hasData = applyField(block.sliced(pos, at - pos), event, hasData) || hasData;
    if (!hasData)
        return;
    event.raw = block.toByteArray();
    out.append(std::move(event));
}

// Whether the blank line at `at` is a CR ending the bytes so far in a block whose lines end in CRLF: its LF
// is then most likely in the next read and belongs in the event's raw bytes.
bool awaitsLf(QByteArrayView data, qsizetype start, qsizetype at)
{
    return data[at] == '\r' && at + 1 == data.size() && at - 2 >= start && data[at - 1] == '\n'
           && data[at - 2] == '\r';
}

// The end of the blank line that closes the block beginning at `start`, or -1 when it has not arrived.
// `scanned` is where the search resumes; the bytes before it hold no blank line.
qsizetype findBlockEnd(QByteArrayView data, LineBreaks& breaks, qsizetype start, qsizetype& scanned)
{
    while (scanned < data.size()) {
        const qsizetype at = breaks.find(scanned);
        if (at < 0) {
            scanned = data.size();
            return -1;
        }
        scanned = at + 1;
        const bool lfOfCrlf = data[at] == '\n' && at > start && data[at - 1] == '\r';
        const bool blank = at == start || data[at - 1] == '\n' || data[at - 1] == '\r';
        if (lfOfCrlf || !blank)
            continue;
        if (awaitsLf(data, start, at)) {
            scanned = at;
            return -1;
        }
        scanned = at + breaks.length(at);
        return scanned;
    }
    return -1;
}

}  // namespace

void SseReader::feed(QByteArrayView bytes, QList<SseEvent>& out)
{
    // Scan the caller's bytes in place when nothing is pending: only an unfinished tail gets copied.
    const bool pending = !m_buffer.isEmpty();
    if (pending)
        m_buffer.append(bytes);
    const QByteArrayView data = pending ? QByteArrayView(m_buffer) : bytes;
    LineBreaks breaks(data);
    qsizetype start = 0;
    for (qsizetype end = 0; (end = findBlockEnd(data, breaks, start, m_scanned)) >= 0; start = end)
        dispatch(data.sliced(start, end - start), out);
    if (pending)
        m_buffer.remove(0, start);
    else
        m_buffer = data.sliced(start).toByteArray();
    m_scanned -= start;
}

QByteArray formatSse(QByteArrayView event, QByteArrayView data)
{
    QByteArray out;
    out.reserve(event.size() + data.size() + 24);
    if (!event.isEmpty())
        out.append("event: ").append(event).append('\n');
    LineBreaks breaks(data);
    qsizetype pos = 0;
    for (qsizetype at = 0; (at = breaks.find(pos)) >= 0; pos = at + breaks.length(at))
        out.append("data: ").append(data.sliced(pos, at - pos)).append('\n');
    out.append("data: ").append(data.sliced(pos)).append("\n\n");
    return out;
}

}  // namespace understudy::http
