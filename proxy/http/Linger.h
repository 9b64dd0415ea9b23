#pragma once

#include <functional>

class QTcpSocket;

namespace understudy::http {

// Closes `socket` the way RFC 9112 §9.6 advises for a server that answers before it has read the whole request
// (413, 431, a 503 at the connection cap): send what is queued, shut the write side so the client sees the
// answer end, then read and drop whatever the client still sends until it closes, or it has been quiet for
// `quietMs`, or `maxMs` have passed. Closing at once with unread input would make the kernel send a reset, and
// a client still sending its body would then lose the answer. `done` runs once, when the socket may be dropped.
void closeLingering(QTcpSocket* socket, int quietMs, int maxMs, std::function<void()> done);

}  // namespace understudy::http
