#include "web_app.hpp"

#include <array>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "edge.hpp"
#include "restinu/rt/digest.hpp"
#include "restinu/rt/problem.hpp"

namespace restinu::gateway {
namespace {

namespace fs = std::filesystem;

std::string readFile(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read " + p.string());
    }
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// Calls `each` with every trimmed, non-empty element of a comma-separated header; stops when it
// returns true, and returns whether one did.
template <typename F>
bool anyElement(std::string_view header, F each) {
    while (!header.empty()) {
        const auto end = header.find(',');
        const auto item = trimOws(header.substr(0, end));
        if (!item.empty() && each(item)) {
            return true;
        }
        if (end == std::string_view::npos) {
            break;
        }
        header.remove_prefix(end + 1);
    }
    return false;
}

// Whether `etag` is among the tags of an If-None-Match header (or it is *).
bool matches(std::string_view header, std::string_view etag) {
    if (trimOws(header) == "*") {
        return true;
    }
    return anyElement(header, [&](std::string_view tag) {
        if (tag.starts_with("W/")) {
            tag.remove_prefix(2);
        }
        return tag == etag;
    });
}

// Whether the parameters of one Accept-Encoding element ("q=0", " q=0.000") give q = 0: that
// coding is refused.
bool refused(std::string_view params) {
    while (!params.empty()) {
        const auto end = params.find(';');
        auto kv = trimOws(params.substr(0, end));
        if (kv.size() >= 2 && (kv[0] == 'q' || kv[0] == 'Q') && kv[1] == '=') {
            kv.remove_prefix(2);
            return !kv.empty() && kv.find_first_not_of("0.") == std::string_view::npos;
        }
        if (end == std::string_view::npos) {
            break;
        }
        params.remove_prefix(end + 1);
    }
    return false;
}

}  // namespace

bool accepts(std::string_view accept_encoding, std::string_view coding) {
    std::optional<bool> named;  // set by the coding's own element, which decides
    bool star = false;
    anyElement(accept_encoding, [&](std::string_view item) {
        const auto semi = item.find(';');
        const auto name = trimOws(item.substr(0, semi));
        const auto params =
            semi == std::string_view::npos ? std::string_view{} : item.substr(semi + 1);
        if (rt::iequals(name, coding)) {
            named = !refused(params);
            return true;
        }
        if (name == "*") {
            star = !refused(params);
        }
        return false;
    });
    return named.value_or(star);
}

namespace {

WebApp::Body bodyOf(std::string bytes) {
    auto etag = "\"" + rt::sha256Hex(bytes).substr(0, 20) + "\"";
    return {std::make_shared<const std::string>(std::move(bytes)), std::move(etag)};
}

}  // namespace

std::string contentTypeOf(std::string_view name) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kTypes{{
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".webp", "image/webp"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
        {".webmanifest", "application/manifest+json"},
    }};
    for (const auto& [ext, type] : kTypes) {
        if (name.size() > ext.size() && name.ends_with(ext)) {
            return std::string(type);
        }
    }
    return "application/octet-stream";
}

std::shared_ptr<const WebApp> WebApp::load(const std::string& dir, std::string csp) {
    auto app = std::make_shared<WebApp>();
    app->csp_ = std::move(csp);
    const fs::path root = fs::weakly_canonical(fs::path(dir));
    if (!fs::is_regular_file(root / "index.html")) {
        throw std::runtime_error("gateway.web.dir " + dir +
                                 " has no index.html (build the app: npm run build in web/)");
    }
    const auto sibling = [](const fs::path& p, const char* ext) {
        auto s = p;
        s += ext;
        return fs::is_regular_file(s) ? bodyOf(readFile(s)) : Body{};
    };
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
        if (!entry.is_regular_file()) {
            continue;  // symbolic links to elsewhere are not followed
        }
        const auto& path = entry.path();
        if ((path.extension() == ".br" || path.extension() == ".gz") &&
            fs::is_regular_file(fs::path(path).replace_extension())) {
            continue;  // an encoding of its neighbour, loaded with it
        }
        const auto rel = fs::relative(path, root).generic_string();
        File f;
        f.identity = bodyOf(readFile(path));
        f.br = sibling(path, ".br");
        f.gzip = sibling(path, ".gz");
        f.content_type = contentTypeOf(rel);
        // Vite names what it builds into assets/ by content hash: those never change.
        f.immutable = rel.starts_with("assets/");
        app->files_.emplace("/" + rel, std::move(f));
    }
    return app;
}

rt::Response WebApp::answer(const rt::Request& req, const File& f) const {
    rt::Response res;
    const Body* body = &f.identity;
    std::string_view coding;
    if (f.br.bytes || f.gzip.bytes) {
        res.header("Vary", "Accept-Encoding");
        const auto accept = req.header("Accept-Encoding");
        if (f.br.bytes && accepts(accept, "br")) {
            body = &f.br;
            coding = "br";
        } else if (f.gzip.bytes && accepts(accept, "gzip")) {
            body = &f.gzip;
            coding = "gzip";
        }
    }
    res.header("ETag", body->etag);
    res.header("Cache-Control", f.immutable ? "public, max-age=31536000, immutable" : "no-cache");
    res.header("X-Content-Type-Options", "nosniff");
    if (f.content_type.starts_with("text/html")) {
        res.header("Content-Security-Policy", csp_);
        res.header("Referrer-Policy", "strict-origin-when-cross-origin");
        res.header("X-Frame-Options", "DENY");
    }
    if (matches(req.header("If-None-Match"), body->etag)) {
        res.status = 304;
        res.content_type.clear();
        return res;
    }
    res.status = 200;
    res.content_type = f.content_type;
    if (!coding.empty()) {
        res.header("Content-Encoding", std::string(coding));
    }
    res.shared_body = body->bytes;
    return res;
}

rt::Response WebApp::serve(const rt::Request& req) const {
    const std::string_view path = req.path;
    if (path == "/" || path == "/index.html") {
        return answer(req, files_.at("/index.html"));
    }
    if (auto it = files_.find(std::string(path)); it != files_.end()) {
        return answer(req, it->second);
    }
    // The app's own routes (/search, /properties/<id>): no extension in the last segment, and
    // never under /api/ (an unknown API path is a 404, not a page).
    // Never a dot-segment or a hidden name ("/../x", "/.env"): 404, not the page.
    const auto last = path.substr(path.rfind('/') + 1);
    if (path.starts_with("/api/") || last.find('.') != std::string_view::npos ||
        path.find("/.") != std::string_view::npos) {
        return rt::problemResponse({rt::problems::kNotFound, "no such file", {}, {}}, path,
                                   req.request_id);
    }
    return answer(req, files_.at("/index.html"));
}

}  // namespace restinu::gateway
