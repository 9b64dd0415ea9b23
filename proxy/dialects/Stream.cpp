#include "dialects/Stream.h"

namespace understudy::canonical {

void StreamDecoder::feed(const http::SseEvent& event, QList<StreamEvent>& out) {
    if (!m_ended)
        decode(event, out);
}

void StreamDecoder::finish(QList<StreamEvent>& out) {
    if (m_ended)
        return;
    start({}, {}, {}, out);
    complete(pendingFinish(), out);
}

StreamEvent StreamDecoder::pendingFinish() const {
    StreamEvent finish;
    finish.stopReason = m_sawToolCall ? StopReason::ToolUse : StopReason::EndTurn;
    return finish;
}

void StreamDecoder::start(const QString& id, const QString& model, const Usage& usage, QList<StreamEvent>& out) {
    if (m_started)
        return;
    m_started = true;
    StreamEvent event;
    event.type = StreamEvent::Type::Start;
    event.id = id;
    event.model = model;
    event.usage = usage;
    out.append(event);
}

int StreamDecoder::openBlock(const Block& block, QList<StreamEvent>& out) {
    start({}, {}, {}, out);
    StreamEvent event;
    event.type = StreamEvent::Type::BlockStart;
    event.index = m_next++;
    event.block = block;
    m_open.append(event.index);
    m_sawToolCall = m_sawToolCall || block.kind == BlockKind::ToolCall;
    out.append(event);
    return event.index;
}

void StreamDecoder::delta(int index, StreamEvent::DeltaKind kind, const QString& text, QList<StreamEvent>& out) {
    if (!isOpen(index) || text.isEmpty())
        return;
    StreamEvent event;
    event.type = StreamEvent::Type::Delta;
    event.index = index;
    event.delta = kind;
    event.text = text;
    out.append(event);
}

void StreamDecoder::closeBlock(int index, QList<StreamEvent>& out) {
    if (!m_open.removeOne(index))
        return;
    StreamEvent event;
    event.type = StreamEvent::Type::BlockStop;
    event.index = index;
    out.append(event);
}

void StreamDecoder::closeAll(QList<StreamEvent>& out) {
    while (!m_open.isEmpty())
        closeBlock(m_open.first(), out);
}

void StreamDecoder::complete(StreamEvent finish, QList<StreamEvent>& out) {
    start({}, {}, {}, out);
    closeAll(out);
    finish.type = StreamEvent::Type::Finish;
    out.append(finish);
    m_ended = true;
}

void StreamDecoder::fail(const Error& error, QList<StreamEvent>& out) {
    StreamEvent event;
    event.type = StreamEvent::Type::Error;
    event.error = error;
    out.append(event);
    m_ended = true;
}

}  // namespace understudy::canonical
