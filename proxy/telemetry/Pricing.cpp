#include "telemetry/Pricing.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace understudy {
namespace {

bool isGlob(const QString& name) { return name.contains(u'*') || name.contains(u'?'); }

// Exact names win over globs, so a specific entry is never shadowed by a broad one listed before it.
template <typename Items, typename NameOf, typename PriceOf>
std::optional<Price> lookUp(const Items& items, const QString& model, NameOf nameOf, PriceOf priceOf) {
    for (const auto& item : items) {
        if (!isGlob(nameOf(item)) && nameOf(item).compare(model, Qt::CaseInsensitive) == 0)
            return priceOf(item);
    }
    for (const auto& item : items) {
        if (isGlob(nameOf(item)) && globMatches(nameOf(item), model))
            return priceOf(item);
    }
    return std::nullopt;
}

}  // namespace

PriceTableResult parsePriceTable(const QByteArray& json) {
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return {{}, QStringLiteral("price table: %1").arg(parseError.errorString())};
    PriceTableResult result;
    const QJsonArray models = doc.object().value(QStringLiteral("models")).toArray();
    for (qsizetype i = 0; i < models.size(); ++i) {
        const QJsonObject o = models.at(i).toObject();
        const QString model = o.value(QStringLiteral("model")).toString();
        const QStringList fields{QStringLiteral("input"), QStringLiteral("output"), QStringLiteral("cacheRead"),
                                 QStringLiteral("cacheWrite")};
        for (const QString& field : fields) {
            if (!o.value(field).isDouble() || o.value(field).toDouble() < 0)
                return {{}, QStringLiteral("price table: models[%1] (%2): '%3' must be a number of USD per million "
                                           "tokens").arg(i).arg(model, field)};
        }
        if (model.isEmpty())
            return {{}, QStringLiteral("price table: models[%1] has no model name").arg(i)};
        result.entries.append({model,
                               Price{o.value(fields[0]).toDouble(), o.value(fields[1]).toDouble(),
                                     o.value(fields[2]).toDouble(), o.value(fields[3]).toDouble()},
                               o.value(QStringLiteral("taken")).toString(), o.value(QStringLiteral("source")).toString()});
    }
    return result;
}

const QList<PriceEntry>& builtInPrices() {
    static const QList<PriceEntry> table = [] {
        QFile file(QStringLiteral(":/understudy/prices.json"));
        if (!file.open(QIODevice::ReadOnly))
            qFatal("the built-in price table is missing from the binary");
        PriceTableResult parsed = parsePriceTable(file.readAll());
        if (!parsed.error.isEmpty())
            qFatal("%s", qPrintable(parsed.error));
        return parsed.entries;
    }();
    return table;
}

double costOf(const TokenUsage& tokens, const Price& price) {
    constexpr double kPerMillion = 1e-6;
    return (static_cast<double>(tokens.input) * price.input + static_cast<double>(tokens.output) * price.output
            + static_cast<double>(tokens.cacheRead) * price.cacheRead
            + static_cast<double>(tokens.cacheWrite) * price.cacheWrite)
           * kPerMillion;
}

std::optional<Price> Pricing::priceOf(const QString& model) const {
    if (model.isEmpty())
        return std::nullopt;
    if (const auto it = m_remembered.constFind(model); it != m_remembered.constEnd())
        return *it;
    if (m_remembered.size() >= 1024)  // bounded, whatever names clients send
        m_remembered.clear();
    const std::optional<Price> price = lookUpPrice(model);
    m_remembered.insert(model, price);
    return price;
}

std::optional<Price> Pricing::lookUpPrice(const QString& model) const {
    const QList<QString> overrideNames = m_overrides.keys();
    if (auto price = lookUp(overrideNames, model, [](const QString& n) { return n; },
                            [this](const QString& n) { return m_overrides.value(n); }))
        return price;
    return lookUp(m_table, model, [](const PriceEntry& e) { return e.model; }, [](const PriceEntry& e) { return e.price; });
}

}  // namespace understudy
