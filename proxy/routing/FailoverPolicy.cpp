#include "routing/FailoverPolicy.h"

#include <QDateTime>
#include <QRandomGenerator>

#include <cmath>

namespace understudy {
namespace {

constexpr qint64 kQuotaCooldownMs = 60 * 60 * 1000;  // when an exhausted plan names no reset time
constexpr int kBackoffBaseMs = 200;
constexpr int kBackoffCapMs = 2000;

bool mentionsAny(QByteArrayView body, std::initializer_list<const char*> needles) {
    const QByteArray lower = body.first(std::min<qsizetype>(body.size(), 16 * 1024)).toByteArray().toLower();
    for (const char* n : needles) {
        if (lower.contains(n))
            return true;
    }
    return false;
}

bool isTooLong(int status, QByteArrayView body) {
    if (status == 413)
        return true;
    return status == 400
        && mentionsAny(body, {"context_length_exceeded", "prompt is too long", "maximum context length",
                              "context window", "too many tokens", "input is too long"});  // the last: Bedrock
}

bool isQuota(int status, QByteArrayView body) {
    if (status == 402)
        return true;
    return status == 429
        && mentionsAny(body, {"insufficient_quota", "enforced_spend_limit", "billing", "quota", "usage limit",
                              "weekly limit", "plan limit"});
}

QString statusReason(int status, bool quota) {
    if (quota)
        return QStringLiteral("%1 quota or spend limit reached").arg(status);
    switch (status) {
    case 429: return QStringLiteral("429 rate limited");
    case 500: return QStringLiteral("500 server error");
    case 502: return QStringLiteral("502 bad gateway");
    case 503: return QStringLiteral("503 unavailable");
    case 504: return QStringLiteral("504 gateway timeout");
    case 529: return QStringLiteral("529 overloaded");
    default: return QStringLiteral("HTTP %1").arg(status);
    }
}

std::optional<qint64> parseRfc3339Ms(QByteArrayView text) {
    const QDateTime t = QDateTime::fromString(QString::fromLatin1(text), Qt::ISODateWithMs);
    if (!t.isValid())
        return std::nullopt;
    return t.toMSecsSinceEpoch();
}

}  // namespace

std::optional<qint64> parseGoDurationMs(QByteArrayView text) {
    if (text.isEmpty())
        return std::nullopt;
    double total = 0;
    qsizetype i = 0;
    while (i < text.size()) {
        const qsizetype start = i;
        while (i < text.size() && (isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
            ++i;
        if (i == start)
            return std::nullopt;
        bool ok = false;
        const double value = text.sliced(start, i - start).toDouble(&ok);
        if (!ok)
            return std::nullopt;
        if (text.sliced(i).startsWith("ms")) {
            total += value;
            i += 2;
        } else if (i < text.size() && text[i] == 's') {
            total += value * 1000;
            ++i;
        } else if (i < text.size() && text[i] == 'm') {
            total += value * 60'000;
            ++i;
        } else if (i < text.size() && text[i] == 'h') {
            total += value * 3'600'000;
            ++i;
        } else {
            return std::nullopt;
        }
    }
    return static_cast<qint64>(std::ceil(total));
}

std::optional<qint64> retryAfterMs(const http::Headers& headers, qint64 nowMs) {
    bool ok = false;
    const QByteArray ms = headers.value("retry-after-ms");
    if (!ms.isEmpty()) {
        const double v = ms.trimmed().toDouble(&ok);
        if (ok && v >= 0)
            return static_cast<qint64>(std::ceil(v));
    }
    const QByteArray after = headers.value("retry-after").trimmed();
    if (after.isEmpty())
        return std::nullopt;
    const double seconds = after.toDouble(&ok);
    if (ok && seconds >= 0)
        return static_cast<qint64>(std::ceil(seconds * 1000));
    const QDateTime date = QDateTime::fromString(QString::fromLatin1(after), Qt::RFC2822Date);
    if (date.isValid())
        return std::max<qint64>(0, date.toMSecsSinceEpoch() - nowMs);
    return std::nullopt;
}

std::optional<qint64> rateLimitResetMs(const http::Headers& headers, qint64 nowMs) {
    std::optional<qint64> exhausted;  // latest reset among buckets with nothing remaining
    std::optional<qint64> earliest;   // earliest reset of any bucket, when none says it is empty
    for (const http::Header& h : headers.fields()) {
        const QByteArray name = h.name.toLower();
        std::optional<qint64> reset;
        QByteArray remainingName;
        if (name.startsWith("anthropic-ratelimit-") && name.endsWith("-reset")) {
            reset = parseRfc3339Ms(h.value.trimmed());
            remainingName = name.chopped(6) + "-remaining";
        } else if (name.startsWith("x-ratelimit-reset-")) {
            if (const auto d = parseGoDurationMs(h.value.trimmed()))
                reset = nowMs + *d;
            remainingName = "x-ratelimit-remaining-" + name.sliced(18);
        }
        if (!reset)
            continue;
        if (!earliest || *reset < *earliest)
            earliest = reset;
        const QByteArray remaining = headers.value(remainingName).trimmed();
        if (remaining == "0" && (!exhausted || *reset > *exhausted))
            exhausted = reset;
    }
    return exhausted ? exhausted : earliest;
}

Verdict classifyResponse(int status, const http::Headers& headers, QByteArrayView body, const FailoverConfig& config,
                         qint64 nowMs) {
    Verdict v;
    v.status = status;
    if (status >= 200 && status < 300) {
        v.kind = OutcomeClass::Success;
        return v;
    }
    if (isTooLong(status, body)) {
        v.kind = OutcomeClass::TooLong;
        v.reason = QStringLiteral("%1 prompt too long for this model").arg(status);
        return v;
    }
    v.quota = isQuota(status, body);
    v.reason = statusReason(status, v.quota);
    v.retryAfterMs = retryAfterMs(headers, nowMs);
    if (const auto reset = rateLimitResetMs(headers, nowMs))
        v.coolUntilMs = reset;
    if (v.retryAfterMs && (!v.coolUntilMs || nowMs + *v.retryAfterMs > *v.coolUntilMs))
        v.coolUntilMs = nowMs + *v.retryAfterMs;
    if (v.quota) {
        v.kind = OutcomeClass::Failover;
        if (!v.coolUntilMs)
            v.coolUntilMs = nowMs + kQuotaCooldownMs;
        return v;
    }
    if (!config.triggerOnStatusCodes.contains(status)) {
        v.kind = OutcomeClass::ClientError;
        return v;
    }
    switch (status) {
    case 429:
        // A short announced wait is cheaper than a model switch; a long one, or none, is not.
        v.kind = v.retryAfterMs && *v.retryAfterMs <= config.maxRetryAfterWaitMs ? OutcomeClass::Transient
                                                                                 : OutcomeClass::Failover;
        break;
    case 500: case 502: case 503: case 504:
        v.kind = OutcomeClass::Transient;
        break;
    default:
        v.kind = OutcomeClass::Failover;
        break;
    }
    return v;
}

Verdict classifyTransport(http::TransportFailure failure) {
    Verdict v;
    v.reason = http::describe(failure);
    switch (failure) {
    case http::TransportFailure::Refused:
    case http::TransportFailure::HostNotFound:
    case http::TransportFailure::Tls:
        v.kind = OutcomeClass::Failover;  // retrying cannot help
        break;
    default:
        v.kind = OutcomeClass::Transient;
        break;
    }
    return v;
}

Verdict timeoutVerdict(const QString& what, int afterMs) {
    Verdict v;
    v.kind = OutcomeClass::Failover;
    v.timeout = true;
    v.reason = QStringLiteral("%1 within %2 ms").arg(what).arg(afterMs);
    return v;
}

int retryDelayMs(const Verdict& verdict, int retry) {
    if (verdict.retryAfterMs)
        return static_cast<int>(*verdict.retryAfterMs);
    const int ceiling = std::min(kBackoffCapMs, kBackoffBaseMs << std::min(retry, 4));
    return ceiling / 2 + static_cast<int>(QRandomGenerator::global()->bounded(ceiling / 2 + 1));
}

}  // namespace understudy
