// RequestParser: any bytes, in any split, never crash it, and the split never changes the outcome. Feeding
// the input whole and feeding it in small random pieces must yield the same requests and the same error.

#include "FuzzSupport.h"
#include "http/RequestParser.h"

using understudy::http::Request;
using understudy::http::RequestParser;

namespace {

struct Outcome {
    QList<Request> requests;
    RequestParser::Status last = RequestParser::Status::NeedMore;
    int errorStatus = 0;
    QByteArray leftover;
};

Outcome run(const std::vector<QByteArrayView>& pieces, RequestParser::Limits limits)
{
    Outcome o;
    RequestParser parser(limits);
    QByteArray buffer;
    for (QByteArrayView piece : pieces) {
        buffer.append(piece);
        for (;;) {
            o.last = parser.parse(buffer);
            if (o.last == RequestParser::Status::Complete) {
                FUZZ_CHECK(!parser.inProgress());
                o.requests.append(parser.takeRequest());
                continue;  // a pipelined request may already be in the buffer
            }
            break;
        }
        if (o.last == RequestParser::Status::Error) {
            o.errorStatus = parser.error().httpStatus;
            FUZZ_CHECK(!parser.error().message.isEmpty());
            break;
        }
    }
    o.leftover = buffer;
    return o;
}

bool same(const Request& a, const Request& b)
{
    if (a.method != b.method || a.target != b.target || a.path != b.path || a.query != b.query
        || a.versionMinor != b.versionMinor || a.body != b.body || a.keepAlive() != b.keepAlive())
        return false;
    const auto& fa = a.headers.fields();
    const auto& fb = b.headers.fields();
    if (fa.size() != fb.size())
        return false;
    for (qsizetype i = 0; i < fa.size(); ++i)
        if (fa[i].name != fb[i].name || fa[i].value != fb[i].value)
            return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    fuzz::quietQt();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char*>(data), qsizetype(size));
    const uint32_t seed = fuzz::hashSeed(input);

    // Small limits half the time, so the 413/431 paths are reached by small inputs.
    RequestParser::Limits limits;
    if (seed & 0x80000000u) {
        limits.maxHeaderBytes = 16 + (seed >> 8) % 512;
        limits.maxBodyBytes = (seed >> 20) % 256;
    }

    const Outcome whole = run({input}, limits);
    const Outcome pieces = run(fuzz::split(input, seed), limits);

    for (const Request& r : whole.requests) {
        FUZZ_CHECK(r.body.size() <= limits.maxBodyBytes);
        FUZZ_CHECK(r.target.startsWith(r.path));
    }
    FUZZ_CHECK(whole.requests.size() == pieces.requests.size());
    for (qsizetype i = 0; i < whole.requests.size(); ++i)
        FUZZ_CHECK(same(whole.requests[i], pieces.requests[i]));
    FUZZ_CHECK((whole.last == RequestParser::Status::Error) == (pieces.last == RequestParser::Status::Error));
    FUZZ_CHECK(whole.errorStatus == pieces.errorStatus);
    if (whole.last != RequestParser::Status::Error)
        FUZZ_CHECK(whole.leftover == pieces.leftover);
    return 0;
}
