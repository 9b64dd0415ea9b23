#pragma once

#include "dialects/Dialect.h"
#include "dialects/Translation.h"
#include "dialects/UsageMeter.h"
#include "telemetry/Telemetry.h"
#include "http/Message.h"
#include "http/SseReader.h"
#include "http/Upstream.h"
#include "json/JsonScan.h"
#include "providers/Bedrock.h"
#include "routing/Continuation.h"
#include "routing/FailoverPolicy.h"
#include "routing/Route.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QPointer>
#include <QSet>
#include <QBasicTimer>
#include <QTimerEvent>

#include <memory>

namespace understudy {

namespace http {
class Connection;
}
class Clock;
class HealthBoard;
class SpendGuard;
class Telemetry;
namespace google {
class TokenCache;
}

// What an exchange needs from the proxy that owns it (all on the proxy thread).
struct ProxyContext {
    http::UpstreamPool* pool = nullptr;
    HealthBoard* health = nullptr;
    Telemetry* telemetry = nullptr;
    PrefillRefusals* prefillRefusals = nullptr;  // learned for the proxy's life; without it, per exchange
    const Clock* clock = nullptr;                // without it, the system clock
    SpendGuard* spend = nullptr;                 // without it, daily budgets are not enforced
    google::TokenCache* googleTokens = nullptr;   // Vertex access tokens, shared by every exchange
};

// One inbound model request and its attempt loop (DESIGN.md §3): try each target of the plan in order, retry
// transient failures, skip cooling targets, hold a stream until its first content, and answer the client
// exactly once — with the serving target's response, or an error naming every attempt. A committed stream that
// breaks is continued on the next target (see Continuation), so the client still gets one whole message.
class Exchange : public QObject {
    Q_OBJECT
public:
    struct Inbound {
        http::Request request;
        Dialect dialect;
        QByteArray path;          // without any /chains/<id> prefix
        QString chainFromPath;
    };

    Exchange(ProxyContext context, std::shared_ptr<const Config> config, Inbound inbound, http::Connection* client);
    ~Exchange() override;
    void start();

Q_SIGNALS:
    void finished();

protected:
    void timerEvent(QTimerEvent* event) override;

private:
    enum class Phase { Idle, Authorizing, Connecting, AwaitingHead, AwaitingContent, ReadingBody, Streaming, Done };
    struct AttemptRecord {
        QString target;
        QString outcome;
    };

    void nextTarget();
    void startAttempt();
    bool needsAccessToken() const;
    void awaitAccessToken();
    bool retryWithFreshToken(const Verdict& verdict);
    http::OutboundRequest outboundFor(const Target& target, QString* error) const;
    bool acceptsPrefill(const Target& target) const;
    PrefillRefusals& prefillRefusals();
    void onConnected();
    void onHead(const http::ResponseHead& head);
    void onBody(const QByteArray& bytes);
    void onUpstreamFinished();
    void onUpstreamFailed(http::TransportFailure failure, const QString& detail);
    void onTimeout();
    void handleStreamBytes(const QByteArray& bytes);
    void applyBackpressure();
    void resumeUpstream();
    QByteArray commitStream();
    void settle(const Verdict& verdict);
    void markHealthy();
    void markFailed(const Verdict& verdict);
    // Quota-aware extras (issue 9): cool before the rate limit, skip a paid step over budget, tell the user.
    void coolBeforeLimit();
    bool overDailyBudget(const Target& target);
    void tellIfNowSpending(const Target& target);
    void countSpend(const UsageRecord& record);
    qint64 now() const;
    void respondLocally(int status, const QString& message);
    void recordServed(int status, const QString& breakReason);
    void serveNonStream();
    void completeStream();
    void onStreamBroke(const QString& reason);
    void refusedWhileContinuing(const Verdict& verdict);
    void endBrokenStream(const QString& why);
    QString attemptSummary() const;
    void passThroughClientError();
    void finishAllFailed();
    void skipTarget(const QString& why);
    Dialect upstreamDialect() const;  // of the current target
    bool isCountTokens() const;
    void answerTokenCountLocally();
    void armTimer(int ms);
    int firstTokenTimeoutMs() const;
    int remainingBudgetMs() const;
    void dropCall();
    http::Headers responseHeaders(const http::Headers& upstream) const;
    void recordRequestEvent(int status, const QString& outcome, const QString& servedBy);
    UsageRecord usageRecord(int status, const QString& outcome, const QString& servedBy) const;
    void finish();
    const Target& target() const { return m_plan.targets[m_index]; }

    ProxyContext m_ctx;
    std::shared_ptr<const Config> m_config;
    Inbound m_in;
    QPointer<http::Connection> m_client;
    json::ObjectScan m_scan;
    QString m_requestedModel;
    bool m_wantsStream = false;
    bool m_carriesForeignReasoning = false;  // the history holds reasoning minted by a fallback of another family
    RoutePlan m_plan;
    QString m_clientName;

    int m_index = -1;
    int m_retries = 0;           // on the current target
    int m_networkAttempts = 0;
    bool m_probing = false;
    QList<AttemptRecord> m_attempts;
    QString m_lastFailedTarget;
    QString m_lastFailureReason;
    int m_lastStatus = 0;
    bool m_onlyTimeouts = true;  // every failure so far was a timeout (→ 504 when all fail)
    bool m_budgetSpent = false;
    QSet<QString> m_tooLongModels;
    http::ResponseHead m_tooLong;  // the first "prompt too long" answer, returned if nothing else serves
    QByteArray m_tooLongBody;

    Phase m_phase = Phase::Idle;
    QByteArray m_accessToken;  // fetched for the current target, when it needs one (Vertex)
    bool m_renewedToken = false;  // a 401 already got a fresh token once for this request
    QPointer<http::UpstreamCall> m_call;
    QBasicTimer m_timer;       // the current stage's timeout: connect, first token, stream idle
    QBasicTimer m_retryTimer;
    QDeadlineTimer m_budget;
    QElapsedTimer m_clock;
    http::ResponseHead m_head;
    QByteArray m_body;
    http::SseReader m_sse;
    std::optional<bedrock::StreamTranscoder> m_bedrockStream;  // set while a Bedrock stream is read
    QList<http::SseEvent> m_held;  // stream events before the commit point
    std::unique_ptr<Continuation> m_continuation;  // the client's side of a committed stream
    bool m_continuing = false;                      // the committed stream broke: later attempts continue it
    Continuation::Mode m_mode = Continuation::Mode::Prefill;  // of the current continuing attempt
    QString m_breakReason;                          // the real failure, named in any in-band error
    int m_streamIndex = -1;                         // the target that last streamed to the client
    PrefillRefusals m_ownRefusals;                  // when the proxy keeps none
    UsageMeter m_usage{Dialect::AnthropicMessages};
    qint64 m_firstTokenMs = -1;
    bool m_sawEnd = false;
    bool m_finished = false;

    static constexpr qsizetype kMaxResponseBytes = 64 * 1024 * 1024;
    static constexpr qsizetype kMaxStreamEventBytes = 16 * 1024 * 1024;  // one SSE event, still incomplete
};

}  // namespace understudy
