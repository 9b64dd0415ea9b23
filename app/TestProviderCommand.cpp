#include "TestProviderCommand.h"

#include "config/Catalog.h"
#include "config/ConfigFile.h"
#include "config/Keychain.h"
#include "providers/ProviderProbe.h"

#include <QCommandLineParser>
#include <QEventLoop>

#include <cstdio>

namespace understudy {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

int usageError(const QString& message) {
    std::fprintf(stderr, "understudy test-provider: %s\n", qPrintable(message));
    return kExitUsage;
}

// The model a chain already asks this provider for; else the first suggestion of the preset it was made from.
QString modelToAsk(const Config& config, const ProviderConfig& provider) {
    for (const ChainConfig& chain : config.chains) {
        for (const StepConfig& step : chain.steps) {
            if (step.provider != provider.id)
                continue;
            if (step.model.kind == ModelMapping::Kind::Replace)
                return step.model.model;
            if (step.model.kind == ModelMapping::Kind::Map && !step.model.globs.isEmpty())
                return step.model.globs.first().second;
        }
    }
    for (const CatalogProvider& preset : builtInCatalog()) {
        if (preset.baseUrl == provider.baseUrl)
            return preset.models.first().id;
    }
    return {};
}

KeychainValues readKeychain(const ProviderConfig& provider) {
    Config justThis;
    justThis.providers.insert(provider.id, provider);
    const QStringList entries = keychainEntriesOf(justThis);
    if (entries.isEmpty())
        return {};
    Keychain keychain;
    KeychainValues values;
    QEventLoop loop;
    keychain.readAll(entries, [&](KeychainValues read) {
        values = std::move(read);
        loop.quit();
    });
    loop.exec();
    return values;
}

}  // namespace

int runTestProviderCommand(const QStringList& arguments) {
    QCommandLineParser parser;
    const QCommandLineOption configOption(QStringLiteral("config"), QStringLiteral("Config file."), QStringLiteral("FILE"));
    const QCommandLineOption modelOption(QStringLiteral("model"), QStringLiteral("Model to ask."), QStringLiteral("MODEL"));
    parser.addOptions({configOption, modelOption});
    parser.addPositionalArgument(QStringLiteral("ID"), QStringLiteral("The provider to test."));
    if (!parser.parse(QStringList{QStringLiteral("test-provider")} + arguments))
        return usageError(parser.errorText());
    if (parser.positionalArguments().size() != 1)
        return usageError(QStringLiteral("usage: understudy test-provider ID [--config FILE] [--model MODEL]"));
    const QString id = parser.positionalArguments().first();
    const QString path = parser.isSet(configOption) ? parser.value(configOption) : ConfigFile::defaultPath();
    const ConfigResult loaded = ConfigFile::load(path, false);
    if (!loaded.config) {
        for (const ConfigProblem& p : loaded.problems)
            std::fprintf(stderr, "%s: %s: %s\n", qPrintable(path), qPrintable(p.path), qPrintable(p.message));
        return usageError(QStringLiteral("fix the config first (check it with: understudy --check-config %1)").arg(path));
    }
    const Config& config = *loaded.config;
    if (!config.providers.contains(id))
        return usageError(QStringLiteral("no provider '%1' in %2; its providers are: %3")
                              .arg(id, path, config.providers.keys().join(QStringLiteral(", "))));
    const ProviderConfig& provider = config.providers.value(id);
    const QString model = parser.isSet(modelOption) ? parser.value(modelOption) : modelToAsk(config, provider);
    if (model.isEmpty())
        return usageError(QStringLiteral("no chain step names a model for '%1' and it matches no preset; name one with "
                                         "--model MODEL").arg(id));

    const KeychainValues keychain = readKeychain(provider);
    ProviderProbe probe;
    ProbeResult result;
    QEventLoop loop;
    QObject::connect(&probe, &ProviderProbe::finished, &loop, [&](const ProbeResult& r) {
        result = r;
        loop.quit();
    });
    probe.start(provider, model, &keychain);
    loop.exec();
    if (result.ok) {
        std::printf("OK: provider '%s' answered with model %s in %lld ms\n", qPrintable(id), qPrintable(result.model),
                    static_cast<long long>(result.latencyMs));
        return 0;
    }
    std::fprintf(stderr, "understudy test-provider: provider '%s' (model %s) failed: %s\n", qPrintable(id),
                 qPrintable(model), qPrintable(result.message));
    return kExitFailed;
}

}  // namespace understudy
