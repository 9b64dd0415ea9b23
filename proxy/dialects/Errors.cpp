#include "dialects/Errors.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace understudy::errors {
namespace {

using canonical::ErrorKind;

bool saysContextTooLong(const QString& message) {
    for (const char* phrase : {"prompt is too long", "context length", "context window", "too many tokens"}) {
        if (message.contains(QLatin1String(phrase), Qt::CaseInsensitive))
            return true;
    }
    return false;
}

ErrorKind kindOfAnthropicType(const QString& type, const QString& message) {
    if (type == u"invalid_request_error")
        return saysContextTooLong(message) ? ErrorKind::ContextTooLong : ErrorKind::InvalidRequest;
    if (type == u"authentication_error")
        return ErrorKind::Authentication;
    if (type == u"billing_error")
        return ErrorKind::Billing;
    if (type == u"permission_error")
        return ErrorKind::Permission;
    if (type == u"not_found_error")
        return ErrorKind::NotFound;
    if (type == u"request_too_large")
        return ErrorKind::TooLarge;
    if (type == u"rate_limit_error")
        return ErrorKind::RateLimit;
    if (type == u"overloaded_error")
        return ErrorKind::Overloaded;
    if (type == u"timeout_error")
        return ErrorKind::Timeout;
    return ErrorKind::Server;
}

std::optional<ErrorKind> kindOfOpenAICode(const QString& code) {
    if (code == u"context_length_exceeded")
        return ErrorKind::ContextTooLong;
    if (code == u"rate_limit_exceeded")
        return ErrorKind::RateLimit;
    if (code == u"insufficient_quota" || code == u"usage_not_included")
        return ErrorKind::Billing;
    if (code == u"invalid_api_key")
        return ErrorKind::Authentication;
    if (code == u"model_not_found")
        return ErrorKind::NotFound;
    if (code == u"server_is_overloaded" || code == u"slow_down")
        return ErrorKind::Overloaded;
    if (code == u"server_error")
        return ErrorKind::Server;
    if (code == u"invalid_prompt")
        return ErrorKind::InvalidRequest;
    return std::nullopt;
}

QString anthropicType(ErrorKind kind) {
    switch (kind) {
    case ErrorKind::InvalidRequest:
    case ErrorKind::ContextTooLong: return QStringLiteral("invalid_request_error");
    case ErrorKind::Authentication: return QStringLiteral("authentication_error");
    case ErrorKind::Billing: return QStringLiteral("billing_error");
    case ErrorKind::Permission: return QStringLiteral("permission_error");
    case ErrorKind::NotFound: return QStringLiteral("not_found_error");
    case ErrorKind::TooLarge: return QStringLiteral("request_too_large");
    case ErrorKind::RateLimit: return QStringLiteral("rate_limit_error");
    case ErrorKind::Overloaded: return QStringLiteral("overloaded_error");
    case ErrorKind::Timeout: return QStringLiteral("timeout_error");
    case ErrorKind::Server: return QStringLiteral("api_error");
    }
    return QStringLiteral("api_error");
}

QString openAIType(ErrorKind kind) {
    switch (kind) {
    case ErrorKind::RateLimit: return QStringLiteral("rate_limit_exceeded");
    case ErrorKind::Billing: return QStringLiteral("insufficient_quota");
    case ErrorKind::Overloaded:
    case ErrorKind::Timeout:
    case ErrorKind::Server: return QStringLiteral("server_error");
    default: return QStringLiteral("invalid_request_error");
    }
}

QJsonValue openAICode(ErrorKind kind) {
    switch (kind) {
    case ErrorKind::ContextTooLong: return QStringLiteral("context_length_exceeded");
    case ErrorKind::RateLimit: return QStringLiteral("rate_limit_exceeded");
    case ErrorKind::Billing: return QStringLiteral("insufficient_quota");
    case ErrorKind::Authentication: return QStringLiteral("invalid_api_key");
    default: return QJsonValue::Null;
    }
}

QString messageOf(const QJsonObject& object) {
    const QJsonValue message = object.value(u"message");
    return message.isString() ? message.toString() : QString();
}

}  // namespace

ErrorKind kindForStatus(int status) {
    switch (status) {
    case 400: return ErrorKind::InvalidRequest;
    case 401: return ErrorKind::Authentication;
    case 402: return ErrorKind::Billing;
    case 403: return ErrorKind::Permission;
    case 404: return ErrorKind::NotFound;
    case 413: return ErrorKind::TooLarge;
    case 429: return ErrorKind::RateLimit;
    case 503:
    case 529: return ErrorKind::Overloaded;
    case 504: return ErrorKind::Timeout;
    default: return status >= 500 || status == 0 ? ErrorKind::Server : ErrorKind::InvalidRequest;
    }
}

canonical::Error fromAnthropic(const QJsonObject& error) {
    const QString message = messageOf(error);
    return {kindOfAnthropicType(error.value(u"type").toString(), message), message};
}

canonical::Error fromOpenAI(const QJsonObject& error, int status) {
    const QString message = messageOf(error);
    QString code = error.value(u"code").toString();
    if (code.isEmpty())
        code = error.value(u"type").toString();  // OpenAI puts "insufficient_quota" in both
    ErrorKind kind = kindOfOpenAICode(code).value_or(kindForStatus(status));
    if (kind == ErrorKind::InvalidRequest && saysContextTooLong(message))
        kind = ErrorKind::ContextTooLong;
    return {kind, message};
}

canonical::Error fromBody(int status, const QByteArray& body) {
    const QJsonDocument document = QJsonDocument::fromJson(body);
    // Google's front end wraps its error in a one-element array.
    const QJsonObject root =
        document.isArray() ? document.array().first().toObject() : document.object();
    const QJsonValue inner = root.value(u"error");
    canonical::Error error;
    if (inner.isObject() && root.value(u"type").toString() == u"error")
        error = fromAnthropic(inner.toObject());
    else if (inner.isObject())
        error = fromOpenAI(inner.toObject(), status);
    else
        error = {kindForStatus(status), messageOf(root)};
    if (error.message.isEmpty())
        error.message = inner.isString() ? inner.toString() : QString::fromUtf8(body).trimmed();
    if (error.message.isEmpty())
        error.message = QStringLiteral("the upstream answered HTTP %1 without a message").arg(status);
    if (status >= 400 && status < 500 && error.kind == ErrorKind::Server)
        error.kind = kindForStatus(status);
    return error;
}

QJsonObject anthropicBody(const canonical::Error& error) {
    QString message = error.message;
    // Claude Code compacts the conversation when the message says "prompt is too long"; other vendors word it
    // differently, so their wording follows that phrase rather than replacing it.
    if (error.kind == ErrorKind::ContextTooLong && !message.contains(u"prompt is too long", Qt::CaseInsensitive))
        message = QStringLiteral("prompt is too long: ") + message;
    return {{QStringLiteral("type"), QStringLiteral("error")},
            {QStringLiteral("error"),
             QJsonObject{{QStringLiteral("type"), anthropicType(error.kind)}, {QStringLiteral("message"), message}}}};
}

QJsonObject openAIError(const canonical::Error& error) {
    return {{QStringLiteral("message"), error.message},
            {QStringLiteral("type"), openAIType(error.kind)},
            {QStringLiteral("param"), QJsonValue::Null},
            {QStringLiteral("code"), openAICode(error.kind)}};
}

QString responsesCode(ErrorKind kind) {
    const QJsonValue code = openAICode(kind);
    if (code.isString())
        return code.toString();
    return kind == ErrorKind::InvalidRequest ? QStringLiteral("invalid_prompt") : QStringLiteral("server_error");
}

}  // namespace understudy::errors
