#pragma once

#include "config/Config.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QString>

namespace understudy::ui {

// The part of a config document that the Settings dialog edits, in file order. Everything else in the
// document (pricing, clients, reroute, comments-free formatting, keys of a provider the dialog has no field
// for) is kept: saving splices only the members that changed back into the document on disk.
struct ConfigDraft {
    struct Provider {
        QString id;
        QJsonObject fields;  // as in the file: type, baseUrl, auth, apiKey and any other key
    };
    struct Step {
        QString provider;
        ModelMapping model;
        QJsonObject extra;  // step keys other than provider and model (prefill)
    };
    struct Chain {
        QString id;
        QList<Step> steps;
    };

    QList<Provider> providers;
    QList<Chain> chains;
    QString activeChain;
    QJsonObject listen;    // host, port, ...
    QJsonObject failover;  // only the keys the file has, plus those the user set

    // The draft of a document that validates (the file the running proxy loaded). Returns nullopt otherwise.
    static std::optional<ConfigDraft> fromDocument(const QByteArray& document);

    // `document` with the members of this draft that differ from `baseline` written over its own. Members
    // that did not change keep their bytes, so a hand-formatted file stays as it was where it was not edited.
    QByteArray appliedTo(const QByteArray& document, const ConfigDraft& baseline) const;

    Provider* provider(const QString& id);
    Chain* chain(const QString& id);
};

// The JSON path parseConfig gives a child of `parent`: "$.providers.zai", or $.pricing["glm-4.5"] for a key
// with other characters.
QString configChildPath(const QString& parent, const QString& key);

}  // namespace understudy::ui
