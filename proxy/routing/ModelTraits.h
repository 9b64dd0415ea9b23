#pragma once

#include <QStringView>

namespace understudy {

// What the proxy knows about a model without asking it (a small catalog of vendor facts).

// Newer Claude models answer a trailing assistant message (a prefill) with 400 "Prefilling assistant messages is not
// supported for this model": Opus 4.6, the other 4.6 models and Mythos Preview (wire-formats.md §1.3; the exact list
// is unverified, so every Claude model from 4.6 on is assumed to refuse). Matches provider spellings too
// ("anthropic.claude-opus-4-6-v1:0", "claude-opus-4-6@20260101").
bool refusesPrefill(QStringView model);

}  // namespace understudy
