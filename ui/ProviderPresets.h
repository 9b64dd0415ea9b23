#pragma once

#include <QJsonObject>
#include <QList>
#include <QString>

namespace understudy::ui {

// A provider the Settings dialog can add in one click: its suggested id and its config entry.
struct ProviderPreset {
    QString name;        // shown in the menu, e.g. "Z.ai (GLM)"
    QString id;          // suggested provider id, e.g. "zai"
    QJsonObject fields;  // the provider's config entry; its key is a reference ("keychain:zai"), never a key
};

// The provider catalog (resources/providers.json, compiled in as :/providers.json) when it is there and
// readable; otherwise a short built-in list of the common providers, one per provider type.
QList<ProviderPreset> providerPresets();

// Presets read from a catalog document: an array of entries, or an object of entries by id, or either under
// "providers". An entry names its id ("id" or its key), a "name", and config keys; others are ignored.
QList<ProviderPreset> presetsFromCatalog(const QByteArray& catalog);

}  // namespace understudy::ui
