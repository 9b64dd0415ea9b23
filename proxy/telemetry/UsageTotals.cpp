#include "telemetry/UsageTotals.h"

#include "telemetry/Ledger.h"

#include <QHash>
#include <QMap>

#include <algorithm>
#include <deque>
#include <map>

namespace understudy {
namespace {

constexpr qint64 kHourMs = 60 * 60 * 1000;

// Per provider, as Ledger::summary groups and orders them.
struct ProviderSums {
    QHash<QString, UsageRow> rows;

    void set(const QList<UsageRow>& summary) {
        for (const UsageRow& r : summary)
            rows.insert(r.key, r);
    }
    void add(const LedgerRow& row) {
        const UsageRecord& r = row.record;
        const QString key = r.provider.isEmpty() ? QStringLiteral("(none)") : r.provider;
        UsageRow& sum = rows[key];
        sum.key = key;
        sum.requests += 1;
        sum.fallbackRequests += r.fallbackDepth > 0 && !r.provider.isEmpty() ? 1 : 0;
        sum.failovers += row.failovers;
        sum.inputTokens += r.tokens.input;
        sum.outputTokens += r.tokens.output;
        sum.cacheReadTokens += r.tokens.cacheRead;
        sum.cacheWriteTokens += r.tokens.cacheWrite;
        if (row.cost)
            sum.cost += *row.cost;
        else
            sum.unpricedRequests += 1;
    }
    // Most expensive first, then most requests, then by name.
    QList<UsageRow> list() const {
        QList<UsageRow> list = rows.values();
        std::sort(list.begin(), list.end(), [](const UsageRow& a, const UsageRow& b) {
            if (a.cost != b.cost)
                return a.cost > b.cost;
            if (a.requests != b.requests)
                return a.requests > b.requests;
            return a.key < b.key;
        });
        return list;
    }
};

// Attempts per target in the window, each remembered until it leaves it.
struct ErrorRates {
    struct Attempt {
        qint64 timeMs;
        int target;  // index into rates
        bool failed;
    };
    std::deque<Attempt> attempts;
    QHash<QString, int> index;
    QList<TargetErrorRate> rates;

    void add(qint64 timeMs, const QString& target, bool failed) {
        auto found = index.constFind(target);
        if (found == index.cend()) {
            found = index.insert(target, int(rates.size()));
            rates.append({target, 0, 0});
        }
        TargetErrorRate& rate = rates[*found];
        rate.attempts += 1;
        rate.failures += failed ? 1 : 0;
        attempts.push_back({timeMs, *found, failed});
    }
    void dropBefore(qint64 startMs) {
        while (!attempts.empty() && attempts.front().timeMs < startMs) {
            TargetErrorRate& rate = rates[attempts.front().target];
            rate.attempts -= 1;
            rate.failures -= attempts.front().failed ? 1 : 0;
            attempts.pop_front();
        }
    }
    // The targets with an attempt in the window, by name.
    QList<TargetErrorRate> list() const {
        QList<TargetErrorRate> list;
        for (const TargetErrorRate& rate : rates) {
            if (rate.attempts > 0)
                list.append(rate);
        }
        std::sort(list.begin(), list.end(), [](const TargetErrorRate& a, const TargetErrorRate& b) { return a.target < b.target; });
        return list;
    }
};

// Spells on fallback as a walk over the window's rows finds them (see Ledger::snapshot): per chain, from the
// first request in the window that went to a fallback to the next one its primary answered. When a spell's
// first such request leaves the window, the spell starts at its next one, or is gone if there is none.
struct Spells {
    struct Request {
        qint64 timeMs;
        qint64 order;  // rows at the same millisecond count in the order they were written
    };
    struct Chain {
        std::deque<Request> onFallback;  // in the window, oldest first
        std::deque<Request> recoveries;  // the requests that ended a spell, whose first is in onFallback
        qint64 openSinceMs = 0;

        bool isOpen() const {
            return !onFallback.empty() && (recoveries.empty() || onFallback.back().order > recoveries.back().order);
        }
    };
    QHash<QString, Chain> chains;
    std::map<qint64, qint64> ended;  // the order of the request that ended a spell -> how long it lasted
    qint64 endedMs = 0;

    void see(const QString& chainName, Request request, const RequestFacts& facts) {
        if (!facts.failedOver && !facts.primaryServed)
            return;
        Chain& chain = chains[chainName];
        if (facts.failedOver) {
            if (!chain.isOpen())
                chain.openSinceMs = request.timeMs;
            chain.onFallback.push_back(request);
        } else if (chain.isOpen()) {
            chain.recoveries.push_back(request);
            setEnded(request.order, request.timeMs - chain.openSinceMs);
        }
    }
    void dropBefore(qint64 startMs) {
        for (Chain& chain : chains) {
            while (!chain.onFallback.empty() && chain.onFallback.front().timeMs < startMs) {
                chain.onFallback.pop_front();
                firstSpellMoved(chain);
            }
        }
    }
    qint64 openMs(qint64 nowMs) const {
        qint64 sum = 0;
        for (const Chain& chain : chains)
            sum += chain.isOpen() ? nowMs - chain.openSinceMs : 0;
        return sum;
    }

private:
    void firstSpellMoved(Chain& chain) {
        if (chain.recoveries.empty()) {  // the first spell is the open one
            if (!chain.onFallback.empty())
                chain.openSinceMs = chain.onFallback.front().timeMs;
            return;
        }
        const Request end = chain.recoveries.front();
        if (chain.onFallback.empty() || chain.onFallback.front().order > end.order) {
            endedMs -= ended[end.order];
            ended.erase(end.order);
            chain.recoveries.pop_front();
        } else {
            setEnded(end.order, end.timeMs - chain.onFallback.front().timeMs);
        }
    }
    void setEnded(qint64 order, qint64 ms) {
        qint64& lasted = ended[order];
        endedMs += ms - lasted;
        lasted = ms;
    }
};

// Requests per local clock hour and target. Hours are numbered from `firstHourMs` at the last read, so that a
// later chart's hours are the same buckets as long as the local hours stay whole hours apart from it.
struct HourCounts {
    qint64 firstHourMs = 0;
    QMap<qint64, QHash<QString, qint64>> hours;

    qint64 hourOf(qint64 timeMs) const {
        const qint64 offset = timeMs - firstHourMs;
        return offset >= 0 ? offset / kHourMs : -((-offset + kHourMs - 1) / kHourMs);
    }
    bool alignedWith(qint64 chartStartMs) const { return (chartStartMs - firstHourMs) % kHourMs == 0; }
    void add(qint64 timeMs, const QString& target) {
        hours[hourOf(timeMs)][target.isEmpty() ? RequestsByHour::noAnswer() : target] += 1;
    }
    void dropBefore(qint64 chartStartMs) {
        const qint64 first = hourOf(chartStartMs);
        while (!hours.isEmpty() && hours.firstKey() < first)
            hours.erase(hours.begin());
    }
    RequestsByHour chart(qint64 chartStartMs) const {
        RequestsByHour chart{chartStartMs, {}, {}};
        const qint64 first = hourOf(chartStartMs);
        for (auto hour = hours.lowerBound(first); hour != hours.cend() && hour.key() < first + RequestsByHour::kHours; ++hour) {
            for (auto target = hour->cbegin(); target != hour->cend(); ++target)
                chart.add(target.key(), int(hour.key() - first), target.value());
        }
        return chart.busiestFirst();
    }
};

}  // namespace

struct UsageTotals::Counts {
    SnapshotPeriods periods;  // of the last snapshot
    ProviderSums today, month;
    // The last 24 hours, counted in the order Ledger::snapshot reads the rows.
    qint64 newestMs = 0;   // the newest row counted; an older one would be out of that order
    qint64 nextOrder = 0;
    std::deque<qint64> failovers;  // when each request that failed over happened
    ErrorRates targets;
    Spells spells;
    HourCounts hours;

    static Counts read(const Ledger& ledger, qint64 nowMs) {
        Counts c;
        c.periods = SnapshotPeriods::at(nowMs);
        c.today.set(ledger.summary(c.periods.todayStartMs, UsageGrouping::Provider));
        c.month.set(ledger.summary(c.periods.monthStartMs, UsageGrouping::Provider));
        c.newestMs = c.periods.last24hStartMs;
        c.hours.firstHourMs = c.periods.chartStartMs;
        ledger.forEachRecord(c.periods.last24hStartMs, [&c](const UsageRecord& r) { c.addRecent(r); });
        return c;
    }
    // Whether moving on to `now` keeps every figure countable from here.
    bool canMoveTo(const SnapshotPeriods& now) const {
        return now.todayStartMs == periods.todayStartMs && now.last24hStartMs >= periods.last24hStartMs && hours.alignedWith(now.chartStartMs);
    }
    void moveTo(const SnapshotPeriods& now) {
        periods = now;
        while (!failovers.empty() && failovers.front() < now.last24hStartMs)
            failovers.pop_front();
        targets.dropBefore(now.last24hStartMs);
        spells.dropBefore(now.last24hStartMs);
        hours.dropBefore(now.chartStartMs);
    }
    // False: the row is older than one already counted in the last 24 hours.
    bool add(const LedgerRow& row) {
        const qint64 time = row.record.timeMs;
        if (time >= periods.last24hStartMs && time < newestMs)
            return false;
        if (time >= periods.todayStartMs)
            today.add(row);
        if (time >= periods.monthStartMs)
            month.add(row);
        if (time >= periods.last24hStartMs)
            addRecent(row.record);
        return true;
    }
    void addRecent(const UsageRecord& r) {
        newestMs = r.timeMs;
        const RequestFacts facts = RequestFacts::of(r);
        if (facts.failedOver)
            failovers.push_back(r.timeMs);
        spells.see(r.chain, {r.timeMs, nextOrder++}, facts);
        if (!facts.target.isEmpty())
            targets.add(r.timeMs, facts.target, false);
        for (const QString& failed : facts.failedTargets)
            targets.add(r.timeMs, failed, true);
        hours.add(r.timeMs, facts.target);
    }
    UsageSnapshot snapshot(qint64 nowMs) const {
        UsageSnapshot s;
        s.takenMs = nowMs;
        s.today = today.list();
        s.month = month.list();
        s.failoverRequests = qint64(failovers.size());
        s.failoverRequestsLastHour = failovers.cend() - std::lower_bound(failovers.cbegin(), failovers.cend(), periods.lastHourStartMs);
        s.timeOnFallbackMs = spells.endedMs + spells.openMs(nowMs);
        s.recoveries = qint64(spells.ended.size());
        if (!spells.ended.empty()) {
            s.lastRecoveryMs = spells.ended.crbegin()->second;
            s.meanRecoveryMs = spells.endedMs / s.recoveries;
        }
        s.targets = targets.list();
        s.requestsByHour = hours.chart(periods.chartStartMs);
        return s;
    }
};

UsageTotals::UsageTotals() = default;
UsageTotals::~UsageTotals() = default;
UsageTotals::UsageTotals(UsageTotals&&) noexcept = default;
UsageTotals& UsageTotals::operator=(UsageTotals&&) noexcept = default;

void UsageTotals::add(const LedgerRow& row) {
    if (m_counts && !m_counts->add(row))
        m_counts.reset();
}

void UsageTotals::forget() { m_counts.reset(); }

UsageSnapshot UsageTotals::snapshot(const Ledger& ledger, qint64 nowMs) {
    const SnapshotPeriods periods = SnapshotPeriods::at(nowMs);
    if (!m_counts || !m_counts->canMoveTo(periods)) {
        m_counts = std::make_unique<Counts>(Counts::read(ledger, nowMs));
        ++m_reads;
    }
    m_counts->moveTo(periods);
    return m_counts->snapshot(nowMs);
}

}  // namespace understudy
