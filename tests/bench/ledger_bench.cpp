// What recording usage costs the request path, and what the ledger sustains. Figures, not a timed test
// (DESIGN.md §6). The proxy thread's share is one queued signal per request: measured here as the time
// Telemetry::recordUsage takes with the ledger connected, against the same call with nothing connected.
#include "telemetry/Ledger.h"
#include "telemetry/UsageTotals.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTest>

#include <cstdio>

using namespace understudy;

namespace {

UsageRecord sampleRecord(int i) {
    UsageRecord r;
    r.timeMs = QDateTime::currentMSecsSinceEpoch();
    r.client = QStringLiteral("claude-code");
    r.sessionId = QStringLiteral("session-%1").arg(i % 8);
    r.chain = QStringLiteral("claude-first");
    r.requestedModel = QStringLiteral("claude-sonnet-5");
    r.provider = i % 10 == 0 ? QStringLiteral("zai") : QStringLiteral("anthropic");
    r.model = i % 10 == 0 ? QStringLiteral("glm-5") : QStringLiteral("claude-sonnet-5");
    r.fallbackDepth = i % 10 == 0 ? 1 : 0;
    if (r.fallbackDepth)
        r.failureReasons = {QStringLiteral("anthropic/claude-sonnet-5: 529 overloaded")};
    r.tokens = {1200, 350, 48000, 900};
    r.firstTokenMs = 420;
    r.totalMs = 3100;
    r.status = 200;
    r.outcome = QStringLiteral("served");
    return r;
}

// Nanoseconds per recordUsage call on this (the "proxy") thread.
double enqueueNs(Telemetry& telemetry, int count) {
    QElapsedTimer clock;
    clock.start();
    for (int i = 0; i < count; ++i)
        telemetry.recordUsage(sampleRecord(i));
    return double(clock.nsecsElapsed()) / count;
}

}  // namespace

int main(int argc, char* argv[]) {
    QCoreApplication app(argc, argv);
    const int kRecords = argc > 1 ? QByteArray(argv[1]).toInt() : 50000;  // e.g. 1000 for a run under callgrind
    QTemporaryDir dir;

    Telemetry bare;
    const double withoutLedger = enqueueNs(bare, kRecords);

    LedgerOptions options;
    options.path = dir.filePath(QStringLiteral("usage.sqlite"));
    LedgerThread ledger(options);
    Telemetry telemetry;
    QObject::connect(&telemetry, &Telemetry::usageRecorded, ledger.writer(), &LedgerWriter::record);
    qint64 committed = 0;
    QObject::connect(ledger.writer(), &LedgerWriter::committed, &app, [&committed](int rows) { committed += rows; });

    QElapsedTimer wall;
    wall.start();
    const double withLedger = enqueueNs(telemetry, kRecords);
    const bool allCommitted = QTest::qWaitFor([&] { return committed >= kRecords; }, 120000);
    const double seconds = double(wall.nsecsElapsed()) / 1e9;

    std::printf("records                         %d\n", kRecords);
    std::printf("proxy thread, no ledger         %.0f ns/record\n", withoutLedger);
    std::printf("proxy thread, ledger connected  %.0f ns/record (%.2fx)\n", withLedger, withLedger / withoutLedger);
    std::printf("ledger throughput               %.0f records/s (%lld committed in %.2f s, batches of <= 500)\n",
                double(committed) / seconds, static_cast<long long>(committed), seconds);

    // What the ledger thread spends with every record in the last 24 hours (the worst case): a snapshot computed
    // from the rows (Ledger::snapshot: what the writer's running totals are read from, once a day), the writer's
    // snapshot from its running totals, rows written one per batch (a quiet proxy: one request per flush), then
    // pruning them all and vacuuming.
    QElapsedTimer step;
    const Ledger reader(options.path, Ledger::Mode::ReadOnly);
    step.start();
    const UsageSnapshot snapshot = reader.snapshot(QDateTime::currentMSecsSinceEpoch());
    const double snapshotMs = double(step.nsecsElapsed()) / 1e6;
    step.restart();
    const RequestsByHour chart = reader.requestsByHour(QDateTime::currentMSecsSinceEpoch());
    const double chartMs = double(step.nsecsElapsed()) / 1e6;

    Ledger db(options.path, Ledger::Mode::ReadWrite);
    UsageTotals totals;
    step.restart();
    totals.snapshot(db, QDateTime::currentMSecsSinceEpoch());
    const double firstTotalsMs = double(step.nsecsElapsed()) / 1e6;
    constexpr int kSingleRows = 100;
    QString written;
    step.restart();
    for (int i = 0; i < kSingleRows && written.isEmpty(); ++i) {
        const LedgerRow row = priceRecord(sampleRecord(i), Pricing());
        written = db.insert({row});
        totals.add(row);
    }
    const double singleRowUs = double(step.nsecsElapsed()) / 1e3 / kSingleRows;
    step.restart();
    const UsageSnapshot running = totals.snapshot(db, QDateTime::currentMSecsSinceEpoch());
    const double totalsMs = double(step.nsecsElapsed()) / 1e6;

    step.restart();
    const QString deleted = db.deleteBefore(QDateTime::currentMSecsSinceEpoch() + 1000);
    const double deleteMs = double(step.nsecsElapsed()) / 1e6;
    step.restart();
    const QString compacted = db.compact();
    const double compactMs = double(step.nsecsElapsed()) / 1e6;
    std::printf("snapshot from the rows, %lld in 24 h  %.1f ms (%lld requests today)\n", static_cast<long long>(committed),
                snapshotMs, static_cast<long long>(usageTotal(snapshot.today, {}).requests));
    std::printf("  of which the hourly chart     %.1f ms (%d series)\n", chartMs, int(chart.targets.size()));
    std::printf("writer's snapshot, first        %.1f ms (reads the totals from the database)\n", firstTotalsMs);
    std::printf("writer's snapshot, next         %.3f ms (%lld requests today, %d database read)\n", totalsMs,
                static_cast<long long>(usageTotal(running.today, {}).requests), totals.databaseReads());
    std::printf("one-row batches                 %.0f us/row%s\n", singleRowUs, qPrintable(written));
    std::printf("prune all rows                  %.1f ms%s\n", deleteMs, qPrintable(deleted));
    std::printf("incremental vacuum + checkpoint %.1f ms%s\n", compactMs, qPrintable(compacted));
    return allCommitted && written.isEmpty() && deleted.isEmpty() && compacted.isEmpty() ? 0 : 1;
}
