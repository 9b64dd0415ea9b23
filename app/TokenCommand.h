#pragma once

#include <QStringList>

namespace understudy {

// `understudy token [--config FILE]` prints the local access token that listen.accessToken refers to, for
// pasting into a client's settings; `understudy token --new` prints a fresh random one to store. `arguments`
// are those after "token". Returns the process exit code.
int runTokenCommand(const QStringList& arguments);

}  // namespace understudy
