#pragma once

#include <QByteArray>
#include <QString>

namespace understudy::test {

// Keeps what a test captured from the code under test (a child's stdout/stderr, a proxy's events), which would
// otherwise vanish with the test's temporary folder, in $UNDERSTUDY_TEST_OUTPUT (set by CTest, one folder per
// test), where the suite's secret scan (tests/secret_scan.sh) looks for the fake secrets the tests use. Without
// the variable (a test run by hand) it does nothing.
void keepOutput(const QString& what, const QByteArray& bytes);

}  // namespace understudy::test
