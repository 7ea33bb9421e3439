#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "restinu/rt/http.hpp"

/// The web app's files (web/dist, built by `make run`), served by the gateway at `/` from memory
/// (docs/architecture.md, "The web app at the gateway"):
///
///   /assets/<name>-<hash>.<ext>  Cache-Control: public, max-age=31536000, immutable
///   /index.html and other files  Cache-Control: no-cache (revalidated: ETag, 304)
///   any other path outside /api/ without a file extension: index.html (the app's own routes,
///   so a shared or reloaded URL opens the page it names)
///
/// Every HTML answer carries the Content-Security-Policy (`gateway.web.csp`), nosniff and a
/// strict referrer policy. Loaded once at start (a few megabytes): no file is read or copied per
/// request (answers share the bytes: rt::Response::shared_body).
///
/// Compression is done once, when the app is built (web/tools/compress.mjs, like nginx's
/// gzip_static): a file `x.js` with a sibling `x.js.br` or `x.js.gz` is sent in that encoding to
/// a client whose Accept-Encoding takes it (br preferred), with `Vary: Accept-Encoding` and an
/// ETag of its own; the siblings are not served under their own names.
namespace restinu::gateway {

class WebApp {
public:
    /// Every regular file under `dir`; throws std::runtime_error when `dir` has no index.html.
    static std::shared_ptr<const WebApp> load(const std::string& dir, std::string csp);

    /// The answer to a GET or HEAD of `req.path`.
    rt::Response serve(const rt::Request& req) const;

    std::size_t files() const { return files_.size(); }

    struct Body {
        std::shared_ptr<const std::string> bytes;  ///< shared by every answer that sends it
        std::string etag;
    };

private:
    struct File {
        Body identity;
        Body br;    ///< bytes empty when the build left no `.br` beside the file
        Body gzip;  ///< likewise `.gz`
        std::string content_type;
        bool immutable = false;
    };
    rt::Response answer(const rt::Request& req, const File& f) const;

    std::unordered_map<std::string, File> files_;  ///< by URL path ("/assets/app-1a2b.js")
    std::string csp_;
};

/// The Content-Type for a file name's extension (application/octet-stream when unknown).
std::string contentTypeOf(std::string_view name);

/// Whether an Accept-Encoding header takes `coding` ("gzip;q=0" and absent codings do not;
/// "*" takes any not named with q=0).
bool accepts(std::string_view accept_encoding, std::string_view coding);

}  // namespace restinu::gateway
