#pragma once

#include "config/Config.h"
#include "dialects/UsageMeter.h"

#include <QHash>
#include <QList>
#include <QMap>
#include <QString>

#include <optional>

namespace understudy {

// One line of the built-in price table (resources/prices.json): where the figures came from and when.
struct PriceEntry {
    QString model;   // a model name, or a glob ('*', '?') for dated snapshots
    Price price;
    QString taken;   // yyyy-mm-dd
    QString source;
};

struct PriceTableResult {
    QList<PriceEntry> entries;
    QString error;  // empty when the table parsed
};

PriceTableResult parsePriceTable(const QByteArray& json);

// The table compiled into the binary (resources/prices.json), parsed once.
const QList<PriceEntry>& builtInPrices();

// USD for `tokens` at `price`: every kind of token at its own per-million rate (cache reads and writes are
// priced apart from plain input, which UsageMeter reports without them).
double costOf(const TokenUsage& tokens, const Price& price);

// Finds a model's price: the config's `pricing` first (exact name, then glob), then the built-in table (same
// order). A model found nowhere has no price: its cost is unknown, not zero.
class Pricing {
public:
    Pricing() : Pricing({}, builtInPrices()) {}
    Pricing(QMap<QString, Price> overrides, QList<PriceEntry> table)
        : m_overrides(std::move(overrides)), m_table(std::move(table)) {}

    // Not thread-safe (it remembers answers): each thread that prices keeps its own Pricing.
    std::optional<Price> priceOf(const QString& model) const;

private:
    std::optional<Price> lookUpPrice(const QString& model) const;

    QMap<QString, Price> m_overrides;
    QList<PriceEntry> m_table;
    // Every recorded request is priced, and a lookup walks every glob of the table; a session uses few models.
    mutable QHash<QString, std::optional<Price>> m_remembered;
};

}  // namespace understudy
