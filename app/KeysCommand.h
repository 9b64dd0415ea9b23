#pragma once

#include <QStringList>

namespace understudy {

// `understudy keys set NAME` (the secret comes from stdin, unechoed on a terminal), `understudy keys list`
// (names only), `understudy keys delete NAME`: the OS keychain entries that "keychain:NAME" in the config
// refers to. `arguments` are those after "keys". Returns 0, 1 (the keychain failed or has no such entry) or
// 2 (a usage error).
int runKeysCommand(const QStringList& arguments);

}  // namespace understudy
