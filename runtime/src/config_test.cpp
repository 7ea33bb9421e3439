#include "restinu/rt/config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace restinu::rt {
namespace {

TEST(Config, EnvironmentWinsOverFile) {
    auto c =
        Config::fromText("http:\n  port: 8080\n  address: 0.0.0.0\n", {"RESTINU_HTTP__PORT=9090"});
    EXPECT_EQ(c.port("http.port", 1), 9090);
    EXPECT_EQ(c.str("http.address", "127.0.0.1"), "0.0.0.0");
    EXPECT_NO_THROW(c.check());
}

TEST(Config, DefaultsApplyWhenAbsent) {
    auto c = Config::fromText("", {});
    EXPECT_EQ(c.integer("pg.pool_size", 8, 1, 100), 8);
    EXPECT_EQ(c.duration("http.idle_timeout", std::chrono::seconds(60)), std::chrono::seconds(60));
    EXPECT_NO_THROW(c.check());
}

TEST(Config, EveryProblemIsReportedOncePerKey) {
    auto c = Config::fromText("http:\n  port: eighty\n  prot: 1\n",
                              {"RESTINU_PG__POOL_SIZE=0", "RESTINU_HTTP__IDLE_TIMEOUT=10 years"});
    c.port("http.port", 8080);
    c.integer("pg.pool_size", 8, 1, 100);
    c.duration("http.idle_timeout", std::chrono::seconds(60));
    c.str("pg.url");
    try {
        c.check();
        FAIL() << "check() accepted a bad config";
    } catch (const ConfigError& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("5 problems"), std::string::npos) << msg;
        EXPECT_NE(msg.find("http.port: must be an integer (got \"eighty\" from config file)"),
                  std::string::npos)
            << msg;
        EXPECT_NE(msg.find("pg.pool_size: must be between 1 and 100 (got \"0\" from "
                           "RESTINU_PG__POOL_SIZE)"),
                  std::string::npos)
            << msg;
        EXPECT_NE(msg.find("http.idle_timeout: must be a duration"), std::string::npos) << msg;
        EXPECT_NE(msg.find("pg.url: is required (set it in the config file or as RESTINU_PG__URL)"),
                  std::string::npos)
            << msg;
        EXPECT_NE(msg.find("http.prot: unknown key"), std::string::npos) << msg;
    }
}

TEST(Config, DurationsAcceptUnits) {
    auto c = Config::fromText("a: 250ms\nb: 10s\nc: 5m\nd: 1h\ne: 42\n", {});
    EXPECT_EQ(c.duration("a", std::nullopt).count(), 250);
    EXPECT_EQ(c.duration("b", std::nullopt).count(), 10'000);
    EXPECT_EQ(c.duration("c", std::nullopt).count(), 300'000);
    EXPECT_EQ(c.duration("d", std::nullopt).count(), 3'600'000);
    EXPECT_EQ(c.duration("e", std::nullopt).count(), 42);
    EXPECT_NO_THROW(c.check());
}

TEST(Config, BooleansAndLists) {
    auto c = Config::fromText("flags:\n  on: yes\nhosts:\n  - a:1\n  - b:2\n",
                              {"RESTINU_MORE=x, y ,z", "RESTINU_BAD=maybe"});
    EXPECT_TRUE(c.boolean("flags.on", false));
    EXPECT_EQ(c.list("hosts", std::nullopt), (std::vector<std::string>{"a:1", "b:2"}));
    EXPECT_EQ(c.list("more", std::nullopt), (std::vector<std::string>{"x", "y", "z"}));
    c.boolean("bad", false);
    EXPECT_THROW(c.check(), ConfigError);
}

TEST(Config, SecretFromFileAndRedactedInDump) {
    std::string path = ::testing::TempDir() + "/restinu-secret.txt";
    {
        std::ofstream out(path);
        out << "s3cret\n";
    }
    auto c = Config::fromText("", {"RESTINU_AUTH__HMAC_SECRET_FILE=" + path});
    EXPECT_EQ(c.str("auth.hmac_secret"), "s3cret");
    EXPECT_NO_THROW(c.check());
    EXPECT_EQ(c.dump().find("s3cret"), std::string::npos);
    EXPECT_NE(c.dump().find("auth.hmac_secret: <redacted>"), std::string::npos);
    std::remove(path.c_str());
}

TEST(Config, PasswordsInsideConninfoAreRedactedInDump) {
    auto c = Config::fromText("", {"RESTINU_PG__URL=host=db port=5432 password=hunter2 user=app",
                                   "RESTINU_OTHER__URL=postgresql://app:hunter3@db/x"});
    c.str("pg.url");
    c.str("other.url");
    auto dump = c.dump();
    EXPECT_EQ(dump.find("hunter2"), std::string::npos) << dump;
    EXPECT_EQ(dump.find("hunter3"), std::string::npos) << dump;
    EXPECT_NE(dump.find("host=db port=5432 password=<redacted> user=app"), std::string::npos);
}

// A bad secret is named, with where it came from, but its value never appears in the error
// (before, `identity.secret: too short (got "..." from ...)` printed it).
TEST(Config, ErrorsAboutSecretsDoNotEchoTheirValues) {
    auto c = Config::fromText(
        "", {"RESTINU_IDENTITY__SECRET=short-but-secret",
             "RESTINU_KYC__ENCRYPTION_KEY=not-base64-but-secret",
             "RESTINU_PG__URL=host=db password=hunter2", "RESTINU_HTTP__PORT=http"});
    c.str("identity.secret");
    c.reject("identity.secret", "must be at least 32 characters");
    c.str("kyc.encryption_key");
    c.reject("kyc.encryption_key", "must be 32 random bytes in base64");
    c.str("pg.url");
    c.reject("pg.url", "cannot be used");
    c.port("http.port", 80);
    std::string message;
    try {
        c.check();
    } catch (const ConfigError& e) {
        message = e.what();
    }
    EXPECT_EQ(message.find("short-but-secret"), std::string::npos) << message;
    EXPECT_EQ(message.find("not-base64-but-secret"), std::string::npos) << message;
    EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
    EXPECT_NE(message.find("identity.secret: must be at least 32 characters (got a value of 16 "
                           "characters from RESTINU_IDENTITY__SECRET)"),
              std::string::npos)
        << message;
    // Values that are not secrets are still shown, to help fix them.
    EXPECT_NE(message.find("\"http\""), std::string::npos) << message;
}

TEST(Config, MalformedYamlIsAProblemNotACrash) {
    auto c = Config::fromText("a: [unclosed\n", {});
    EXPECT_THROW(c.check(), ConfigError);
}

TEST(Config, OneOfNamesTheAllowedValues) {
    auto c = Config::fromText("log:\n  format: xml\n", {});
    c.oneOf("log.format", "json", {"json", "text"});
    try {
        c.check();
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("must be one of: json, text"), std::string::npos);
    }
}

TEST(Config, ChildrenListsNamesFromFileAndEnvironment) {
    auto c = Config::fromText("upstreams:\n  user: a\n  property: b\n",
                              {"RESTINU_UPSTREAMS__PAYMENT=c"});
    EXPECT_EQ(c.children("upstreams"), (std::vector<std::string>{"payment", "property", "user"}));
}

TEST(Config, EnvNameMapsDotsToDoubleUnderscores) {
    EXPECT_EQ(Config::envName("pg.pool_size"), "RESTINU_PG__POOL_SIZE");
}

}  // namespace
}  // namespace restinu::rt
