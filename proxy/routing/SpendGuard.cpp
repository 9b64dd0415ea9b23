#include "routing/SpendGuard.h"

#include "telemetry/Ledger.h"

#include <QDateTime>

namespace understudy {
namespace {

QDate localDay(qint64 epochMs) { return QDateTime::fromMSecsSinceEpoch(epochMs).date(); }

}  // namespace

void SpendGuard::rollTo(qint64 nowMs) {
    const QDate today = localDay(nowMs);
    if (today == m_day)
        return;
    m_day = today;
    m_spent.clear();
    m_ledger.clear();
    m_told.clear();
}

void SpendGuard::add(const QString& provider, double usd, qint64 timeMs) {
    rollTo(timeMs);
    m_spent[provider] += usd;
}

void SpendGuard::seedFromLedger(const UsageSnapshot& snapshot) {
    if (m_day.isValid() && localDay(snapshot.takenMs) < m_day)
        return;  // yesterday's figures, arriving late
    rollTo(snapshot.takenMs);
    for (const UsageRow& row : snapshot.today)
        m_ledger[row.key] = row.cost;
}

double SpendGuard::spentToday(const QString& provider, qint64 nowMs) const {
    if (localDay(nowMs) != m_day)
        return 0;  // nothing spent yet on a new day
    return std::max(m_spent.value(provider), m_ledger.value(provider));
}

bool SpendGuard::firstToday(const QString& what, qint64 nowMs) {
    rollTo(nowMs);
    if (m_told.contains(what))
        return false;
    m_told.insert(what);
    return true;
}

}  // namespace understudy
