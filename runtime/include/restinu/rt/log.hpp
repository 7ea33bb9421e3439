#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

/// Structured JSON logs: one object per line on stdout, written by spdlog's async logger so a
/// loop thread never waits on the terminal. Every line carries `ts level service instance
/// logger msg`, plus the fields the caller adds (request_id above all).
namespace restinu::rt::log {

enum class Level { Debug, Info, Warn, Error };

struct Field {
    using Value = std::variant<std::string_view, std::int64_t, double, bool>;
    std::string_view key;
    Value value;

    Field(std::string_view k, std::string_view v) : key(k), value(v) {}
    Field(std::string_view k, const std::string& v) : key(k), value(std::string_view{v}) {}
    Field(std::string_view k, const char* v) : key(k), value(std::string_view{v}) {}
    Field(std::string_view k, bool v) : key(k), value(v) {}
    Field(std::string_view k, double v) : key(k), value(v) {}
    template <class I>
    requires(std::is_integral_v<I> && !std::is_same_v<I, bool>) Field(std::string_view k, I v)
        : key(k), value(static_cast<std::int64_t>(v)) {}
};

/// Sets up the process-wide logger. `json=false` prints plain text for a human at a terminal.
/// Safe to call more than once (tests); the last call wins.
void init(std::string_view service, std::string_view instance, Level level, bool json = true);

/// Parses "debug", "info", "warn" or "error"; returns false on anything else.
bool parseLevel(std::string_view text, Level& out);

bool enabled(Level level);

void write(Level level, std::string_view logger, std::string_view msg,
           std::initializer_list<Field> fields = {});

inline void debug(std::string_view logger, std::string_view msg,
                  std::initializer_list<Field> fields = {}) {
    write(Level::Debug, logger, msg, fields);
}
inline void info(std::string_view logger, std::string_view msg,
                 std::initializer_list<Field> fields = {}) {
    write(Level::Info, logger, msg, fields);
}
inline void warn(std::string_view logger, std::string_view msg,
                 std::initializer_list<Field> fields = {}) {
    write(Level::Warn, logger, msg, fields);
}
inline void error(std::string_view logger, std::string_view msg,
                  std::initializer_list<Field> fields = {}) {
    write(Level::Error, logger, msg, fields);
}

/// Flushes pending lines; called on shutdown.
void flush();

/// Access lines (logger "access") dropped because their queue was full: when stdout stalls,
/// the oldest of them go rather than block a loop thread. Other lines are never dropped.
std::uint64_t droppedAccessLines();

}  // namespace restinu::rt::log
