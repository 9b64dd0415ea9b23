#include "UsageCommand.h"

#include <QCommandLineParser>
#include <QDateTime>

#include <cstdio>
#include <numeric>

namespace understudy {
namespace {

constexpr int kExitUsageError = 2;

QString csvField(const QString& field) {
    if (!field.contains(u',') && !field.contains(u'"') && !field.contains(u'\n') && !field.contains(u'\r'))
        return field;
    QString quoted = field;
    quoted.replace(QStringLiteral("\""), QStringLiteral("\"\""));
    return u'"' + quoted + u'"';
}

// Accepts a day (local midnight) or an ISO date-time.
std::optional<qint64> parseSince(const QString& text) {
    const QDate day = QDate::fromString(text, Qt::ISODate);
    if (day.isValid())
        return QDateTime(day, QTime(0, 0)).toMSecsSinceEpoch();
    const QDateTime moment = QDateTime::fromString(text, Qt::ISODate);
    if (moment.isValid())
        return moment.toMSecsSinceEpoch();
    return std::nullopt;
}

qint64 startOfThisMonth() {
    const QDate today = QDate::currentDate();
    return QDateTime(QDate(today.year(), today.month(), 1), QTime(0, 0)).toMSecsSinceEpoch();
}

}  // namespace

QString usageTable(const QList<UsageRow>& rows, UsageGrouping grouping) {
    const QStringList header{usageGroupingName(grouping), QStringLiteral("requests"), QStringLiteral("fallback"),
                             QStringLiteral("failovers"), QStringLiteral("input"), QStringLiteral("output"),
                             QStringLiteral("cache read"), QStringLiteral("cache write"), QStringLiteral("cost USD")};
    QList<QStringList> lines{header};
    QList<UsageRow> all = rows;
    all.append(usageTotal(rows, QStringLiteral("total")));
    for (const UsageRow& r : all)
        lines.append({r.key, QString::number(r.requests), QString::number(r.fallbackRequests),
                      QString::number(r.failovers), QString::number(r.inputTokens), QString::number(r.outputTokens),
                      QString::number(r.cacheReadTokens), QString::number(r.cacheWriteTokens), usageCostText(r, 4)});
    QList<qsizetype> widths(header.size(), 0);
    for (const QStringList& line : lines) {
        for (qsizetype i = 0; i < line.size(); ++i)
            widths[i] = std::max(widths[i], line[i].size());
    }
    QString text;
    for (qsizetype l = 0; l < lines.size(); ++l) {
        if (l == lines.size() - 1)
            text += QString(std::accumulate(widths.begin(), widths.end(), qsizetype(0)) + 2 * (widths.size() - 1), u'-') + u'\n';
        QStringList cells;
        for (qsizetype i = 0; i < lines[l].size(); ++i)
            cells.append(i == 0 ? lines[l][i].leftJustified(widths[i]) : lines[l][i].rightJustified(widths[i]));
        text += cells.join(QStringLiteral("  ")) + u'\n';
    }
    if (all.last().unpricedRequests > 0)
        text += QStringLiteral("%1 request(s) went to models with no price: their cost is not included (add them to the "
                               "config's \"pricing\").\n").arg(all.last().unpricedRequests);
    return text;
}

QString usageCsv(const QList<UsageRow>& rows, UsageGrouping grouping) {
    QString text = QStringLiteral("%1,requests,fallback_requests,failovers,input_tokens,output_tokens,cache_read_tokens,"
                                  "cache_write_tokens,cost_usd,unpriced_requests\r\n").arg(usageGroupingName(grouping));
    for (const UsageRow& r : rows) {
        const bool unknown = r.unpricedRequests > 0 && r.unpricedRequests == r.requests;
        const QStringList fields{csvField(r.key), QString::number(r.requests), QString::number(r.fallbackRequests),
                                 QString::number(r.failovers), QString::number(r.inputTokens),
                                 QString::number(r.outputTokens), QString::number(r.cacheReadTokens),
                                 QString::number(r.cacheWriteTokens),
                                 unknown ? QString() : QString::number(r.cost, 'f', 6),
                                 QString::number(r.unpricedRequests)};
        text += fields.join(u',') + QStringLiteral("\r\n");
    }
    return text;
}

int runUsageCommand(const QStringList& arguments, QTextStream& out, QTextStream& err) {
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Prints requests, tokens and cost from the usage ledger."));
    const QCommandLineOption help(QStringList{QStringLiteral("h"), QStringLiteral("help")}, QStringLiteral("Show this help."));
    const QCommandLineOption since(QStringLiteral("since"),
                                   QStringLiteral("From this day (YYYY-MM-DD, local) or time (ISO 8601); default: the "
                                                  "first of this month."), QStringLiteral("DATE"));
    const QCommandLineOption by(QStringLiteral("by"), QStringLiteral("Group by provider (default), model, client or day."),
                                QStringLiteral("provider|model|client|day"), QStringLiteral("provider"));
    const QCommandLineOption csv(QStringLiteral("csv"), QStringLiteral("Print CSV (RFC 4180) instead of a table."));
    const QCommandLineOption ledger(QStringLiteral("ledger"),
                                    QStringLiteral("Ledger file (default: %1).").arg(Ledger::defaultPath()),
                                    QStringLiteral("FILE"));
    parser.addOptions({help, since, by, csv, ledger});
    if (!parser.parse(QStringList{QStringLiteral("understudy usage")} + arguments)) {
        err << "understudy usage: " << parser.errorText() << " (see understudy usage --help)\n";
        return kExitUsageError;
    }
    if (parser.isSet(help)) {
        out << parser.helpText();
        return 0;
    }
    if (!parser.positionalArguments().isEmpty()) {
        err << "understudy usage: unexpected argument '" << parser.positionalArguments().first() << "'\n";
        return kExitUsageError;
    }
    const std::optional<UsageGrouping> grouping = usageGroupingFromName(parser.value(by));
    if (!grouping) {
        err << "understudy usage: --by takes provider, model, client or day, not '" << parser.value(by) << "'\n";
        return kExitUsageError;
    }
    const std::optional<qint64> sinceMs = parser.isSet(since) ? parseSince(parser.value(since)) : startOfThisMonth();
    if (!sinceMs) {
        err << "understudy usage: --since takes a date like 2026-11-01 or a time like 2026-11-01T09:00, not '"
            << parser.value(since) << "'\n";
        return kExitUsageError;
    }
    const Ledger db(parser.isSet(ledger) ? parser.value(ledger) : Ledger::defaultPath(), Ledger::Mode::ReadOnly);
    if (!db.openError().isEmpty()) {
        err << "understudy usage: " << db.openError() << '\n';
        return 1;
    }
    const QList<UsageRow> rows = db.summary(*sinceMs, *grouping);
    out << (parser.isSet(csv) ? usageCsv(rows, *grouping) : usageTable(rows, *grouping));
    return 0;
}

int runUsageCommand(const QStringList& arguments) {
    QTextStream out(stdout);
    QTextStream err(stderr);
    return runUsageCommand(arguments, out, err);
}

}  // namespace understudy
