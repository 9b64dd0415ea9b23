#include "routing/FailoverPolicy.h"

#include <QDateTime>
#include <QRandomGenerator>
#include <QRegularExpression>

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

bool isQuota(int status, const http::Headers& headers, QByteArrayView body) {
    if (status == 402)
        return true;
    if (status == 429 && headers.value("anthropic-ratelimit-unified-status").trimmed() == "rejected")
        return true;  // a subscription plan's limit (header reported for OAuth traffic, unverified)
    if (status == 400 || status == 403) {
        // Anthropic refuses an empty prepaid balance with a 400; ChatGPT-plan backends a plan without the model.
        return mentionsAny(body, {"credit balance is too low", "usage_not_included", "usage_limit_reached"});
    }
    return status == 429
        && mentionsAny(body, {"insufficient_quota", "enforced_spend_limit", "billing", "quota", "usage limit",
                              "usage_limit_reached", "weekly limit", "plan limit", "spend limit"});
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

// A reset time as sent: RFC 3339, or unix seconds (anthropic-ratelimit-unified-reset, "resets_at"). A small
// number is read as seconds from now: some Anthropic-compatible vendors send that in the reset headers.
std::optional<qint64> parseResetTime(QByteArrayView text, qint64 nowMs) {
    bool ok = false;
    const qint64 seconds = text.toLongLong(&ok);
    if (!ok)
        return parseRfc3339Ms(text);
    if (seconds < 0)
        return std::nullopt;
    constexpr qint64 kYear2001 = 1'000'000'000;
    return seconds >= kYear2001 ? seconds * 1000 : nowMs + seconds * 1000;
}

struct Bucket {
    QByteArray name;  // "tokens", "requests", "input-tokens", ...
    std::optional<qint64> resetMs;
    std::optional<double> remaining, limit;
};

// The rate-limit buckets that a response's headers describe, Anthropic's and OpenAI's.
QList<Bucket> rateLimitBuckets(const http::Headers& headers, qint64 nowMs) {
    QList<Bucket> buckets;
    auto bucket = [&buckets](const QByteArray& name) -> Bucket& {
        for (Bucket& b : buckets) {
            if (b.name == name)
                return b;
        }
        buckets.append({name, {}, {}, {}});
        return buckets.last();
    };
    auto number = [](const QByteArray& value) -> std::optional<double> {
        bool ok = false;
        const double v = value.trimmed().toDouble(&ok);
        return ok ? std::optional<double>(v) : std::nullopt;
    };
    static constexpr QByteArrayView anthropic("anthropic-ratelimit-");
    for (const http::Header& h : headers.fields()) {
        const QByteArray name = h.name.toLower();
        if (name.startsWith(anthropic)) {
            const QByteArray rest = name.sliced(anthropic.size());
            if (rest.endsWith("-reset"))
                bucket(rest.chopped(6)).resetMs = parseResetTime(h.value.trimmed(), nowMs);
            else if (rest.endsWith("-remaining"))
                bucket(rest.chopped(10)).remaining = number(h.value);
            else if (rest.endsWith("-limit"))
                bucket(rest.chopped(6)).limit = number(h.value);
        } else if (name.startsWith("x-ratelimit-reset-")) {
            if (const auto d = parseGoDurationMs(h.value.trimmed()))
                bucket(name.sliced(18)).resetMs = nowMs + *d;
        } else if (name.startsWith("x-ratelimit-remaining-")) {
            bucket(name.sliced(22)).remaining = number(h.value);
        } else if (name.startsWith("x-ratelimit-limit-")) {
            bucket(name.sliced(18)).limit = number(h.value);
        }
    }
    return buckets;
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
    const bool planRejected = headers.value("anthropic-ratelimit-unified-status").trimmed() == "rejected";
    for (const Bucket& b : rateLimitBuckets(headers, nowMs)) {
        if (!b.resetMs)
            continue;
        // A subscription's plan window resets in hours: it is the cooldown only when the plan says it is used up.
        const bool planWindow = b.name.startsWith("unified");
        if (!planWindow && (!earliest || *b.resetMs < *earliest))
            earliest = b.resetMs;
        const bool empty = (b.remaining && *b.remaining <= 0) || (planRejected && b.name == "unified");
        if (empty && (!exhausted || *b.resetMs > *exhausted))
            exhausted = b.resetMs;
    }
    return exhausted ? exhausted : earliest;
}

std::optional<qint64> quotaResetMs(QByteArrayView body, qint64 nowMs) {
    const QString text = QString::fromUtf8(body.first(std::min<qsizetype>(body.size(), 16 * 1024)));
    static const QRegularExpression pipe(QStringLiteral(R"re(usage limit reached\|(\d{9,13}))re"),
                                         QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression at(QStringLiteral(R"re("resets?_at"\s*:\s*"?([0-9T:.+Z-]+)"?)re"));
    static const QRegularExpression in(QStringLiteral(R"re("resets_in_seconds"\s*:\s*(\d+(?:\.\d+)?))re"));
    if (const QRegularExpressionMatch m = pipe.match(text); m.hasMatch()) {
        const qint64 value = m.captured(1).toLongLong();
        return value > 100'000'000'000LL ? value : value * 1000;  // ms when it has 13 digits
    }
    if (const QRegularExpressionMatch m = at.match(text); m.hasMatch())
        return parseResetTime(m.captured(1).toLatin1(), nowMs);
    if (const QRegularExpressionMatch m = in.match(text); m.hasMatch())
        return nowMs + static_cast<qint64>(std::ceil(m.captured(1).toDouble() * 1000));
    return std::nullopt;
}

std::optional<qint64> tryAgainInMs(QByteArrayView body) {
    static const QRegularExpression again(QStringLiteral(R"re(try again in (\d+(?:\.\d+)?)\s*(ms|s)\b)re"),
                                          QRegularExpression::CaseInsensitiveOption);
    const QRegularExpressionMatch m =
        again.match(QString::fromUtf8(body.first(std::min<qsizetype>(body.size(), 16 * 1024))));
    if (!m.hasMatch())
        return std::nullopt;
    const double value = m.captured(1).toDouble();
    return static_cast<qint64>(std::ceil(m.captured(2) == QLatin1String("ms") ? value : value * 1000));
}

std::optional<Verdict> nearLimitVerdict(const http::Headers& headers, int percent, qint64 nowMs) {
    if (percent <= 0)
        return std::nullopt;
    std::optional<Verdict> verdict;
    for (const Bucket& b : rateLimitBuckets(headers, nowMs)) {
        if (!b.remaining || !b.limit || *b.limit <= 0 || !b.resetMs || *b.resetMs <= nowMs)
            continue;
        if (*b.remaining * 100 >= *b.limit * percent)
            continue;
        if (verdict && *verdict->coolUntilMs >= *b.resetMs)
            continue;
        Verdict v;
        v.kind = OutcomeClass::Failover;
        v.rateLimited = true;
        v.coolUntilMs = b.resetMs;
        v.reason = QStringLiteral("%1 of %2 %3 left (under %4%), switched before the limit")
                       .arg(static_cast<qint64>(*b.remaining)).arg(static_cast<qint64>(*b.limit))
                       .arg(QString::fromLatin1(b.name)).arg(percent);
        verdict = v;
    }
    return verdict;
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
    v.quota = isQuota(status, headers, body);
    v.rateLimited = status == 429 && !v.quota;
    v.reason = statusReason(status, v.quota);
    v.retryAfterMs = retryAfterMs(headers, nowMs);
    if (!v.retryAfterMs && v.rateLimited)
        v.retryAfterMs = tryAgainInMs(body);
    if (const auto reset = rateLimitResetMs(headers, nowMs))
        v.coolUntilMs = reset;
    if (v.quota) {
        if (const auto reset = quotaResetMs(body, nowMs); reset && *reset > nowMs)
            v.coolUntilMs = reset;  // the plan's own reset beats any bucket's
    }
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
