// SseReader: any bytes, in any split, never crash it; the split never changes which events come out (their
// `event` and `data`); each event's `raw` bytes, read alone, give that same event back; and formatSse()
// output reads back as the event it was made from.

#include "FuzzSupport.h"
#include "http/SseReader.h"

using understudy::http::SseEvent;
using understudy::http::SseReader;

namespace {

QList<SseEvent> run(const std::vector<QByteArrayView>& pieces, qsizetype& pending)
{
    SseReader reader;
    QList<SseEvent> out;
    for (QByteArrayView piece : pieces)
        reader.feed(piece, out);
    pending = reader.pendingBytes();
    return out;
}

QList<SseEvent> readAlone(QByteArrayView bytes)
{
    SseReader reader;
    QList<SseEvent> out;
    reader.feed(bytes, out);
    return out;
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
    qsizetype pendingWhole = 0, pendingPieces = 0;
    const QList<SseEvent> whole = run({input}, pendingWhole);
    const QList<SseEvent> pieces = run(fuzz::split(input, fuzz::hashSeed(input)), pendingPieces);

    FUZZ_CHECK(whole.size() == pieces.size());
    qsizetype rawBytes = 0;
    for (qsizetype i = 0; i < whole.size(); ++i) {
        FUZZ_CHECK(whole[i].event == pieces[i].event);
        FUZZ_CHECK(whole[i].data == pieces[i].data);
        FUZZ_CHECK(!whole[i].event.contains('\n') && !whole[i].event.contains('\r'));
        FUZZ_CHECK(!whole[i].data.contains('\r'));
        rawBytes += whole[i].raw.size();

        QList<SseEvent> again = readAlone(whole[i].raw);
        // An event whose CRLF lines end in a lone CR was dispatched because the next byte was not a LF; alone, its
        // raw bytes wait for that byte (documented in SseReader.h).
        if (again.isEmpty() && whole[i].raw.endsWith('\r')) {
            SseReader reader;
            reader.feed(whole[i].raw, again);
            reader.feed("x", again);
        }
        if (again.size() != 1)
            std::fprintf(stderr, "event %lld raw %s reads back as %lld events\n", (long long)i,
                         whole[i].raw.toPercentEncoding().constData(), (long long)again.size());
        FUZZ_CHECK(again.size() == 1);
        FUZZ_CHECK(again[0].event == whole[i].event && again[0].data == whole[i].data);

        const QList<SseEvent> formatted = readAlone(understudy::http::formatSse(whole[i].event, whole[i].data));
        FUZZ_CHECK(formatted.size() == 1);
        FUZZ_CHECK(formatted[0].event == whole[i].event && formatted[0].data == whole[i].data);
    }
    FUZZ_CHECK(rawBytes + pendingWhole <= input.size());
    FUZZ_CHECK(pendingWhole == pendingPieces || pendingWhole + 1 == pendingPieces || pendingWhole == pendingPieces + 1);
    return 0;
}
