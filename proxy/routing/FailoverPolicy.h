#pragma once

#include "config/Config.h"
#include "http/Headers.h"
#include "http/Upstream.h"

#include <QString>

#include <optional>

namespace understudy {

// How one attempt ended (DESIGN.md §3). Policy only: what to do about it is the Exchange's job.
enum class OutcomeClass {
    Success,
    Transient,    // retry the same target (bounded), then fail over
    Failover,     // mark the target's health, go to the next target at once
    TooLong,      // the prompt does not fit this model: next step with another model, no health mark
    ClientError,  // return to the client unmodified
};

struct Verdict {
    OutcomeClass kind = OutcomeClass::Success;
    QString reason;                        // short and user-facing: "429 rate limited", "connection refused"
    int status = 0;                        // the upstream's HTTP status, 0 when none arrived
    std::optional<qint64> retryAfterMs;    // a wait the upstream announced, relative to now
    std::optional<qint64> coolUntilMs;     // an absolute reset time the upstream announced (epoch ms)
    bool quota = false;                    // plan or spend exhausted: cool long and tell the user
    bool rateLimited = false;              // a rate limit, hit or about to be (cools until its reset)
    bool timeout = false;                  // no answer in time (all-timeouts → 504)
};

Verdict classifyResponse(int status, const http::Headers& headers, QByteArrayView body, const FailoverConfig& config,
                         qint64 nowMs);
Verdict classifyTransport(http::TransportFailure failure);
Verdict timeoutVerdict(const QString& what, int afterMs);

// How long to wait before retry number `retry` (0-based) of the same target: the upstream's retry-after when
// given, else exponential backoff with jitter so that parallel requests do not retry in lockstep.
int retryDelayMs(const Verdict& verdict, int retry);

// Upstream hints, as milliseconds from now: retry-after-ms, retry-after (seconds or HTTP date).
std::optional<qint64> retryAfterMs(const http::Headers& headers, qint64 nowMs);
// The reset time of exhausted rate-limit buckets (anthropic-ratelimit-*-reset, x-ratelimit-reset-*), epoch ms.
std::optional<qint64> rateLimitResetMs(const http::Headers& headers, qint64 nowMs);
// A reset time that a quota or usage-limit error names in its body (epoch ms): Claude's "usage limit reached|<unix
// seconds>", a JSON "resets_at" / "reset_at" (unix seconds or RFC 3339) or "resets_in_seconds".
std::optional<qint64> quotaResetMs(QByteArrayView body, qint64 nowMs);
// A wait that a rate-limit message names in its text ("Please try again in 1.5s", "in 300ms"), in ms.
std::optional<qint64> tryAgainInMs(QByteArrayView body);

// The pre-emptive switch: a success whose rate-limit headers say that less than `percent` % of a bucket is left
// (anthropic-ratelimit-*-remaining / -limit, x-ratelimit-remaining-* / x-ratelimit-limit-*) gives a verdict that
// cools the target until that bucket's reset, so the next request goes to the fallback before hitting the wall.
std::optional<Verdict> nearLimitVerdict(const http::Headers& headers, int percent, qint64 nowMs);

// A Go-style duration ("1s", "6m0s", "12ms", "1h2m3.5s") in milliseconds.
std::optional<qint64> parseGoDurationMs(QByteArrayView text);

}  // namespace understudy
