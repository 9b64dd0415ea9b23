#pragma once

#include "config/Config.h"
#include "http/Headers.h"

#include <QList>
#include <QString>

#include <optional>

namespace understudy {

// One place a request can be served: a provider asked for a model.
struct Target {
    const ProviderConfig* provider = nullptr;  // points into the Config snapshot the exchange holds
    QString model;                             // what the provider is asked for
    bool prefill = true;
    std::optional<double> dailyBudgetUsd;      // a paid step (see StepConfig)
    QString key;                               // "provider/model": how health, counters and events name it

    static QString keyOf(const ProviderConfig& provider, const QString& model) { return provider.id + u'/' + model; }
};

struct RoutePlan {
    QString chain;            // the chain id, or "reroute"
    QList<Target> targets;    // in priority order
    QString error;            // set when no plan can be made (e.g. an unknown chain in the path)
};

// "/chains/<id>/v1/messages" → {"<id>", "/v1/messages"}; other paths come back unchanged with no chain.
struct ChainPrefix {
    QString chain;
    QByteArray path;
};
ChainPrefix splitChainPrefix(QByteArrayView path);

// The client program, from its User-Agent / originator: "claude-code", "codex", "opencode", or empty.
QString detectClient(const http::Headers& headers);

// Chooses the chain (path prefix, else the detected client's chain, else activeChain; reroute overrides all)
// and maps the requested model through each step.
RoutePlan planRoute(const Config& config, const QString& chainFromPath, const QString& client,
                    const QString& requestedModel);

}  // namespace understudy
