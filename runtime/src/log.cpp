#include "restinu/rt/log.hpp"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "restinu/rt/json_text.hpp"
#include "word_scan.hpp"

namespace restinu::rt::log {
namespace {

constexpr std::size_t kAccessQueue = 8192;

struct State {
    std::string service = "restinu";
    std::string instance;
    Level level = Level::Info;
    bool json = true;
    std::shared_ptr<spdlog::logger> logger;
    // Access lines go through their own queue, which drops its oldest lines when full (a
    // stalled stdout must not stop the loop threads); every other line waits for room.
    std::shared_ptr<spdlog::details::thread_pool> access_pool;
    std::shared_ptr<spdlog::logger> access;
};

State& state() {
    static State s;
    return s;
}

std::mutex& initMutex() {
    static std::mutex mu;
    return mu;
}

std::string_view levelName(Level level) {
    switch (level) {
        case Level::Debug:
            return "debug";
        case Level::Info:
            return "info";
        case Level::Warn:
            return "warn";
        case Level::Error:
            return "error";
    }
    return "info";
}

spdlog::level::level_enum toSpd(Level level) {
    switch (level) {
        case Level::Debug:
            return spdlog::level::debug;
        case Level::Info:
            return spdlog::level::info;
        case Level::Warn:
            return spdlog::level::warn;
        case Level::Error:
            return spdlog::level::err;
    }
    return spdlog::level::info;
}

void appendTimestamp(std::string& out) {
    auto now = std::chrono::system_clock::now();
    auto secs = std::chrono::system_clock::to_time_t(now);
    auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
        1000000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(micros));
    out += buf;
}

void appendValue(std::string& out, const Field::Value& v, bool json) {
    if (const auto* s = std::get_if<std::string_view>(&v)) {
        if (json) {
            out += '"';
            rt::appendJsonEscaped(out, *s);
            out += '"';
        } else {
            out += *s;
        }
    } else if (const auto* i = std::get_if<std::int64_t>(&v)) {
        out += std::to_string(*i);
    } else if (const auto* d = std::get_if<double>(&v)) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.6g", *d);
        out += buf;
    } else if (const auto* b = std::get_if<bool>(&v)) {
        out += *b ? "true" : "false";
    }
}

}  // namespace

bool parseLevel(std::string_view text, Level& out) {
    if (text == "debug") {
        out = Level::Debug;
    } else if (text == "info") {
        out = Level::Info;
    } else if (text == "warn" || text == "warning") {
        out = Level::Warn;
    } else if (text == "error") {
        out = Level::Error;
    } else {
        return false;
    }
    return true;
}

void init(std::string_view service, std::string_view instance, Level level, bool json) {
    std::lock_guard lock(initMutex());
    auto& s = state();
    s.service = service;
    s.instance = instance;
    s.level = level;
    s.json = json;
    if (!s.logger) {
        // One background thread writes; a full queue blocks rather than dropping lines.
        spdlog::init_thread_pool(8192, 1);
        auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
        s.logger = std::make_shared<spdlog::async_logger>("restinu", sink, spdlog::thread_pool(),
                                                          spdlog::async_overflow_policy::block);
        s.logger->set_pattern("%v");
        s.logger->flush_on(spdlog::level::warn);
        spdlog::register_logger(s.logger);
        s.access_pool = std::make_shared<spdlog::details::thread_pool>(kAccessQueue, 1);
        s.access = std::make_shared<spdlog::async_logger>(
            "restinu-access", sink, s.access_pool, spdlog::async_overflow_policy::overrun_oldest);
        s.access->set_pattern("%v");
    }
    s.logger->set_level(toSpd(level));
    s.access->set_level(toSpd(level));
}

bool enabled(Level level) {
    return level >= state().level;
}

void write(Level level, std::string_view logger, std::string_view msg,
           std::initializer_list<Field> fields) {
    auto& s = state();
    if (level < s.level) {
        return;
    }
    std::string line;
    line.reserve(160 + msg.size());
    if (s.json) {
        line += R"({"ts":")";
        appendTimestamp(line);
        line += R"(","level":")";
        line += levelName(level);
        line += R"(","service":")";
        rt::appendJsonEscaped(line, s.service);
        if (!s.instance.empty()) {
            line += R"(","instance":")";
            rt::appendJsonEscaped(line, s.instance);
        }
        line += R"(","logger":")";
        rt::appendJsonEscaped(line, logger);
        line += R"(","msg":")";
        rt::appendJsonEscaped(line, msg);
        line += '"';
        for (const auto& f : fields) {
            line += ",\"";
            rt::appendJsonEscaped(line, f.key);
            line += "\":";
            appendValue(line, f.value, true);
        }
        line += '}';
    } else {
        appendTimestamp(line);
        line += ' ';
        line += levelName(level);
        line += " [";
        line += logger;
        line += "] ";
        line += msg;
        for (const auto& f : fields) {
            line += ' ';
            line += f.key;
            line += '=';
            appendValue(line, f.value, false);
        }
    }
    if (s.access && logger == "access") {
        s.access->log(toSpd(level), "{}", line);
    } else if (s.logger) {
        s.logger->log(toSpd(level), "{}", line);
    } else {
        // Before init (tests, early CLI errors): plain stderr.
        std::fprintf(stderr, "%s\n", line.c_str());
    }
}

void flush() {
    if (auto& l = state().access) {
        l->flush();
    }
    if (auto& l = state().logger) {
        l->flush();
    }
}

std::uint64_t droppedAccessLines() {
    auto& pool = state().access_pool;
    return pool ? pool->overrun_counter() : 0;
}

}  // namespace restinu::rt::log
