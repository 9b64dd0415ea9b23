#pragma once

#include "telemetry/Pricing.h"
#include "telemetry/Telemetry.h"
#include "telemetry/UsageTotals.h"

#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QSqlQuery>
#include <QThread>
#include <QTimer>

#include <functional>
#include <limits>
#include <memory>
#include <optional>

namespace understudy {

// The usage ledger (issue 6): one SQLite row per request, written off the request path.

struct LedgerOptions {
    QString path;                 // empty: Ledger::defaultPath()
    int retentionDays = 90;       // rows older than this are deleted; 0 keeps everything
    int flushIntervalMs = 250;    // a crash loses at most this much of rows (and Telemetry::kUsageBatchMs)
    int snapshotIntervalMs = 5000;
    int cleanupIntervalMs = 24 * 60 * 60 * 1000;  // the prune and vacuum run at start, then this often
};

// A request as stored: the record plus what it cost. Failed attempts are never billed: only a served
// request's tokens are priced, at the answering model's price, which is kept on the row so that a later
// price change does not rewrite history.
struct LedgerRow {
    UsageRecord record;
    std::optional<Price> price;   // none: not billed, or the model has no price
    std::optional<double> cost;   // USD; none: the model has no price (unknown, which is not 0)
    int failovers = 0;            // attempts that failed and handed the request on
};

LedgerRow priceRecord(const UsageRecord& record, const Pricing& pricing);

enum class UsageGrouping { Provider, Model, Client, Day };
std::optional<UsageGrouping> usageGroupingFromName(const QString& name);
QString usageGroupingName(UsageGrouping grouping);

// One line of `understudy usage` and of the status window's tables.
struct UsageRow {
    QString key;  // provider, model, client or yyyy-mm-dd
    qint64 requests = 0;
    qint64 fallbackRequests = 0;  // answered by a step other than the chain's first
    qint64 failovers = 0;
    qint64 inputTokens = 0, outputTokens = 0, cacheReadTokens = 0, cacheWriteTokens = 0;
    double cost = 0;              // USD of the priced requests
    qint64 unpricedRequests = 0;  // billable requests of models with no price: their cost is unknown
};

// The sum of `rows`, keyed `key`.
UsageRow usageTotal(const QList<UsageRow>& rows, const QString& key);
// "0.1234", "0.1234+" when some requests had no price (the sum is a floor), "unknown" when none had one.
QString usageCostText(const UsageRow& row, int decimals);

// Requests per hour over the last 24 hours, by who answered them: the status window's chart.
struct RequestsByHour {
    static constexpr int kHours = 24;
    static QString noAnswer() { return QStringLiteral("no answer"); }  // all failed, or refused before any attempt

    qint64 firstHourMs = 0;  // start of the oldest hour (a local clock hour); the last one is the current hour
    QStringList targets;     // "provider/model" or noAnswer(), most requests first
    QList<QList<qint64>> counts;  // counts[target][hour], kHours each

    qint64 count(const QString& target, int hour) const;
    qint64 hourTotal(int hour) const;
    qint64 targetTotal(const QString& target) const;
    qint64 hourStartMs(int hour) const { return firstHourMs + hour * 60LL * 60 * 1000; }
    // The `maxTargets - 1` busiest targets and the rest summed as `other`, so that a chart stays legible.
    RequestsByHour foldedTo(int maxTargets, const QString& other) const;
    // The same counts, busiest target first (then by name): the legend reads in that order.
    RequestsByHour busiestFirst() const;
    void add(const QString& target, int hour, qint64 requests);

    bool operator==(const RequestsByHour&) const = default;
};

struct TargetErrorRate {
    QString target;  // provider/model
    qint64 attempts = 0;
    qint64 failures = 0;
};

// Where the periods of a snapshot taken at nowMs begin (local time for the day, month and chart hours).
struct SnapshotPeriods {
    qint64 todayStartMs = 0;
    qint64 monthStartMs = 0;
    qint64 last24hStartMs = 0;
    qint64 lastHourStartMs = 0;
    qint64 chartStartMs = 0;  // RequestsByHour::firstHourMs

    static SnapshotPeriods at(qint64 nowMs);
};

// What one request adds to a snapshot's last-24-hours figures. Ledger::snapshot (from the database) and UsageTotals
// (row by row) count from the same facts.
struct RequestFacts {
    bool failedOver = false;     // answered by a fallback, or by nobody
    bool primaryServed = false;  // the chain's first step answered: its chain's spell on fallback ends
    QString target;              // provider/model that answered; empty: nobody did
    QStringList failedTargets;   // one per attempt that failed (or was retried) before

    static RequestFacts of(const UsageRecord& record);
};

// What the proxy serves in /status and /metrics: computed on the ledger thread, pushed to the proxy as a
// value, so that neither endpoint ever touches the database.
struct UsageSnapshot {
    qint64 takenMs = 0;
    QList<UsageRow> today;  // per provider, local day
    QList<UsageRow> month;  // per provider, local calendar month
    // Over the last 24 hours:
    qint64 failoverRequests = 0;        // requests that failed over (or found no target)
    qint64 failoverRequestsLastHour = 0;
    qint64 timeOnFallbackMs = 0;        // per chain, from its primary failing to its primary serving again
    qint64 recoveries = 0;              // such spells that ended
    qint64 lastRecoveryMs = -1;         // how long the last one lasted; -1: none
    qint64 meanRecoveryMs = -1;
    QList<TargetErrorRate> targets;
    RequestsByHour requestsByHour;

    double failoverRatePerHour() const { return static_cast<double>(failoverRequests) / 24.0; }
    QJsonObject toJson() const;
    QByteArray prometheusText() const;
};

// The database: one SQLite connection, used on the thread that made it (a Qt SQL rule).
class Ledger {
public:
    enum class Mode { ReadWrite, ReadOnly };
    static constexpr int kSchemaVersion = 1;
    static QString defaultPath();  // AppDataLocation/usage.sqlite

    Ledger(const QString& path, Mode mode);
    ~Ledger();
    Ledger(const Ledger&) = delete;
    Ledger& operator=(const Ledger&) = delete;

    // Why the database could not be opened; empty when it is open.
    const QString& openError() const { return m_openError; }
    int schemaVersion() const;

    // Each returns why it failed, or an empty string.
    QString insert(const QList<LedgerRow>& rows);
    QString deleteBefore(qint64 timeMs);
    QString compact();  // gives deleted pages back to the file system and checkpoints the WAL

    // Rows with sinceMs <= time_ms < untilMs, grouped.
    QList<UsageRow> summary(qint64 sinceMs, UsageGrouping grouping,
                            qint64 untilMs = std::numeric_limits<qint64>::max()) const;
    // Every row with time_ms >= sinceMs, in the order they happened (then the order they were written). The
    // records have every field but prices and cost.
    void forEachRecord(qint64 sinceMs, const std::function<void(const UsageRecord&)>& see) const;
    // Computed from the rows, every figure read afresh: what the writer's UsageTotals must always equal.
    UsageSnapshot snapshot(qint64 nowMs) const;
    RequestsByHour requestsByHour(qint64 nowMs) const;

private:
    QString migrate();
    QString vacuumFreePages();

    QString m_connection;
    QString m_openError;
    std::optional<QSqlQuery> m_insert;  // prepared at the first insert, reused by every batch
};

// Owns the Ledger on the ledger thread: queues records, writes them in one transaction per batch, keeps
// the retention and publishes snapshots from the running totals of what it wrote.
class LedgerWriter : public QObject {
    Q_OBJECT
public:
    explicit LedgerWriter(LedgerOptions options, QObject* parent = nullptr);
    ~LedgerWriter() override;

public Q_SLOTS:
    void open();
    void record(const understudy::UsageRecord& record);
    void recordBatch(const QList<understudy::UsageRecord>& records);  // Telemetry::usageBatch
    void setPriceOverrides(const QMap<QString, understudy::Price>& overrides);
    // A changed retention is applied at once (a shorter one deletes the rows it no longer keeps).
    void setRetentionDays(int days);
    void flush();
    void cleanUp();
    void publishSnapshot();

Q_SIGNALS:
    void committed(int rows);
    void snapshotReady(const understudy::UsageSnapshot& snapshot);
    void failed(const QString& message);

private:
    LedgerOptions m_options;
    std::unique_ptr<Ledger> m_ledger;
    Pricing m_pricing;
    QList<LedgerRow> m_pending;
    UsageTotals m_totals;
    QTimer m_flushTimer;     // children, so they move to the ledger thread with this
    QTimer m_snapshotTimer;
    QTimer m_cleanupTimer;
    bool m_changedSinceSnapshot = true;
    qint64 m_lastSnapshotMs = 0;
};

// Runs a LedgerWriter on its own thread. Connect Telemetry::usageBatch to writer()->recordBatch (queued): the
// proxy thread then pays one queued signal per batch and nothing else.
class LedgerThread : public QObject {
    Q_OBJECT
public:
    explicit LedgerThread(LedgerOptions options = {}, QObject* parent = nullptr);
    ~LedgerThread() override;  // writes every record queued before it

    LedgerWriter* writer() const { return m_writer; }
    void setPriceOverrides(const QMap<QString, Price>& overrides);  // queued
    void setRetentionDays(int days);                                // queued

private:
    QThread m_thread;
    LedgerWriter* m_writer;
};

}  // namespace understudy

Q_DECLARE_METATYPE(understudy::UsageSnapshot)
