#pragma once

#include <QHash>
#include <QString>

// Tool-call ids minted by one vendor can break another's rules (DESIGN.md §2): `functions.Bash:0` (Kimi) is not
// a valid Anthropic id, and OpenAI refuses ids over 40 characters. Ids that break the target's rule are replaced
// by a hash of the original, so the same history maps the same way on every turn and a call and its result,
// mapped independently, still match.
namespace understudy::toolids {

// An id valid for Anthropic (^[a-zA-Z0-9_-]+$): `id` itself when valid, else its legal characters plus a hash of
// `id` and `salt`. Responses pass their own id as the salt, so vendors that restart numbering every turn still
// give the client unique ids.
QString anthropicId(const QString& id, const QString& salt = {});

// An id OpenAI Chat accepts (at most 40 characters).
QString chatId(const QString& id);

// Maps the ids of one request's history for Anthropic. The k-th call with a given id pairs with the k-th result
// naming it; repeats of an id (a vendor restarting its numbering each turn) get distinct, stable ids.
class AnthropicIdMapper {
public:
    QString call(const QString& id) { return mapped(id, m_calls[id]++); }
    QString result(const QString& id) { return mapped(id, m_results[id]++); }

private:
    static QString mapped(const QString& id, int occurrence);
    QHash<QString, int> m_calls;
    QHash<QString, int> m_results;
};

}  // namespace understudy::toolids
