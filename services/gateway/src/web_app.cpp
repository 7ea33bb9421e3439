#include "web_app.hpp"

#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

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

// Whether `etag` is among the tags of an If-None-Match header (or it is *).
bool matches(std::string_view header, std::string_view etag) {
    if (header == "*") {
        return true;
    }
    std::size_t at = 0;
    while (at < header.size()) {
        auto end = header.find(',', at);
        auto tag = header.substr(at, end == std::string_view::npos ? end : end - at);
        while (!tag.empty() && tag.front() == ' ') {
            tag.remove_prefix(1);
        }
        while (!tag.empty() && tag.back() == ' ') {
            tag.remove_suffix(1);
        }
        if (tag.starts_with("W/")) {
            tag.remove_prefix(2);
        }
        if (tag == etag) {
            return true;
        }
        if (end == std::string_view::npos) {
            break;
        }
        at = end + 1;
    }
    return false;
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
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
        if (!entry.is_regular_file()) {
            continue;  // symbolic links to elsewhere are not followed
        }
        const auto rel = fs::relative(entry.path(), root).generic_string();
        File f;
        f.body = std::make_shared<const std::string>(readFile(entry.path()));
        f.content_type = contentTypeOf(rel);
        f.etag = "\"" + rt::sha256Hex(*f.body).substr(0, 20) + "\"";
        // Vite names what it builds into assets/ by content hash: those never change.
        f.immutable = rel.starts_with("assets/");
        app->files_.emplace("/" + rel, std::move(f));
    }
    return app;
}

rt::Response WebApp::answer(const rt::Request& req, const File& f) const {
    rt::Response res;
    res.header("ETag", f.etag);
    res.header("Cache-Control", f.immutable ? "public, max-age=31536000, immutable" : "no-cache");
    res.header("X-Content-Type-Options", "nosniff");
    if (f.content_type.starts_with("text/html")) {
        res.header("Content-Security-Policy", csp_);
        res.header("Referrer-Policy", "strict-origin-when-cross-origin");
        res.header("X-Frame-Options", "DENY");
    }
    if (matches(req.header("If-None-Match"), f.etag)) {
        res.status = 304;
        res.content_type.clear();
        return res;
    }
    res.status = 200;
    res.content_type = f.content_type;
    res.shared_body = f.body;
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
