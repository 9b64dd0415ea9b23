#include "routing/Route.h"

#include "routing/ModelTraits.h"

#include <QStringList>

namespace understudy {

ChainPrefix splitChainPrefix(QByteArrayView path) {
    static constexpr QByteArrayView prefix("/chains/");
    if (!path.startsWith(prefix))
        return {{}, path.toByteArray()};
    const QByteArrayView rest = path.sliced(prefix.size());
    const qsizetype slash = rest.indexOf('/');
    if (slash <= 0)
        return {QString::fromUtf8(rest), QByteArray("/")};
    return {QString::fromUtf8(rest.first(slash)), rest.sliced(slash).toByteArray()};
}

QString detectClient(const http::Headers& headers) {
    const QByteArray agent = headers.value("user-agent").toLower();
    const QByteArray originator = headers.value("originator").toLower();
    if (agent.startsWith("claude-cli") || agent.contains("claude-code"))
        return QStringLiteral("claude-code");
    if (agent.startsWith("codex") || originator.startsWith("codex"))
        return QStringLiteral("codex");
    if (agent.contains("opencode"))
        return QStringLiteral("opencode");
    return {};
}

RoutePlan planRoute(const Config& config, const QString& chainFromPath, const QString& client,
                    const QString& requestedModel) {
    RoutePlan plan;
    if (config.reroute) {
        plan.chain = QStringLiteral("reroute");
        const auto provider = config.providers.constFind(config.reroute->provider);
        if (provider == config.providers.cend()) {
            plan.error = QStringLiteral("reroute names provider '%1', which is not configured.").arg(config.reroute->provider);
            return plan;
        }
        const QString model = config.reroute->model.isEmpty() ? requestedModel : config.reroute->model;
        plan.targets.append({&*provider, model, provider->prefill && !refusesPrefill(model), std::nullopt,
                             Target::keyOf(*provider, model)});
        return plan;
    }
    if (!chainFromPath.isEmpty())
        plan.chain = chainFromPath;
    else if (config.chains.contains(config.clients.value(client)))
        plan.chain = config.clients.value(client);
    else
        plan.chain = config.activeChain;

    const auto chain = config.chains.constFind(plan.chain);
    if (chain == config.chains.cend()) {
        plan.error = QStringLiteral("There is no chain named '%1'. Chains in the config: %2.")
                         .arg(plan.chain, QStringList(config.chains.keys()).join(QStringLiteral(", ")));
        return plan;
    }
    for (const StepConfig& step : chain->steps) {
        const auto provider = config.providers.constFind(step.provider);
        const std::optional<QString> model = step.model.apply(requestedModel);
        if (provider == config.providers.cend() || !model)
            continue;
        // A step's explicit "prefill" wins over the catalog; a provider's default does not.
        const bool prefill = step.prefill.value_or(provider->prefill && !refusesPrefill(*model));
        plan.targets.append({&*provider, *model, prefill, step.dailyBudgetUsd, Target::keyOf(*provider, *model)});
    }
    if (plan.targets.isEmpty())
        plan.error = QStringLiteral("No step of chain '%1' serves the model '%2'.").arg(plan.chain, requestedModel);
    return plan;
}

}  // namespace understudy
