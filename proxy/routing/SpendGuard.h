#pragma once

#include <QDate>
#include <QHash>
#include <QSet>
#include <QString>

namespace understudy {

struct UsageSnapshot;

// The day's spend per provider, for chain steps with a daily budget (DESIGN.md §3, spend guard). Fed with the cost
// of every request such a provider serves; the usage ledger's figure for today (which also covers the hours before
// Understudy started) counts when it is the larger. Days are local days. Proxy thread only.
class SpendGuard {
public:
    void add(const QString& provider, double usd, qint64 timeMs);
    void seedFromLedger(const UsageSnapshot& snapshot);
    double spentToday(const QString& provider, qint64 nowMs) const;
    // True the first time `what` (e.g. "budget:openrouter") is asked on the day of `nowMs`: the user hears of a
    // reached budget, or of a switch to paid tokens, once a day.
    bool firstToday(const QString& what, qint64 nowMs);

private:
    void rollTo(qint64 nowMs);

    QDate m_day;
    QHash<QString, double> m_spent;   // by this process today
    QHash<QString, double> m_ledger;  // the ledger's total for today
    QSet<QString> m_told;
};

}  // namespace understudy
