// Test helper for tst_ledger's crash test: records usage into the ledger at FILE as fast as the event loop
// allows, through the real LedgerThread, and prints "committed <total>" after each batch, until it is killed.
#include "telemetry/Ledger.h"

#include <QCoreApplication>
#include <QTimer>

#include <cstdio>

using namespace understudy;

int main(int argc, char* argv[]) {
    QCoreApplication app(argc, argv);
    if (app.arguments().size() != 2) {
        std::fprintf(stderr, "usage: ledger_load_writer FILE\n");
        return 2;
    }
    LedgerOptions options;
    options.path = app.arguments().at(1);
    LedgerThread ledger(options);
    Telemetry telemetry;
    QObject::connect(&telemetry, &Telemetry::usageRecorded, ledger.writer(), &LedgerWriter::record);
    qint64 committed = 0;
    QObject::connect(ledger.writer(), &LedgerWriter::committed, &app, [&committed](int rows) {
        committed += rows;
        std::printf("committed %lld\n", static_cast<long long>(committed));
        std::fflush(stdout);
    });
    QObject::connect(ledger.writer(), &LedgerWriter::failed, &app, [](const QString& message) {
        std::fprintf(stderr, "%s\n", qPrintable(message));
    });
    QTimer load;
    QObject::connect(&load, &QTimer::timeout, &app, [&telemetry] {
        for (int i = 0; i < 20; ++i) {
            UsageRecord r;
            r.timeMs = QDateTime::currentMSecsSinceEpoch();
            r.chain = QStringLiteral("main");
            r.provider = QStringLiteral("anthropic");
            r.model = QStringLiteral("claude-sonnet-5");
            r.requestedModel = r.model;
            r.tokens = {1000, 200, 5000, 0};
            r.outcome = QStringLiteral("served");
            r.status = 200;
            telemetry.recordUsage(r);
        }
    });
    load.start(1);
    return QCoreApplication::exec();
}
