#pragma once

#include <QStringList>

namespace understudy {

// `understudy token [--config FILE]` prints the local access token that listen.accessToken refers to, for
// pasting into a client's settings; `--enable` turns the token on (generated into the OS keychain entry
// "access-token" unless it is there already, or `--env NAME`; the config gets the reference, never the token)
// and gives it to the clients `understudy connect` had connected; `--disable` turns it off again (the token
// stays, so enabling again needs no reconnecting); `--new` prints a fresh random one. `arguments` are those
// after "token". Returns the process exit code.
int runTokenCommand(const QStringList& arguments);

}  // namespace understudy
