#pragma once

#include <QtGlobal>

#include <memory>

namespace understudy {

class Ledger;
struct LedgerRow;
struct UsageSnapshot;

// The figures of Ledger::snapshot, kept by the ledger's writer as it commits rows, so that a snapshot (every few
// seconds while requests arrive) costs the same with 50 rows as with 50,000. They are read from the database at
// the first snapshot and again only when something other than a new row changes them: a new day or month, rows
// deleted, a row older than one already counted (the last 24 hours are counted in time order), a clock that went
// back, or a time-zone change that moves the chart's hours.
class UsageTotals {
public:
    UsageTotals();
    ~UsageTotals();
    UsageTotals(UsageTotals&&) noexcept;
    UsageTotals& operator=(UsageTotals&&) noexcept;

    // `row` is committed.
    void add(const LedgerRow& row);
    // Rows were deleted: the next snapshot reads the totals again.
    void forget();
    UsageSnapshot snapshot(const Ledger& ledger, qint64 nowMs);
    // How many times the totals were read from the database.
    int databaseReads() const { return m_reads; }

private:
    struct Counts;
    std::unique_ptr<Counts> m_counts;  // none: read at the next snapshot
    int m_reads = 0;
};

}  // namespace understudy
