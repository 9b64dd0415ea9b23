#include "http/Headers.h"

namespace understudy::http {

namespace {

// Header names are ASCII tokens, so folding bit 0x20 of letters is the whole of case-insensitivity; this runs
// for every lookup of every request, where Qt's general comparison was a visible cost.
bool sameName(QByteArrayView a, QByteArrayView b)
{
    if (a.size() != b.size())
        return false;
    for (qsizetype i = 0; i < a.size(); ++i) {
        const char x = a[i], y = b[i];
        if (x == y)
            continue;
        const char lower = static_cast<char>(x | 0x20);
        if (lower != static_cast<char>(y | 0x20) || lower < 'a' || lower > 'z')
            return false;
    }
    return true;
}

}  // namespace

QByteArray Headers::value(QByteArrayView name) const
{
    for (const Header& field : m_fields) {
        if (sameName(field.name, name))
            return field.value;
    }
    return {};
}

bool Headers::contains(QByteArrayView name) const
{
    for (const Header& field : m_fields) {
        if (sameName(field.name, name))
            return true;
    }
    return false;
}

void Headers::set(QByteArrayView name, QByteArrayView value)
{
    // Replace in place so that changing a value does not reorder what we forward.
    qsizetype first = 0;
    while (first < m_fields.size() && !sameName(m_fields.at(first).name, name))
        ++first;
    if (first == m_fields.size()) {
        add(name, value);
        return;
    }
    m_fields[first].value = value.toByteArray();
    for (qsizetype i = m_fields.size() - 1; i > first; --i) {
        if (sameName(m_fields.at(i).name, name))
            m_fields.removeAt(i);
    }
}

void Headers::add(QByteArrayView name, QByteArrayView value)
{
    m_fields.append(Header{name.toByteArray(), value.toByteArray()});
}

void Headers::remove(QByteArrayView name)
{
    m_fields.removeIf([name](const Header& field) { return sameName(field.name, name); });
}

}  // namespace understudy::http
