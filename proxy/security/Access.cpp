#include "security/Access.h"

#include <QHostAddress>

namespace understudy {
namespace {

QByteArrayView hostWithoutPort(QByteArrayView host) {
    if (host.startsWith('[')) {
        const qsizetype close = host.indexOf(']');
        return close < 0 ? QByteArrayView() : host.sliced(1, close - 1);
    }
    const qsizetype colon = host.lastIndexOf(':');
    return colon < 0 ? host : host.first(colon);
}

}  // namespace

bool isLoopbackHost(QByteArrayView host) {
    const QByteArrayView bare = hostWithoutPort(host.trimmed());
    if (bare == "127.0.0.1" || bare == "localhost")  // what clients send, told without the address parser
        return true;
    const QByteArray name = bare.toByteArray().toLower();
    if (name == "localhost" || name.endsWith(".localhost"))
        return true;
    QHostAddress address;
    return address.setAddress(QString::fromLatin1(name)) && address.isLoopback();
}

std::optional<Refusal> checkAccess(const http::Request& request, bool listeningOnLoopback, bool modelEndpoint) {
    const http::Headers& h = request.headers;
    if (listeningOnLoopback && !isLoopbackHost(h.value("host"))) {
        return Refusal{403, QStringLiteral("Refused: Host \"%1\" is not this machine's loopback address. Understudy "
                                           "only answers requests addressed to 127.0.0.1 or localhost, which stops "
                                           "web pages from reaching it through DNS rebinding.")
                                .arg(QString::fromLatin1(h.value("host").left(100)))};
    }
    if (request.method == "OPTIONS") {
        return Refusal{403, QStringLiteral("Refused: Understudy does not answer CORS preflights; web pages may not "
                                           "use it, since it spends your API keys.")};
    }
    const QByteArray site = h.value("sec-fetch-site").trimmed().toLower();
    if (h.contains("origin") || (!site.isEmpty() && site != "none")) {
        return Refusal{403, QStringLiteral("Refused: this request comes from a web page (Origin or Sec-Fetch-Site "
                                           "header). Understudy serves programs on this machine, not web pages, "
                                           "since it spends your API keys.")};
    }
    if (modelEndpoint && h.contains("content-type")) {
        const QByteArray type = h.value("content-type").trimmed().toLower();
        if (!type.startsWith("application/json")) {
            return Refusal{415, QStringLiteral("Send the request body as JSON with \"Content-Type: application/json\" "
                                               "(got \"%1\").").arg(QString::fromLatin1(type.left(100)))};
        }
    }
    return std::nullopt;
}

}  // namespace understudy
