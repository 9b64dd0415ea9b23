#pragma once

#include <QByteArray>
#include <QList>

namespace understudy::http {

// One server-sent event. `raw` is the exact bytes of the event including its terminating blank line, so a
// pass-through proxy can forward it unchanged.
struct SseEvent {
    QByteArray event;  // the "event:" field, empty when absent
    QByteArray data;   // "data:" lines joined with '\n'
    QByteArray raw;
};

// Incremental SSE parser (WHATWG EventSource rules: LF, CR or CRLF line ends, comment lines ignored,
// one optional space after the colon). "id:", "retry:" and unknown fields are ignored.
//
// As in EventSource, a block without a "data:" line (only comments, say) dispatches no event; its bytes are
// dropped. When the bytes so far end in the CR of a blank line, the event waits for a LF only if its lines
// end in CRLF (so `raw` keeps that LF); otherwise it is dispatched at once, and a LF that then arrives forms
// an empty block and is dropped.
class SseReader {
public:
    // Appends the events completed by `bytes`; incomplete trailing data is kept for the next call.
    // The work is linear in the bytes fed, however the stream is split.
    void feed(QByteArrayView bytes, QList<SseEvent>& out);
    // Bytes received but not yet part of a complete event (e.g. a stream that was cut).
    qsizetype pendingBytes() const { return m_buffer.size(); }

private:
    QByteArray m_buffer;
    qsizetype m_scanned = 0;  // bytes of m_buffer already known to hold no event terminator
};

// Serialises an event in the canonical "event: X\ndata: Y\n\n" form (no "event:" line when empty). Each line
// of `data` gets its own "data:" field, so a reader gets `data` back (with line breaks as '\n').
QByteArray formatSse(QByteArrayView event, QByteArrayView data);

}  // namespace understudy::http
