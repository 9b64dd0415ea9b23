#pragma once

#include "http/Message.h"

#include <QString>

#include <optional>

namespace understudy {

// Why a request is refused before it reaches any upstream.
struct Refusal {
    int status = 403;
    QString message;  // says what was refused and how to allow it where that is legitimate
};

// The proxy spends the user's keys, so only the user's own programs may use it (DESIGN.md §5). Refuses:
// a Host that is not a loopback name when listening on loopback (DNS rebinding), requests made by web pages
// (an Origin header, Sec-Fetch-Site other than "none", CORS preflights), and model requests whose body a
// browser could send cross-site without a preflight (text/plain, form encodings).
// Node's fetch sends "sec-fetch-mode: cors" on every SDK request; that header alone refuses nothing.
std::optional<Refusal> checkAccess(const http::Request& request, bool listeningOnLoopback, bool modelEndpoint);

// Whether `host` (a Host header value, with or without port) names this machine's loopback interface.
bool isLoopbackHost(QByteArrayView host);

}  // namespace understudy
