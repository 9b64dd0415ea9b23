#include "Proxy.h"

#include "dialects/Dialect.h"
#include "http/Connection.h"
#include "http/Server.h"
#include "http/Upstream.h"
#include "providers/GoogleAuth.h"
#include "routing/Exchange.h"
#include "routing/Route.h"
#include "config/Secrets.h"
#include "security/Access.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>

namespace understudy {
namespace {

qint64 nowMs() { return QDateTime::currentMSecsSinceEpoch(); }

QString isoTime(qint64 epochMs) { return QDateTime::fromMSecsSinceEpoch(epochMs, Qt::UTC).toString(Qt::ISODateWithMs); }

void respondJson(http::Connection* connection, int status, const QJsonObject& object) {
    http::Headers headers;
    headers.set("Content-Type", "application/json");
    connection->respond(status, headers, QJsonDocument(object).toJson(QJsonDocument::Compact));
}

QJsonObject localError(const QString& message, const char* type = "not_found_error") {
    return {{QStringLiteral("type"), QStringLiteral("error")},
            {QStringLiteral("error"), QJsonObject{{QStringLiteral("type"), QString::fromLatin1(type)},
                                                  {QStringLiteral("message"), message}}}};
}

QString describeMapping(const ModelMapping& mapping) {
    switch (mapping.kind) {
    case ModelMapping::Kind::Keep: return QStringLiteral("(as requested)");
    case ModelMapping::Kind::Replace: return mapping.model;
    case ModelMapping::Kind::Map: {
        QStringList pairs;
        for (const auto& [glob, model] : mapping.globs)
            pairs.append(glob + QStringLiteral(" → ") + model);
        return pairs.join(QStringLiteral(", "));
    }
    }
    return {};
}

QJsonObject healthJson(const TargetHealth& h) {
    QJsonObject o{{QStringLiteral("target"), h.target}, {QStringLiteral("state"), stateName(h.state)}};
    if (h.state != TargetHealth::State::Healthy) {
        o.insert(QStringLiteral("coolingUntil"), isoTime(h.coolingUntilMs));
        o.insert(QStringLiteral("downSince"), isoTime(h.downSinceMs));
        o.insert(QStringLiteral("reason"), h.reason);
        o.insert(QStringLiteral("consecutiveFailures"), h.consecutiveFailures);
        o.insert(QStringLiteral("quota"), h.quota);
        o.insert(QStringLiteral("reasonKind"), reasonKind(h));
    }
    return o;
}

// The config with every chain cut to its first step: what a paused proxy routes by.
std::shared_ptr<const Config> firstStepsOnly(const Config& config) {
    auto cut = std::make_shared<Config>(config);
    for (ChainConfig& chain : cut->chains)
        chain.steps = chain.steps.mid(0, 1);
    return cut;
}

QByteArray promLabel(const QString& value) {
    QByteArray v = value.toUtf8();
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    return v;
}

}  // namespace

Proxy::Proxy(QObject* parent) : QObject(parent), m_telemetry(new Telemetry(this)), m_startedMs(nowMs()) {
    m_pool = new http::UpstreamPool(this);
    m_googleTokens = new google::TokenCache(m_pool, this);
}

Proxy::~Proxy() = default;

quint16 Proxy::port() const { return m_server ? m_server->serverPort() : 0; }

void Proxy::applyConfig(std::shared_ptr<const Config> config) {
    const bool relisten = !m_config || m_config->listen.host != config->listen.host
                       || m_config->listen.port != config->listen.port
                       || m_config->listen.requestReadTimeoutMs != config->listen.requestReadTimeoutMs
                       || m_config->listen.maxConnections != config->listen.maxConnections;
    m_config = std::move(config);
    requireAccessToken(m_config->listen);
    if (relisten)
        listenOn(m_config->listen);
}

void Proxy::listenOn(const ListenConfig& listen) {
    if (m_server) {
        // Open connections are the old server's children: it stays until they finish on their own.
        m_server->close();
        if (m_server->openConnections() == 0)
            m_server->deleteLater();
        else
            connect(m_server, &http::Server::drained, m_server, &QObject::deleteLater);
    }
    http::ServerLimits limits;
    limits.requestReadTimeoutMs = listen.requestReadTimeoutMs;
    limits.maxConnections = listen.maxConnections;
    m_server = new http::Server(limits, [this](http::Request&& request, http::Connection* connection) {
        handle(std::move(request), connection);
    }, this);
    QHostAddress address;
    if (listen.host == QLatin1String("localhost"))
        address = QHostAddress::LocalHost;
    else if (!address.setAddress(listen.host)) {
        Q_EMIT listenFailed(QStringLiteral("listen.host '%1' is not an IP address (use 127.0.0.1)").arg(listen.host));
        return;
    }
    if (!m_server->listen(address, static_cast<quint16>(listen.port))) {
        Q_EMIT listenFailed(QStringLiteral("cannot listen on %1:%2: %3%4")
                                .arg(listen.host).arg(listen.port).arg(m_server->errorString(),
                                     m_server->serverError() == QAbstractSocket::AddressInUseError
                                         ? QStringLiteral(" (another program, or another Understudy, uses this port: "
                                                          "stop it or choose another with --port or listen.port)")
                                         : QString()));
        return;
    }
    Q_EMIT listening(listen.host, m_server->serverPort());
}

void Proxy::requireAccessToken(const ListenConfig& listen) {
    if (listen.accessToken.isEmpty()) {
        m_gate.require({});
        return;
    }
    const SecretLookup token = resolveSecret(listen.accessToken, QStringLiteral("listen"), QStringLiteral("accessToken"),
                                             m_config->keychain.get());
    m_gate.require(token.value, token.error);
}

void Proxy::handle(http::Request&& request, http::Connection* connection) {
    const std::optional<Refusal> tokenRefusal = m_gate.admit(request);  // takes the token out of the request
    const ChainPrefix prefix = splitChainPrefix(request.path);
    const std::optional<Dialect> dialect = dialectForPath(prefix.path);
    const bool loopback = m_server && m_server->serverAddress().isLoopback();
    if (const std::optional<Refusal> refusal = checkAccess(request, loopback, dialect.has_value())) {
        respondJson(connection, refusal->status, localError(refusal->message, refusal->status == 403 ? "permission_error" : "invalid_request_error"));
        return;
    }
    if (tokenRefusal) {
        http::Headers headers;
        headers.set("Content-Type", "application/json");
        connection->respond(tokenRefusal->status, headers,
                            errorBody(dialect.value_or(Dialect::AnthropicMessages), tokenRefusal->status, tokenRefusal->message));
        return;
    }
    if (!dialect || request.method != "POST") {
        if (!handleLocal(request, prefix, connection))
            respondJson(connection, 404, localError(QStringLiteral("Understudy has no endpoint %1 %2.")
                                                        .arg(QString::fromLatin1(request.method),
                                                             QString::fromLatin1(request.path))));
        return;
    }
    Exchange::Inbound inbound{std::move(request), *dialect, prefix.path, prefix.chain};
    Exchange* exchange = nullptr;
    if (m_paused) {
        m_passThroughHealth = HealthBoard();
        exchange = new Exchange({m_pool, &m_passThroughHealth, m_telemetry, &m_prefillRefusals, &m_clock, nullptr, m_googleTokens}, firstStepsOnly(*m_config),
                                std::move(inbound), connection);
    } else {
        exchange = new Exchange({m_pool, &m_health, m_telemetry, &m_prefillRefusals, &m_clock, &m_spend, m_googleTokens}, m_config, std::move(inbound), connection);
    }
    connect(exchange, &Exchange::finished, exchange, &QObject::deleteLater);
    exchange->start();
}

void Proxy::setPaused(bool paused) { m_paused = paused; }

void Proxy::retryNow(const QString& target) { m_health.reset(target); }

bool Proxy::handleLocal(const http::Request& request, const ChainPrefix& target, http::Connection* connection) {
    const QByteArray& path = target.path;
    const bool get = request.method == "GET" || request.method == "HEAD";
    if (get && path == "/") {
        http::Headers headers;
        headers.set("Content-Type", "text/plain; charset=utf-8");
        connection->respond(200, headers, "Understudy " UNDERSTUDY_VERSION " is running.\n");
        return true;
    }
    if (get && path == "/healthz") {
        respondJson(connection, 200, {{QStringLiteral("status"), QStringLiteral("ok")}});
        return true;
    }
    if (get && path == "/status") {
        http::Headers headers;
        headers.set("Content-Type", "application/json");
        connection->respond(200, headers, statusJson());
        return true;
    }
    if (get && path == "/metrics") {
        http::Headers headers;
        headers.set("Content-Type", "text/plain; version=0.0.4");
        connection->respond(200, headers, metricsText());
        return true;
    }
    if (get && path == "/v1/models") {
        QJsonArray data;
        QSet<QString> seen;
        const QString chainId = target.chain.isEmpty() ? m_config->activeChain : target.chain;
        const auto chain = m_config->chains.constFind(chainId);
        if (chain == m_config->chains.cend()) {
            respondJson(connection, 404, localError(QStringLiteral("There is no chain named '%1'. Chains in the config: %2.")
                                                        .arg(chainId, QStringList(m_config->chains.keys()).join(QStringLiteral(", ")))));
            return true;
        }
        for (const StepConfig& step : chain->steps) {
            QStringList models;
            if (step.model.kind == ModelMapping::Kind::Replace)
                models.append(step.model.model);
            for (const auto& pair : step.model.globs)
                models.append(pair.second);
            for (const QString& model : models) {
                if (seen.contains(model))
                    continue;
                seen.insert(model);
                data.append(QJsonObject{{QStringLiteral("id"), model}, {QStringLiteral("type"), QStringLiteral("model")},
                                        {QStringLiteral("object"), QStringLiteral("model")},
                                        {QStringLiteral("display_name"), model},
                                        {QStringLiteral("owned_by"), step.provider}});
            }
        }
        respondJson(connection, 200, {{QStringLiteral("object"), QStringLiteral("list")},
                                      {QStringLiteral("data"), data},
                                      {QStringLiteral("has_more"), false}});
        return true;
    }
    if (dialectForPath(path)) {
        respondJson(connection, 405, localError(QStringLiteral("%1 takes POST requests.").arg(QString::fromLatin1(path))));
        return true;
    }
    return false;
}

QJsonArray Proxy::budgetsJson() const {
    QJsonArray budgets;
    QSet<QString> seen;
    for (const ChainConfig& chain : m_config->chains) {
        for (const StepConfig& step : chain.steps) {
            if (!step.dailyBudgetUsd || seen.contains(step.provider))
                continue;
            seen.insert(step.provider);
            const double spent = m_spend.spentToday(step.provider, m_clock.nowMs());
            budgets.append(QJsonObject{{QStringLiteral("provider"), step.provider},
                                       {QStringLiteral("dailyBudgetUsd"), *step.dailyBudgetUsd},
                                       {QStringLiteral("spentTodayUsd"), spent},
                                       {QStringLiteral("reached"), spent >= *step.dailyBudgetUsd}});
        }
    }
    return budgets;
}

QByteArray Proxy::statusJson() const {
    const qint64 now = nowMs();
    QJsonObject chains;
    for (const ChainConfig& chain : m_config->chains) {
        QJsonArray steps;
        for (const StepConfig& step : chain.steps)
            steps.append(QJsonObject{{QStringLiteral("provider"), step.provider},
                                     {QStringLiteral("model"), describeMapping(step.model)}});
        chains.insert(chain.id, QJsonObject{{QStringLiteral("steps"), steps}});
    }
    QJsonArray targets;
    for (const TargetHealth& h : m_health.all(m_clock.nowMs()))
        targets.append(healthJson(h));
    const Counters& c = m_telemetry->counters();
    QJsonObject servedBy;
    for (auto it = c.servedBy.cbegin(); it != c.servedBy.cend(); ++it)
        servedBy.insert(it.key(), static_cast<double>(it.value()));
    QJsonObject status{
        {QStringLiteral("version"), QStringLiteral(UNDERSTUDY_VERSION)},
        {QStringLiteral("listen"), QStringLiteral("%1:%2").arg(m_config->listen.host).arg(port())},
        {QStringLiteral("activeChain"), m_config->activeChain},
        {QStringLiteral("chains"), chains},
        {QStringLiteral("targets"), targets},
        {QStringLiteral("servedBy"), servedBy},
        {QStringLiteral("uptimeMs"), static_cast<double>(now - m_startedMs)},
        {QStringLiteral("counters"), QJsonObject{{QStringLiteral("requests"), static_cast<double>(c.requests)},
                                                 {QStringLiteral("served"), static_cast<double>(c.served)},
                                                 {QStringLiteral("servedByFallback"), static_cast<double>(c.servedByFallback)},
                                                 {QStringLiteral("failovers"), static_cast<double>(c.failovers)},
                                                 {QStringLiteral("recoveries"), static_cast<double>(c.recoveries)},
                                                 {QStringLiteral("allFailed"), static_cast<double>(c.allFailed)},
                                                 {QStringLiteral("clientErrors"), static_cast<double>(c.clientErrors)},
                                                 {QStringLiteral("streamsCut"), static_cast<double>(c.streamsCut)}}},
    };
    status.insert(QStringLiteral("reroute"), m_config->reroute
                      ? QJsonValue(QJsonObject{{QStringLiteral("provider"), m_config->reroute->provider},
                                               {QStringLiteral("model"), m_config->reroute->model}})
                      : QJsonValue(QJsonValue::Null));
    status.insert(QStringLiteral("budgets"), budgetsJson());
    status.insert(QStringLiteral("usage"), m_usage ? QJsonValue(m_usage->toJson()) : QJsonValue(QJsonValue::Null));
    const auto& last = m_telemetry->lastSwitch();
    status.insert(QStringLiteral("lastSwitch"), last ? QJsonValue(QJsonDocument::fromJson(last->toJsonLine()).object())
                                                     : QJsonValue(QJsonValue::Null));
    return QJsonDocument(status).toJson(QJsonDocument::Indented);
}

QByteArray Proxy::metricsText() const {
    const Counters& c = m_telemetry->counters();
    QByteArray out;
    auto counter = [&out](const char* name, const char* help, quint64 value) {
        out.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name)
            .append(" counter\n").append(name).append(' ').append(QByteArray::number(value)).append('\n');
    };
    counter("understudy_requests_total", "Model requests received.", c.requests);
    counter("understudy_served_total", "Model requests answered by some target.", c.served);
    counter("understudy_served_by_fallback_total", "Requests answered by a target other than the chain's first.",
            c.servedByFallback);
    counter("understudy_failovers_total", "Moves from a failed target to the next.", c.failovers);
    counter("understudy_recoveries_total", "Targets that answered again after cooling.", c.recoveries);
    counter("understudy_all_failed_total", "Requests where every target failed.", c.allFailed);
    counter("understudy_client_errors_total", "Upstream 4xx answers returned to the client.", c.clientErrors);
    counter("understudy_streams_cut_total", "Committed streams that broke before their end.", c.streamsCut);
    out.append("# HELP understudy_target_served_total Requests served, per target.\n"
               "# TYPE understudy_target_served_total counter\n");
    for (auto it = c.servedBy.cbegin(); it != c.servedBy.cend(); ++it)
        out.append("understudy_target_served_total{target=\"" + promLabel(it.key()) + "\"} "
                   + QByteArray::number(it.value()) + '\n');
    out.append("# HELP understudy_target_failures_total Failed attempts, per target.\n"
               "# TYPE understudy_target_failures_total counter\n");
    for (auto it = c.failuresBy.cbegin(); it != c.failuresBy.cend(); ++it)
        out.append("understudy_target_failures_total{target=\"" + promLabel(it.key()) + "\"} "
                   + QByteArray::number(it.value()) + '\n');
    out.append("# HELP understudy_target_cooling Whether a target is cooling (1) or being probed (2).\n"
               "# TYPE understudy_target_cooling gauge\n");
    for (const TargetHealth& h : m_health.all(m_clock.nowMs()))
        out.append("understudy_target_cooling{target=\"" + promLabel(h.target) + "\"} "
                   + (h.state == TargetHealth::State::Probing ? "2" : "1") + '\n');
    out.append("# HELP understudy_open_connections Client connections open now.\n"
               "# TYPE understudy_open_connections gauge\nunderstudy_open_connections "
               + QByteArray::number(m_server ? m_server->openConnections() : 0) + '\n');
    const http::ServerStats stats = m_server ? m_server->stats() : http::ServerStats{};
    counter("understudy_connections_refused_total", "Connections answered 503 at listen.maxConnections.", stats.refusedOverCap);
    counter("understudy_client_congestions_total", "Streams paused because their client read too slowly.", stats.congestions);
    out.append("# HELP understudy_client_output_peak_bytes The most unsent output one client connection has had.\n"
               "# TYPE understudy_client_output_peak_bytes gauge\nunderstudy_client_output_peak_bytes "
               + QByteArray::number(stats.peakPendingOutput) + '\n');
    if (m_usage)
        out.append(m_usage->prometheusText());
    return out;
}

ProxyThread::ProxyThread(QObject* parent) : QObject(parent), m_proxy(new Proxy) {
    m_thread.setObjectName(QStringLiteral("understudy-proxy"));
    m_proxy->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_proxy, &QObject::deleteLater);
    m_thread.start();
}

ProxyThread::~ProxyThread() {
    m_thread.quit();
    m_thread.wait();
}

void ProxyThread::applyConfig(std::shared_ptr<const Config> config) {
    QMetaObject::invokeMethod(m_proxy, [proxy = m_proxy, config = std::move(config)]() mutable {
        proxy->applyConfig(std::move(config));
    });
}

}  // namespace understudy
