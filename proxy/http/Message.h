#pragma once

#include "http/Headers.h"

namespace understudy::http {

struct Request {
    QByteArray method;   // as sent, e.g. "POST"
    QByteArray target;   // request-target as sent, e.g. "/v1/messages?beta=true"
    QByteArray path;     // target up to '?', percent-encoding left as is
    QByteArray query;    // after '?', without it; empty when absent
    int versionMinor = 1;  // HTTP/1.<minor>
    Headers headers;
    QByteArray body;     // de-chunked

    bool keepAlive() const;  // HTTP/1.1 default on, HTTP/1.0 default off, "Connection" overrides
};

struct ResponseHead {
    int status = 0;
    QByteArray reason;
    Headers headers;
};

}  // namespace understudy::http
