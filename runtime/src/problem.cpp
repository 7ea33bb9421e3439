#include "restinu/rt/problem.hpp"

#include "restinu/rt/json_text.hpp"

namespace restinu::rt {

std::string problemJson(const Problem& p, std::string_view instance, std::string_view request_id) {
    std::string out;
    out.reserve(256 + p.detail.size());
    auto str = [&out](std::string_view key, std::string_view value) {
        out += '"';
        out += key;
        out += "\":\"";
        appendJsonEscaped(out, value);
        out += '"';
    };
    out += '{';
    out += R"("type":")";
    out += problems::kBaseUri;
    out += p.type.slug;
    out += "\",";
    str("title", p.type.title);
    out += ",\"status\":";
    out += std::to_string(p.type.status);
    if (!p.detail.empty()) {
        out += ',';
        str("detail", p.detail);
    }
    if (!instance.empty()) {
        out += ',';
        str("instance", instance);
    }
    if (!request_id.empty()) {
        out += ',';
        str("request_id", request_id);
    }
    if (!p.errors.empty()) {
        out += ",\"errors\":[";
        bool first = true;
        for (const auto& e : p.errors) {
            if (!first) {
                out += ',';
            }
            first = false;
            out += '{';
            str("field", e.field);
            out += ',';
            str("reason", e.reason);
            out += '}';
        }
        out += ']';
    }
    out += '}';
    return out;
}

Response problemResponse(const Problem& p, std::string_view instance, std::string_view request_id) {
    Response r{p.type.status, "application/problem+json", problemJson(p, instance, request_id)};
    for (const auto& h : p.headers) {
        r.headers.push_back(h);
    }
    return r;
}

}  // namespace restinu::rt
