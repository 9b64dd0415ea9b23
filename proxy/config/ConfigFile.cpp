#include "config/ConfigFile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QStandardPaths>

namespace understudy::ConfigFile {

namespace {

// A config is a few KB. The cap keeps a wrong path (a log file, /dev/zero) from being read whole into memory.
constexpr qint64 kMaxSize = 1024 * 1024;

QString shown(const QString& path) {
    return QDir::toNativeSeparators(path);
}

ConfigResult failure(const QString& message) {
    return {std::nullopt, {{QStringLiteral("$"), message}}};
}

// QSaveFile writes a temporary file next to `path` and renames it over `path` on commit, so readers see either
// the old file or the new one, never a mix.
QString writeAtomically(const QString& path, const QByteArray& bytes) {
    const QString folder = QFileInfo(path).absolutePath();
    if (!QDir().mkpath(folder))
        return QStringLiteral("cannot create the folder %1").arg(shown(folder));
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit())
        return QStringLiteral("cannot write %1: %2").arg(shown(path), file.errorString());
    return {};
}

// The whole file when it exists and is config-sized, else nothing.
std::optional<QByteArray> readSmall(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return std::nullopt;
    QByteArray bytes = file.read(kMaxSize + 1);
    if (file.error() != QFileDevice::NoError || bytes.size() > kMaxSize)
        return std::nullopt;
    return bytes;
}

QString listProblems(const QList<ConfigProblem>& problems) {
    QStringList lines;
    for (const ConfigProblem& problem : problems)
        lines.append(QStringLiteral("  %1: %2").arg(problem.path, problem.message));
    return lines.join(u'\n');
}

}  // namespace

QString defaultPath() {
    return QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation) + QStringLiteral("/understudy.json");
}

ConfigResult load(const QString& path, bool createIfMissing) {
    if (createIfMissing && !QFileInfo::exists(path)) {
        if (const QString error = writeAtomically(path, defaultConfigJson()); !error.isEmpty())
            return failure(QStringLiteral("cannot create the default config: %1").arg(error));
    }
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return failure(QStringLiteral("cannot read %1: %2").arg(shown(path), file.errorString()));
    const QByteArray json = file.read(kMaxSize + 1);
    if (file.error() != QFileDevice::NoError)
        return failure(QStringLiteral("cannot read %1: %2").arg(shown(path), file.errorString()));
    if (json.size() > kMaxSize)
        return failure(
            QStringLiteral("%1 is larger than 1 MiB, which no config is; is it the right file?").arg(shown(path)));
    return parseConfig(json);
}

QString save(const QString& path, const QByteArray& json) {
    const ConfigResult result = parseConfig(json);
    if (!result.problems.isEmpty())
        return QStringLiteral("not saved to %1, which is unchanged: the config has %2 %3:\n%4")
            .arg(shown(path), QString::number(result.problems.size()),
                 result.problems.size() == 1 ? QStringLiteral("problem") : QStringLiteral("problems"),
                 listProblems(result.problems));
    const std::optional<QByteArray> previous = readSmall(path);
    if (previous && *previous != json && parseConfig(*previous).config) {
        if (const QString error = rememberGood(path, *previous); !error.isEmpty())
            return QStringLiteral("not saved to %1, which is unchanged: the previous config could not be kept as a "
                                  "backup: %2").arg(shown(path), error);
    }
    return writeAtomically(path, json);
}

QString lastGoodPath(const QString& path) { return path + QStringLiteral(".bak"); }

QString rememberGood(const QString& path, const QByteArray& json) {
    const QString backup = lastGoodPath(path);
    if (readSmall(backup) == json)
        return {};
    return writeAtomically(backup, json);
}

Startup loadForStartup(const QString& path, bool createIfMissing) {
    Startup startup;
    startup.result = load(path, createIfMissing);
    if (startup.result.config) {
        if (const std::optional<QByteArray> bytes = readSmall(path))
            rememberGood(path, *bytes);  // best effort: a read-only folder must not stop the app
        return startup;
    }
    const QString backup = lastGoodPath(path);
    if (!QFileInfo::exists(backup))
        return startup;
    ConfigResult fallback = load(backup, false);
    if (!fallback.config)
        return startup;
    startup.fileProblems = std::move(startup.result.problems);
    startup.result = std::move(fallback);
    startup.usedLastGood = backup;
    return startup;
}

}  // namespace understudy::ConfigFile
