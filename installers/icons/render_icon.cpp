// render_icon: draws an SVG into square PNGs (and, where Qt has the writer, an .ico) at build time, so that the
// packages carry raster icons without a checked-in binary. Usage: render_icon <in.svg> <out-dir> <size>...
//   writes <out-dir>/<size>.png for every size; with --ico FILE also a Windows icon (largest size up to 256).
#include <QGuiApplication>
#include <QImage>
#include <QImageWriter>
#include <QPainter>
#include <QSvgRenderer>
#include <cstdio>

int main(int argc, char** argv) {
    qputenv("QT_QPA_PLATFORM", "offscreen");  // a build machine has no display
    QGuiApplication app(argc, argv);
    QStringList args = QGuiApplication::arguments().mid(1);
    QString ico;
    if (const qsizetype at = args.indexOf(QStringLiteral("--ico")); at >= 0 && at + 1 < args.size()) {
        ico = args.at(at + 1);
        args.remove(at, 2);
    }
    if (args.size() < 3) {
        std::fprintf(stderr, "usage: render_icon <in.svg> <out-dir> <size>... [--ico FILE]\n");
        return 2;
    }
    QSvgRenderer svg(args.at(0));
    if (!svg.isValid()) {
        std::fprintf(stderr, "render_icon: cannot read %s\n", qPrintable(args.at(0)));
        return 1;
    }
    QList<QImage> images;
    for (const QString& sizeText : args.mid(2)) {
        const int size = sizeText.toInt();
        QImage image(size, size, QImage::Format_ARGB32_Premultiplied);
        image.fill(Qt::transparent);
        QPainter painter(&image);
        painter.setRenderHint(QPainter::Antialiasing);
        svg.render(&painter);
        painter.end();
        const QString out = args.at(1) + QLatin1Char('/') + sizeText + QStringLiteral(".png");
        if (!image.save(out, "PNG")) {
            std::fprintf(stderr, "render_icon: cannot write %s\n", qPrintable(out));
            return 1;
        }
        images.append(image);
    }
    if (!ico.isEmpty()) {
        // Qt's ico handler writes one image per file: the largest size up to 256 (Windows scales it down).
        const QImage* best = nullptr;
        for (const QImage& image : images)
            if (image.width() <= 256 && (!best || image.width() > best->width()))
                best = &image;
        QImageWriter writer(ico, "ico");
        if (!best || !writer.write(*best)) {
            std::fprintf(stderr, "render_icon: cannot write %s: %s\n", qPrintable(ico), qPrintable(writer.errorString()));
            return 1;
        }
    }
    return 0;
}
