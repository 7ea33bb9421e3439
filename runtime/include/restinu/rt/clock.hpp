#pragma once

#include <chrono>
#include <cstdint>

/// Wall-clock time as Unix numbers, the one place that spells the conversion (tokens, identity
/// signatures, idempotency and limiter scripts, event times).
namespace restinu::rt {

inline std::int64_t unixSeconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

inline std::int64_t unixMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

inline std::int64_t unixMicros() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace restinu::rt
