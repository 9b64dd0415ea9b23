#pragma once

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>
#include <vector>

// The hub of DESIGN.md §2: every dialect decodes into these value types and encodes from them, so three
// dialects need six converters instead of six direct translations each way. Field meanings follow Anthropic's
// where the dialects differ (e.g. input tokens exclude the cache), because it is the most detailed of the three.
namespace understudy::canonical {

enum class BlockKind { Text, Image, ToolCall, ToolResult, Thinking };

// Who can verify a thinking block's signature. A signature goes back only to the family that minted it;
// elsewhere the block is dropped, or only its text is carried (DESIGN.md §2).
enum class ThinkingFamily {
    None,       // unsigned reasoning text (Chat `reasoning_content`, or minted by this proxy)
    Anthropic,  // `signature`, or `redacted_thinking` data
    OpenAI,     // Responses `encrypted_content`
};

struct Block {
    BlockKind kind = BlockKind::Text;
    QString text;              // Text; Thinking: the reasoning text (a summary for OpenAI reasoning)
    QJsonObject cacheControl;  // Anthropic only; dropped for OpenAI targets

    // Image: base64 `data` with its `mediaType`, or a `url`.
    QString mediaType;
    QString data;
    QString url;

    // ToolCall: `id`, `name` and `arguments` (JSON text; a custom tool's raw input when `custom`).
    // ToolResult: `id` of the call it answers, `content` (text and images) and `isError`.
    // Thinking: `id` (Responses reasoning item id), `signature` and its `family`; `redacted` for Anthropic
    // redacted_thinking, whose opaque data travels in `signature`.
    QString id;
    QString name;
    QString arguments;
    bool custom = false;
    std::vector<Block> content;
    bool isError = false;
    QString signature;
    ThinkingFamily family = ThinkingFamily::None;
    bool redacted = false;

    static Block makeText(const QString& text) {
        Block block;
        block.text = text;
        return block;
    }
};

enum class Role { User, Assistant };

struct Message {
    Role role = Role::User;
    QList<Block> content;
};

struct Tool {
    QString name;
    QString description;
    QJsonObject parameters;    // JSON schema of the arguments
    bool custom = false;       // Responses freeform tool (Codex apply_patch): input is one raw string
    QJsonObject format;        // a custom tool's grammar, kept for Responses
    std::optional<bool> strict;
    QJsonObject cacheControl;
};

struct ToolChoice {
    enum class Mode { Auto, Required, None, Tool };
    Mode mode = Mode::Auto;
    QString name;  // Tool
};

struct Reasoning {
    QString effort;                    // low | medium | high | ... as the client said it
    std::optional<int> budgetTokens;   // Anthropic budget_tokens
};

struct Request {
    QString model;
    QList<Block> system;  // text blocks
    QList<Message> messages;
    QList<Tool> tools;
    std::optional<ToolChoice> toolChoice;
    std::optional<bool> parallelToolCalls;
    std::optional<int> maxTokens;
    std::optional<double> temperature;
    std::optional<double> topP;
    QStringList stop;
    QString user;
    bool stream = false;
    std::optional<Reasoning> reasoning;
    // Structured output: {type: json_schema|json_object, name?, schema?, strict?}; empty when free text.
    QJsonObject outputFormat;
};

enum class StopReason { EndTurn, MaxTokens, StopSequence, ToolUse, Refusal, PauseTurn, ContextWindowExceeded };

// Input tokens exclude cache reads and writes (Anthropic's meaning); OpenAI's prompt_tokens is the sum.
struct Usage {
    qint64 inputTokens = 0;
    qint64 outputTokens = 0;
    qint64 cacheReadTokens = 0;
    qint64 cacheWriteTokens = 0;
    qint64 reasoningTokens = 0;
};

struct Response {
    QString id;
    QString model;  // the upstream's: it says who really answered
    QList<Block> content;
    StopReason stopReason = StopReason::EndTurn;
    QString stopSequence;
    Usage usage;
};

enum class ErrorKind {
    InvalidRequest,
    ContextTooLong,
    Authentication,
    Billing,
    Permission,
    NotFound,
    TooLarge,
    RateLimit,
    Overloaded,
    Timeout,
    Server,
};

struct Error {
    ErrorKind kind = ErrorKind::Server;
    QString message;  // verbatim from the upstream: clients match on its wording
};

// One step of a streamed response. Decoders number blocks in the order they start; blocks of different
// indexes may interleave (Chat sends parallel tool-call fragments by index), each ends with BlockStop.
struct StreamEvent {
    enum class Type {
        Start,       // id, model, usage known so far
        BlockStart,  // index, block: kind, and id/name/custom for a tool call, family for thinking
        Delta,       // index, delta, text
        BlockStop,   // index
        Finish,      // stopReason, stopSequence, usage (final): the message is complete
        Error,       // error: the stream ends here
    };
    enum class DeltaKind { Text, Thinking, Signature, Arguments };

    Type type = Type::Start;
    QString id;
    QString model;
    int index = 0;
    Block block;
    DeltaKind delta = DeltaKind::Text;
    QString text;
    StopReason stopReason = StopReason::EndTurn;
    QString stopSequence;
    Usage usage;
    Error error;
};

}  // namespace understudy::canonical
