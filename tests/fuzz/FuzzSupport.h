#pragma once
// Helpers shared by the libFuzzer harnesses in this directory.

#include <QByteArray>
#include <QByteArrayView>
#include <QCoreApplication>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

// A broken invariant: print what and where, then abort so libFuzzer records the input as a crash.
#define FUZZ_CHECK(cond)                                                                             \
    do {                                                                                             \
        if (!(cond)) {                                                                               \
            std::fprintf(stderr, "FUZZ_CHECK failed: %s at %s:%d\n", #cond, __FILE__, __LINE__);    \
            std::abort();                                                                            \
        }                                                                                            \
    } while (0)

namespace fuzz {

// Quiet Qt's warnings (a harness calls code that warns on bad input millions of times).
inline void quietQt()
{
    qSetMessagePattern(QString());
    qInstallMessageHandler([](QtMsgType type, const QMessageLogContext&, const QString& msg) {
        if (type == QtFatalMsg) {
            std::fprintf(stderr, "qFatal: %s\n", qPrintable(msg));
            std::abort();
        }
    });
}

// Splits `data` into pieces whose lengths come from a small deterministic generator seeded by `seed`, so one
// input explores one split and the fuzzer varies it by mutating the seed bytes. Lengths are mostly tiny
// (1..4 bytes, to hit every boundary) with occasional long runs.
inline std::vector<QByteArrayView> split(QByteArrayView data, uint32_t seed)
{
    std::vector<QByteArrayView> pieces;
    uint32_t state = seed | 1u;
    qsizetype pos = 0;
    while (pos < data.size()) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        qsizetype len = (state & 8) ? (state >> 4) % 4 + 1 : (state >> 4) % 64 + 1;
        if ((state & 0x300) == 0)
            len = 0;  // an empty read
        len = std::min(len, data.size() - pos);
        pieces.push_back(data.sliced(pos, len));
        pos += len;
    }
    return pieces;
}

// A seed derived from the input itself (FNV-1a), so corpus files stay plain protocol bytes and every mutation
// also tries another split.
inline uint32_t hashSeed(QByteArrayView data)
{
    uint32_t h = 2166136261u;
    for (char c : data)
        h = (h ^ uint8_t(c)) * 16777619u;
    return h;
}

}  // namespace fuzz
