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

// The provider catalog (resources/providers.json, read by config/Catalog), then the cloud providers.
QList<ProviderPreset> providerPresets();

}  // namespace understudy::ui
