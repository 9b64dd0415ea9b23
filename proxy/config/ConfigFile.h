#pragma once

#include "config/Config.h"

#include <QString>

namespace understudy {

// The config file on disk: default location, first-run creation and atomic writes.
namespace ConfigFile {

// QStandardPaths::AppConfigLocation/understudy.json
QString defaultPath();

// Reads and validates `path`. When `createIfMissing` and the file does not exist, writes the default config
// there first. A problem reading the file is reported as a ConfigProblem with path "$".
ConfigResult load(const QString& path, bool createIfMissing);

// Writes `json` to `path` atomically (QSaveFile): a crash or a full disk never leaves a half-written file,
// and a document that does not validate is refused, so a bad config never replaces a good one. The file it
// replaces, when valid, is kept as the last good config first (lastGoodPath).
// Returns an empty string on success, else the reason.
QString save(const QString& path, const QByteArray& json);

// Where the last config that validated is kept: `path` + ".bak", beside it.
QString lastGoodPath(const QString& path);

// Records `json` (which validated) as the last good config for `path`. Returns why it could not, or "".
QString rememberGood(const QString& path, const QByteArray& json);

// What the app starts with.
struct Startup {
    ConfigResult result;               // the config to run, or the file's problems when there is none to run
    QString usedLastGood;              // set when the file is invalid and this last good copy runs instead
    QList<ConfigProblem> fileProblems; // ... and then what is wrong with the file
};

// Loads `path` like load(). A valid file is remembered as the last good config; an invalid one, when a last
// good config exists, is left for the user to fix and the last good config runs meanwhile.
Startup loadForStartup(const QString& path, bool createIfMissing);

}  // namespace ConfigFile
}  // namespace understudy
