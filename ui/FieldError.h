#pragma once

#include <QLabel>
#include <QStringList>

namespace understudy::ui {

// The red line under a field that says what is wrong with its value. Hidden while there is nothing to say.
class FieldError : public QLabel {
    Q_OBJECT
public:
    explicit FieldError(QWidget* parent = nullptr);
    void setMessages(const QStringList& messages);
};

// `field` with `error` under it, as one widget for a form row.
QWidget* withError(QWidget* field, FieldError* error);

}  // namespace understudy::ui
