#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

/// Configuration from a YAML file and the environment; the environment wins (12-factor).
///
/// Keys are dotted paths, `http.port`, `pg.pool_size`. The environment variable for a key is
/// `RESTINU_` + the key upper-cased with each `.` written as `__`: `RESTINU_HTTP__PORT`,
/// `RESTINU_PG__POOL_SIZE`. A key ending in `_file` names a file whose contents (trimmed) are
/// the value of the key without that suffix, for secrets mounted as files.
///
/// Typed getters never throw: they record a problem and return a default, so that `check()`
/// reports every bad or missing value at once, one per line, and the binary refuses to start.
namespace restinu::rt {

class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Config {
public:
    /// Reads `file` (empty: none) and the process environment. A file that does not parse is a
    /// problem reported by check(), not an exception.
    static Config load(const std::string& file);
    /// For tests: explicit YAML text and environment entries ("NAME=value").
    static Config fromText(std::string_view yaml, const std::vector<std::string>& env);

    std::string str(std::string_view key, std::optional<std::string> fallback = std::nullopt);
    std::int64_t integer(std::string_view key, std::optional<std::int64_t> fallback,
                         std::int64_t min, std::int64_t max);
    std::uint16_t port(std::string_view key, std::optional<std::uint16_t> fallback);
    bool boolean(std::string_view key, std::optional<bool> fallback);
    /// "250ms", "10s", "5m", "1h"; a bare number is milliseconds.
    std::chrono::milliseconds duration(std::string_view key,
                                       std::optional<std::chrono::milliseconds> fallback);
    /// A YAML sequence or a comma-separated string.
    std::vector<std::string> list(std::string_view key,
                                  std::optional<std::vector<std::string>> fallback);
    /// One of `allowed`.
    std::string oneOf(std::string_view key, std::optional<std::string> fallback,
                      const std::vector<std::string>& allowed);
    /// Every key under `prefix.` (one level), e.g. the upstream names under `upstreams`.
    std::vector<std::string> children(std::string_view prefix) const;
    bool has(std::string_view key) const;
    /// Records a problem with a value a service checked itself (e.g. a malformed address).
    void reject(std::string_view key, const std::string& reason);

    /// Throws ConfigError listing every problem (and every file key nobody asked for, which is
    /// most often a typo) when there is any.
    void check() const;
    const std::vector<std::string>& problems() const { return problems_; }

    /// The effective values that were read, secrets (`password`, `secret`, `key`, `token`)
    /// redacted: for `--print-config`.
    std::string dump() const;

    static std::string envName(std::string_view key);

private:
    struct Value {
        std::string text;
        std::string source;  // "file" or the environment variable's name
    };
    std::optional<Value> raw(std::string_view key);
    void problem(std::string_view key, const std::string& msg, const Value* v);

    std::map<std::string, std::string, std::less<>> file_;
    std::map<std::string, std::string, std::less<>> env_;
    std::set<std::string, std::less<>> used_;
    std::map<std::string, std::string, std::less<>> effective_;
    std::vector<std::string> problems_;
    std::string file_name_;
};

}  // namespace restinu::rt
