// The usage ledger (issue 6) against a real SQLite file in a temporary folder: rows, cost, history, load,
// a killed writer, retention, queries, CSV, and one request through the real proxy.
#include "UsageCommand.h"
#include "support/MockUpstream.h"
#include "support/TestClient.h"

#include "Proxy.h"
#include "telemetry/Ledger.h"
#include "telemetry/UsageTotals.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QTemporaryDir>
#include <QtTest>

#include <random>
#include <thread>

using namespace understudy;
using namespace understudy::test;

namespace {

constexpr qint64 kDayMs = 24LL * 60 * 60 * 1000;

UsageRecord served(qint64 timeMs, const QString& provider, const QString& model, int depth = 0,
                   const QStringList& reasons = {}, TokenUsage tokens = {1000, 500, 0, 0}) {
    UsageRecord r;
    r.timeMs = timeMs;
    r.client = QStringLiteral("claude-code");
    r.sessionId = QStringLiteral("s-1");
    r.chain = QStringLiteral("main");
    r.requestedModel = QStringLiteral("claude-sonnet-5");
    r.provider = provider;
    r.model = model;
    r.fallbackDepth = depth;
    r.failureReasons = reasons;
    r.tokens = tokens;
    r.firstTokenMs = 300;
    r.totalMs = 1200;
    r.status = 200;
    r.outcome = QStringLiteral("served");
    return r;
}

UsageRecord allFailed(qint64 timeMs, const QStringList& reasons) {
    UsageRecord r = served(timeMs, {}, {}, 0, reasons, {});
    r.firstTokenMs = -1;
    r.status = 529;
    r.outcome = QStringLiteral("all_failed");
    return r;
}

qint64 now() { return QDateTime::currentMSecsSinceEpoch(); }

// Every row of the file, read on a connection of the test's own.
QList<QVariantMap> readRows(const QString& path) {
    QList<QVariantMap> rows;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("test-reader"));
        db.setDatabaseName(path);
        if (db.open()) {
            QSqlQuery q(db);
            q.exec(QStringLiteral("SELECT * FROM requests ORDER BY id"));
            while (q.next()) {
                QVariantMap row;
                for (int i = 0; i < q.record().count(); ++i)
                    row.insert(q.record().fieldName(i), q.value(i));
                rows.append(row);
            }
        }
    }
    QSqlDatabase::removeDatabase(QStringLiteral("test-reader"));
    return rows;
}

QString pragmaValue(const QString& path, const QString& pragma) {
    QString value;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("test-pragma"));
        db.setDatabaseName(path);
        if (db.open()) {
            QSqlQuery q(db);
            if (q.exec(QStringLiteral("PRAGMA ") + pragma) && q.next())
                value = q.value(0).toString();
        }
    }
    QSqlDatabase::removeDatabase(QStringLiteral("test-pragma"));
    return value;
}

// RFC 4180, strictly: what a spreadsheet or Python's csv module reads.
QList<QStringList> parseCsv(const QString& text) {
    QList<QStringList> records;
    QStringList fields;
    QString field;
    bool quoted = false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if (quoted) {
            if (c == u'"' && i + 1 < text.size() && text[i + 1] == u'"') {
                field += u'"';
                ++i;
            } else if (c == u'"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == u'"') {
            quoted = true;
        } else if (c == u',') {
            fields.append(std::exchange(field, {}));
        } else if (c == u'\r' && i + 1 < text.size() && text[i + 1] == u'\n') {
            fields.append(std::exchange(field, {}));
            records.append(std::exchange(fields, {}));
            ++i;
        } else {
            field += c;
        }
    }
    return records;
}

// A ledger on its thread, fed through Telemetry's real signal, with what it reports collected here.
struct LedgerUnderTest {
    explicit LedgerUnderTest(const QString& path, int retentionDays = 90)
        : thread(options(path, retentionDays)) {
        QObject::connect(&telemetry, &Telemetry::usageRecorded, thread.writer(), &LedgerWriter::record);
        QObject::connect(thread.writer(), &LedgerWriter::committed, &context, [this](int rows) { committed += rows; });
        QObject::connect(thread.writer(), &LedgerWriter::failed, &context, [this](const QString& m) { failures.append(m); });
        QObject::connect(thread.writer(), &LedgerWriter::snapshotReady, &context,
                         [this](const UsageSnapshot& s) { snapshot = s; });
    }
    static LedgerOptions options(const QString& path, int retentionDays) {
        LedgerOptions o;
        o.path = path;
        o.retentionDays = retentionDays;
        o.flushIntervalMs = 20;
        o.snapshotIntervalMs = 50;
        return o;
    }
    void record(const UsageRecord& r) { telemetry.recordUsage(r); }
    bool waitCommitted(int rows) { return QTest::qWaitFor([&] { return committed >= rows; }, 10000); }

    QObject context;  // receives the writer's signals on the test thread
    LedgerThread thread;
    Telemetry telemetry;
    int committed = 0;
    QStringList failures;
    std::optional<UsageSnapshot> snapshot;
};

// Varied traffic from `startMs`: two chains whose primaries go down and come back, failovers
// retried and skipped, requests nobody answered, client errors, an unpriced model, several clients. Fixed seed:
// the same rows every run.
class TrafficSource {
public:
    explicit TrafficSource(qint64 startMs) : m_startMs(startMs), m_timeMs(startMs) {}

    UsageRecord next() {
        m_timeMs += std::uniform_int_distribution<qint64>(1, 4 * 60 * 1000)(m_random);
        const bool codex = pick(3) == 0;
        if (pick(40) == 0)
            m_mainDown = !m_mainDown;
        // Codex's primary is down for 28 hours: its spell outlasts the window.
        const qint64 hour = 60 * 60 * 1000;
        const bool down = codex ? m_timeMs >= m_startMs + 6 * hour && m_timeMs < m_startMs + 34 * hour : m_mainDown;
        const QString primary = codex ? QStringLiteral("openai/gpt-5") : QStringLiteral("anthropic/claude-sonnet-5");
        UsageRecord r = next(down, primary);
        r.chain = codex ? QStringLiteral("codex-first") : QStringLiteral("main");
        r.client = codex ? QStringLiteral("codex") : (pick(2) ? QStringLiteral("claude-code") : QString());
        r.tokens = {pick(5000), pick(2000), pick(3) ? 0 : pick(90000), pick(4) ? 0 : pick(8000)};
        return r;
    }
    qint64 timeMs() const { return m_timeMs; }
    void skipTo(qint64 timeMs) { m_timeMs = timeMs; }

private:
    qint64 pick(qint64 below) { return std::uniform_int_distribution<qint64>(0, below - 1)(m_random); }
    UsageRecord next(bool down, const QString& primary) {
        const QString failed = primary + QStringLiteral(": 529 overloaded");
        switch (down ? pick(6) : 6 + pick(10)) {
        case 0: return allFailed(m_timeMs, {failed, QStringLiteral("zai/glm-5: connection refused")});
        case 1: return served(m_timeMs, QStringLiteral("moonshot"), QStringLiteral("kimi-k2-thinking"), 2,
                              {failed, QStringLiteral("zai/glm-5: 503 unavailable, retried after 200 ms"),
                               QStringLiteral("zai/glm-5: 503 unavailable")});
        case 2: return served(m_timeMs, QStringLiteral("local"), QStringLiteral("my-own-model"), 2,
                              {failed, QStringLiteral("zai/glm-5: skipped: cooling until 10:00:00 after 429")});
        case 6: {
            UsageRecord r = served(m_timeMs, QStringLiteral("anthropic"), QStringLiteral("claude-sonnet-5"));
            r.status = 400;
            r.outcome = QStringLiteral("client_error");
            return r;
        }
        case 7: return served(m_timeMs, QStringLiteral("local"), QStringLiteral("my-own-model"));
        default: break;
        }
        if (down)
            return served(m_timeMs, QStringLiteral("zai"), QStringLiteral("glm-5"), 1, {failed});
        const qsizetype slash = primary.indexOf(u'/');
        return served(m_timeMs, primary.left(slash), primary.mid(slash + 1));
    }

    std::mt19937 m_random{20261202};
    qint64 m_startMs;
    qint64 m_timeMs;
    bool m_mainDown = false;
};

// Field by field, with what the snapshot was taken after in the message.
void compareSnapshots(const UsageSnapshot& running, const UsageSnapshot& database, const QString& when) {
    const auto same = [&when](bool equal, const char* field) { QVERIFY2(equal, qPrintable(when + QStringLiteral(": ") + field)); };
    same(running.takenMs == database.takenMs, "takenMs");
    for (const auto& [name, a, b] : {std::tuple{"today", &running.today, &database.today},
                                     std::tuple{"month", &running.month, &database.month}}) {
        same(a->size() == b->size(), name);
        for (qsizetype i = 0; i < qMin(a->size(), b->size()); ++i) {
            const UsageRow &x = a->at(i), &y = b->at(i);
            same(x.key == y.key, "key, in order");
            same(x.requests == y.requests && x.fallbackRequests == y.fallbackRequests && x.failovers == y.failovers,
                 "requests, fallbackRequests, failovers");
            same(x.inputTokens == y.inputTokens && x.outputTokens == y.outputTokens
                     && x.cacheReadTokens == y.cacheReadTokens && x.cacheWriteTokens == y.cacheWriteTokens, "tokens");
            same(qAbs(x.cost - y.cost) <= 1e-9 * qMax(1.0, y.cost), "cost");  // summed in another order
            same(x.unpricedRequests == y.unpricedRequests, "unpricedRequests");
        }
    }
    same(running.failoverRequests == database.failoverRequests, "failoverRequests");
    same(running.failoverRequestsLastHour == database.failoverRequestsLastHour, "failoverRequestsLastHour");
    same(running.timeOnFallbackMs == database.timeOnFallbackMs, "timeOnFallbackMs");
    same(running.recoveries == database.recoveries, "recoveries");
    same(running.lastRecoveryMs == database.lastRecoveryMs, "lastRecoveryMs");
    same(running.meanRecoveryMs == database.meanRecoveryMs, "meanRecoveryMs");
    same(running.targets.size() == database.targets.size(), "targets");
    for (qsizetype i = 0; i < qMin(running.targets.size(), database.targets.size()); ++i) {
        const TargetErrorRate &x = running.targets[i], &y = database.targets[i];
        same(x.target == y.target && x.attempts == y.attempts && x.failures == y.failures, "target error rates");
    }
    same(running.requestsByHour == database.requestsByHour, "requestsByHour");
}

}  // namespace

class TestLedger : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    int m_files = 0;
    QString freshPath() { return m_dir.filePath(QStringLiteral("usage-%1.sqlite").arg(++m_files)); }

private Q_SLOTS:
    void builtInPrices_parseAndCiteTheirSource() {
        const QList<PriceEntry>& table = builtInPrices();
        QVERIFY(table.size() >= 10);
        for (const PriceEntry& e : table) {
            QVERIFY2(QDate::fromString(e.taken, Qt::ISODate).isValid(), qPrintable(e.model));
            QVERIFY2(e.source.startsWith(QLatin1String("https://")), qPrintable(e.model));
            QVERIFY2(e.price.input > 0 && e.price.output > 0, qPrintable(e.model));
        }
    }

    void cost_pricesEachKindOfTokenApart() {
        const Price price{3.0, 15.0, 0.3, 3.75};
        const TokenUsage tokens{1000, 2000, 100000, 10000};
        // 1000×3 + 2000×15 + 100000×0.3 + 10000×3.75 = 100500 micro-dollars
        QCOMPARE(costOf(tokens, price), 0.1005);
        QCOMPARE(costOf({}, price), 0.0);
    }

    void pricing_configExactThenGlobThenBuiltIn() {
        const QList<PriceEntry> table{{QStringLiteral("glm-5"), {1.0, 3.2, 0.2, 1.0}, {}, {}},
                                      {QStringLiteral("claude-opus-4-5-2*"), {5, 25, 0.5, 6.25}, {}, {}}};
        const Pricing pricing({{QStringLiteral("glm-*"), {9, 9, 9, 9}}, {QStringLiteral("glm-5"), {2, 4, 0.5, 2}}}, table);
        QCOMPARE(pricing.priceOf(QStringLiteral("glm-5"))->input, 2.0);        // config, exact
        QCOMPARE(pricing.priceOf(QStringLiteral("GLM-4.6"))->input, 9.0);      // config, glob, any case
        QCOMPARE(pricing.priceOf(QStringLiteral("claude-opus-4-5-20251101"))->output, 25.0);  // built-in glob
        QVERIFY(!pricing.priceOf(QStringLiteral("some-local-model")));         // unknown, not free
        QVERIFY(!pricing.priceOf(QString()));
    }

    void successRow_hasEveryField() {
        const QString path = freshPath();
        {
            LedgerUnderTest ledger(path);
            UsageRecord r = served(now(), QStringLiteral("anthropic"), QStringLiteral("claude-sonnet-5"), 0, {},
                                   {1000, 500, 20000, 4000});
            r.estimated = true;
            ledger.record(r);
            QVERIFY(ledger.waitCommitted(1));
            QVERIFY2(ledger.failures.isEmpty(), qPrintable(ledger.failures.join('\n')));
        }
        const QList<QVariantMap> rows = readRows(path);
        QCOMPARE(rows.size(), 1);
        const QVariantMap& row = rows.first();
        QCOMPARE(row["client"].toString(), "claude-code");
        QCOMPARE(row["session_id"].toString(), "s-1");
        QCOMPARE(row["chain"].toString(), "main");
        QCOMPARE(row["requested_model"].toString(), "claude-sonnet-5");
        QCOMPARE(row["provider"].toString(), "anthropic");
        QCOMPARE(row["model"].toString(), "claude-sonnet-5");
        QCOMPARE(row["fallback_depth"].toInt(), 0);
        QCOMPARE(row["failure_reasons"].toString(), "[]");
        QCOMPARE(row["input_tokens"].toLongLong(), 1000);
        QCOMPARE(row["output_tokens"].toLongLong(), 500);
        QCOMPARE(row["cache_read_tokens"].toLongLong(), 20000);
        QCOMPARE(row["cache_write_tokens"].toLongLong(), 4000);
        QCOMPARE(row["estimated"].toInt(), 1);
        QCOMPARE(row["first_token_ms"].toLongLong(), 300);
        QCOMPARE(row["total_ms"].toLongLong(), 1200);
        QCOMPARE(row["status"].toInt(), 200);
        QCOMPARE(row["outcome"].toString(), "served");
        // Built-in Sonnet 5: 2 / 10 / 0.20 / 2.50 per million.
        QCOMPARE(row["price_input"].toDouble(), 2.0);
        QCOMPARE(row["price_cache_write"].toDouble(), 2.5);
        QCOMPARE(row["cost"].toDouble(), (1000 * 2.0 + 500 * 10.0 + 20000 * 0.2 + 4000 * 2.5) / 1e6);
        QCOMPARE(pragmaValue(path, QStringLiteral("journal_mode")), "wal");
    }

    void failoverRow_billsOnlyTheAnsweringTarget() {
        const QString path = freshPath();
        const QStringList reasons{QStringLiteral("anthropic/claude-sonnet-5: 529 overloaded"),
                                  QStringLiteral("zai/glm-5: 503 unavailable, retried after 200 ms"),
                                  QStringLiteral("zai/glm-5: 503 unavailable"),
                                  QStringLiteral("openrouter/qwen: skipped: cooling until 10:00:00 after 429")};
        {
            LedgerUnderTest ledger(path);
            ledger.record(served(now(), QStringLiteral("moonshot"), QStringLiteral("kimi-k2-thinking"), 3, reasons,
                                 {2000, 1000, 0, 0}));
            QVERIFY(ledger.waitCommitted(1));
        }
        const QVariantMap row = readRows(path).first();
        QCOMPARE(row["fallback_depth"].toInt(), 3);
        QCOMPARE(QJsonDocument::fromJson(row["failure_reasons"].toByteArray()).array().toVariantList(),
                 QVariant(reasons).toList());
        QCOMPARE(row["failovers"].toInt(), 2);  // a retry and a skip hand nothing on
        QCOMPARE(row["provider"].toString(), "moonshot");
        QCOMPARE(row["price_input"].toDouble(), 0.6);
        QCOMPARE(row["cost"].toDouble(), (2000 * 0.6 + 1000 * 2.5) / 1e6);
    }

    void allFailedRow_costsZero_unknownModelCostsNull() {
        const QString path = freshPath();
        {
            LedgerUnderTest ledger(path);
            ledger.record(allFailed(now(), {QStringLiteral("anthropic/claude-sonnet-5: 529 overloaded"),
                                            QStringLiteral("zai/glm-5: connection refused")}));
            UsageRecord clientError = served(now(), QStringLiteral("anthropic"), QStringLiteral("claude-sonnet-5"));
            clientError.outcome = QStringLiteral("client_error");
            clientError.status = 400;
            ledger.record(clientError);
            ledger.record(served(now(), QStringLiteral("local"), QStringLiteral("my-own-model")));
            QVERIFY(ledger.waitCommitted(3));
        }
        const QList<QVariantMap> rows = readRows(path);
        QCOMPARE(rows.size(), 3);
        QCOMPARE(rows[0]["outcome"].toString(), "all_failed");
        QCOMPARE(rows[0]["provider"].toString(), "");
        QCOMPARE(rows[0]["failovers"].toInt(), 2);
        QCOMPARE(rows[0]["cost"].toDouble(), 0.0);
        QVERIFY(!rows[0]["cost"].isNull());
        QVERIFY(rows[0]["price_input"].isNull());
        QCOMPARE(rows[1]["cost"].toDouble(), 0.0);  // an error answer is not billed
        QVERIFY(!rows[1]["cost"].isNull());
        QVERIFY(rows[2]["cost"].isNull());  // no price: unknown, not free
        QVERIFY(rows[2]["price_input"].isNull());

        const Ledger db(path, Ledger::Mode::ReadOnly);
        QVERIFY2(db.openError().isEmpty(), qPrintable(db.openError()));
        const QList<UsageRow> byProvider = db.summary(0, UsageGrouping::Provider);
        const auto local = std::find_if(byProvider.cbegin(), byProvider.cend(), [](const UsageRow& r) { return r.key == "local"; });
        QVERIFY(local != byProvider.cend());
        QCOMPARE(local->unpricedRequests, 1);
        QVERIFY(std::any_of(byProvider.cbegin(), byProvider.cend(), [](const UsageRow& r) { return r.key == "(none)"; }));
    }

    void priceChange_keepsHistory() {
        const QString path = freshPath();
        {
            LedgerUnderTest ledger(path);
            ledger.thread.setPriceOverrides({{QStringLiteral("glm-5"), {1.0, 4.0, 0.1, 1.0}}});
            ledger.record(served(now(), QStringLiteral("zai"), QStringLiteral("glm-5")));
            QVERIFY(ledger.waitCommitted(1));
            ledger.thread.setPriceOverrides({{QStringLiteral("glm-5"), {2.0, 8.0, 0.2, 2.0}}});
            ledger.record(served(now(), QStringLiteral("zai"), QStringLiteral("glm-5")));
            QVERIFY(ledger.waitCommitted(2));
        }
        const QList<QVariantMap> rows = readRows(path);
        QCOMPARE(rows.size(), 2);
        QCOMPARE(rows[0]["price_input"].toDouble(), 1.0);
        QCOMPARE(rows[0]["cost"].toDouble(), (1000 * 1.0 + 500 * 4.0) / 1e6);
        QCOMPARE(rows[1]["price_input"].toDouble(), 2.0);
        QCOMPARE(rows[1]["cost"].toDouble(), (1000 * 2.0 + 500 * 8.0) / 1e6);
    }

    void concurrency_64ParallelRecords_64Rows_whileReading() {
        const QString path = freshPath();
        LedgerUnderTest ledger(path);
        QVERIFY(QTest::qWaitFor([&] { return ledger.snapshot.has_value(); }, 5000));  // open, schema in place
        std::vector<std::thread> sources;
        for (int i = 0; i < 64; ++i) {
            sources.emplace_back([&ledger, i] {
                QMetaObject::invokeMethod(ledger.thread.writer(), [writer = ledger.thread.writer(), i] {
                    writer->record(served(now(), QStringLiteral("p%1").arg(i % 4), QStringLiteral("glm-5")));
                }, Qt::QueuedConnection);
            });
        }
        for (std::thread& t : sources)
            t.join();
        // A reader at the same time, as `understudy usage` would be: WAL lets it read while the writer writes.
        const Ledger reader(path, Ledger::Mode::ReadOnly);
        QVERIFY2(reader.openError().isEmpty(), qPrintable(reader.openError()));
        qint64 seen = 0;
        QVERIFY(QTest::qWaitFor([&] {
            seen = 0;
            for (const UsageRow& r : reader.summary(0, UsageGrouping::Provider))
                seen += r.requests;
            return seen == 64;
        }, 10000));
        QVERIFY(ledger.waitCommitted(64));
        QVERIFY2(ledger.failures.isEmpty(), qPrintable(ledger.failures.join('\n')));
        QCOMPARE(readRows(path).size(), 64);
    }

    void killedWriter_databaseOpensClean_withEveryCommittedRow() {
        const QString path = freshPath();
        QProcess writer;
        writer.setProcessChannelMode(QProcess::SeparateChannels);
        writer.start(QStringLiteral(LEDGER_LOAD_WRITER), {path});
        QVERIFY2(writer.waitForStarted(5000), qPrintable(writer.errorString()));
        qint64 reported = 0;
        QByteArray out;
        QVERIFY2(QTest::qWaitFor([&] {
            out += writer.readAllStandardOutput();
            const QList<QByteArray> lines = out.trimmed().split('\n');
            if (lines.last().startsWith("committed "))
                reported = lines.last().mid(10).toLongLong();
            return reported >= 2000;
        }, 20000), writer.readAllStandardError().constData());
        writer.kill();  // SIGKILL, mid-load
        QVERIFY(writer.waitForFinished(5000));
        QCOMPARE(writer.exitStatus(), QProcess::CrashExit);

        QCOMPARE(pragmaValue(path, QStringLiteral("integrity_check")), "ok");
        const Ledger reopened(path, Ledger::Mode::ReadWrite);
        QVERIFY2(reopened.openError().isEmpty(), qPrintable(reopened.openError()));
        const qint64 rows = reopened.summary(0, UsageGrouping::Provider).value(0).requests;
        QVERIFY2(rows >= reported, qPrintable(QStringLiteral("%1 rows, %2 reported committed").arg(rows).arg(reported)));
        QCOMPARE(rows % 20, 0);  // whole transactions only: the writer records 20 at a time, batches are whole
    }

    void retention_deletesOldRows() {
        const QString path = freshPath();
        {
            LedgerUnderTest ledger(path, 1000);
            ledger.record(served(now() - 100 * kDayMs, QStringLiteral("old"), QStringLiteral("glm-5")));
            ledger.record(served(now() - 89 * kDayMs, QStringLiteral("kept"), QStringLiteral("glm-5")));
            ledger.record(served(now(), QStringLiteral("new"), QStringLiteral("glm-5")));
            QVERIFY(ledger.waitCommitted(3));
        }
        QCOMPARE(readRows(path).size(), 3);
        {
            LedgerUnderTest ledger(path, 90);  // cleans up when it opens, then on schedule
            QVERIFY(QTest::qWaitFor([&] { return ledger.snapshot.has_value(); }, 5000));
        }
        QStringList providers;
        for (const QVariantMap& row : readRows(path))
            providers.append(row["provider"].toString());
        QCOMPARE(providers, QStringList({"kept", "new"}));
    }

    void retention_zeroKeepsEverything_aChangeAppliesAtOnce_andTheFileShrinksAndStaysSound() {
        const QString path = freshPath();
        {
            Ledger db(path, Ledger::Mode::ReadWrite);
            QVERIFY2(db.openError().isEmpty(), qPrintable(db.openError()));
            QList<LedgerRow> rows;
            const QStringList reasons{QStringLiteral("anthropic/claude-sonnet-5: 529 overloaded ").repeated(20)};
            for (int i = 0; i < 3000; ++i)  // enough old rows to fill hundreds of pages
                rows.append(priceRecord(served(now() - 400 * kDayMs + i, QStringLiteral("ancient"), QStringLiteral("glm-5"),
                                               1, reasons), Pricing()));
            for (const auto& [days, provider] : {std::pair{100, "old"}, std::pair{10, "recent"}, std::pair{0, "new"}})
                rows.append(priceRecord(served(now() - days * kDayMs, QString::fromLatin1(provider), QStringLiteral("glm-5")),
                                        Pricing()));
            QCOMPARE(db.insert(rows), QString());
        }
        QCOMPARE(pragmaValue(path, QStringLiteral("auto_vacuum")), "2");  // incremental
        const auto rowCount = [&path] {
            const Ledger reader(path, Ledger::Mode::ReadOnly);
            qint64 n = 0;
            for (const UsageRow& r : reader.summary(0, UsageGrouping::Provider))
                n += r.requests;
            return n;
        };

        LedgerUnderTest ledger(path, 0);  // 0: keep every row
        QVERIFY(QTest::qWaitFor([&] { return ledger.snapshot.has_value(); }, 5000));
        QCOMPARE(rowCount(), 3003);
        const int pagesBefore = pragmaValue(path, QStringLiteral("page_count")).toInt();

        ledger.thread.setRetentionDays(30);  // as a config reload does
        QVERIFY(QTest::qWaitFor([&] { return rowCount() == 2; }, 10000));
        QVERIFY2(ledger.failures.isEmpty(), qPrintable(ledger.failures.join('\n')));
        const QList<QVariantMap> kept = readRows(path);
        QCOMPARE(kept.size(), 2);
        QCOMPARE(kept[0]["provider"].toString(), "recent");
        QCOMPARE(kept[1]["provider"].toString(), "new");
        // The incremental vacuum gave the freed pages back: none left on the free list, a smaller file.
        QVERIFY2(QTest::qWaitFor([&] { return pragmaValue(path, QStringLiteral("freelist_count")) == "0"; }, 5000),
                 qPrintable(pragmaValue(path, QStringLiteral("freelist_count")) + " free of " + pragmaValue(path, QStringLiteral("page_count"))));
        const int pagesAfter = pragmaValue(path, QStringLiteral("page_count")).toInt();
        QVERIFY2(pagesAfter < pagesBefore / 4, qPrintable(QStringLiteral("%1 pages, was %2").arg(pagesAfter).arg(pagesBefore)));
        QCOMPARE(pragmaValue(path, QStringLiteral("integrity_check")), "ok");
        // Still writable and readable after the prune.
        ledger.record(served(now(), QStringLiteral("after"), QStringLiteral("glm-5")));
        QVERIFY(ledger.waitCommitted(1));
        QCOMPARE(rowCount(), 3);
    }

    void summary_groupsByProviderModelClientDay() {
        const QString path = freshPath();
        const qint64 t = now();
        {
            LedgerUnderTest ledger(path);
            ledger.record(served(t, QStringLiteral("anthropic"), QStringLiteral("claude-sonnet-5")));
            ledger.record(served(t, QStringLiteral("anthropic"), QStringLiteral("claude-opus-5")));
            UsageRecord codex = served(t - kDayMs, QStringLiteral("zai"), QStringLiteral("glm-5"), 1,
                                       {QStringLiteral("anthropic/claude-sonnet-5: 529 overloaded")});
            codex.client = QStringLiteral("codex");
            ledger.record(codex);
            QVERIFY(ledger.waitCommitted(3));
        }
        const Ledger db(path, Ledger::Mode::ReadOnly);
        const QList<UsageRow> providers = db.summary(0, UsageGrouping::Provider);
        QCOMPARE(providers.size(), 2);
        QCOMPARE(providers[0].key, "anthropic");  // the most expensive first
        QCOMPARE(providers[0].requests, 2);
        QCOMPARE(providers[0].inputTokens, 2000);
        QCOMPARE(providers[0].cost, (1000 * 2.0 + 500 * 10.0 + 1000 * 5.0 + 500 * 25.0) / 1e6);
        QCOMPARE(providers[1].fallbackRequests, 1);
        QCOMPARE(providers[1].failovers, 1);
        QCOMPARE(db.summary(0, UsageGrouping::Model).size(), 3);
        const QList<UsageRow> clients = db.summary(0, UsageGrouping::Client);
        QCOMPARE(clients.size(), 2);
        const QList<UsageRow> days = db.summary(0, UsageGrouping::Day);
        QCOMPARE(days.size(), 2);
        QCOMPARE(days[1].key, QDate::currentDate().toString(Qt::ISODate));
        QCOMPARE(db.summary(t - 1000, UsageGrouping::Provider).size(), 1);  // --since
    }

    // The writer's running totals against Ledger::snapshot computed from the rows, snapshot after snapshot, while
    // the last 24 hours slide over spells, failovers and the chart's hours, across midnight, a row that arrives
    // late and a prune. They are read from the database only when they must be.
    void runningTotals_equalTheDatabase_snapshotAfterSnapshot() {
        Ledger db(freshPath(), Ledger::Mode::ReadWrite);
        QVERIFY2(db.openError().isEmpty(), qPrintable(db.openError()));
        const qint64 start = QDateTime(QDate(2026, 6, 29), QTime(20, 50)).toMSecsSinceEpoch();
        TrafficSource traffic(start);
        UsageTotals totals;
        int expectedReads = 0;
        QDate lastDay;
        const auto snapshotAt = [&](qint64 nowMs, const QString& when) {
            const QDate day = QDateTime::fromMSecsSinceEpoch(nowMs).date();
            expectedReads += day != lastDay ? 1 : 0;
            lastDay = day;
            compareSnapshots(totals.snapshot(db, nowMs), db.snapshot(nowMs), when);
        };
        const auto write = [&](const UsageRecord& r) {
            const LedgerRow row = priceRecord(r, Pricing());
            QCOMPARE(db.insert({row}), QString());
            totals.add(row);
        };
        for (int i = 0; i < 400; ++i)  // before the first snapshot: read from the database
            write(traffic.next());
        int snapshots = 0;
        while (traffic.timeMs() < start + 60LL * 60 * 60 * 1000) {
            const int batch = 1 + int(traffic.timeMs() % 7);
            for (int i = 0; i < batch; ++i)
                write(traffic.next());
            // Now and then a snapshot long after the last row: spells still open, hours with nothing.
            const bool quiet = snapshots % 40 == 0;
            const qint64 nowMs = traffic.timeMs() + (quiet ? 2 * 60 * 60 * 1000 + 17 : 1000);
            snapshotAt(nowMs, QStringLiteral("snapshot %1").arg(++snapshots));
            if (QTest::currentTestFailed())
                return;
            if (quiet)
                traffic.skipTo(nowMs);
        }

        write(served(traffic.timeMs() - 10 * 60 * 1000, QStringLiteral("zai"), QStringLiteral("glm-5")));  // late
        ++expectedReads;
        snapshotAt(traffic.timeMs() + 1000, QStringLiteral("after a late row"));
        QCOMPARE(db.deleteBefore(traffic.timeMs() - 30 * 60 * 60 * 1000), QString());
        totals.forget();  // as the writer does after a prune
        ++expectedReads;
        snapshotAt(traffic.timeMs() + 2000, QStringLiteral("after a prune"));
        write(traffic.next());
        snapshotAt(traffic.timeMs() + 3000, QStringLiteral("after a row after the prune"));
        QVERIFY2(snapshots > 200, qPrintable(QString::number(snapshots)));
        QCOMPARE(totals.databaseReads(), expectedReads);
    }

    // Last month's rows are not this month's; rows from days ago count in the month, not today; a prune takes rows
    // out of the month.
    void runningTotals_monthEqualsAFullQuery_afterLateRowsAndPrunes() {
        Ledger db(freshPath(), Ledger::Mode::ReadWrite);
        QVERIFY2(db.openError().isEmpty(), qPrintable(db.openError()));
        UsageTotals totals;
        const auto at = [](int day, int hour) { return QDateTime(QDate(2026, 6, day), QTime(hour, 0)).toMSecsSinceEpoch(); };
        const qint64 nowMs = at(15, 12);
        const qint64 monthStart = at(1, 0);
        const auto add = [&](qint64 t, const char* provider) {
            const LedgerRow row = priceRecord(served(t, QString::fromLatin1(provider), QStringLiteral("glm-5")), Pricing());
            QCOMPARE(db.insert({row}), QString());
            totals.add(row);
        };
        const auto sameAsFullQuery = [&](const char* when) {
            const UsageSnapshot s = totals.snapshot(db, nowMs);
            for (const auto& [running, full] : {std::pair{s.month, db.summary(monthStart, UsageGrouping::Provider)},
                                                std::pair{s.today, db.summary(at(15, 0), UsageGrouping::Provider)}}) {
                QVERIFY2(running.size() == full.size(), when);
                for (qsizetype i = 0; i < full.size(); ++i) {
                    QVERIFY2(running[i].key == full[i].key && running[i].requests == full[i].requests
                                 && running[i].inputTokens == full[i].inputTokens
                                 && qFuzzyCompare(running[i].cost, full[i].cost), when);
                }
            }
        };
        add(at(15, 9), "a");
        add(at(15, 10), "a");
        add(at(10, 9), "b");
        add(monthStart - kDayMs, "a");  // last month: not in this month's figures
        sameAsFullQuery("first snapshot");
        QCOMPARE(totals.snapshot(db, nowMs).month.size(), 2);
        add(at(12, 9), "b");  // three days old, recorded now (a clock put right): the month's, not today's
        sameAsFullQuery("after a row from days ago");
        QCOMPARE(totals.snapshot(db, nowMs).today.size(), 1);
        QCOMPARE(totals.databaseReads(), 1);

        add(at(14, 23) + 59 * 60 * 1000, "b");  // began yesterday, recorded now
        sameAsFullQuery("after a late row");
        const UsageSnapshot late = totals.snapshot(db, nowMs);
        QCOMPARE(late.month.at(0).key == "b" ? late.month.at(0).requests : late.month.at(1).requests, 3);
        QCOMPARE(late.today.size(), 1);

        QCOMPARE(db.deleteBefore(at(11, 0)), QString());
        totals.forget();
        sameAsFullQuery("after a prune");
        add(at(15, 11), "c");
        sameAsFullQuery("after a new row today");
        QCOMPARE(totals.snapshot(db, nowMs).month.size(), 3);
    }

    void snapshot_failoverRateTimeOnFallbackRecoveryAndErrorRates() {
        const QString path = freshPath();
        const qint64 t = now() - 10 * 60 * 1000;
        const QString primaryDown = QStringLiteral("anthropic/claude-sonnet-5: 529 overloaded");
        {
            LedgerUnderTest ledger(path);
            ledger.record(served(t, QStringLiteral("anthropic"), QStringLiteral("claude-sonnet-5")));
            ledger.record(served(t + 1000, QStringLiteral("zai"), QStringLiteral("glm-5"), 1, {primaryDown}));
            ledger.record(allFailed(t + 2000, {primaryDown, QStringLiteral("zai/glm-5: connection refused")}));
            ledger.record(served(t + 61000, QStringLiteral("anthropic"), QStringLiteral("claude-sonnet-5")));
            QVERIFY(ledger.waitCommitted(4));
        }
        const Ledger db(path, Ledger::Mode::ReadOnly);
        const UsageSnapshot s = db.snapshot(now());
        QCOMPARE(s.failoverRequests, 2);
        QCOMPARE(s.failoverRequestsLastHour, 2);
        QCOMPARE(s.failoverRatePerHour(), 2.0 / 24.0);
        QCOMPARE(s.recoveries, 1);
        QCOMPARE(s.lastRecoveryMs, 60000);
        QCOMPARE(s.timeOnFallbackMs, 60000);
        QCOMPARE(s.today.value(0).requests + s.today.value(1).requests + s.today.value(2).requests, 4);
        QMap<QString, TargetErrorRate> rates;
        for (const TargetErrorRate& r : s.targets)
            rates.insert(r.target, r);
        QCOMPARE(rates["anthropic/claude-sonnet-5"].attempts, 4);
        QCOMPARE(rates["anthropic/claude-sonnet-5"].failures, 2);
        QCOMPARE(rates["zai/glm-5"].attempts, 2);
        QCOMPARE(rates["zai/glm-5"].failures, 1);
        const QJsonObject json = s.toJson();
        QCOMPARE(json["last24h"].toObject()["recoveries"].toInt(), 1);
        QVERIFY(s.prometheusText().contains("understudy_target_error_rate{target=\"zai/glm-5\"} 0.5\n"));
    }

    void csv_parsesPerRfc4180() {
        const QString path = freshPath();
        const QString awkward = QStringLiteral("we\"ird, client\r\nsecond line");
        {
            LedgerUnderTest ledger(path);
            UsageRecord r = served(now(), QStringLiteral("zai"), QStringLiteral("glm-5"));
            r.client = awkward;
            ledger.record(r);
            ledger.record(served(now(), QStringLiteral("local"), QStringLiteral("my-own-model")));
            QVERIFY(ledger.waitCommitted(2));
        }
        QString out, err;
        QTextStream outStream(&out), errStream(&err);
        QCOMPARE(runUsageCommand({"--ledger", path, "--by", "client", "--since", "2020-01-01", "--csv"}, outStream, errStream), 0);
        outStream.flush();
        const QList<QStringList> records = parseCsv(out);
        QCOMPARE(records.size(), 3);
        QCOMPARE(records[0].first(), "client");
        QCOMPARE(records[0].size(), 10);
        QStringList keys{records[1][0], records[2][0]};
        keys.sort();
        QCOMPARE(keys, QStringList({"claude-code", awkward}));
        for (const QStringList& record : records)
            QCOMPARE(record.size(), 10);
        const QStringList unknown = records[1][0] == awkward ? records[2] : records[1];
        QCOMPARE(unknown[8], "");   // cost unknown: empty, not 0
        QCOMPARE(unknown[9], "1");

        out.clear();
        QCOMPARE(runUsageCommand({"--ledger", path, "--by", "model"}, outStream, errStream), 0);
        outStream.flush();
        QVERIFY2(out.contains("glm-5") && out.contains("unknown") && out.contains("total"), qPrintable(out));
        QCOMPARE(runUsageCommand({"--ledger", path, "--by", "color"}, outStream, errStream), 2);
        QCOMPARE(runUsageCommand({"--ledger", m_dir.filePath("none.sqlite")}, outStream, errStream), 1);
        errStream.flush();
        QVERIFY2(err.contains("no usage has been recorded yet"), qPrintable(err));
    }

    void throughTheProxy_failoverIsOneRowBilledToTheFallback() {
        MockUpstream primary, fallback;
        primary.setDefault(errorReply(529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
        fallback.setDefault(anthropicMessage(QStringLiteral("from fallback"), QStringLiteral("fallback1-model")));
        const QByteArray config = QStringLiteral(R"({"version": 1, "listen": {"host": "127.0.0.1", "port": 8790},
            "providers": {"primary": {"type": "anthropic", "baseUrl": "%1", "auth": "client"},
                          "fallback1": {"type": "anthropic", "baseUrl": "%2", "auth": "client"}},
            "chains": {"main": {"steps": [{"provider": "primary"}, {"provider": "fallback1", "model": "fallback1-model"}]}},
            "activeChain": "main",
            "pricing": {"fallback1-model": {"input": 1.0, "output": 3.0}, "claude-test": {"input": 100, "output": 100}}})")
                                      .arg(primary.baseUrl(), fallback.baseUrl()).toUtf8();
        ConfigResult parsed = parseConfig(config);
        for (const ConfigProblem& p : parsed.problems)
            qWarning("%s: %s", qPrintable(p.path), qPrintable(p.message));
        QVERIFY(parsed.config);
        parsed.config->listen.port = 0;  // any free port
        auto shared = std::make_shared<const Config>(*parsed.config);

        const QString path = freshPath();
        LedgerUnderTest ledger(path);
        // The wiring app/ProxyHost.cpp does: usage to the ledger in batches, snapshots back to the proxy, prices
        // from the config.
        ProxyThread proxyThread;
        QObject::connect(&proxyThread.proxy()->telemetry(), &Telemetry::usageBatch, ledger.thread.writer(),
                         &LedgerWriter::recordBatch, Qt::QueuedConnection);
        QObject::connect(ledger.thread.writer(), &LedgerWriter::snapshotReady, proxyThread.proxy(),
                         &Proxy::setUsageSnapshot, Qt::QueuedConnection);
        ledger.thread.setPriceOverrides(shared->pricing);
        quint16 port = 0;
        QObject::connect(proxyThread.proxy(), &Proxy::listening, &ledger.context, [&port](const QString&, quint16 p) { port = p; });
        proxyThread.applyConfig(shared);
        QVERIFY(QTest::qWaitFor([&] { return port != 0; }, 5000));

        http::Headers headers;
        headers.set("x-api-key", "sk-ant-test");
        headers.set("anthropic-version", "2023-06-01");
        const ClientResponse r = request(port, "POST", "/v1/messages", messagesBody("claude-test", false), headers);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.headers.value("x-understudy-provider"), QByteArray("fallback1"));
        QVERIFY(ledger.waitCommitted(1));
        QTest::qWait(100);
        QCOMPARE(ledger.committed, 1);

        const QList<QVariantMap> rows = readRows(path);
        QCOMPARE(rows.size(), 1);
        const QVariantMap& row = rows.first();
        QCOMPARE(row["provider"].toString(), "fallback1");
        QCOMPARE(row["model"].toString(), "fallback1-model");
        QCOMPARE(row["requested_model"].toString(), "claude-test");
        QCOMPARE(row["fallback_depth"].toInt(), 1);
        QCOMPARE(row["input_tokens"].toLongLong(), 12);
        QCOMPARE(row["output_tokens"].toLongLong(), 5);
        QCOMPARE(row["price_input"].toDouble(), 1.0);  // the fallback's price, not the requested model's
        QCOMPARE(row["cost"].toDouble(), (12 * 1.0 + 5 * 3.0) / 1e6);
        const QJsonArray reasons = QJsonDocument::fromJson(row["failure_reasons"].toByteArray()).array();
        QCOMPARE(reasons.size(), 1);
        QVERIFY2(reasons[0].toString().startsWith("primary/claude-test: ") && reasons[0].toString().contains("529"),
                 qPrintable(reasons[0].toString()));

        // /status and /metrics serve the snapshot the ledger pushed.
        QJsonObject usage;
        QVERIFY(QTest::qWaitFor([&] {
            usage = QJsonDocument::fromJson(request(port, "GET", "/status").body).object()["usage"].toObject();
            return !usage["today"].toArray().isEmpty();
        }, 5000));
        const QJsonObject today = usage["today"].toArray().first().toObject();
        QCOMPARE(today["provider"].toString(), "fallback1");
        QCOMPARE(today["fallbackRequests"].toInt(), 1);
        QCOMPARE(today["costUsd"].toDouble(), 27e-6);
        QCOMPARE(usage["last24h"].toObject()["failoverRequests"].toInt(), 1);
        const QByteArray metrics = request(port, "GET", "/metrics").body;
        QVERIFY2(metrics.contains("understudy_usage_requests{period=\"today\",provider=\"fallback1\"} 1"), metrics.constData());
        QVERIFY(metrics.contains("understudy_failover_rate_per_hour"));
    }
};

QTEST_GUILESS_MAIN(TestLedger)
#include "tst_ledger.moc"
