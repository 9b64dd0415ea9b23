#include "routing/Exchange.h"

#include "config/Secrets.h"
#include "dialects/Translation.h"
#include "http/Connection.h"
#include "providers/Azure.h"
#include "providers/Bedrock.h"
#include "providers/GoogleAuth.h"
#include "providers/Vertex.h"
#include "routing/Clock.h"
#include "routing/Health.h"
#include "routing/SpendGuard.h"
#include "telemetry/Pricing.h"
#include "telemetry/Telemetry.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStringList>

#include <algorithm>
#include <limits>

namespace understudy {
namespace {

bool sameName(QByteArrayView a, QByteArrayView b) { return a.compare(b, Qt::CaseInsensitive) == 0; }

// Headers that describe one hop, or that the proxy sets itself; never copied from one side to the other.
bool isHopHeader(QByteArrayView name) {
    switch (name.size()) {  // most headers are ruled out by length alone: this runs for every header twice
    case 2: return sameName(name, "te");
    case 4: return sameName(name, "host");
    case 7: return sameName(name, "trailer") || sameName(name, "upgrade");
    case 10: return sameName(name, "connection") || sameName(name, "keep-alive");
    case 14: return sameName(name, "content-length");
    case 16: return sameName(name, "proxy-connection");
    case 17: return sameName(name, "transfer-encoding");
    case 18: return sameName(name, "proxy-authenticate");
    case 19: return sameName(name, "proxy-authorization");
    default: return name.size() > 12 && sameName(name.first(12), "x-understudy");
    }
}

bool isCredentialHeader(QByteArrayView name) { return sameName(name, "x-api-key") || sameName(name, "authorization"); }

bool isAnthropicHeader(QByteArrayView name) { return name.size() > 10 && sameName(name.first(10), "anthropic-"); }

QString clockTime(qint64 epochMs) {
    return QDateTime::fromMSecsSinceEpoch(epochMs).toString(QStringLiteral("HH:mm:ss"));
}

// The reason an in-band stream error gives, e.g. "in-band error before content (overloaded_error)".
QString inBandReason(const http::SseEvent& event, bool afterContent) {
    const QJsonObject object = QJsonDocument::fromJson(event.data).object();
    QJsonObject error = object.value(QLatin1String("error")).toObject();
    if (error.isEmpty())
        error = object;
    QString type = error.value(QLatin1String("type")).toString();
    if (type.isEmpty())
        type = error.value(QLatin1String("code")).toString();
    return QStringLiteral("in-band error %1 content (%2)")
        .arg(afterContent ? QStringLiteral("after") : QStringLiteral("before"),
             type.isEmpty() ? QStringLiteral("unknown") : type);
}

}  // namespace

Exchange::Exchange(ProxyContext context, std::shared_ptr<const Config> config, Inbound inbound, http::Connection* client)
    : m_ctx(context), m_config(std::move(config)), m_in(std::move(inbound)), m_client(client) {
    connect(client, &http::Connection::clientGone, this, [this] {
        // A client may hang up as soon as it has the whole answer (Codex does, at response.completed), before the
        // upstream's body has ended: that request was served, and is logged and counted as such.
        if (m_phase == Phase::Streaming && m_continuation->answered()) {
            m_client = nullptr;
            completeStream();
            return;
        }
        dropCall();
        finish();
    });
}

Exchange::~Exchange() {
    dropCall();
    if (m_probing && m_index >= 0 && m_index < m_plan.targets.size())
        m_ctx.health->releaseProbe(target().key);
}

void Exchange::start() {
    m_clock.start();
    m_budget.setRemainingTime(m_config->failover.totalBudgetMs);
    m_ctx.telemetry->counters().requests += 1;
    const QByteArray& body = m_in.request.body;
    m_scan = json::scanObject(body);
    if (!m_scan.ok) {
        respondLocally(400, QStringLiteral("The request body is not valid JSON: %1 (at byte %2).")
                                .arg(m_scan.error).arg(m_scan.errorOffset));
        return;
    }
    m_requestedModel = json::stringAt(body, m_scan.find("model")).value_or(QString());
    m_wantsStream = json::boolAt(body, m_scan.find("stream")).value_or(false);
    m_carriesForeignReasoning = body.contains(kUnsignedThinkingSignature) || body.contains(kMintedReasoningPrefix);
    m_clientName = detectClient(m_in.request.headers);
    m_plan = planRoute(*m_config, m_in.chainFromPath, m_clientName, m_requestedModel);
    if (!m_plan.error.isEmpty()) {
        respondLocally(m_config->chains.contains(m_plan.chain) ? 400 : 404, m_plan.error);
        return;
    }
    nextTarget();
}

void Exchange::nextTarget() {
    dropCall();
    const qint64 now = this->now();
    while (++m_index < m_plan.targets.size() && !m_budget.hasExpired()) {
        const Target& t = target();
        m_probing = false;
        if (m_tooLongModels.contains(t.model)) {
            skipTarget(QStringLiteral("skipped: the prompt is too long for %1").arg(t.model));
            continue;
        }
        if (!dialectOf(t.provider->type)) {
            skipTarget(QStringLiteral("skipped: provider type %1 is not supported by this version")
                           .arg(providerTypeName(t.provider->type)));
            continue;
        }
        // Bedrock's CountTokens is an operation of its own, not a Messages path.
        if (isCountTokens() && (*dialectOf(t.provider->type) != Dialect::AnthropicMessages
                                || t.provider->type == ProviderType::Bedrock)) {
            answerTokenCountLocally();
            return;
        }
        if (overDailyBudget(t))
            continue;
        const HealthBoard::Admission admission = m_ctx.health->admit(t.key, now);
        if (admission == HealthBoard::Admission::Skip) {
            const TargetHealth h = m_ctx.health->health(t.key, now);
            skipTarget(QStringLiteral("skipped: cooling until %1 after %2").arg(clockTime(h.coolingUntilMs), h.reason));
            continue;
        }
        if (m_continuing && !acceptsPrefill(t) && !m_continuation->restartable()) {
            skipTarget(QStringLiteral("skipped: it takes no prefill, and a fresh answer cannot repeat the tool calls "
                                      "already sent"));
            continue;
        }
        m_probing = admission == HealthBoard::Admission::Probe;
        m_retries = 0;
        m_accessToken.clear();
        if (!m_lastFailedTarget.isEmpty()) {
            m_ctx.telemetry->counters().failovers += 1;
            EventFields fields{{QStringLiteral("from"), m_lastFailedTarget},
                               {QStringLiteral("to"), t.key},
                               {QStringLiteral("reason"), m_lastFailureReason},
                               {QStringLiteral("attempt"), m_networkAttempts + 1},
                               {QStringLiteral("chain"), m_plan.chain}};
            if (m_continuing)
                fields.insert(QStringLiteral("continued"), true);
            m_ctx.telemetry->record({QStringLiteral("failover"), 0, fields});
            m_lastFailedTarget.clear();
        }
        tellIfNowSpending(t);
        startAttempt();
        return;
    }
    finishAllFailed();
}

void Exchange::skipTarget(const QString& why) { m_attempts.append({target().key, why}); }

Dialect Exchange::upstreamDialect() const { return dialectOf(target().provider->type).value_or(m_in.dialect); }

bool Exchange::isCountTokens() const { return m_in.path.endsWith("/count_tokens"); }

void Exchange::answerTokenCountLocally() {
    // The serving upstream has no count_tokens endpoint: answer with the documented local estimate.
    m_phase = Phase::Done;
    http::Headers headers;
    headers.set("Content-Type", "application/json");
    headers.set("x-understudy-provider", target().provider->id.toUtf8());
    headers.set("x-understudy-model", target().model.toUtf8());
    headers.set("x-understudy-estimate", "true");
    const QByteArray body = "{\"input_tokens\":" + QByteArray::number(estimateInputTokens(m_in.request.body)) + "}";
    if (m_client)
        m_client->respond(200, headers, body);
    recordServed(200, QString());
    finish();
}

void Exchange::startAttempt() {
    if (needsAccessToken() && m_accessToken.isEmpty()) {
        awaitAccessToken();
        return;
    }
    if (m_continuing)
        m_mode = acceptsPrefill(target()) ? Continuation::Mode::Prefill : Continuation::Mode::Restart;
    QString error;
    http::OutboundRequest out = outboundFor(target(), &error);
    if (error.isEmpty() && target().provider->type == ProviderType::Bedrock)
        error = bedrock::prepare(*target().provider, target().model, out, QDateTime::currentDateTimeUtc(),
                                 m_config->keychain.get());  // URL, body, SigV4
    if (!error.isEmpty()) {
        if (m_probing)
            m_ctx.health->releaseProbe(target().key);
        m_probing = false;
        m_onlyTimeouts = false;
        skipTarget(error);
        nextTarget();
        return;
    }
    ++m_networkAttempts;
    m_phase = Phase::Connecting;
    m_head = {};
    m_body.clear();
    m_sse = {};
    m_held.clear();
    m_sawEnd = false;
    m_usage = UsageMeter(upstreamDialect());
    m_call = m_ctx.pool->send(std::move(out), this);
    connect(m_call, &http::UpstreamCall::connected, this, &Exchange::onConnected);
    connect(m_call, &http::UpstreamCall::headReceived, this, &Exchange::onHead);
    connect(m_call, &http::UpstreamCall::bodyReceived, this, &Exchange::onBody);
    connect(m_call, &http::UpstreamCall::finished, this, &Exchange::onUpstreamFinished);
    connect(m_call, &http::UpstreamCall::failed, this, &Exchange::onUpstreamFailed);
    armTimer(m_config->failover.connectTimeoutMs);
}

bool Exchange::needsAccessToken() const { return target().provider->type == ProviderType::Vertex; }

// The credential comes from a token endpoint, which must not stall the proxy thread: the attempt waits for it
// (bounded like a connection) and starts when it arrives. Failing to get one is the target failing.
void Exchange::awaitAccessToken() {
    const ProviderConfig& provider = *target().provider;
    const QString owner = QStringLiteral("provider '%1'").arg(provider.id);
    const SecretLookup account = resolveSecret(provider.serviceAccount, owner, QStringLiteral("serviceAccount"),
                                                 m_config->keychain.get());
    if (!account.error.isEmpty() || !m_ctx.googleTokens) {
        if (m_probing)
            m_ctx.health->releaseProbe(target().key);
        m_probing = false;
        m_onlyTimeouts = false;
        skipTarget(account.error.isEmpty() ? QStringLiteral("skipped: no access-token source") : account.error);
        nextTarget();
        return;
    }
    m_phase = Phase::Authorizing;
    armTimer(m_config->failover.connectTimeoutMs);
    m_ctx.googleTokens->get(account.value, this, [this, index = m_index, owner](const google::AccessToken& token) {
        if (m_phase != Phase::Authorizing || m_index != index)
            return;  // timed out meanwhile
        m_timer.stop();
        if (!token.error.isEmpty()) {
            Verdict v;
            v.kind = OutcomeClass::Failover;
            v.reason = QStringLiteral("%1 got no access token: %2").arg(owner, token.error);
            settle(v);
            return;
        }
        m_accessToken = token.value;
        startAttempt();
    });
}

// Google can revoke a token before its stated expiry: one 401 gets a fresh token and the same request again.
bool Exchange::retryWithFreshToken(const Verdict& v) {
    if (v.status != 401 || !needsAccessToken() || m_renewedToken || m_continuing || !m_ctx.googleTokens)
        return false;
    const ProviderConfig& provider = *target().provider;
    const SecretLookup account = resolveSecret(provider.serviceAccount, QStringLiteral("provider '%1'").arg(provider.id),
                                               QStringLiteral("serviceAccount"), m_config->keychain.get());
    if (!account.error.isEmpty())
        return false;
    m_renewedToken = true;
    m_ctx.googleTokens->forget(account.value, m_accessToken);
    m_accessToken.clear();
    m_attempts.append({target().key, QStringLiteral("HTTP 401, asked again with a fresh access token")});
    startAttempt();
    return true;
}

http::OutboundRequest Exchange::outboundFor(const Target& t, QString* error) const {
    const ProviderConfig& provider = *t.provider;
    const Dialect upstream = *dialectOf(provider.type);
    const bool translating = upstream != m_in.dialect;
    http::OutboundRequest out;
    out.url = provider.baseUrl;
    QString basePath = out.url.path();
    while (basePath.endsWith(QLatin1Char('/')))
        basePath.chop(1);
    out.url.setPath(basePath + QString::fromLatin1(upstreamPath(upstream, isCountTokens())));
    if (!m_in.request.query.isEmpty())
        out.url.setQuery(QString::fromLatin1(m_in.request.query));
    if (provider.type == ProviderType::Vertex)
        out.url = vertex::requestUrl(provider.baseUrl, provider.project, provider.region, t.model, m_wantsStream,
                                     isCountTokens());
    else if (provider.type == ProviderType::AzureOpenAI)
        out.url = azure::chatUrl(azure::parseEndpoint(provider.endpoint), provider.apiVersion, t.model);
    out.method = m_in.request.method;

    out.headers.reserve(m_in.request.headers.fields().size() + 2);
    for (const http::Header& h : m_in.request.headers.fields()) {
        if (isHopHeader(h.name) || isCredentialHeader(h.name) || sameName(h.name, "accept-encoding"))
            continue;
        if (translating && (isAnthropicHeader(h.name) || sameName(h.name, "content-type")))
            continue;  // another vendor's protocol headers mean nothing to this upstream
        out.headers.add(h);
    }
    if (translating) {
        out.headers.set("Content-Type", "application/json");
        if (upstream == Dialect::AnthropicMessages)
            out.headers.set("anthropic-version", "2023-06-01");
    }
    // Clients advertise gzip/br/zstd; we pass bytes through and parse streams, so ask for what we can read.
    out.headers.set("Accept-Encoding", "identity");
    switch (provider.auth) {
    case AuthMode::Client:
        for (const http::Header& h : m_in.request.headers.fields()) {
            if (isCredentialHeader(h.name))
                out.headers.add(h);
        }
        break;
    case AuthMode::Key: {
        if (provider.type == ProviderType::Bedrock)
            break;  // signed with SigV4 once the request is complete
        if (provider.type == ProviderType::Vertex) {
            out.headers.set("Authorization", "Bearer " + m_accessToken);
            break;
        }
        const SecretLookup key = resolveSecret(provider.apiKey, QStringLiteral("provider '%1'").arg(provider.id),
                                               provider.bearerToken ? QStringLiteral("bearerToken") : QStringLiteral("apiKey"),
                                               m_config->keychain.get());
        if (!key.error.isEmpty()) {
            *error = key.error;
            return {};
        }
        if (provider.type == ProviderType::Anthropic)
            out.headers.set("x-api-key", key.value);
        else if (provider.type == ProviderType::AzureOpenAI && !provider.bearerToken)
            out.headers.set("api-key", key.value);
        else
            out.headers.set("Authorization", "Bearer " + key.value);
        break;
    }
    case AuthMode::None:
        break;
    }

    // Reasoning that a fallback of another family produced carries no signature this upstream could verify: such a
    // conversation goes through the canonical model, which drops it, even when the dialects match. So does a
    // continuation's prefill.
    const QList<canonical::Block> prefill = m_continuing && m_mode == Continuation::Mode::Prefill
        ? m_continuation->prefill() : QList<canonical::Block>();
    if (translating || m_carriesForeignReasoning || !prefill.isEmpty()) {
        TargetTraits traits;
        traits.acceptsPrefill = t.prefill;
        Translated body = translateRequestWithPrefill(m_in.dialect, upstream, m_in.request.body, t.model, prefill, traits);
        if (!body.error.isEmpty()) {
            *error = QStringLiteral("skipped: the request cannot be translated to %1: %2")
                         .arg(dialectName(upstream), body.error);
            return {};
        }
        out.body = provider.type == ProviderType::Vertex
            ? vertex::requestBody(body.body, json::scanObject(body.body), isCountTokens(), t.model)
            : std::move(body.body);
        return out;
    }
    const json::Span modelSpan = m_scan.find("model");
    if (provider.type == ProviderType::Vertex)
        out.body = vertex::requestBody(m_in.request.body, m_scan, isCountTokens(), t.model);
    else if (modelSpan.isValid() && t.model != m_requestedModel)
        out.body = json::replaced(m_in.request.body, modelSpan, json::quoted(t.model));
    else
        out.body = m_in.request.body;  // shared, not copied
    return out;
}

bool Exchange::acceptsPrefill(const Target& t) const {
    const PrefillRefusals& learned = m_ctx.prefillRefusals ? *m_ctx.prefillRefusals : m_ownRefusals;
    return t.prefill && !learned.refuses(t.key);
}

PrefillRefusals& Exchange::prefillRefusals() { return m_ctx.prefillRefusals ? *m_ctx.prefillRefusals : m_ownRefusals; }

void Exchange::onConnected() {
    if (m_phase != Phase::Connecting)
        return;
    m_phase = Phase::AwaitingHead;
    // A non-streaming answer arrives only once it is fully generated, so only the budget bounds its wait.
    armTimer(m_wantsStream ? firstTokenTimeoutMs() : remainingBudgetMs());
}

void Exchange::onHead(const http::ResponseHead& head) {
    if (m_phase == Phase::Connecting)
        onConnected();
    m_head = head;
    const bool success = head.status >= 200 && head.status < 300;
    m_bedrockStream.reset();
    if (success && bedrock::isEventStream(head.headers)) {
        m_bedrockStream.emplace();  // AWS event-stream frames carrying Anthropic stream events, served as SSE
        m_head.headers.set("Content-Type", "text/event-stream");
    }
    const bool eventStream = m_head.headers.value("content-type").contains("text/event-stream");
    m_phase = success && eventStream ? Phase::AwaitingContent : Phase::ReadingBody;
}

void Exchange::onBody(const QByteArray& bytes) {
    switch (m_phase) {
    case Phase::AwaitingContent:
    case Phase::Streaming:
        handleStreamBytes(bytes);
        break;
    case Phase::ReadingBody:
        if (m_body.size() + bytes.size() > kMaxResponseBytes) {
            Verdict v;
            v.kind = OutcomeClass::Failover;
            v.reason = QStringLiteral("response larger than %1 MiB").arg(kMaxResponseBytes >> 20);
            settle(v);
            return;
        }
        m_body.append(bytes);
        break;
    default:
        break;
    }
}

void Exchange::handleStreamBytes(const QByteArray& bytes) {
    QList<http::SseEvent> events;
    if (m_bedrockStream)
        m_bedrockStream->feed(bytes, events);
    else
        m_sse.feed(bytes, events);
    QByteArray out;
    for (const http::SseEvent& event : events) {
        const bool committed = m_phase == Phase::Streaming;
        const StreamEventKind kind = classifyStreamEvent(upstreamDialect(), event, committed);
        m_usage.feed(event);
        if (kind == StreamEventKind::Malformed) {
            qWarning("understudy: dropped a malformed stream event from %s (%lld bytes)",
                     qPrintable(target().key), static_cast<long long>(event.raw.size()));
            continue;
        }
        if (kind == StreamEventKind::Error) {
            if (m_client && !out.isEmpty())
                m_client->writeStream(out);
            if (committed) {
                onStreamBroke(inBandReason(event, true));
                return;
            }
            Verdict v;
            v.kind = OutcomeClass::Failover;
            v.reason = inBandReason(event, false);
            settle(v);
            return;
        }
        if (!committed) {
            m_held.append(event);
            if (kind == StreamEventKind::Preamble)
                continue;
            m_sawEnd = kind == StreamEventKind::End;
            out.append(commitStream());
        } else {
            m_sawEnd = m_sawEnd || kind == StreamEventKind::End;
            out.append(m_continuation->feed(event));
        }
        if (m_continuation->diverged()) {
            endBrokenStream(QStringLiteral("%1, asked without a prefill, answered differently").arg(target().key));
            return;
        }
    }
    if (m_phase == Phase::Streaming && !out.isEmpty() && m_client)
        m_client->writeStream(out);
    if (!m_bedrockStream && m_sse.pendingBytes() > kMaxStreamEventBytes) {
        // An event that never ends would be held in memory without bound: the upstream is broken.
        const QString why = QStringLiteral("an upstream event larger than %1 MiB").arg(kMaxStreamEventBytes >> 20);
        if (m_phase == Phase::Streaming) {
            onStreamBroke(why);
        } else {
            Verdict v;
            v.kind = OutcomeClass::Failover;
            v.reason = why;
            settle(v);
        }
        return;
    }
    if (m_phase == Phase::Streaming) {
        armTimer(m_config->failover.streamIdleTimeoutMs);
        applyBackpressure();
    }
}

// A client that reads more slowly than its upstream sends: stop reading the upstream until the client catches
// up, instead of holding the difference in memory. The wait is the client's, so it is not an upstream stall.
void Exchange::applyBackpressure() {
    if (!m_client || !m_call || !m_client->isCongested() || m_call->isPaused())
        return;
    m_call->setPaused(true);
    m_timer.stop();
    connect(m_client, &http::Connection::writable, this, &Exchange::resumeUpstream, Qt::UniqueConnection);
}

void Exchange::resumeUpstream() {
    if (!m_call || !m_call->isPaused())
        return;
    m_call->setPaused(false);
    if (m_phase == Phase::Streaming)
        armTimer(m_config->failover.streamIdleTimeoutMs);
}

QByteArray Exchange::commitStream() {
    m_phase = Phase::Streaming;
    m_streamIndex = m_index;
    m_timer.stop();
    markHealthy();
    coolBeforeLimit();
    if (m_continuing) {
        m_continuation->beginContinuation(upstreamDialect(), m_mode);
    } else {
        m_firstTokenMs = m_clock.elapsed();
        m_continuation = std::make_unique<Continuation>(m_in.dialect);
        m_continuation->beginFirst(upstreamDialect());
        if (m_client)
            m_client->beginStream(m_head.status, responseHeaders(m_head.headers));
    }
    QByteArray first;
    for (const http::SseEvent& event : std::as_const(m_held))
        first.append(m_continuation->feed(event));
    m_held.clear();
    return first;
}

void Exchange::onUpstreamFinished() {
    switch (m_phase) {
    case Phase::ReadingBody:
        if (m_continuing && m_head.status >= 200 && m_head.status < 300) {
            Verdict v;
            v.kind = OutcomeClass::Failover;
            v.reason = QStringLiteral("answered a stream request without a stream");
            settle(v);
        } else if (m_head.status >= 200 && m_head.status < 300) {
            serveNonStream();
        } else
            settle(classifyResponse(m_head.status, m_head.headers, m_body, m_config->failover, now()));
        break;
    case Phase::AwaitingContent: {
        Verdict v;
        v.kind = OutcomeClass::Failover;
        v.reason = QStringLiteral("stream ended before any content");
        settle(v);
        break;
    }
    case Phase::Streaming: {
        if (!m_sawEnd) {
            onStreamBroke(QStringLiteral("the upstream ended the stream early"));
            break;
        }
        const QByteArray last = m_continuation->finish();
        if (m_continuation->diverged()) {
            endBrokenStream(QStringLiteral("%1, asked without a prefill, answered differently").arg(target().key));
            break;
        }
        if (m_client)
            m_client->writeStream(last);
        completeStream();
        break;
    }
    default:
        break;
    }
}

void Exchange::onUpstreamFailed(http::TransportFailure failure, const QString& detail) {
    Q_UNUSED(detail);  // socket error strings can echo addresses; the category is what users act on
    m_call = nullptr;
    if (m_phase == Phase::Streaming) {
        onStreamBroke(http::describe(failure));
        return;
    }
    Verdict v = classifyTransport(failure);
    if (m_phase == Phase::AwaitingContent) {
        v.kind = OutcomeClass::Failover;
        v.reason = QStringLiteral("stream broke before any content");
    }
    settle(v);
}

void Exchange::onTimeout() {
    const FailoverConfig& f = m_config->failover;
    if (m_phase == Phase::Streaming) {
        onStreamBroke(QStringLiteral("no data for %1 s").arg(f.streamIdleTimeoutMs / 1000.0));
        return;
    }
    if (remainingBudgetMs() <= 0) {
        dropCall();
        m_attempts.append({target().key, QStringLiteral("stopped: the total budget of %1 ms is spent").arg(f.totalBudgetMs)});
        if (m_probing)
            m_ctx.health->releaseProbe(target().key);
        m_probing = false;
        m_budgetSpent = true;
        finishAllFailed();
        return;
    }
    Verdict v;
    switch (m_phase) {
    case Phase::Authorizing:
        v = timeoutVerdict(QStringLiteral("no access token"), f.connectTimeoutMs);
        break;
    case Phase::Connecting:
        v = timeoutVerdict(QStringLiteral("no connection"), f.connectTimeoutMs);
        break;
    case Phase::AwaitingHead:
    case Phase::AwaitingContent:
        v = timeoutVerdict(QStringLiteral("no first token"), m_wantsStream ? firstTokenTimeoutMs() : f.totalBudgetMs);
        break;
    default:
        v = timeoutVerdict(QStringLiteral("response not complete"), f.totalBudgetMs);
        break;
    }
    settle(v);
}

void Exchange::settle(const Verdict& v) {
    dropCall();
    m_phase = Phase::Idle;
    const Target& t = target();
    if (v.status)
        m_lastStatus = v.status;
    m_onlyTimeouts = m_onlyTimeouts && v.timeout;
    switch (v.kind) {
    case OutcomeClass::Success:
        return;
    case OutcomeClass::ClientError:
        if (retryWithFreshToken(v))
            return;
        markHealthy();  // it answered: the target is up, the request is at fault
        if (m_continuing)
            refusedWhileContinuing(v);
        else
            passThroughClientError();
        return;
    case OutcomeClass::TooLong:
        markHealthy();
        m_attempts.append({t.key, v.reason});
        m_tooLongModels.insert(t.model);
        if (m_tooLong.status == 0) {
            m_tooLong = m_head;
            m_tooLongBody = upstreamDialect() == m_in.dialect
                ? m_body : translateErrorBody(upstreamDialect(), m_in.dialect, m_head.status, m_body);
        }
        nextTarget();
        return;
    case OutcomeClass::Transient:
        if (m_retries < m_config->failover.retriesBeforeFailover) {
            const int delay = retryDelayMs(v, m_retries);
            if (delay < remainingBudgetMs()) {
                ++m_retries;
                m_attempts.append({t.key, v.reason + QStringLiteral(", retried after %1 ms").arg(delay)});
                m_retryTimer.start(delay, Qt::PreciseTimer, this);
                return;
            }
        }
        [[fallthrough]];
    case OutcomeClass::Failover:
        markFailed(v);
        nextTarget();
        return;
    }
}

void Exchange::markHealthy() {
    const QString key = target().key;
    m_probing = false;
    if (const std::optional<qint64> downFor = m_ctx.health->recordSuccess(key, now())) {
        m_ctx.telemetry->counters().recoveries += 1;
        m_ctx.telemetry->record({QStringLiteral("recovery"), 0,
                                 {{QStringLiteral("target"), key},
                                  {QStringLiteral("downForMs"), static_cast<double>(*downFor)},
                                  {QStringLiteral("chain"), m_plan.chain}}});
    }
}

void Exchange::markFailed(const Verdict& v) {
    const QString key = target().key;
    m_probing = false;
    const qint64 until = m_ctx.health->recordFailure(key, v, now(), m_config->failover.primaryRecoveryCheckIntervalMs);
    m_ctx.telemetry->counters().failuresBy[key] += 1;
    m_ctx.telemetry->record({QStringLiteral("cooldown"), 0,
                             {{QStringLiteral("target"), key},
                              {QStringLiteral("reason"), v.reason},
                              {QStringLiteral("until"), QDateTime::fromMSecsSinceEpoch(until, Qt::UTC).toString(Qt::ISODateWithMs)},
                              {QStringLiteral("quota"), v.quota},
                              {QStringLiteral("reasonKind"), v.quota ? QStringLiteral("quota")
                                                             : v.rateLimited ? QStringLiteral("rate_limit")
                                                                             : QStringLiteral("error")}}});
    QString reason = v.reason;
    if (v.coolUntilMs)
        reason += QStringLiteral(", retry after %1").arg(clockTime(until));
    m_attempts.append({key, reason});
    m_lastFailedTarget = key;
    m_lastFailureReason = reason;
}

void Exchange::serveNonStream() {
    m_firstTokenMs = m_clock.elapsed();
    m_usage.readBody(m_body);
    if (upstreamDialect() != m_in.dialect) {
        Translated body = translateResponse(upstreamDialect(), m_in.dialect, m_body);
        if (!body.error.isEmpty()) {
            Verdict v;
            v.kind = OutcomeClass::Failover;
            v.reason = QStringLiteral("unreadable %1 response: %2").arg(dialectName(upstreamDialect()), body.error);
            settle(v);
            return;
        }
        m_body = std::move(body.body);
    }
    markHealthy();
    coolBeforeLimit();
    m_phase = Phase::Done;
    if (m_client)
        m_client->respond(m_head.status, responseHeaders(m_head.headers), m_body);
    recordServed(m_head.status, QString());
    finish();
}

void Exchange::completeStream() {
    dropCall();
    m_phase = Phase::Done;
    if (m_client)
        m_client->endStream();
    recordServed(m_head.status, QString());
    finish();
}

void Exchange::onStreamBroke(const QString& reason) {
    dropCall();
    m_phase = Phase::Idle;
    m_ctx.telemetry->counters().streamsCut += 1;
    if (!m_continuing)
        m_breakReason = QStringLiteral("the stream from %1 broke after content was sent (%2)").arg(target().key, reason);
    m_continuing = true;
    m_continuation->breakOff();
    Verdict v;
    v.kind = OutcomeClass::Failover;
    v.reason = QStringLiteral("stream broke: %1").arg(reason);
    markFailed(v);
    // The answer so far may have taken longer than the budget (a committed stream is exempt from it); the
    // continuation is a new attempt to bound.
    m_budget.setRemainingTime(m_config->failover.totalBudgetMs);
    nextTarget();
}

void Exchange::refusedWhileContinuing(const Verdict& v) {
    const QString key = target().key;
    if (m_mode == Continuation::Mode::Prefill && m_head.status == 400) {
        // The usual cause is a model that takes no prefill; remember it, and ask again without one.
        prefillRefusals().learn(key);
        m_attempts.append({key, QStringLiteral("HTTP 400 to a prefill: it takes none, asked again without")});
        if (m_continuation->restartable()) {
            startAttempt();
            return;
        }
    } else {
        m_attempts.append({key, v.reason});
    }
    nextTarget();
}

void Exchange::endBrokenStream(const QString& why) {
    dropCall();
    m_phase = Phase::Done;
    m_index = m_streamIndex;  // the target whose content the client has, for the records
    // Never let a cut stream look complete: end it with the dialect's in-band error, naming the real failure.
    const QString message = QStringLiteral("Understudy: %1, and %2; the answer is incomplete.").arg(m_breakReason, why);
    if (m_client) {
        m_client->writeStream(streamErrorEvent(m_in.dialect, message));
        m_client->endStream();
    }
    recordServed(m_head.status, m_breakReason);
    finish();
}

void Exchange::passThroughClientError() {
    m_phase = Phase::Done;
    m_ctx.telemetry->counters().clientErrors += 1;
    m_attempts.append({target().key, QStringLiteral("HTTP %1 returned to the client").arg(m_head.status)});
    if (upstreamDialect() != m_in.dialect)
        m_body = translateErrorBody(upstreamDialect(), m_in.dialect, m_head.status, m_body);
    if (m_client)
        m_client->respond(m_head.status, responseHeaders(m_head.headers), m_body);
    recordRequestEvent(m_head.status, QStringLiteral("client_error"), target().key);
    finish();
}

void Exchange::finishAllFailed() {
    if (m_continuing) {
        endBrokenStream(QStringLiteral("no target could continue it (%1)").arg(attemptSummary()));
        return;
    }
    dropCall();
    m_phase = Phase::Done;
    if (m_tooLong.status != 0) {
        // The client knows what to do with "prompt is too long" (e.g. Claude Code compacts): hand it over as is.
        if (m_client)
            m_client->respond(m_tooLong.status, m_tooLong.headers, m_tooLongBody);
        recordRequestEvent(m_tooLong.status, QStringLiteral("too_long"), QString());
        finish();
        return;
    }
    m_ctx.telemetry->counters().allFailed += 1;
    const bool timedOut = m_budgetSpent || (m_onlyTimeouts && m_networkAttempts > 0);
    const int status = timedOut ? 504 : (m_lastStatus ? m_lastStatus : 503);
    const QString message = QStringLiteral("Understudy: every target of chain '%1' failed. %2.")
                                .arg(m_plan.chain, attemptSummary());
    http::Headers headers;
    headers.set("Content-Type", "application/json");
    headers.set("x-understudy-attempts", QByteArray::number(m_networkAttempts));
    headers.set("x-understudy-chain", m_plan.chain.toUtf8());
    std::optional<qint64> earliest;
    const qint64 now = this->now();
    for (const Target& t : m_plan.targets) {
        const TargetHealth h = m_ctx.health->health(t.key, now);
        if (h.state != TargetHealth::State::Healthy && h.coolingUntilMs > now && (!earliest || h.coolingUntilMs < *earliest))
            earliest = h.coolingUntilMs;
    }
    if (earliest)
        headers.set("retry-after", QByteArray::number(std::max<qint64>(1, (*earliest - now + 999) / 1000)));
    if (m_client)
        m_client->respond(status, headers, errorBody(m_in.dialect, status, message));
    recordRequestEvent(status, QStringLiteral("all_failed"), QString());
    finish();
}

QString Exchange::attemptSummary() const {
    QStringList parts;
    for (const AttemptRecord& a : m_attempts)
        parts.append(a.target + QStringLiteral(": ") + a.outcome);
    return parts.join(QStringLiteral("; "));
}

void Exchange::respondLocally(int status, const QString& message) {
    m_phase = Phase::Done;
    http::Headers headers;
    headers.set("Content-Type", "application/json");
    if (m_client)
        m_client->respond(status, headers, errorBody(m_in.dialect, status, message));
    recordRequestEvent(status, QStringLiteral("rejected"), QString());
    finish();
}

void Exchange::recordServed(int status, const QString& breakReason) {
    Counters& c = m_ctx.telemetry->counters();
    c.served += 1;
    c.servedBy[target().key] += 1;
    if (m_index > 0)
        c.servedByFallback += 1;
    recordRequestEvent(status, breakReason.isEmpty() ? QStringLiteral("served") : QStringLiteral("stream_broken"),
                       target().key);
}

void Exchange::recordRequestEvent(int status, const QString& outcome, const QString& servedBy) {
    QJsonArray attempts;
    for (const AttemptRecord& a : m_attempts)
        attempts.append(QJsonObject{{QStringLiteral("target"), a.target}, {QStringLiteral("outcome"), a.outcome}});
    EventFields fields{{QStringLiteral("chain"), m_plan.chain},
                       {QStringLiteral("dialect"), dialectName(m_in.dialect)},
                       {QStringLiteral("requestedModel"), m_requestedModel},
                       {QStringLiteral("stream"), m_wantsStream},
                       {QStringLiteral("status"), status},
                       {QStringLiteral("outcome"), outcome},
                       {QStringLiteral("attempts"), attempts},
                       {QStringLiteral("durationMs"), m_clock.elapsed()}};
    if (!m_clientName.isEmpty())
        fields.insert(QStringLiteral("client"), m_clientName);
    if (m_continuing)
        fields.insert(QStringLiteral("continued"), true);
    if (!servedBy.isEmpty()) {
        fields.insert(QStringLiteral("servedBy"), servedBy);
        fields.insert(QStringLiteral("fallbackDepth"), m_index);
    }
    m_ctx.telemetry->record({QStringLiteral("request"), 0, fields});
    const UsageRecord record = usageRecord(status, outcome, servedBy);
    countSpend(record);
    m_ctx.telemetry->recordUsage(record);
}

UsageRecord Exchange::usageRecord(int status, const QString& outcome, const QString& servedBy) const {
    UsageRecord r;
    r.timeMs = now();
    r.client = m_clientName;
    for (const char* header : {"x-claude-code-session-id", "session-id", "x-session-id"}) {
        if (r.sessionId.isEmpty())
            r.sessionId = QString::fromUtf8(m_in.request.headers.value(header).left(128));
    }
    r.chain = m_plan.chain;
    r.requestedModel = m_requestedModel;
    if (!servedBy.isEmpty()) {
        r.provider = target().provider->id;
        r.model = target().model;
        r.fallbackDepth = m_index;
    }
    for (const AttemptRecord& a : m_attempts)
        r.failureReasons.append(a.target + QStringLiteral(": ") + a.outcome);
    if (m_usage.usage()) {
        r.tokens = *m_usage.usage();
    } else if (!servedBy.isEmpty()) {
        // No usage from the upstream (a cut stream, a server that omits it): about 4 bytes a token.
        r.estimated = true;
        r.tokens.input = m_in.request.body.size() / 4;  // not a parse: bodies reach megabytes
        r.tokens.output = m_body.size() / 4;
    }
    r.firstTokenMs = m_firstTokenMs;
    r.totalMs = m_clock.elapsed();
    r.status = status;
    r.outcome = outcome;
    return r;
}

http::Headers Exchange::responseHeaders(const http::Headers& upstream) const {
    http::Headers headers;
    headers.reserve(upstream.fields().size() + 4);
    for (const http::Header& h : upstream.fields()) {
        if (!isHopHeader(h.name))
            headers.add(h);
    }
    const Target& t = target();
    headers.set("x-understudy-provider", t.provider->id.toUtf8());
    headers.set("x-understudy-model", t.model.toUtf8());
    headers.set("x-understudy-attempts", QByteArray::number(m_networkAttempts));
    headers.set("x-understudy-chain", m_plan.chain.toUtf8());
    return headers;
}

void Exchange::armTimer(int ms) {
    // Once a stream is committed only its idle timeout applies: a long answer may outlast the budget.
    if (m_phase != Phase::Streaming)
        ms = std::min(ms, remainingBudgetMs());
    m_timer.start(std::max(0, ms), Qt::PreciseTimer, this);
}

// Basic timers, not QTimers: two QObjects and their connections per request were a visible share of its cost.
// Coarse timers may fire 5% early; a retry-after wait or a timeout must not, hence PreciseTimer.
void Exchange::timerEvent(QTimerEvent* event) {
    if (event->timerId() == m_timer.timerId()) {
        m_timer.stop();
        onTimeout();
    } else if (event->timerId() == m_retryTimer.timerId()) {
        m_retryTimer.stop();
        startAttempt();
    } else {
        QObject::timerEvent(event);
    }
}

int Exchange::firstTokenTimeoutMs() const {
    const FailoverConfig& f = m_config->failover;
    const double estimatedTokens = m_in.request.body.size() / 4.0;  // ~4 bytes a token is close enough here
    return f.firstTokenTimeoutMs + static_cast<int>(f.firstTokenTimeoutPer100kTokensMs * estimatedTokens / 100000.0);
}

int Exchange::remainingBudgetMs() const {
    return static_cast<int>(std::min<qint64>(m_budget.remainingTime(), std::numeric_limits<int>::max()));
}

void Exchange::dropCall() {
    m_timer.stop();
    m_retryTimer.stop();
    if (m_call) {
        m_call->disconnect(this);
        m_call->abort();
        m_call->deleteLater();
    }
    m_call = nullptr;
}

qint64 Exchange::now() const {
    return m_ctx.clock ? m_ctx.clock->nowMs() : QDateTime::currentMSecsSinceEpoch();
}

void Exchange::coolBeforeLimit() {
    const std::optional<Verdict> near =
        nearLimitVerdict(m_head.headers, m_config->failover.switchBeforeLimitPercent, now());
    if (!near)
        return;
    const QString key = target().key;
    // Switching early only helps when there is somewhere to go: never cool the last healthy target.
    const qint64 at = now();
    const bool elsewhere = std::any_of(m_plan.targets.cbegin(), m_plan.targets.cend(), [&](const Target& t) {
        return t.key != key && m_ctx.health->health(t.key, at).state == TargetHealth::State::Healthy;
    });
    if (!elsewhere)
        return;
    const qint64 until = m_ctx.health->recordFailure(key, *near, now(), m_config->failover.primaryRecoveryCheckIntervalMs);
    m_ctx.telemetry->record({QStringLiteral("cooldown"), 0,
                             {{QStringLiteral("target"), key},
                              {QStringLiteral("reason"), near->reason},
                              {QStringLiteral("until"), QDateTime::fromMSecsSinceEpoch(until, Qt::UTC).toString(Qt::ISODateWithMs)},
                              {QStringLiteral("quota"), false},
                              {QStringLiteral("reasonKind"), QStringLiteral("rate_limit")},
                              {QStringLiteral("preemptive"), true}}});
}

bool Exchange::overDailyBudget(const Target& t) {
    if (!t.dailyBudgetUsd || !m_ctx.spend)
        return false;
    const QString& provider = t.provider->id;
    const double spent = m_ctx.spend->spentToday(provider, now());
    if (spent < *t.dailyBudgetUsd)
        return false;
    skipTarget(QStringLiteral("skipped: daily budget of $%1 reached").arg(QString::number(*t.dailyBudgetUsd)));
    if (m_ctx.spend->firstToday(QStringLiteral("budget:") + provider, now()))
        m_ctx.telemetry->record({QStringLiteral("budget"), 0,
                                 {{QStringLiteral("provider"), provider},
                                  {QStringLiteral("target"), t.key},
                                  {QStringLiteral("dailyBudgetUsd"), *t.dailyBudgetUsd},
                                  {QStringLiteral("spentUsd"), spent},
                                  {QStringLiteral("chain"), m_plan.chain}}});
    return true;
}

void Exchange::tellIfNowSpending(const Target& t) {
    if (!t.dailyBudgetUsd || !m_ctx.spend)
        return;
    // Only a move away from the user's subscription (their own login, auth "client") is news: a chain that
    // starts on a paid step spends by design.
    bool fromSubscription = false;
    for (int i = 0; i < m_index; ++i)
        fromSubscription = fromSubscription || m_plan.targets[i].provider->auth == AuthMode::Client;
    if (!fromSubscription || !m_ctx.spend->firstToday(QStringLiteral("spending:") + t.provider->id, now()))
        return;
    m_ctx.telemetry->record({QStringLiteral("spending"), 0,
                             {{QStringLiteral("provider"), t.provider->id},
                              {QStringLiteral("target"), t.key},
                              {QStringLiteral("dailyBudgetUsd"), *t.dailyBudgetUsd},
                              {QStringLiteral("spentUsd"), m_ctx.spend->spentToday(t.provider->id, now())},
                              {QStringLiteral("chain"), m_plan.chain}}});
}

void Exchange::countSpend(const UsageRecord& record) {
    if (!m_ctx.spend || record.provider.isEmpty())
        return;
    const bool budgeted = std::any_of(m_plan.targets.cbegin(), m_plan.targets.cend(), [&](const Target& t) {
        return t.dailyBudgetUsd && t.provider->id == record.provider;
    });
    if (!budgeted)
        return;  // the spend of providers without a budget is the ledger's business, not the hot path's
    if (const std::optional<Price> price = Pricing(m_config->pricing, builtInPrices()).priceOf(record.model))
        m_ctx.spend->add(record.provider, costOf(record.tokens, *price), record.timeMs);
}

void Exchange::finish() {
    if (m_finished)
        return;
    m_finished = true;
    m_phase = Phase::Done;
    dropCall();
    Q_EMIT finished();
}

}  // namespace understudy
