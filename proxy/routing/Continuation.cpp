#include "routing/Continuation.h"

#include "dialects/Translation.h"

#include <algorithm>
#include <utility>

namespace understudy {
namespace {

using canonical::Block;
using canonical::BlockKind;
using canonical::StreamEvent;

constexpr int kDropped = -1;   // an upstream block the client does not get
constexpr int kMatching = -2;  // restart: a text block still being compared with what the client has

canonical::Usage summed(canonical::Usage a, const canonical::Usage& b) {
    a.inputTokens += b.inputTokens;
    a.outputTokens += b.outputTokens;
    a.cacheReadTokens += b.cacheReadTokens;
    a.cacheWriteTokens += b.cacheWriteTokens;
    a.reasoningTokens += b.reasoningTokens;
    return a;
}

QString trailingWhitespace(const QString& text) {
    qsizetype start = text.size();
    while (start > 0 && text.at(start - 1).isSpace())
        --start;
    return text.mid(start);
}

StreamEvent eventOf(StreamEvent::Type type, int index) {
    StreamEvent event;
    event.type = type;
    event.index = index;
    return event;
}

}  // namespace

Continuation::Continuation(Dialect client) : m_client(client) {}

Continuation::~Continuation() = default;

void Continuation::beginFirst(Dialect upstream) {
    m_decoder = makeStreamDecoder(upstream);
    m_passThrough = upstream == m_client;
    if (!m_passThrough)
        m_encoder = makeStreamEncoder(m_client);
}

void Continuation::beginContinuation(Dialect upstream, Mode mode) {
    m_decoder = makeStreamDecoder(upstream);
    if (!m_encoder)
        m_encoder = primedEncoder();
    m_passThrough = false;
    m_splicing = true;
    m_mode = mode;
    m_indexes.clear();
    m_diverged = false;
    m_continued.reset();
    m_leftOpen.clear();
    for (int i = 0; i < m_received.size(); ++i) {
        if (m_received[i].open)
            m_leftOpen.append(i);
    }
    if (!m_leftOpen.isEmpty() && m_leftOpen.last() == m_received.size() - 1
        && m_received.last().block.kind == BlockKind::Text)
        m_continued = m_received.size() - 1;
    m_nextIndex = m_received.size();
    m_skip.clear();
    m_expected.clear();
    if (mode == Mode::Prefill && m_continued)
        m_skip = trailingWhitespace(m_received.last().block.text);
    if (mode == Mode::Restart) {
        for (const Received& r : std::as_const(m_received)) {
            if (r.block.kind == BlockKind::Text)
                m_expected += r.block.text;
        }
    }
}

QByteArray Continuation::feed(const http::SseEvent& event) {
    QList<StreamEvent> decoded;
    m_decoder->feed(event, decoded);
    return deliver(m_splicing ? spliced(decoded) : decoded, event.raw);
}

QByteArray Continuation::finish() {
    QList<StreamEvent> decoded;
    m_decoder->finish(decoded);
    return deliver(m_splicing ? spliced(decoded) : decoded, {});
}

void Continuation::breakOff() {
    m_pending.clear();
    m_pendingRaw.clear();
    m_openCalls.clear();
    m_usageBefore = summed(m_usageBefore, m_attemptUsage);
    m_attemptUsage = {};
}

QList<Block> Continuation::prefill() const {
    // Thinking stays out: unsigned or foreign reasoning cannot be replayed as signed thinking (DESIGN.md §2).
    QList<Block> blocks;
    for (const Received& r : m_received) {
        if (r.block.kind == BlockKind::Text && !r.block.text.isEmpty())
            blocks.append(Block::makeText(r.block.text));
        else if (r.block.kind == BlockKind::ToolCall)
            blocks.append(r.block);
    }
    // Anthropic refuses a final assistant turn that ends in whitespace; the continuation's start restores it.
    if (!blocks.isEmpty() && blocks.last().kind == BlockKind::Text) {
        blocks.last().text.chop(trailingWhitespace(blocks.last().text).size());
        if (blocks.last().text.isEmpty())
            blocks.removeLast();
    }
    return blocks;
}

bool Continuation::restartable() const {
    return std::none_of(m_received.begin(), m_received.end(),
                        [](const Received& r) { return r.block.kind == BlockKind::ToolCall; });
}

QByteArray Continuation::deliver(const QList<StreamEvent>& events, const QByteArray& raw) {
    for (const StreamEvent& event : events) {
        m_pending.append(event);
        if (event.type == StreamEvent::Type::BlockStart && event.block.kind == BlockKind::ToolCall)
            m_openCalls.insert(event.index);
        else if (event.type == StreamEvent::Type::BlockStop)
            m_openCalls.remove(event.index);
    }
    if (m_passThrough)
        m_pendingRaw += raw;
    if (!m_openCalls.isEmpty())
        return {};
    QByteArray out = std::exchange(m_pendingRaw, {});
    for (const StreamEvent& event : std::as_const(m_pending)) {
        if (!m_passThrough)
            out += m_encoder->encode(event);
        m_answered = m_answered || event.type == StreamEvent::Type::Finish;
        record(event);
    }
    m_pending.clear();
    return out;
}

void Continuation::record(const StreamEvent& event) {
    if (event.type == StreamEvent::Type::Start) {
        m_id = event.id;
        m_model = event.model;
        m_attemptUsage = event.usage;
        return;
    }
    if (event.type == StreamEvent::Type::BlockStart) {
        Block block = event.block;
        block.text.clear();
        block.arguments.clear();
        if (block.kind == BlockKind::ToolCall)
            m_toolIds.insert(block.id);
        m_received.append({block, true});
        return;
    }
    if (event.index < 0 || event.index >= m_received.size())
        return;
    Received& received = m_received[event.index];
    if (event.type == StreamEvent::Type::BlockStop) {
        received.open = false;
        return;
    }
    if (event.type != StreamEvent::Type::Delta)
        return;
    switch (event.delta) {
    case StreamEvent::DeltaKind::Text:
    case StreamEvent::DeltaKind::Thinking: received.block.text += event.text; break;
    case StreamEvent::DeltaKind::Signature: received.block.signature += event.text; break;
    case StreamEvent::DeltaKind::Arguments: received.block.arguments += event.text; break;
    }
}

// The bytes a pass-through stream sent were never encoded here: a fresh client encoder is brought to the state
// the client is in by encoding what it received, and those bytes are thrown away.
std::unique_ptr<canonical::StreamEncoder> Continuation::primedEncoder() const {
    std::unique_ptr<canonical::StreamEncoder> encoder = makeStreamEncoder(m_client);
    StreamEvent start;
    start.id = m_id;
    start.model = m_model;
    encoder->encode(start);
    for (int i = 0; i < m_received.size(); ++i) {
        const Received& r = m_received[i];
        StreamEvent open = eventOf(StreamEvent::Type::BlockStart, i);
        open.block = r.block;
        encoder->encode(open);
        StreamEvent delta = eventOf(StreamEvent::Type::Delta, i);
        delta.delta = r.block.kind == BlockKind::ToolCall ? StreamEvent::DeltaKind::Arguments
                    : r.block.kind == BlockKind::Thinking ? StreamEvent::DeltaKind::Thinking
                                                           : StreamEvent::DeltaKind::Text;
        delta.text = r.block.kind == BlockKind::ToolCall ? r.block.arguments : r.block.text;
        encoder->encode(delta);
        if (!r.open)
            encoder->encode(eventOf(StreamEvent::Type::BlockStop, i));
    }
    return encoder;
}

QList<StreamEvent> Continuation::spliced(const QList<StreamEvent>& events) {
    QList<StreamEvent> out;
    for (const StreamEvent& event : events) {
        if (m_diverged)
            break;
        switch (event.type) {
        case StreamEvent::Type::Start:
            m_attemptUsage = event.usage;  // the client has its message start already
            break;
        case StreamEvent::Type::BlockStart: spliceBlockStart(event, out); break;
        case StreamEvent::Type::Delta: spliceDelta(event, out); break;
        case StreamEvent::Type::BlockStop: {
            const int index = m_indexes.value(event.index, kDropped);
            if (index >= 0)
                out.append(eventOf(StreamEvent::Type::BlockStop, index));
            break;
        }
        case StreamEvent::Type::Finish: spliceFinish(event, out); break;
        case StreamEvent::Type::Error: out.append(event); break;
        }
    }
    return out;
}

void Continuation::spliceBlockStart(StreamEvent event, QList<StreamEvent>& out) {
    if (matching()) {
        if (event.block.kind == BlockKind::ToolCall)
            m_diverged = true;
        // A restart's reasoning differs from the first attempt's anyway; only its text is compared.
        m_indexes.insert(event.index, event.block.kind == BlockKind::Text ? kMatching : kDropped);
        return;
    }
    if (m_continued && event.block.kind == BlockKind::Text) {
        m_indexes.insert(event.index, *m_continued);
        m_leftOpen.removeOne(*m_continued);
        m_continued.reset();
        return;
    }
    m_continued.reset();
    m_skip.clear();
    m_indexes.insert(event.index, openClientBlock(event, out));
}

void Continuation::spliceDelta(StreamEvent event, QList<StreamEvent>& out) {
    const int index = m_indexes.value(event.index, kDropped);
    if (index == kMatching) {
        matchRestart(event, out);
        return;
    }
    if (index == kDropped)
        return;
    while (!m_skip.isEmpty() && !event.text.isEmpty() && event.text.front() == m_skip.front()) {
        event.text.remove(0, 1);
        m_skip.remove(0, 1);
    }
    if (event.text.isEmpty())
        return;
    m_skip.clear();
    event.index = index;
    out.append(event);
}

void Continuation::spliceFinish(StreamEvent event, QList<StreamEvent>& out) {
    if (matching()) {
        m_diverged = true;  // it finished before it caught up with the client
        return;
    }
    closeLeftOpen(out);
    event.usage = summed(m_usageBefore, event.usage);
    out.append(event);
}

void Continuation::matchRestart(const StreamEvent& delta, QList<StreamEvent>& out) {
    const qsizetype n = std::min(delta.text.size(), m_expected.size());
    if (QStringView(delta.text).first(n) != QStringView(m_expected).first(n)) {
        m_diverged = true;
        return;
    }
    m_expected.remove(0, n);
    if (matching())
        return;
    // Caught up: this block carries the answer on from here, in the client's open text block if there is one.
    int index = 0;
    if (m_continued) {
        index = *m_continued;
        m_leftOpen.removeOne(index);
        m_continued.reset();
    } else {
        StreamEvent start = eventOf(StreamEvent::Type::BlockStart, delta.index);
        start.block = Block::makeText({});
        index = openClientBlock(start, out);
    }
    m_indexes.insert(delta.index, index);
    if (n < delta.text.size()) {
        StreamEvent rest = delta;
        rest.index = index;
        rest.text = delta.text.mid(n);
        out.append(rest);
    }
}

int Continuation::openClientBlock(StreamEvent start, QList<StreamEvent>& out) {
    closeLeftOpen(out);
    start.index = m_nextIndex++;
    if (start.block.kind == BlockKind::ToolCall)
        start.block.id = uniqueToolId(start.block.id);
    out.append(start);
    return start.index;
}

void Continuation::closeLeftOpen(QList<StreamEvent>& out) {
    for (const int index : std::as_const(m_leftOpen))
        out.append(eventOf(StreamEvent::Type::BlockStop, index));
    m_leftOpen.clear();
}

// Vendors that number calls per response (`functions.Bash:0`) would repeat an id the client already has.
QString Continuation::uniqueToolId(const QString& id) {
    QString unique = id;
    for (int n = 2; m_toolIds.contains(unique); ++n)
        unique = id + QStringLiteral("_") + QString::number(n);
    m_toolIds.insert(unique);
    return unique;
}

}  // namespace understudy
