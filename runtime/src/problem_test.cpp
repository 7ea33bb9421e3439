#include "restinu/rt/problem.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace restinu::rt {
namespace {

TEST(Problem, RendersRfc9457Members) {
    Problem p{problems::kNotFound, "no property 42", {}, {}};
    auto r = problemResponse(p, "/api/v1/properties/42", "req-1");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.content_type, "application/problem+json");
    auto v = boost::json::parse(r.body).as_object();
    EXPECT_EQ(v.at("type").as_string(), "https://restinu.dev/problems/not-found");
    EXPECT_EQ(v.at("title").as_string(), "Resource not found");
    EXPECT_EQ(v.at("status").as_int64(), 404);
    EXPECT_EQ(v.at("detail").as_string(), "no property 42");
    EXPECT_EQ(v.at("instance").as_string(), "/api/v1/properties/42");
    EXPECT_EQ(v.at("request_id").as_string(), "req-1");
    EXPECT_FALSE(v.contains("errors"));
}

TEST(Problem, EscapesDetailAndListsFieldErrors) {
    Problem p{problems::kValidation,
              "bad \"input\"\n",
              {{"price.amount", "must be > 0"}, {"title", "is required"}},
              {}};
    auto v = boost::json::parse(problemJson(p, "", "")).as_object();
    EXPECT_EQ(v.at("detail").as_string(), "bad \"input\"\n");
    EXPECT_EQ(v.at("status").as_int64(), 422);
    auto errors = v.at("errors").as_array();
    ASSERT_EQ(errors.size(), 2u);
    EXPECT_EQ(errors[0].at("field").as_string(), "price.amount");
    EXPECT_EQ(errors[1].at("reason").as_string(), "is required");
    EXPECT_FALSE(v.contains("instance"));
}

TEST(Problem, CarriesHeadersSuchAsAllow) {
    Problem p{problems::kMethodNotAllowed, "", {}, {{"Allow", "GET, HEAD"}}};
    auto r = problemResponse(p, "/x", "id");
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.header("allow"), "GET, HEAD");
}

TEST(Problem, ApiErrorKeepsItsProblem) {
    try {
        throw ApiError(problems::kConflict, "already exists");
    } catch (const ApiError& e) {
        EXPECT_EQ(e.problem().type.status, 409);
        EXPECT_EQ(e.problem().detail, "already exists");
    }
}

}  // namespace
}  // namespace restinu::rt
