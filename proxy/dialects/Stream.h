#pragma once

#include "dialects/Canonical.h"
#include "http/SseReader.h"

#include <QByteArray>
#include <QList>

#include <optional>

namespace understudy::canonical {

// Turns one dialect's SSE events into canonical stream events. The base class keeps the bookkeeping every
// dialect needs: a Start before the first block, which blocks are open, and whether the message has ended.
class StreamDecoder {
public:
    virtual ~StreamDecoder() = default;
    void feed(const http::SseEvent& event, QList<StreamEvent>& out);
    // The upstream stream ended: closes what it left open and finishes the message, unless it already
    // finished or failed.
    void finish(QList<StreamEvent>& out);

protected:
    virtual void decode(const http::SseEvent& event, QList<StreamEvent>& out) = 0;
    // What the message ended with when the upstream never said (e.g. a Chat stream cut before usage).
    virtual StreamEvent pendingFinish() const;

    void start(const QString& id, const QString& model, const Usage& usage, QList<StreamEvent>& out);
    int openBlock(const Block& block, QList<StreamEvent>& out);
    void delta(int index, StreamEvent::DeltaKind kind, const QString& text, QList<StreamEvent>& out);
    void closeBlock(int index, QList<StreamEvent>& out);
    void closeAll(QList<StreamEvent>& out);
    void complete(StreamEvent finish, QList<StreamEvent>& out);
    void fail(const Error& error, QList<StreamEvent>& out);

    bool started() const { return m_started; }
    bool isOpen(int index) const { return m_open.contains(index); }
    bool sawToolCall() const { return m_sawToolCall; }

private:
    bool m_started = false;
    bool m_ended = false;
    bool m_sawToolCall = false;
    int m_next = 0;
    QList<int> m_open;
};

// Turns canonical stream events into one dialect's SSE bytes.
class StreamEncoder {
public:
    virtual ~StreamEncoder() = default;
    virtual QByteArray encode(const StreamEvent& event) = 0;
};

}  // namespace understudy::canonical
