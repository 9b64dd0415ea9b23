#pragma once

#include <QStringList>

namespace understudy {

// `understudy test-provider ID [--config FILE] [--model MODEL]`: one minimal real request to that provider with
// its stored credentials; prints OK with the model and latency, or the provider's exact error. `arguments` are
// those after "test-provider". Returns 0 (it answered), 1 (it did not) or 2 (a usage or config error).
int runTestProviderCommand(const QStringList& arguments);

}  // namespace understudy
