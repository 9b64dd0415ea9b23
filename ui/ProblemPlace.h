#pragma once

#include "ConfigDraft.h"

namespace understudy::ui {

// Where in the Settings dialog a config problem belongs, so that its message is shown under the field that
// holds the wrong value rather than as a list of JSON paths.
struct ProblemPlace {
    enum class Page { Providers, Chains, Failover, General };
    Page page = Page::General;
    QString item;    // the provider or chain the problem is in
    int step = -1;   // the chain step, when it is in one
    QString field;   // the field: "baseUrl", "apiKey", "provider", "model", "steps", "connectTimeoutMs", "port", ...;
                     // empty for the provider, chain or step as a whole
    QString message;
};

// Places a problem reported by parseConfig for a document written from `draft`.
ProblemPlace placeProblem(const ConfigProblem& problem, const ConfigDraft& draft);

}  // namespace understudy::ui
