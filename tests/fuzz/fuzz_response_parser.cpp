// ResponseParser: any upstream bytes, in any split, never crash it, and the split never changes the outcome:
// the same heads, the same de-chunked body bytes, the same end (complete, error, or waiting for more).

#include "FuzzSupport.h"
#include "http/ResponseParser.h"

using understudy::http::ResponseParser;

namespace {

struct Outcome {
    QList<int> statuses;      // one per complete response
    QList<QByteArray> bodies; // one per complete response, plus the partial body of the last one
    ResponseParser::Status last = ResponseParser::Status::NeedMore;
    ResponseParser::Status eof = ResponseParser::Status::NeedMore;
};

Outcome run(const std::vector<QByteArrayView>& pieces, bool head)
{
    Outcome o;
    ResponseParser parser;
    parser.setRequestWasHead(head);
    QByteArray buffer;
    QByteArray body;
    bool stopped = false;
    for (QByteArrayView piece : pieces) {
        buffer.append(piece);
        for (;;) {
            o.last = parser.parse(buffer, body);
            if (o.last != ResponseParser::Status::Complete)
                break;
            FUZZ_CHECK(parser.headComplete());
            o.statuses.append(parser.head().status);
            o.bodies.append(std::exchange(body, {}));
            if (head)
                FUZZ_CHECK(o.bodies.last().isEmpty());
            if (!parser.keepAlive()) {
                stopped = true;
                break;
            }
            parser.reset();
            parser.setRequestWasHead(head);
        }
        if (o.last == ResponseParser::Status::Error) {
            FUZZ_CHECK(!parser.errorMessage().isEmpty());
            stopped = true;
        }
        if (stopped)
            break;
    }
    if (!stopped) {
        o.eof = parser.finishOnEof();
        if (o.eof == ResponseParser::Status::Complete)
            o.statuses.append(parser.head().status);
    }
    o.bodies.append(body);
    return o;
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
    const bool head = (seed & 0x10000u) != 0;

    const Outcome whole = run({input}, head);
    const Outcome pieces = run(fuzz::split(input, seed), head);

    FUZZ_CHECK(whole.statuses == pieces.statuses);
    FUZZ_CHECK(whole.bodies == pieces.bodies);
    FUZZ_CHECK(whole.last == pieces.last);
    FUZZ_CHECK(whole.eof == pieces.eof);
    for (int status : whole.statuses)
        FUZZ_CHECK(status >= 200 && status <= 999);
    return 0;
}
