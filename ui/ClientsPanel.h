#pragma once

#include "Status.h"

#include <QTreeWidget>

namespace understudy::ui {

// The status window's "Clients" section: per coding agent, whether its settings point at this proxy, the chain
// it uses, and the model that answered its last request (the proxy tells clients apart by their User-Agent).
class ClientsPanel : public QTreeWidget {
    Q_OBJECT
public:
    explicit ClientsPanel(QWidget* parent = nullptr);

    void render(const Status& status);
};

}  // namespace understudy::ui
