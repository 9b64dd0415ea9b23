#include "support/KeptOutput.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>

namespace understudy::test {

void keepOutput(const QString& what, const QByteArray& bytes) {
    const QString folder = qEnvironmentVariable("UNDERSTUDY_TEST_OUTPUT");
    if (folder.isEmpty() || bytes.isEmpty())
        return;
    QDir().mkpath(folder + QStringLiteral("/kept"));
    // One file per process and kind, appended to: several tests of one binary may keep the same kind.
    QFile file(QStringLiteral("%1/kept/%2-%3.log").arg(folder, what).arg(QCoreApplication::applicationPid()));
    if (file.open(QIODevice::Append))
        file.write(bytes.endsWith('\n') ? bytes : bytes + '\n');
}

}  // namespace understudy::test
