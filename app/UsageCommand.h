#pragma once

#include "telemetry/Ledger.h"

#include <QStringList>
#include <QTextStream>

namespace understudy {

// `understudy usage [--since DATE] [--by provider|model|client|day] [--csv] [--ledger FILE]`: reads the usage
// ledger (read-only, so it can run while the proxy writes) and prints a table or RFC 4180 CSV.
// `arguments` are those after "usage". Returns the process exit code.
int runUsageCommand(const QStringList& arguments);
int runUsageCommand(const QStringList& arguments, QTextStream& out, QTextStream& err);

QString usageTable(const QList<UsageRow>& rows, UsageGrouping grouping);
QString usageCsv(const QList<UsageRow>& rows, UsageGrouping grouping);

}  // namespace understudy
