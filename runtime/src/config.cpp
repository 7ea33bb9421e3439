#include "restinu/rt/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

extern char** environ;

namespace restinu::rt {
namespace {

constexpr std::string_view kEnvPrefix = "RESTINU_";

std::string trim(std::string_view s) {
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) {
        return {};
    }
    auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

void flatten(const YAML::Node& node, const std::string& prefix,
             std::map<std::string, std::string, std::less<>>& out) {
    if (node.IsMap()) {
        for (const auto& kv : node) {
            auto k = kv.first.as<std::string>();
            flatten(kv.second, prefix.empty() ? k : prefix + '.' + k, out);
        }
    } else if (node.IsSequence()) {
        std::string joined;
        for (const auto& item : node) {
            if (!joined.empty()) {
                joined += ',';
            }
            joined += item.as<std::string>();
        }
        out[prefix] = joined;
    } else if (node.IsScalar()) {
        out[prefix] = node.as<std::string>();
    } else if (node.IsNull() && !prefix.empty()) {
        out[prefix] = "";
    }
}

// RESTINU_HTTP__PORT -> http.port
std::string keyFromEnv(std::string_view name) {
    std::string key;
    auto rest = name.substr(kEnvPrefix.size());
    for (std::size_t i = 0; i < rest.size(); ++i) {
        if (rest[i] == '_' && i + 1 < rest.size() && rest[i + 1] == '_') {
            key += '.';
            ++i;
        } else {
            key += static_cast<char>(std::tolower(static_cast<unsigned char>(rest[i])));
        }
    }
    return key;
}

bool isSecretKey(std::string_view key) {
    for (std::string_view s : {"password", "secret", "token", "key"}) {
        auto pos = key.rfind('.');
        auto last = pos == std::string_view::npos ? key : key.substr(pos + 1);
        if (last.find(s) != std::string_view::npos) {
            return true;
        }
    }
    return false;
}

// A libpq conninfo or URL may carry a password: "password=..." or "user:pass@".
std::string redactConninfo(const std::string& v) {
    std::string out = v;
    for (std::size_t pos = out.find("password="); pos != std::string::npos;
         pos = out.find("password=", pos + 1)) {
        auto start = pos + 9;
        auto end = out.find(' ', start);
        out.replace(start, (end == std::string::npos ? out.size() : end) - start, "<redacted>");
    }
    auto scheme = out.find("://");
    auto at = out.find('@');
    if (scheme != std::string::npos && at != std::string::npos && at > scheme) {
        auto colon = out.find(':', scheme + 3);
        if (colon != std::string::npos && colon < at) {
            out.replace(colon + 1, at - colon - 1, "<redacted>");
        }
    }
    return out;
}

}  // namespace

std::string Config::envName(std::string_view key) {
    std::string out(kEnvPrefix);
    for (char c : key) {
        if (c == '.') {
            out += "__";
        } else {
            out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
    }
    return out;
}

Config Config::load(const std::string& file) {
    std::vector<std::string> env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        std::string_view entry(*e);
        if (entry.substr(0, kEnvPrefix.size()) == kEnvPrefix) {
            env.emplace_back(entry);
        }
    }
    std::string text;
    Config c;
    if (!file.empty()) {
        std::ifstream in(file);
        if (!in) {
            c.problems_.push_back("config file " + file + ": cannot be read");
        } else {
            std::stringstream ss;
            ss << in.rdbuf();
            text = ss.str();
        }
    }
    Config parsed = fromText(text, env);
    parsed.file_name_ = file;
    for (auto& p : c.problems_) {
        parsed.problems_.push_back(std::move(p));
    }
    return parsed;
}

Config Config::fromText(std::string_view yaml, const std::vector<std::string>& env) {
    Config c;
    if (!trim(yaml).empty()) {
        try {
            flatten(YAML::Load(std::string(yaml)), "", c.file_);
        } catch (const YAML::Exception& e) {
            c.problems_.push_back(std::string("config file does not parse: ") + e.what());
        }
    }
    for (const auto& entry : env) {
        auto eq = entry.find('=');
        if (eq == std::string::npos || entry.compare(0, kEnvPrefix.size(), kEnvPrefix) != 0) {
            continue;
        }
        c.env_[keyFromEnv(std::string_view(entry).substr(0, eq))] = entry.substr(eq + 1);
    }
    return c;
}

bool Config::has(std::string_view key) const {
    auto k = std::string(key);
    return env_.count(k) != 0 || file_.count(k) != 0 || env_.count(k + "_file") != 0 ||
           file_.count(k + "_file") != 0;
}

std::vector<std::string> Config::children(std::string_view prefix) const {
    std::set<std::string> names;
    std::string p = std::string(prefix) + ".";
    for (const auto* m : {&file_, &env_}) {
        for (const auto& [k, v] : *m) {
            if (k.compare(0, p.size(), p) == 0) {
                auto rest = k.substr(p.size());
                names.insert(rest.substr(0, rest.find('.')));
            }
        }
    }
    return {names.begin(), names.end()};
}

std::optional<Config::Value> Config::raw(std::string_view key) {
    std::string k(key);
    used_.insert(k);
    used_.insert(k + "_file");
    if (auto it = env_.find(k); it != env_.end()) {
        return Value{it->second, envName(k)};
    }
    auto from_file = [&](const std::string& path,
                         const std::string& source) -> std::optional<Value> {
        std::ifstream in(path);
        if (!in) {
            problems_.push_back(k + ": cannot read the file " + path + " named by " + source);
            return std::nullopt;
        }
        std::stringstream ss;
        ss << in.rdbuf();
        return Value{trim(ss.str()), source};
    };
    if (auto it = env_.find(k + "_file"); it != env_.end()) {
        return from_file(it->second, envName(k + "_file"));
    }
    if (auto it = file_.find(k); it != file_.end()) {
        return Value{it->second, "config file"};
    }
    if (auto it = file_.find(k + "_file"); it != file_.end()) {
        return from_file(it->second, "config file key " + k + "_file");
    }
    return std::nullopt;
}

void Config::problem(std::string_view key, const std::string& msg, const Value* v) {
    std::string line(key);
    line += ": ";
    line += msg;
    if (v != nullptr) {
        // A secret's value never goes into an error (it may reach a terminal or a log).
        line += isSecretKey(key)
                    ? " (got a value of " + std::to_string(v->text.size()) + " characters from " +
                          v->source + ")"
                    : " (got \"" + redactConninfo(v->text) + "\" from " + v->source + ")";
    } else {
        line += " (set it in the config file or as " + envName(key) + ")";
    }
    problems_.push_back(std::move(line));
}

std::string Config::str(std::string_view key, std::optional<std::string> fallback) {
    auto v = raw(key);
    if (!v) {
        if (!fallback) {
            problem(key, "is required", nullptr);
            return {};
        }
        effective_[std::string(key)] = *fallback;
        return *fallback;
    }
    effective_[std::string(key)] = v->text;
    return v->text;
}

std::int64_t Config::integer(std::string_view key, std::optional<std::int64_t> fallback,
                             std::int64_t min, std::int64_t max) {
    auto v = raw(key);
    if (!v) {
        if (!fallback) {
            problem(key, "is required", nullptr);
            return min;
        }
        effective_[std::string(key)] = std::to_string(*fallback);
        return *fallback;
    }
    std::int64_t out = 0;
    const auto& t = v->text;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
    if (ec != std::errc{} || ptr != t.data() + t.size() || t.empty()) {
        problem(key, "must be an integer", &*v);
        return fallback.value_or(min);
    }
    if (out < min || out > max) {
        problem(key, "must be between " + std::to_string(min) + " and " + std::to_string(max), &*v);
        return fallback.value_or(min);
    }
    effective_[std::string(key)] = t;
    return out;
}

std::uint16_t Config::port(std::string_view key, std::optional<std::uint16_t> fallback) {
    std::optional<std::int64_t> fb;
    if (fallback) {
        fb = *fallback;
    }
    return static_cast<std::uint16_t>(integer(key, fb, 0, 65535));
}

bool Config::boolean(std::string_view key, std::optional<bool> fallback) {
    auto v = raw(key);
    if (!v) {
        if (!fallback) {
            problem(key, "is required", nullptr);
            return false;
        }
        effective_[std::string(key)] = *fallback ? "true" : "false";
        return *fallback;
    }
    std::string t = v->text;
    std::transform(t.begin(), t.end(), t.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (t == "true" || t == "1" || t == "yes" || t == "on") {
        effective_[std::string(key)] = "true";
        return true;
    }
    if (t == "false" || t == "0" || t == "no" || t == "off") {
        effective_[std::string(key)] = "false";
        return false;
    }
    problem(key, "must be true or false", &*v);
    return fallback.value_or(false);
}

std::chrono::milliseconds Config::duration(std::string_view key,
                                           std::optional<std::chrono::milliseconds> fallback) {
    auto v = raw(key);
    if (!v) {
        if (!fallback) {
            problem(key, "is required", nullptr);
            return {};
        }
        effective_[std::string(key)] = std::to_string(fallback->count()) + "ms";
        return *fallback;
    }
    const auto& t = v->text;
    std::int64_t n = 0;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
    std::string_view unit(ptr, static_cast<std::size_t>(t.data() + t.size() - ptr));
    std::int64_t factor = -1;
    if (unit.empty() || unit == "ms") {
        factor = 1;
    } else if (unit == "s") {
        factor = 1000;
    } else if (unit == "m") {
        factor = 60'000;
    } else if (unit == "h") {
        factor = 3'600'000;
    }
    if (ec != std::errc{} || ptr == t.data() || factor < 0 || n < 0) {
        problem(key, "must be a duration such as 250ms, 10s, 5m or 1h", &*v);
        return fallback.value_or(std::chrono::milliseconds{0});
    }
    effective_[std::string(key)] = t;
    return std::chrono::milliseconds{n * factor};
}

std::vector<std::string> Config::list(std::string_view key,
                                      std::optional<std::vector<std::string>> fallback) {
    auto v = raw(key);
    if (!v) {
        if (!fallback) {
            problem(key, "is required", nullptr);
            return {};
        }
        return *fallback;
    }
    std::vector<std::string> out;
    std::string_view rest = v->text;
    while (!rest.empty()) {
        auto comma = rest.find(',');
        auto item = trim(rest.substr(0, comma));
        if (!item.empty()) {
            out.push_back(item);
        }
        if (comma == std::string_view::npos) {
            break;
        }
        rest = rest.substr(comma + 1);
    }
    effective_[std::string(key)] = v->text;
    return out;
}

std::string Config::oneOf(std::string_view key, std::optional<std::string> fallback,
                          const std::vector<std::string>& allowed) {
    auto before = problems_.size();
    auto v = str(key, fallback);
    if (problems_.size() != before) {
        return v;
    }
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
        std::string all;
        for (const auto& a : allowed) {
            all += all.empty() ? a : ", " + a;
        }
        Value val{v, env_.count(std::string(key)) ? envName(key) : "config file"};
        problem(key, "must be one of: " + all, &val);
        return fallback.value_or(allowed.front());
    }
    return v;
}

void Config::reject(std::string_view key, const std::string& reason) {
    auto v = raw(key);
    problem(key, reason, v ? &*v : nullptr);
}

void Config::check() const {
    std::vector<std::string> all = problems_;
    for (const auto& [k, v] : file_) {
        if (used_.count(k) == 0) {
            all.push_back(k + ": unknown key in the config file" +
                          (file_name_.empty() ? std::string{} : " " + file_name_));
        }
    }
    if (all.empty()) {
        return;
    }
    std::string msg = "invalid configuration (" + std::to_string(all.size()) + " problem" +
                      (all.size() == 1 ? "" : "s") + "):";
    for (const auto& p : all) {
        msg += "\n  - " + p;
    }
    throw ConfigError(msg);
}

std::string Config::dump() const {
    std::string out;
    for (const auto& [k, v] : effective_) {
        out += k;
        out += ": ";
        out += isSecretKey(k) ? "<redacted>" : redactConninfo(v);
        out += '\n';
    }
    return out;
}

}  // namespace restinu::rt
