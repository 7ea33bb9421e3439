#include "metadata.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cid.hpp"
#include "restinu/rt/digest.hpp"
#include "restinu/rt/http_client.hpp"
#include "restinu/rt/spool.hpp"
#include "restinu/rt/worker_pool.hpp"

namespace restinu::blockchain {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

// The first photo's largest WebP rendition's path, or "".
std::string firstImage(const std::string& images_json) {
    json::error_code ec;
    auto v = json::parse(images_json, ec);
    if (ec || !v.is_array() || v.as_array().empty()) {
        return "";
    }
    const auto* renditions = v.as_array()[0].as_object().if_contains("renditions");
    if (renditions == nullptr || !renditions->is_array()) {
        return "";
    }
    std::string best;
    std::int64_t width = 0;
    for (const auto& r : renditions->as_array()) {
        const auto& o = r.as_object();
        const auto* url = o.if_contains("url");
        const auto* w = o.if_contains("width");
        const auto* format = o.if_contains("format");
        if (url == nullptr || !url->is_string() || w == nullptr || !w->is_int64() ||
            (format != nullptr && format->is_string() && format->as_string() != "webp")) {
            continue;
        }
        if (w->as_int64() > width) {
            width = w->as_int64();
            best = std::string(url->as_string());
        }
    }
    return best;
}

class LocalStore final : public MetadataStore {
public:
    explicit LocalStore(std::string dir) : dir_(std::move(dir)) {}

    rt::Task<std::string> put(std::string bytes) override {
        auto id = cid::ofBytes(bytes);
        auto job = [dir = dir_, id, bytes = std::move(bytes)] {
            fs::create_directories(dir);
            const auto final_path = dir + "/" + id;
            if (fs::exists(final_path)) {
                return;  // content-addressed: the same name is the same bytes
            }
            std::string tmp = final_path + ".tmp-";
            rt::appendRandomHex(tmp, 16);
            {
                std::ofstream out(tmp, std::ios::binary);
                out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
                out.flush();
                if (!out) {
                    throw std::runtime_error("metadata store: cannot write " + tmp);
                }
            }
            fs::rename(tmp, final_path);
        };
        co_await rt::fileIo().run(std::move(job));
        co_return id;
    }

    rt::Task<std::optional<std::string>> get(std::string id) override {
        if (!cid::digestOf(id)) {
            co_return std::nullopt;  // not a CID of ours: never a path
        }
        auto job = [path = dir_ + "/" + id]() -> std::optional<std::string> {
            std::ifstream in(path, std::ios::binary);
            if (!in) {
                return std::nullopt;
            }
            std::stringstream ss;
            ss << in.rdbuf();
            return ss.str();
        };
        co_return co_await rt::fileIo().run(std::move(job));
    }

private:
    std::string dir_;
};

class IpfsStore final : public MetadataStore {
public:
    IpfsStore(rt::HttpClient& http, std::string url) : http_(http) {
        constexpr std::string_view kScheme = "http://";
        if (url.rfind(kScheme, 0) != 0) {
            throw std::invalid_argument("the IPFS API URL must be http://HOST:PORT");
        }
        auto authority = url.substr(kScheme.size());
        authority = authority.substr(0, authority.find('/'));
        const auto colon = authority.rfind(':');
        host_ = authority.substr(0, colon);
        port_ = colon == std::string::npos
                    ? 80
                    : static_cast<std::uint16_t>(std::stoi(authority.substr(colon + 1)));
    }

    rt::Task<std::string> put(std::string bytes) override {
        const auto ours = cid::ofBytes(bytes);
        std::string boundary = "restinu-";
        rt::appendRandomHex(boundary, 24);
        rt::ClientRequest req;
        req.method = rt::Method::Post;
        req.host = host_;
        req.port = port_;
        req.target = "/api/v0/add?cid-version=1&raw-leaves=true&pin=true";
        req.headers = {{"Content-Type", "multipart/form-data; boundary=" + boundary}};
        req.body = "--" + boundary +
                   "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"metadata.json\""
                   "\r\nContent-Type: application/json\r\n\r\n" +
                   bytes + "\r\n--" + boundary + "--\r\n";
        auto res = co_await http_.request(req);
        if (res.status != 200) {
            throw std::runtime_error("the IPFS node answered add with HTTP " +
                                     std::to_string(res.status));
        }
        json::error_code ec;
        auto v = json::parse(res.body, ec);
        const auto* hash = !ec && v.is_object() ? v.as_object().if_contains("Hash") : nullptr;
        if (hash == nullptr || !hash->is_string() || hash->as_string() != ours) {
            throw std::runtime_error("the IPFS node stored the metadata under another CID than " +
                                     ours);
        }
        co_return ours;
    }

    rt::Task<std::optional<std::string>> get(std::string id) override {
        if (!cid::digestOf(id)) {
            co_return std::nullopt;
        }
        rt::ClientRequest req;
        req.method = rt::Method::Post;
        req.host = host_;
        req.port = port_;
        req.target = "/api/v0/cat?arg=" + id;
        auto res = co_await http_.request(req);
        if (res.status != 200 || cid::ofBytes(res.body) != id) {
            co_return std::nullopt;  // missing, or not the bytes the CID names
        }
        co_return res.body;
    }

private:
    rt::HttpClient& http_;
    std::string host_;
    std::uint16_t port_ = 80;
};

}  // namespace

std::string deedMetadata(const ListingView& l, const std::string& app_url) {
    json::array attributes{
        json::object{{"trait_type", "City"}, {"value", l.city}},
        json::object{{"trait_type", "State"}, {"value", l.state}},
        json::object{{"trait_type", "Property type"}, {"value", l.property_type}},
        json::object{{"trait_type", "Bedrooms"}, {"value", l.bedrooms}},
        json::object{{"trait_type", "Area (sq ft)"}, {"value", l.area_sqft}},
    };
    json::object o;
    o["name"] = l.title;
    o["description"] = l.description;
    const auto image = firstImage(l.images_json);
    if (!image.empty()) {
        o["image"] = app_url + image;
    }
    o["external_url"] = app_url + "/properties/" + l.id;
    o["attributes"] = std::move(attributes);
    o["property_id"] = l.id;
    return json::serialize(o);
}

std::unique_ptr<MetadataStore> localMetadataStore(std::string dir) {
    return std::make_unique<LocalStore>(std::move(dir));
}

std::unique_ptr<MetadataStore> ipfsMetadataStore(rt::HttpClient& http, std::string url) {
    return std::make_unique<IpfsStore>(http, std::move(url));
}

}  // namespace restinu::blockchain
