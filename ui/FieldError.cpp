#include "FieldError.h"

#include <QVBoxLayout>

namespace understudy::ui {

FieldError::FieldError(QWidget* parent) : QLabel(parent) {
    setWordWrap(true);
    setTextFormat(Qt::PlainText);
    setTextInteractionFlags(Qt::TextSelectableByMouse);
    // Red and a warning sign: the colour is not the only cue.
    QPalette palette = this->palette();
    palette.setColor(QPalette::WindowText, QColor(0xc0, 0x1c, 0x28));
    setPalette(palette);
    hide();
}

void FieldError::setMessages(const QStringList& messages) {
    setText(messages.isEmpty() ? QString() : QStringLiteral("⚠ ") + messages.join(QStringLiteral("\n⚠ ")));
    setVisible(!messages.isEmpty());
}

QWidget* withError(QWidget* field, FieldError* error) {
    auto* box = new QWidget;
    auto* layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addWidget(field);
    layout->addWidget(error);
    return box;
}

}  // namespace understudy::ui
