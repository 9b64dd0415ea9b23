// Launch at login on Linux: the XDG autostart entry, written where XDG_CONFIG_HOME says, in the form the
// Desktop Entry Specification asks for, and removed again.
#include "Autostart.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using namespace understudy;

namespace {

// The entry's keys of its [Desktop Entry] group, checking the file's structure on the way.
QMap<QString, QString> readEntry(const QByteArray& bytes, QString* problem) {
    QMap<QString, QString> keys;
    const QList<QByteArray> lines = bytes.split('\n');
    if (lines.value(0) != "[Desktop Entry]")
        *problem = QStringLiteral("the first line is not the [Desktop Entry] group header");
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QString line = QString::fromUtf8(lines[i]);
        if (line.isEmpty() || line.startsWith(u'#'))
            continue;
        const qsizetype equals = line.indexOf(u'=');
        if (equals <= 0 || line.startsWith(u'['))
            *problem = QStringLiteral("line %1 is not Key=Value: %2").arg(i + 1).arg(line);
        const QString key = line.left(equals);
        if (keys.contains(key))
            *problem = QStringLiteral("key %1 appears twice").arg(key);
        keys.insert(key, line.mid(equals + 1));
    }
    return keys;
}

}  // namespace

class TestAutostart : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init() {
        QVERIFY(m_home.isValid());
        qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_home.filePath(QStringLiteral("config"))));
    }

    void enabling_writesAValidEntryForThisBinary_disablingRemovesIt() {
        const QString path = m_home.filePath(QStringLiteral("config/autostart/understudy.desktop"));
        QCOMPARE(Autostart::location(), path);
        QVERIFY(!Autostart::isEnabled());

        QCOMPARE(Autostart::setEnabled(true), QString());
        QVERIFY(Autostart::isEnabled());
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QString problem;
        const QMap<QString, QString> entry = readEntry(file.readAll(), &problem);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QCOMPARE(entry.value("Type"), "Application");  // required keys: Type, Name, and Exec for an Application
        QCOMPARE(entry.value("Name"), "Understudy");
        QCOMPARE(entry.value("Exec"), QCoreApplication::applicationFilePath());
        QCOMPARE(entry.value("X-GNOME-Autostart-enabled"), "true");
        QVERIFY(!entry.contains("Hidden"));

        QCOMPARE(Autostart::setEnabled(false), QString());
        QVERIFY(!QFile::exists(path));
        QVERIFY(!Autostart::isEnabled());
        QCOMPARE(Autostart::setEnabled(false), QString());  // already off: nothing to do, no error
    }

    void anEntrySwitchedOffByTheDesktop_isNotEnabled() {
        QCOMPARE(Autostart::setEnabled(true), QString());
        QFile file(Autostart::location());
        QVERIFY(file.open(QIODevice::ReadOnly));
        QByteArray bytes = file.readAll().replace("X-GNOME-Autostart-enabled=true", "X-GNOME-Autostart-enabled=false");
        file.close();
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write(bytes);
        file.close();
        QVERIFY(!Autostart::isEnabled());
        QCOMPARE(Autostart::setEnabled(true), QString());  // turning it on again rewrites it
        QVERIFY(Autostart::isEnabled());
    }

    void aPathWithSpacesOrPercent_isQuotedAsTheSpecSays() {
        const auto exec = [](const QString& program) {
            QString problem;
            return readEntry(Autostart::desktopEntry(program), &problem).value("Exec");
        };
        QCOMPARE(exec("/opt/understudy/bin/understudy"), "/opt/understudy/bin/understudy");
        QCOMPARE(exec("/home/me/My Apps/understudy"), "\"/home/me/My Apps/understudy\"");
        QCOMPARE(exec("/home/me/100%/understudy"), "/home/me/100%%/understudy");
        // Quoted: $ and " escaped by a backslash, and every backslash doubled again by string-value escaping.
        QCOMPARE(exec("/home/me/a $b\"c/understudy"), "\"/home/me/a \\\\$b\\\\\"c/understudy\"");
    }

    void aRelativeXdgConfigHome_isIgnored() {
        qputenv("XDG_CONFIG_HOME", "relative/config");
        QCOMPARE(Autostart::location(), QDir::homePath() + QStringLiteral("/.config/autostart/understudy.desktop"));
    }

private:
    QTemporaryDir m_home;
};

QTEST_MAIN(TestAutostart)
#include "tst_autostart.moc"
