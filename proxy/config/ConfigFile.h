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
// and a document that does not validate is refused, so a bad config never replaces a good one.
// Returns an empty string on success, else the reason.
QString save(const QString& path, const QByteArray& json);

}  // namespace ConfigFile
}  // namespace understudy
