#include "telemetry/Ledger.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>

#include <algorithm>
#include <atomic>
#include <numeric>

namespace understudy {
namespace {

constexpr qint64 kHourMs = 60 * 60 * 1000;
constexpr qint64 kDayMs = 24 * kHourMs;
constexpr int kMaxBatch = 500;            // a burst is written at once instead of growing the queue
constexpr qint64 kSnapshotRefreshMs = 60 * 1000;  // refresh an unchanged snapshot: days roll over, spells go on

// Each schema version's statements, applied in order inside one transaction. Never edit a shipped step:
// add one.
const QList<QStringList>& migrations() {
    static const QList<QStringList> steps{
        {QStringLiteral("CREATE TABLE requests ("
                        " id INTEGER PRIMARY KEY,"
                        " time_ms INTEGER NOT NULL,"
                        " client TEXT NOT NULL, session_id TEXT NOT NULL, chain TEXT NOT NULL,"
                        " requested_model TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,"
                        " fallback_depth INTEGER NOT NULL, failovers INTEGER NOT NULL,"
                        " failure_reasons TEXT NOT NULL,"  // JSON array of "target: reason"
                        " input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,"
                        " cache_read_tokens INTEGER NOT NULL, cache_write_tokens INTEGER NOT NULL,"
                        " estimated INTEGER NOT NULL,"
                        " first_token_ms INTEGER, total_ms INTEGER NOT NULL, status INTEGER NOT NULL,"
                        " outcome TEXT NOT NULL,"
                        " price_input REAL, price_output REAL, price_cache_read REAL, price_cache_write REAL,"
                        " cost REAL)"),  // USD; NULL: the model has no price
         QStringLiteral("CREATE INDEX requests_time ON requests (time_ms)")},
    };
    return steps;
}

QString nextConnectionName() {
    static std::atomic<int> counter{0};
    return QStringLiteral("understudy-ledger-%1").arg(++counter);
}

QString sqlError(const QString& what, const QSqlError& error) {
    return QStringLiteral("usage ledger: %1: %2").arg(what, error.text());
}

bool isServed(const QString& outcome) {
    return outcome == QLatin1String("served") || outcome == QLatin1String("stream_broken");
}

// How an attempt listed in UsageRecord::failureReasons ended. The reasons are Exchange's "target: reason"
// texts; only their fixed prefixes and suffixes are read.
struct FailedAttempt {
    enum class Kind { Failed, Retried, Skipped, Declined };
    QString target;
    Kind kind = Kind::Failed;
};

FailedAttempt classify(const QString& reason) {
    const qsizetype colon = reason.indexOf(QLatin1String(": "));
    const QStringView text = colon < 0 ? QStringView(reason) : QStringView(reason).mid(colon + 2);
    FailedAttempt a{colon < 0 ? QString() : reason.left(colon)};
    if (text.startsWith(QLatin1String("skipped:")) || text.startsWith(QLatin1String("stopped:")))
        a.kind = FailedAttempt::Kind::Skipped;  // no network attempt was made
    else if (text.endsWith(QLatin1String("returned to the client")))
        a.kind = FailedAttempt::Kind::Declined;  // a client error: the request, not the target, was at fault
    else if (text.contains(QLatin1String(", retried after ")))
        a.kind = FailedAttempt::Kind::Retried;
    return a;
}

QString groupingExpression(UsageGrouping grouping) {
    switch (grouping) {
    case UsageGrouping::Provider: return QStringLiteral("CASE provider WHEN '' THEN '(none)' ELSE provider END");
    case UsageGrouping::Model: return QStringLiteral("CASE model WHEN '' THEN '(none)' ELSE model END");
    case UsageGrouping::Client: return QStringLiteral("CASE client WHEN '' THEN '(unknown)' ELSE client END");
    case UsageGrouping::Day: return QStringLiteral("date(time_ms / 1000, 'unixepoch', 'localtime')");
    }
    return {};
}

qint64 localMidnightMs(const QDate& date) { return QDateTime(date, QTime(0, 0)).toMSecsSinceEpoch(); }

// The start of the local clock hour `ms` falls in (not always a multiple of an hour since the epoch: some
// time zones are half an hour off).
qint64 localHourStartMs(qint64 ms) {
    QDateTime t = QDateTime::fromMSecsSinceEpoch(ms);
    t.setTime(QTime(t.time().hour(), 0));
    return t.toMSecsSinceEpoch();
}

QByteArray promLabel(const QString& value) {
    QByteArray v = value.toUtf8();
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    return v;
}

QJsonArray rowsJson(const QList<UsageRow>& rows) {
    QJsonArray array;
    for (const UsageRow& r : rows)
        array.append(QJsonObject{{QStringLiteral("provider"), r.key},
                                 {QStringLiteral("requests"), r.requests},
                                 {QStringLiteral("fallbackRequests"), r.fallbackRequests},
                                 {QStringLiteral("failovers"), r.failovers},
                                 {QStringLiteral("inputTokens"), r.inputTokens},
                                 {QStringLiteral("outputTokens"), r.outputTokens},
                                 {QStringLiteral("cacheReadTokens"), r.cacheReadTokens},
                                 {QStringLiteral("cacheWriteTokens"), r.cacheWriteTokens},
                                 {QStringLiteral("costUsd"), r.cost},
                                 {QStringLiteral("unpricedRequests"), r.unpricedRequests}});
    return array;
}

// Spells on fallback, per chain: from the first request its primary did not answer to the next one it did.
struct FallbackSpells {
    QHash<QString, qint64> openSince;  // chain -> start
    QList<qint64> ended;
    qint64 totalMs = 0;

    void see(const QString& chain, qint64 timeMs, bool primaryServed, bool onFallback) {
        const auto open = openSince.constFind(chain);
        if (onFallback && open == openSince.cend()) {
            openSince.insert(chain, timeMs);
        } else if (primaryServed && open != openSince.cend()) {
            ended.append(timeMs - *open);
            totalMs += timeMs - *open;
            openSince.erase(open);
        }
    }
    void closeAt(qint64 nowMs) {
        for (qint64 since : std::as_const(openSince))
            totalMs += nowMs - since;
    }
};

// Named placeholders: Qt 6.4 formats a name with QString::arg for every positional value it binds, which was
// half the cost of a row; a named one is a hash lookup.
const QStringList& insertPlaceholders() {
    static const QStringList names{
        ":time_ms", ":client", ":session_id", ":chain", ":requested_model", ":provider", ":model", ":fallback_depth",
        ":failovers", ":failure_reasons", ":input_tokens", ":output_tokens", ":cache_read_tokens",
        ":cache_write_tokens", ":estimated", ":first_token_ms", ":total_ms", ":status", ":outcome", ":price_input",
        ":price_output", ":price_cache_read", ":price_cache_write", ":cost"};
    return names;
}

QString insertStatement() {
    QStringList columns = insertPlaceholders();
    for (QString& column : columns)
        column.remove(0, 1);
    return QStringLiteral("INSERT INTO requests (%1) VALUES (%2)")
        .arg(columns.join(QLatin1String(", ")), insertPlaceholders().join(QLatin1String(", ")));
}

// In the order of insertPlaceholders().
void bindRow(QSqlQuery& q, const LedgerRow& row) {
    const UsageRecord& r = row.record;
    const QStringList& names = insertPlaceholders();
    qsizetype column = 0;
    const auto bind = [&](const QVariant& value) { q.bindValue(names.at(column++), value); };
    // A null QString binds as SQL NULL; the text columns hold '' for "none" instead.
    const auto text = [](const QString& s) { return s.isNull() ? QStringLiteral("") : s; };
    bind(r.timeMs);
    for (const QString* field : {&r.client, &r.sessionId, &r.chain, &r.requestedModel, &r.provider, &r.model})
        bind(text(*field));
    bind(r.fallbackDepth);
    bind(row.failovers);
    bind(r.failureReasons.isEmpty() ? QStringLiteral("[]")  // most requests: no JSON to write
                                    : QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(r.failureReasons))
                                                            .toJson(QJsonDocument::Compact)));
    for (qint64 tokens : {r.tokens.input, r.tokens.output, r.tokens.cacheRead, r.tokens.cacheWrite})
        bind(tokens);
    bind(r.estimated ? 1 : 0);
    bind(r.firstTokenMs >= 0 ? QVariant(r.firstTokenMs) : QVariant());
    bind(r.totalMs);
    bind(r.status);
    bind(text(r.outcome));
    for (double Price::*field : {&Price::input, &Price::output, &Price::cacheRead, &Price::cacheWrite})
        bind(row.price ? QVariant((*row.price).*field) : QVariant());
    bind(row.cost ? QVariant(*row.cost) : QVariant());
}

}  // namespace

LedgerRow priceRecord(const UsageRecord& record, const Pricing& pricing) {
    LedgerRow row{record, std::nullopt, 0.0, 0};
    for (const QString& reason : record.failureReasons) {
        if (classify(reason).kind == FailedAttempt::Kind::Failed)
            ++row.failovers;
    }
    if (record.provider.isEmpty() || !isServed(record.outcome))
        return row;  // nobody answered, or the answer was an error: nothing to bill
    row.price = pricing.priceOf(record.model);
    row.cost = row.price ? std::optional<double>(costOf(record.tokens, *row.price)) : std::nullopt;
    return row;
}

UsageRow usageTotal(const QList<UsageRow>& rows, const QString& key) {
    UsageRow t{key};
    for (const UsageRow& r : rows) {
        t.requests += r.requests;
        t.fallbackRequests += r.fallbackRequests;
        t.failovers += r.failovers;
        t.inputTokens += r.inputTokens;
        t.outputTokens += r.outputTokens;
        t.cacheReadTokens += r.cacheReadTokens;
        t.cacheWriteTokens += r.cacheWriteTokens;
        t.cost += r.cost;
        t.unpricedRequests += r.unpricedRequests;
    }
    return t;
}

QString usageCostText(const UsageRow& row, int decimals) {
    if (row.unpricedRequests > 0 && row.unpricedRequests == row.requests)
        return QStringLiteral("unknown");
    return QString::number(row.cost, 'f', decimals) + (row.unpricedRequests > 0 ? QStringLiteral("+") : QString());
}

qint64 RequestsByHour::count(const QString& target, int hour) const {
    const qsizetype i = targets.indexOf(target);
    return i < 0 || hour < 0 || hour >= kHours ? 0 : counts[i][hour];
}

qint64 RequestsByHour::hourTotal(int hour) const {
    qint64 sum = 0;
    for (const QList<qint64>& series : counts)
        sum += series.value(hour);
    return sum;
}

qint64 RequestsByHour::targetTotal(const QString& target) const {
    const qsizetype i = targets.indexOf(target);
    return i < 0 ? 0 : std::accumulate(counts[i].cbegin(), counts[i].cend(), qint64(0));
}

RequestsByHour RequestsByHour::foldedTo(int maxTargets, const QString& other) const {
    if (targets.size() <= maxTargets)
        return *this;
    RequestsByHour folded{firstHourMs, targets.first(maxTargets - 1), counts.first(maxTargets - 1)};
    for (qsizetype i = maxTargets - 1; i < targets.size(); ++i) {
        for (int hour = 0; hour < kHours; ++hour)
            folded.add(other, hour, counts[i][hour]);
    }
    return folded;
}

void RequestsByHour::add(const QString& target, int hour, qint64 requests) {
    qsizetype i = targets.indexOf(target);
    if (i < 0) {
        targets.append(target);
        counts.append(QList<qint64>(kHours, 0));
        i = targets.size() - 1;
    }
    counts[i][hour] += requests;
}

RequestsByHour RequestsByHour::busiestFirst() const {
    QList<qsizetype> order(targets.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [this](qsizetype a, qsizetype b) {
        const qint64 ta = targetTotal(targets[a]), tb = targetTotal(targets[b]);
        return ta != tb ? ta > tb : targets[a] < targets[b];
    });
    RequestsByHour sorted{firstHourMs, {}, {}};
    for (qsizetype i : order) {
        sorted.targets.append(targets[i]);
        sorted.counts.append(counts[i]);
    }
    return sorted;
}

SnapshotPeriods SnapshotPeriods::at(qint64 nowMs) {
    const QDate today = QDateTime::fromMSecsSinceEpoch(nowMs).date();
    return {localMidnightMs(today), localMidnightMs(QDate(today.year(), today.month(), 1)), nowMs - kDayMs,
            nowMs - kHourMs, localHourStartMs(nowMs) - (RequestsByHour::kHours - 1) * kHourMs};
}

RequestFacts RequestFacts::of(const UsageRecord& record) {
    RequestFacts facts;
    const bool served = isServed(record.outcome) && !record.provider.isEmpty();
    facts.failedOver = (served && record.fallbackDepth > 0) || record.outcome == QLatin1String("all_failed");
    facts.primaryServed = served && record.fallbackDepth == 0;
    if (!record.provider.isEmpty())
        facts.target = record.provider + QLatin1Char('/') + record.model;
    for (const QString& reason : record.failureReasons) {
        const FailedAttempt a = classify(reason);
        if (!a.target.isEmpty() && (a.kind == FailedAttempt::Kind::Failed || a.kind == FailedAttempt::Kind::Retried))
            facts.failedTargets.append(a.target);
    }
    return facts;
}

std::optional<UsageGrouping> usageGroupingFromName(const QString& name) {
    for (UsageGrouping g : {UsageGrouping::Provider, UsageGrouping::Model, UsageGrouping::Client, UsageGrouping::Day}) {
        if (usageGroupingName(g) == name)
            return g;
    }
    return std::nullopt;
}

QString usageGroupingName(UsageGrouping grouping) {
    switch (grouping) {
    case UsageGrouping::Provider: return QStringLiteral("provider");
    case UsageGrouping::Model: return QStringLiteral("model");
    case UsageGrouping::Client: return QStringLiteral("client");
    case UsageGrouping::Day: return QStringLiteral("day");
    }
    return {};
}

QJsonObject UsageSnapshot::toJson() const {
    QJsonArray targetsJson;
    for (const TargetErrorRate& t : targets)
        targetsJson.append(QJsonObject{{QStringLiteral("target"), t.target},
                                       {QStringLiteral("attempts"), t.attempts},
                                       {QStringLiteral("failures"), t.failures},
                                       {QStringLiteral("errorRate"), t.attempts ? double(t.failures) / double(t.attempts) : 0.0}});
    const auto orNull = [](qint64 v) { return v < 0 ? QJsonValue(QJsonValue::Null) : QJsonValue(v); };
    return {
        {QStringLiteral("takenAt"), QDateTime::fromMSecsSinceEpoch(takenMs, Qt::UTC).toString(Qt::ISODateWithMs)},
        {QStringLiteral("today"), rowsJson(today)},
        {QStringLiteral("month"), rowsJson(month)},
        {QStringLiteral("last24h"),
         QJsonObject{{QStringLiteral("failoverRequests"), failoverRequests},
                     {QStringLiteral("failoverRequestsLastHour"), failoverRequestsLastHour},
                     {QStringLiteral("failoverRatePerHour"), failoverRatePerHour()},
                     {QStringLiteral("timeOnFallbackMs"), timeOnFallbackMs},
                     {QStringLiteral("recoveries"), recoveries},
                     {QStringLiteral("lastRecoveryMs"), orNull(lastRecoveryMs)},
                     {QStringLiteral("meanRecoveryMs"), orNull(meanRecoveryMs)},
                     {QStringLiteral("targets"), targetsJson}}},
    };
}

QByteArray UsageSnapshot::prometheusText() const {
    QByteArray out;
    auto gauge = [&out](const char* name, const char* help) {
        out.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" gauge\n");
    };
    gauge("understudy_usage_cost_usd", "Cost of priced requests, per serving provider, today and this month (local time).");
    for (const auto& [period, rows] : {std::pair{"today", &today}, std::pair{"month", &month}}) {
        for (const UsageRow& r : *rows)
            out.append("understudy_usage_cost_usd{period=\"").append(period).append("\",provider=\"")
                .append(promLabel(r.key)).append("\"} ").append(QByteArray::number(r.cost, 'g', 12)).append('\n');
    }
    gauge("understudy_usage_requests", "Requests recorded, per serving provider, today and this month.");
    for (const auto& [period, rows] : {std::pair{"today", &today}, std::pair{"month", &month}}) {
        for (const UsageRow& r : *rows)
            out.append("understudy_usage_requests{period=\"").append(period).append("\",provider=\"")
                .append(promLabel(r.key)).append("\"} ").append(QByteArray::number(r.requests)).append('\n');
    }
    gauge("understudy_failover_rate_per_hour", "Requests that failed over, per hour, over the last 24 hours.");
    out.append("understudy_failover_rate_per_hour ").append(QByteArray::number(failoverRatePerHour(), 'g', 6)).append('\n');
    gauge("understudy_failover_requests_last_hour", "Requests that failed over in the last hour.");
    out.append("understudy_failover_requests_last_hour ").append(QByteArray::number(failoverRequestsLastHour)).append('\n');
    gauge("understudy_time_on_fallback_seconds", "Time chains spent off their primary in the last 24 hours.");
    out.append("understudy_time_on_fallback_seconds ").append(QByteArray::number(double(timeOnFallbackMs) / 1000.0, 'g', 9)).append('\n');
    gauge("understudy_recoveries_last_24h", "Primaries that served again after their chain had failed over.");
    out.append("understudy_recoveries_last_24h ").append(QByteArray::number(recoveries)).append('\n');
    if (lastRecoveryMs >= 0) {
        gauge("understudy_last_recovery_seconds", "From a primary failing to it serving again, the last time.");
        out.append("understudy_last_recovery_seconds ").append(QByteArray::number(double(lastRecoveryMs) / 1000.0, 'g', 9)).append('\n');
    }
    gauge("understudy_target_error_rate", "Failed attempts per attempt, per target, over the last 24 hours.");
    for (const TargetErrorRate& t : targets)
        out.append("understudy_target_error_rate{target=\"").append(promLabel(t.target)).append("\"} ")
            .append(QByteArray::number(t.attempts ? double(t.failures) / double(t.attempts) : 0.0, 'g', 6)).append('\n');
    return out;
}

QString Ledger::defaultPath() {
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/usage.sqlite");
}

Ledger::Ledger(const QString& path, Mode mode) : m_connection(nextConnectionName()) {
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connection);
    if (!db.isValid()) {
        m_openError = QStringLiteral("usage ledger: Qt's SQLite driver is not installed (Debian: libqt6sql6-sqlite)");
        return;
    }
    if (mode == Mode::ReadOnly && !QFileInfo::exists(path)) {
        m_openError = QStringLiteral("no usage has been recorded yet (%1 does not exist)").arg(path);
        return;
    }
    if (mode == Mode::ReadWrite)
        QDir().mkpath(QFileInfo(path).absolutePath());
    // A reader (understudy usage) and the writer share the file: wait for each other instead of failing.
    db.setConnectOptions(mode == Mode::ReadOnly ? QStringLiteral("QSQLITE_OPEN_READONLY;QSQLITE_BUSY_TIMEOUT=5000")
                                                : QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
    db.setDatabaseName(path);
    if (!db.open()) {
        m_openError = QStringLiteral("cannot open the usage ledger %1: %2").arg(path, db.lastError().text());
        return;
    }
    if (mode == Mode::ReadWrite) {
        QSqlQuery q(db);
        // auto_vacuum only takes effect before the first table exists; WAL lets readers run during writes,
        // and with synchronous=NORMAL a killed process loses no committed transaction.
        for (const char* pragma : {"PRAGMA auto_vacuum = INCREMENTAL", "PRAGMA journal_mode = WAL",
                                   "PRAGMA synchronous = NORMAL"}) {
            if (!q.exec(QString::fromLatin1(pragma))) {
                m_openError = sqlError(QString::fromLatin1(pragma), q.lastError());
                return;
            }
        }
        m_openError = migrate();
        return;
    }
    const int version = schemaVersion();
    if (version == 0)
        m_openError = QStringLiteral("%1 is not an Understudy usage ledger").arg(path);
    else if (version > kSchemaVersion)
        m_openError = QStringLiteral("%1 was written by a newer Understudy (ledger schema %2; this one reads up to %3)")
                          .arg(path).arg(version).arg(kSchemaVersion);
}

Ledger::~Ledger() {
    m_insert.reset();  // a statement must not outlive its connection
    QSqlDatabase::database(m_connection, false).close();
    QSqlDatabase::removeDatabase(m_connection);
}

int Ledger::schemaVersion() const {
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    if (!q.exec(QStringLiteral("SELECT version FROM schema_version")) || !q.next())
        return 0;
    return q.value(0).toInt();
}

QString Ledger::migrate() {
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    const int current = schemaVersion();
    if (current > kSchemaVersion)
        return QStringLiteral("usage ledger %1 was written by a newer Understudy (schema %2); this one writes schema %3")
            .arg(db.databaseName()).arg(current).arg(kSchemaVersion);
    if (current == kSchemaVersion)
        return {};
    db.transaction();
    QSqlQuery q(db);
    QStringList statements{QStringLiteral("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")};
    for (int step = current; step < kSchemaVersion; ++step)
        statements += migrations().at(step);
    statements += {QStringLiteral("DELETE FROM schema_version"),
                   QStringLiteral("INSERT INTO schema_version (version) VALUES (%1)").arg(kSchemaVersion)};
    for (const QString& statement : statements) {
        if (!q.exec(statement)) {
            const QString error = sqlError(QStringLiteral("upgrading the schema to version %1").arg(kSchemaVersion),
                                           q.lastError());
            db.rollback();
            return error;
        }
    }
    return db.commit() ? QString() : sqlError(QStringLiteral("upgrading the schema"), db.lastError());
}

QString Ledger::insert(const QList<LedgerRow>& rows) {
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    if (!m_insert) {
        // Prepared once: parsing the statement cost more than a row, and a quiet proxy writes one row a batch.
        m_insert.emplace(db);
        if (!m_insert->prepare(insertStatement())) {
            const QString error = sqlError(QStringLiteral("preparing to write rows"), m_insert->lastError());
            m_insert.reset();
            return error;
        }
    }
    if (!db.transaction())
        return sqlError(QStringLiteral("starting a write"), db.lastError());
    for (const LedgerRow& row : rows) {
        bindRow(*m_insert, row);
        if (!m_insert->exec()) {
            const QString error = sqlError(QStringLiteral("writing %1 row(s)").arg(rows.size()), m_insert->lastError());
            db.rollback();
            return error;
        }
    }
    return db.commit() ? QString() : sqlError(QStringLiteral("committing %1 row(s)").arg(rows.size()), db.lastError());
}

QString Ledger::deleteBefore(qint64 timeMs) {
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.prepare(QStringLiteral("DELETE FROM requests WHERE time_ms < ?"));
    q.addBindValue(timeMs);
    return q.exec() ? QString() : sqlError(QStringLiteral("deleting old rows"), q.lastError());
}

QString Ledger::compact() {
    if (const QString error = vacuumFreePages(); !error.isEmpty())
        return error;
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    for (const char* pragma : {"PRAGMA wal_checkpoint(TRUNCATE)", "PRAGMA optimize"}) {
        if (!q.exec(QString::fromLatin1(pragma)))
            return sqlError(QString::fromLatin1(pragma), q.lastError());
        while (q.next()) {
        }
    }
    return {};
}

// Incremental: frees the pages deleted rows left instead of rewriting the whole file as VACUUM does. Each step
// of the pragma frees one page, and Qt steps a statement that has no result columns only once per exec(), so
// it is executed once per free page, in one transaction.
QString Ledger::vacuumFreePages() {
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    QSqlQuery q(db);
    if (!q.exec(QStringLiteral("PRAGMA freelist_count")) || !q.next())
        return sqlError(QStringLiteral("counting free pages"), q.lastError());
    const int freePages = q.value(0).toInt();
    q.finish();
    if (freePages == 0)
        return {};
    if (!db.transaction())
        return sqlError(QStringLiteral("starting the vacuum"), db.lastError());
    q.prepare(QStringLiteral("PRAGMA incremental_vacuum"));
    for (int page = 0; page < freePages; ++page) {
        if (!q.exec()) {
            const QString error = sqlError(QStringLiteral("PRAGMA incremental_vacuum"), q.lastError());
            db.rollback();
            return error;
        }
    }
    q.finish();
    return db.commit() ? QString() : sqlError(QStringLiteral("committing the vacuum"), db.lastError());
}

QList<UsageRow> Ledger::summary(qint64 sinceMs, UsageGrouping grouping, qint64 untilMs) const {
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.setForwardOnly(true);  // read once: no client-side cache of every row
    const QString order = grouping == UsageGrouping::Day ? QStringLiteral("k") : QStringLiteral("cost DESC, requests DESC, k");
    q.prepare(QStringLiteral("SELECT %1 AS k, COUNT(*) AS requests, SUM(fallback_depth > 0 AND provider <> ''),"
                             " SUM(failovers), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens),"
                             " SUM(cache_write_tokens), TOTAL(cost) AS cost, SUM(cost IS NULL)"
                             " FROM requests WHERE time_ms >= ? AND time_ms < ? GROUP BY k ORDER BY %2")
                  .arg(groupingExpression(grouping), order));
    q.addBindValue(sinceMs);
    q.addBindValue(untilMs);
    QList<UsageRow> rows;
    if (!q.exec())
        return rows;
    while (q.next()) {
        rows.append({q.value(0).toString(), q.value(1).toLongLong(), q.value(2).toLongLong(), q.value(3).toLongLong(),
                     q.value(4).toLongLong(), q.value(5).toLongLong(), q.value(6).toLongLong(), q.value(7).toLongLong(),
                     q.value(8).toDouble(), q.value(9).toLongLong()});
    }
    return rows;
}

void Ledger::forEachRecord(qint64 sinceMs, const std::function<void(const UsageRecord&)>& see) const {
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.setForwardOnly(true);
    q.prepare(QStringLiteral("SELECT time_ms, client, session_id, chain, requested_model, provider, model, fallback_depth,"
                             " failure_reasons, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,"
                             " estimated, first_token_ms, total_ms, status, outcome"
                             " FROM requests WHERE time_ms >= ? ORDER BY time_ms, id"));
    q.addBindValue(sinceMs);
    if (!q.exec())
        return;
    while (q.next()) {
        UsageRecord r;
        r.timeMs = q.value(0).toLongLong();
        r.client = q.value(1).toString();
        r.sessionId = q.value(2).toString();
        r.chain = q.value(3).toString();
        r.requestedModel = q.value(4).toString();
        r.provider = q.value(5).toString();
        r.model = q.value(6).toString();
        r.fallbackDepth = q.value(7).toInt();
        const QString reasons = q.value(8).toString();
        if (reasons != QLatin1String("[]")) {  // most requests: nothing failed, nothing to parse
            for (const QJsonValue& reason : QJsonDocument::fromJson(reasons.toUtf8()).array())
                r.failureReasons.append(reason.toString());
        }
        r.tokens = {q.value(9).toLongLong(), q.value(10).toLongLong(), q.value(11).toLongLong(), q.value(12).toLongLong()};
        r.estimated = q.value(13).toInt() != 0;
        r.firstTokenMs = q.value(14).isNull() ? -1 : q.value(14).toLongLong();
        r.totalMs = q.value(15).toLongLong();
        r.status = q.value(16).toInt();
        r.outcome = q.value(17).toString();
        see(r);
    }
}

UsageSnapshot Ledger::snapshot(qint64 nowMs) const {
    UsageSnapshot s;
    s.takenMs = nowMs;
    const SnapshotPeriods periods = SnapshotPeriods::at(nowMs);
    s.today = summary(periods.todayStartMs, UsageGrouping::Provider);
    s.month = summary(periods.monthStartMs, UsageGrouping::Provider);

    FallbackSpells spells;
    QMap<QString, TargetErrorRate> targets;
    forEachRecord(periods.last24hStartMs, [&](const UsageRecord& r) {
        const RequestFacts facts = RequestFacts::of(r);
        if (facts.failedOver) {
            ++s.failoverRequests;
            if (r.timeMs >= periods.lastHourStartMs)
                ++s.failoverRequestsLastHour;
        }
        spells.see(r.chain, r.timeMs, facts.primaryServed, facts.failedOver);
        if (!facts.target.isEmpty()) {
            targets[facts.target].target = facts.target;
            targets[facts.target].attempts += 1;
        }
        for (const QString& failed : facts.failedTargets) {
            TargetErrorRate& t = targets[failed];
            t.target = failed;
            t.attempts += 1;
            t.failures += 1;
        }
    });
    spells.closeAt(nowMs);
    s.timeOnFallbackMs = spells.totalMs;
    s.recoveries = spells.ended.size();
    if (!spells.ended.isEmpty()) {
        s.lastRecoveryMs = spells.ended.last();
        qint64 sum = 0;
        for (qint64 ms : spells.ended)
            sum += ms;
        s.meanRecoveryMs = sum / spells.ended.size();
    }
    s.targets = targets.values();
    s.requestsByHour = requestsByHour(nowMs);
    return s;
}

RequestsByHour Ledger::requestsByHour(qint64 nowMs) const {
    RequestsByHour chart;
    chart.firstHourMs = SnapshotPeriods::at(nowMs).chartStartMs;
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.setForwardOnly(true);
    q.prepare(QStringLiteral("SELECT (time_ms - ?) / %1, provider, model, COUNT(*) FROM requests"
                             " WHERE time_ms >= ? AND time_ms < ? GROUP BY 1, provider, model").arg(kHourMs));
    for (qint64 bound : {chart.firstHourMs, chart.firstHourMs, chart.firstHourMs + RequestsByHour::kHours * kHourMs})
        q.addBindValue(bound);
    if (!q.exec())
        return chart;
    while (q.next()) {
        const QString provider = q.value(1).toString();
        chart.add(provider.isEmpty() ? RequestsByHour::noAnswer() : provider + u'/' + q.value(2).toString(),
                  q.value(0).toInt(), q.value(3).toLongLong());
    }
    return chart.busiestFirst();
}

LedgerWriter::LedgerWriter(LedgerOptions options, QObject* parent)
    : QObject(parent), m_options(std::move(options)), m_flushTimer(this), m_snapshotTimer(this), m_cleanupTimer(this) {
    qRegisterMetaType<UsageRecord>();
    qRegisterMetaType<UsageSnapshot>();
    m_flushTimer.setSingleShot(true);
    m_flushTimer.setInterval(m_options.flushIntervalMs);
    connect(&m_flushTimer, &QTimer::timeout, this, &LedgerWriter::flush);
    m_snapshotTimer.setInterval(m_options.snapshotIntervalMs);
    connect(&m_snapshotTimer, &QTimer::timeout, this, &LedgerWriter::publishSnapshot);
    m_cleanupTimer.setInterval(m_options.cleanupIntervalMs);
    connect(&m_cleanupTimer, &QTimer::timeout, this, &LedgerWriter::cleanUp);
}

LedgerWriter::~LedgerWriter() { flush(); }

void LedgerWriter::open() {
    const QString path = m_options.path.isEmpty() ? Ledger::defaultPath() : m_options.path;
    m_ledger = std::make_unique<Ledger>(path, Ledger::Mode::ReadWrite);
    if (!m_ledger->openError().isEmpty()) {
        Q_EMIT failed(m_ledger->openError() + QStringLiteral("; usage is not being recorded"));
        m_ledger.reset();
        return;
    }
    cleanUp();
    publishSnapshot();
    m_snapshotTimer.start();
    m_cleanupTimer.start();
}

void LedgerWriter::record(const UsageRecord& record) {
    if (!m_ledger)
        return;
    m_pending.append(priceRecord(record, m_pricing));
    if (m_pending.size() >= kMaxBatch)
        flush();
    else if (!m_flushTimer.isActive())
        m_flushTimer.start();
}

void LedgerWriter::recordBatch(const QList<UsageRecord>& records) {
    for (const UsageRecord& r : records)
        record(r);
}

void LedgerWriter::setPriceOverrides(const QMap<QString, Price>& overrides) {
    m_pricing = Pricing(overrides, builtInPrices());
}

void LedgerWriter::setRetentionDays(int days) {
    if (days == m_options.retentionDays)
        return;
    m_options.retentionDays = days;
    cleanUp();
}

void LedgerWriter::flush() {
    m_flushTimer.stop();
    if (!m_ledger || m_pending.isEmpty())
        return;
    const QList<LedgerRow> batch = std::exchange(m_pending, {});
    if (const QString error = m_ledger->insert(batch); !error.isEmpty()) {
        Q_EMIT failed(error);
        return;
    }
    for (const LedgerRow& row : batch)
        m_totals.add(row);
    m_changedSinceSnapshot = true;
    Q_EMIT committed(static_cast<int>(batch.size()));
}

void LedgerWriter::cleanUp() {
    if (!m_ledger)
        return;
    QString error;
    if (m_options.retentionDays > 0)
        error = m_ledger->deleteBefore(QDateTime::currentMSecsSinceEpoch() - m_options.retentionDays * kDayMs);
    if (error.isEmpty())
        error = m_ledger->compact();
    if (!error.isEmpty())
        Q_EMIT failed(error);
    m_totals.forget();
    m_changedSinceSnapshot = true;
}

void LedgerWriter::publishSnapshot() {
    if (!m_ledger)
        return;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (!m_changedSinceSnapshot && now - m_lastSnapshotMs < kSnapshotRefreshMs)
        return;
    m_changedSinceSnapshot = false;
    m_lastSnapshotMs = now;
    Q_EMIT snapshotReady(m_totals.snapshot(*m_ledger, now));
}

LedgerThread::LedgerThread(LedgerOptions options, QObject* parent)
    : QObject(parent), m_writer(new LedgerWriter(std::move(options))) {
    m_thread.setObjectName(QStringLiteral("understudy-ledger"));
    m_writer->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_writer, &QObject::deleteLater);
    // Only idle CPU (SCHED_IDLE on Linux): at a normal or even a nice priority, writing a batch took a core from
    // the request path for milliseconds (the p99 at one connection was 3-5 ms; idle, 0.5 ms). Under a full load
    // rows then wait in memory a little longer; they are still written (idle threads get a small share).
    m_thread.start(QThread::IdlePriority);
    QMetaObject::invokeMethod(m_writer, &LedgerWriter::open, Qt::QueuedConnection);
}

LedgerThread::~LedgerThread() {
    QMetaObject::invokeMethod(m_writer, &LedgerWriter::flush, Qt::BlockingQueuedConnection);
    m_thread.quit();
    m_thread.wait();
}

void LedgerThread::setRetentionDays(int days) {
    QMetaObject::invokeMethod(m_writer, [writer = m_writer, days] { writer->setRetentionDays(days); },
                              Qt::QueuedConnection);
}

void LedgerThread::setPriceOverrides(const QMap<QString, Price>& overrides) {
    QMetaObject::invokeMethod(m_writer, [writer = m_writer, overrides] { writer->setPriceOverrides(overrides); },
                              Qt::QueuedConnection);
}

}  // namespace understudy
