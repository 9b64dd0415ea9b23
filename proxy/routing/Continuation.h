#pragma once

#include "dialects/Canonical.h"
#include "dialects/Dialect.h"
#include "dialects/Stream.h"
#include "http/SseReader.h"

#include <QHash>
#include <QList>
#include <QSet>
#include <QString>

#include <memory>
#include <optional>

namespace understudy {

// Targets that refused an assistant prefill with a 400 (newer Claude models do), learned for the life of the proxy
// so that continuation never sends them one again.
class PrefillRefusals {
public:
    void learn(const QString& target) { m_targets.insert(target); }
    bool refuses(const QString& target) const { return m_targets.contains(target); }

private:
    QSet<QString> m_targets;
};

// The client's side of one streamed answer, kept across attempts (DESIGN.md §3, continuation). It records in
// canonical terms what the client has received; when a committed stream breaks, it splices the next target's
// stream onto that: no second message start, the open text block continued, block indexes and tool-call ids kept
// consistent, usage summed. A tool call reaches the client only whole, so a call cut half-way is never seen by
// the client and the next target makes it again from the start.
class Continuation {
public:
    enum class Mode {
        Prefill,  // the target was sent the partial answer and goes on from its end
        Restart,  // the target answers afresh and streams on only if its answer begins with what the client has
    };

    explicit Continuation(Dialect client);
    ~Continuation();

    // The first attempt's stream: its bytes pass through unchanged when it speaks the client's dialect.
    void beginFirst(Dialect upstream);
    // A later attempt, after breakOff(), goes on with the answer the client has so far.
    void beginContinuation(Dialect upstream, Mode mode);

    // Client bytes for one upstream event; empty while a tool call is held back.
    QByteArray feed(const http::SseEvent& event);
    // The upstream ended its stream properly: the closing events the client still needs.
    QByteArray finish();
    // The attempt broke: whatever was held back from the client is forgotten.
    void breakOff();

    // The partial answer, as assistant content for a prefill.
    QList<canonical::Block> prefill() const;
    // A restart can only reproduce text: tool calls already sent could never be matched.
    bool restartable() const;
    // Restart mode: the target's answer does not begin with what the client has.
    bool diverged() const { return m_diverged; }
    // The client has been sent the end of the message: it may hang up now, and has the whole answer.
    bool answered() const { return m_answered; }

private:
    struct Received {
        canonical::Block block;
        bool open = true;
    };

    QByteArray deliver(const QList<canonical::StreamEvent>& events, const QByteArray& raw);
    void record(const canonical::StreamEvent& event);
    std::unique_ptr<canonical::StreamEncoder> primedEncoder() const;

    QList<canonical::StreamEvent> spliced(const QList<canonical::StreamEvent>& events);
    void spliceBlockStart(canonical::StreamEvent event, QList<canonical::StreamEvent>& out);
    void spliceDelta(canonical::StreamEvent event, QList<canonical::StreamEvent>& out);
    void spliceFinish(canonical::StreamEvent event, QList<canonical::StreamEvent>& out);
    void matchRestart(const canonical::StreamEvent& delta, QList<canonical::StreamEvent>& out);
    int openClientBlock(canonical::StreamEvent start, QList<canonical::StreamEvent>& out);
    void closeLeftOpen(QList<canonical::StreamEvent>& out);
    QString uniqueToolId(const QString& id);
    bool matching() const { return m_mode == Mode::Restart && !m_expected.isEmpty(); }

    Dialect m_client;
    std::unique_ptr<canonical::StreamDecoder> m_decoder;  // the current attempt's upstream dialect
    std::unique_ptr<canonical::StreamEncoder> m_encoder;  // the client's; none while bytes pass through
    bool m_passThrough = false;

    QString m_id;     // of the message the client received
    QString m_model;
    QList<Received> m_received;  // by client block index
    QSet<QString> m_toolIds;     // tool-call ids the client has been given
    QList<canonical::StreamEvent> m_pending;  // client events held back while a tool call is open
    QByteArray m_pendingRaw;                  // their upstream bytes when passing through
    QSet<int> m_openCalls;

    // Splicing a later attempt.
    bool m_splicing = false;
    Mode m_mode = Mode::Prefill;
    QHash<int, int> m_indexes;     // upstream block index -> client block index, or kDropped / kMatching
    std::optional<int> m_continued;  // the client's open text block the attempt's first text goes on with
    QList<int> m_leftOpen;         // client blocks a broken attempt left open
    int m_nextIndex = 0;
    QString m_skip;      // prefill: trailing whitespace the prefill left out (Anthropic refuses it), not to repeat
    QString m_expected;  // restart: what the answer must still begin with
    bool m_diverged = false;
    bool m_answered = false;
    canonical::Usage m_usageBefore;   // of the attempts that broke
    canonical::Usage m_attemptUsage;  // announced at the current attempt's start
};

}  // namespace understudy
