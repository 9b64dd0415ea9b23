#pragma once

#include <QDateTime>

#include <atomic>

namespace understudy {

// The wall clock the failover logic reads (cooldown ends, reset times, the spend guard's day). Tests set it, so
// that they can assert "cooled until exactly T" and cross a reset without sleeping. Timeouts are not read from
// it: they run on real timers. Thread-safe: a test thread sets what the proxy thread reads.
class Clock {
public:
    qint64 nowMs() const {
        const qint64 fixed = m_fixedMs.load(std::memory_order_relaxed);
        return fixed != 0 ? fixed : QDateTime::currentMSecsSinceEpoch();
    }
    // Stops the clock at `epochMs` (0 lets it run again).
    void setFixed(qint64 epochMs) { m_fixedMs.store(epochMs, std::memory_order_relaxed); }

private:
    std::atomic<qint64> m_fixedMs{0};
};

}  // namespace understudy
