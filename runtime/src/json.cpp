#include "restinu/rt/json.hpp"

#include <boost/json.hpp>

#include "restinu/rt/problem.hpp"

namespace restinu::rt {

boost::json::value parseJsonBody(const Request& req) {
    auto ct = req.header("Content-Type");
    auto media = ct.substr(0, ct.find(';'));
    while (!media.empty() && media.back() == ' ') {
        media.remove_suffix(1);
    }
    bool json = iequals(media, "application/json") ||
                (media.size() > 5 && iequals(media.substr(media.size() - 5), "+json"));
    if (!json) {
        throw ApiError(problems::kUnsupportedMediaType,
                       "send the body as application/json" +
                           (ct.empty() ? std::string{} : ", not " + std::string(ct)));
    }
    boost::json::stream_parser parser;
    boost::system::error_code ec;
    auto consumed = parser.write(req.body.data(), req.body.size(), ec);
    if (!ec) {
        parser.finish(ec);
    }
    if (ec) {
        throw ApiError(problems::kMalformedJson, "the body is not valid JSON (" + ec.message() +
                                                     " near byte " + std::to_string(consumed) +
                                                     ")");
    }
    return parser.release();
}

boost::json::object parseJsonObject(const Request& req) {
    auto v = parseJsonBody(req);
    if (!v.is_object()) {
        throw ApiError(problems::kValidation, "the body must be a JSON object");
    }
    return std::move(v.as_object());
}

Response jsonResponse(int status, const boost::json::value& v) {
    return Response::json(status, boost::json::serialize(v));
}

}  // namespace restinu::rt
