#pragma once

#include <QString>
#include <QUrl>

namespace understudy::azure {

// Azure OpenAI (https://learn.microsoft.com/azure/ai-foundry/openai/reference): OpenAI Chat Completions behind a
// resource's own host, with the model picked by a deployment name. Users paste whatever URL the portal showed them;
// `Endpoint` is what it says, whichever of the accepted forms it has:
//   https://res.openai.azure.com                                     (the resource; deployment = the step's model)
//   https://res.openai.azure.com/openai/deployments/DEP/chat/completions?api-version=V    (a deployment's target URI)
//   https://res.openai.azure.com/openai/v1/                          (the v1 API: model = deployment, in the body)
struct Endpoint {
    QUrl resource;        // scheme, host, port and any gateway path in front of /openai
    QString deployment;   // empty when the URL names none
    QString apiVersion;   // its ?api-version=, if any
    bool v1 = false;
    QString error;        // when the URL cannot be one of the forms above
};
Endpoint parseEndpoint(const QString& pasted);

// Where a chat request for `model` goes: {resource}/openai/deployments/{deployment or model}/chat/completions
// ?api-version={apiVersion}, or {resource}/openai/v1/chat/completions (with ?api-version= only when one is set,
// e.g. "preview"). `apiVersion` is the effective one (the config's, else the endpoint's).
QUrl chatUrl(const Endpoint& endpoint, const QString& apiVersion, const QString& model);

}  // namespace understudy::azure
