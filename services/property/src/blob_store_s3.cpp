// The blob store on an S3-compatible bucket: PUT, GET (with Range), HEAD and DELETE, signed
// with AWS Signature V4 by libcurl (CURLOPT_AWS_SIGV4).
//
// The payload hash: S3 wants every V4 request to carry x-amz-content-sha256, signed. libcurl
// 7.88 neither sends it nor hashes an upload (it signs the SHA-256 of "" for a read-callback
// body, and of the POSTFIELDS otherwise); given the header, it signs with its value instead. So
// each request sets it: the body's SHA-256 for a PUT (computed on the worker that reads the
// file), that of "" otherwise. Newer libcurl honours the header the same way.
// Never add an empty header to remove one ("Expect:"): libcurl 7.88 signs it but does not send
// it, and S3 answers SignatureDoesNotMatch.
#include <algorithm>
#include <charconv>
#include <fstream>
#include <utility>

#include "blob_store.hpp"
#include "restinu/rt/curl.hpp"
#include "restinu/rt/digest.hpp"
#include "restinu/rt/worker_pool.hpp"

namespace restinu::property::images {
namespace {

constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// A file to upload, with its SHA-256 for x-amz-content-sha256.
struct Payload {
    std::string bytes;
    std::string sha256;
};

Payload readPayload(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) {
        throw BlobStoreError("S3 blob store: cannot open " + path, 0, "", false);
    }
    const auto size = static_cast<std::uint64_t>(in.tellg());
    if (size > kMaxBlobBytes) {
        throw BlobStoreError("S3 blob store: " + path + " is larger than " +
                                 std::to_string(kMaxBlobBytes) + " bytes",
                             0, "", false);
    }
    Payload p;
    p.bytes.resize(static_cast<std::size_t>(size));
    in.seekg(0);
    if (!in.read(p.bytes.data(), static_cast<std::streamsize>(size))) {
        throw BlobStoreError("S3 blob store: cannot read " + path, 0, "", false);
    }
    p.sha256 = rt::sha256Hex(p.bytes);
    return p;
}

// The text of <tag>…</tag> in an S3 error document; "" when absent.
std::string xmlText(std::string_view xml, std::string_view tag) {
    const std::string open = "<" + std::string(tag) + ">";
    const auto start = xml.find(open);
    if (start == std::string_view::npos) {
        return {};
    }
    const auto from = start + open.size();
    const auto end = xml.find("</" + std::string(tag) + ">", from);
    return end == std::string_view::npos ? std::string()
                                         : std::string(xml.substr(from, end - from));
}

std::optional<std::uint64_t> number(std::string_view s) {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
}

struct ContentRange {
    std::optional<std::uint64_t> first, last;  // none for "bytes */N"
    std::uint64_t total = 0;
};

// "bytes 10-99/1000" or "bytes */1000".
std::optional<ContentRange> parseContentRange(std::string_view v) {
    if (!v.starts_with("bytes ")) {
        return std::nullopt;
    }
    v.remove_prefix(6);
    const auto slash = v.find('/');
    if (slash == std::string_view::npos) {
        return std::nullopt;
    }
    ContentRange r;
    const auto total = number(v.substr(slash + 1));
    if (!total) {
        return std::nullopt;
    }
    r.total = *total;
    const auto span = v.substr(0, slash);
    if (span == "*") {
        return r;
    }
    const auto dash = span.find('-');
    if (dash == std::string_view::npos) {
        return std::nullopt;
    }
    r.first = number(span.substr(0, dash));
    r.last = number(span.substr(dash + 1));
    if (!r.first || !r.last || *r.last < *r.first || *r.last >= r.total) {
        return std::nullopt;
    }
    return r;
}

class S3BlobStore final : public BlobStore {
public:
    S3BlobStore(S3Options o, rt::Curl& curl, rt::WorkerPool& io)
        : o_(std::move(o)), curl_(curl), io_(io), sigv4_("aws:amz:" + o_.region + ":s3") {
        while (!o_.endpoint.empty() && o_.endpoint.back() == '/') {
            o_.endpoint.pop_back();
        }
        const auto scheme = o_.endpoint.find("://");
        if (scheme == std::string::npos || o_.bucket.empty()) {
            throw std::invalid_argument("S3 blob store: needs an endpoint URL and a bucket");
        }
        base_ = o_.path_style ? o_.endpoint + "/" + o_.bucket + "/"
                              : o_.endpoint.substr(0, scheme + 3) + o_.bucket + "." +
                                    o_.endpoint.substr(scheme + 3) + "/";
    }

    rt::Task<void> put(std::string key, std::string file_path, std::string content_type) override {
        checkKey(key);
        if (content_type.find_first_of("\r\n") != std::string::npos) {
            throw std::invalid_argument("S3 blob store: a content type on more than one line");
        }
        auto job = [file_path] { return readPayload(file_path); };
        const Payload payload = co_await io_.run(std::move(job));
        rt::CurlEasy e;
        prepare(e, key, payload.sha256);
        e.header("Content-Type: " + content_type);
        curl_easy_setopt(e.get(), CURLOPT_CUSTOMREQUEST, "PUT");
        curl_easy_setopt(e.get(), CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(payload.bytes.size()));
        curl_easy_setopt(e.get(), CURLOPT_POSTFIELDS, payload.bytes.data());
        co_await send(e, "PUT", key);
        if (e.status() / 100 != 2) {
            refused(e, "PUT", key);
        }
    }

    rt::Task<std::optional<Blob>> get(std::string key, std::optional<ByteRange> range) override {
        checkKey(key);
        if (range && range->last < range->first) {
            throw std::invalid_argument("blob range: last before first");
        }
        rt::CurlEasy e;
        prepare(e, key, kEmptySha256);
        e.max_response_bytes = kMaxBlobBytes;
        if (range) {
            e.header("Range: bytes=" + std::to_string(range->first) + "-" +
                     std::to_string(range->last));
        }
        co_await send(e, "GET", key);
        const long status = e.status();
        if (status == 404 && errorCode(e) != "NoSuchBucket") {
            co_return std::nullopt;
        }
        if (status == 416) {
            const std::uint64_t total = co_await sizeAfter416(e, key);
            throw RangeNotSatisfiable(total);
        }
        if (status != 200 && status != 206) {
            refused(e, "GET", key);
        }
        Blob blob;
        blob.content_type = std::string(e.responseHeader("Content-Type"));
        blob.bytes = e.takeResponseBody();
        if (status == 200) {
            // The whole object (no range asked, or a server that ignores Range).
            blob.total_size = blob.bytes.size();
            if (range) {
                if (range->first >= blob.total_size) {
                    throw RangeNotSatisfiable(blob.total_size);
                }
                const auto last = std::min(range->last, blob.total_size - 1);
                blob.bytes = blob.bytes.substr(range->first, last - range->first + 1);
                blob.first = range->first;
            }
            co_return blob;
        }
        const auto cr = parseContentRange(e.responseHeader("Content-Range"));
        if (!cr || !cr->first || *cr->last - *cr->first + 1 != blob.bytes.size() ||
            (range && (*cr->first > range->first || *cr->last < range->first))) {
            throw BlobStoreError("S3 GET " + o_.bucket + "/" + key +
                                     ": a 206 without the Content-Range asked for (\"" +
                                     std::string(e.responseHeader("Content-Range")) + "\")",
                                 status, "", false);
        }
        blob.first = *cr->first;
        blob.total_size = cr->total;
        if (range && (*cr->first < range->first || *cr->last > range->last)) {
            // More than was asked for: keep what was.
            const auto last = std::min(range->last, *cr->last);
            blob.bytes = blob.bytes.substr(range->first - *cr->first, last - range->first + 1);
            blob.first = range->first;
        }
        co_return blob;
    }

    rt::Task<bool> exists(std::string key) override {
        checkKey(key);
        // A GET of the first byte, not a HEAD: an answer to HEAD has no body, so its errors
        // carry no Code and a missing bucket would look like a missing key.
        rt::CurlEasy e;
        prepare(e, key, kEmptySha256);
        e.max_response_bytes = kMaxBlobBytes;  // in case a server ignores the Range
        e.header("Range: bytes=0-0");
        co_await send(e, "GET", key);
        const long status = e.status();
        if (status == 200 || status == 206 || status == 416) {  // 416: an empty object
            co_return true;
        }
        // Without s3:ListBucket, S3 answers a missing key with 403, not 404: an error here.
        if (status != 404 || errorCode(e) == "NoSuchBucket") {
            refused(e, "GET", key);
        }
        co_return false;
    }

    rt::Task<void> remove(std::string key) override {
        checkKey(key);
        rt::CurlEasy e;
        prepare(e, key, kEmptySha256);
        curl_easy_setopt(e.get(), CURLOPT_CUSTOMREQUEST, "DELETE");
        co_await send(e, "DELETE", key);
        // S3 answers 204 for a key that is not there; some S3-compatible servers 404.
        if (e.status() / 100 != 2 && !(e.status() == 404 && errorCode(e) != "NoSuchBucket")) {
            refused(e, "DELETE", key);
        }
    }

private:
    void prepare(rt::CurlEasy& e, const std::string& key, std::string_view payload_sha256) const {
        const std::string url = base_ + key;  // keys need no escaping (checkKey)
        curl_easy_setopt(e.get(), CURLOPT_URL, url.c_str());
        curl_easy_setopt(e.get(), CURLOPT_AWS_SIGV4, sigv4_.c_str());
        curl_easy_setopt(e.get(), CURLOPT_USERNAME, o_.access_key.c_str());
        curl_easy_setopt(e.get(), CURLOPT_PASSWORD, o_.secret_key.c_str());
        e.header("x-amz-content-sha256: " + std::string(payload_sha256));
        e.total_timeout = o_.timeout;
    }

    rt::Task<void> send(rt::CurlEasy& e, std::string method, std::string key) {
        try {
            co_await curl_.perform(e);
        } catch (const rt::CurlError& err) {
            throw BlobStoreError("S3 " + method + " " + o_.bucket + "/" + key + ": " + err.what(),
                                 0, "", err.transient());
        }
    }

    // S3's error Code: from the XML body, or (HEAD, which has none) s3rver's header.
    static std::string errorCode(const rt::CurlEasy& e) {
        auto code = xmlText(e.responseBody(), "Code");
        return code.empty() ? std::string(e.responseHeader("x-amz-error-code")) : code;
    }

    [[noreturn]] void refused(const rt::CurlEasy& e, std::string_view method,
                              const std::string& key) const {
        const long status = e.status();
        const auto code = errorCode(e);
        std::string what = "S3 " + std::string(method) + " " + o_.bucket + "/" + key +
                           " answered " + std::to_string(status);
        if (!code.empty()) {
            what += " " + code;
        }
        if (auto message = xmlText(e.responseBody(), "Message"); !message.empty()) {
            what += ": " + message.substr(0, 300);
        }
        const bool transient =
            status >= 500 || status == 429 || code == "SlowDown" || code == "RequestTimeout";
        throw BlobStoreError(what, status, code, transient);
    }

    // The object's size after a 416: from "Content-Range: bytes */N", S3's ActualObjectSize,
    // or else a HEAD.
    rt::Task<std::uint64_t> sizeAfter416(const rt::CurlEasy& e, std::string key) {
        if (auto cr = parseContentRange(e.responseHeader("Content-Range")); cr && !cr->first) {
            co_return cr->total;
        }
        if (auto size = number(xmlText(e.responseBody(), "ActualObjectSize"))) {
            co_return *size;
        }
        rt::CurlEasy head;
        prepare(head, key, kEmptySha256);
        curl_easy_setopt(head.get(), CURLOPT_NOBODY, 1L);
        co_await send(head, "HEAD", key);
        if (head.status() != 200) {
            refused(head, "HEAD", key);
        }
        const auto size = number(head.responseHeader("Content-Length"));
        co_return size.value_or(0);
    }

    S3Options o_;
    rt::Curl& curl_;
    rt::WorkerPool& io_;
    std::string sigv4_;
    std::string base_;
};

}  // namespace

BlobStorePtr s3BlobStore(S3Options options, rt::Curl& curl, rt::WorkerPool& io) {
    return std::make_unique<S3BlobStore>(std::move(options), curl, io);
}

}  // namespace restinu::property::images
