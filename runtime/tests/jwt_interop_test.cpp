#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>

#include "restinu/rt/base64.hpp"
#include "restinu/rt/jwt.hpp"

/// Proves that tokens and the JWKS are what a third-party verifier (PyJWT, Debian's python3-jwt)
/// expects: ES256 with JWS R||S signatures, EC JWKs, iss and aud as PyJWT checks them.
namespace restinu::rt {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kIssuer = "https://restinu.dev/user";
constexpr const char* kAudience = "restinu-api";

/// Verifies argv[2] with the JWKS in file argv[1]; prints "OK <sub>" or "REJECTED <error>".
constexpr const char* kVerifyPy = R"PY(
import sys, jwt
jwks = jwt.PyJWKSet.from_json(open(sys.argv[1]).read())
token, audience, issuer = sys.argv[2], sys.argv[3], sys.argv[4]
kid = jwt.get_unverified_header(token).get("kid")
keys = [k for k in jwks.keys if k.key_id == kid]
if not keys:
    print("REJECTED unknown-kid")
    sys.exit(0)
try:
    claims = jwt.decode(token, keys[0].key, algorithms=["ES256"], audience=audience,
                        issuer=issuer)
    print("OK", claims["sub"])
except jwt.InvalidTokenError as e:
    print("REJECTED", type(e).__name__)
)PY";

/// Signs with the private PEM in file argv[1] and kid argv[2]; prints the token.
constexpr const char* kSignPy = R"PY(
import sys, time, jwt
now = int(time.time())
claims = {"sub": "py-user", "roles": ["buyer"], "sid": "py-sess", "iat": now, "exp": now + 300,
          "iss": sys.argv[3], "aud": sys.argv[4], "jti": "py-1"}
print(jwt.encode(claims, open(sys.argv[1]).read(), algorithm="ES256",
                 headers={"kid": sys.argv[2]}))
)PY";

class TempDir {
public:
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "restinu-jwt-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) != nullptr) {
            path_ = tmpl;
        }
    }
    ~TempDir() {
        std::error_code ec;
        if (!path_.empty()) {
            fs::remove_all(path_, ec);
        }
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    fs::path write(const std::string& name, const std::string& content) const {
        auto p = path_ / name;
        std::ofstream(p) << content;
        return p;
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

/// Runs `/usr/bin/python3 -c script args...`; returns stdout and stderr, and the exit status
/// through `status`. Script and arguments go in single quotes, so none may contain one.
std::string runPython(const std::string& script, const std::vector<std::string>& args,
                      int& status) {
    std::string cmd = "/usr/bin/python3 -c '" + script + "'";
    EXPECT_EQ(script.find('\''), std::string::npos);
    for (const auto& a : args) {
        EXPECT_EQ(a.find('\''), std::string::npos) << a;
        cmd += " '" + a + "'";
    }
    cmd += " 2>&1";
    std::string out;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (pipe == nullptr) {
        status = -1;
        return out;
    }
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) {
        out.append(buf.data(), n);
    }
    int rc = ::pclose(pipe);
    status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    return out;
}

std::int64_t nowUnix() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

struct JwtInterop : ::testing::Test {
    TempDir dir;
    SigningKey old_key = generateSigningKey("2024-old");
    SigningKey key = generateSigningKey("2025-current");
    TokenSigner signer{key, kIssuer, kAudience, 900s};
    fs::path jwks_path;

    void SetUp() override {
        ASSERT_FALSE(dir.path().empty()) << "mkdtemp failed";
        jwks_path = dir.write(
            "jwks.json", jwksJson({{old_key.kid, old_key.public_pem}, {key.kid, key.public_pem}}));
    }

    std::string pyVerify(const std::string& token, const std::string& audience = kAudience) {
        int status = 0;
        auto out = runPython(kVerifyPy, {jwks_path.string(), token, audience, kIssuer}, status);
        EXPECT_EQ(status, 0) << out;
        return out;
    }
};

TEST_F(JwtInterop, PyJwtVerifiesOurTokenWithOurJwks) {
    auto token = signer.sign("user-42", {"buyer", "agent"}, "sess-1", nowUnix());
    EXPECT_EQ(pyVerify(token), "OK user-42\n");
}

TEST_F(JwtInterop, PyJwtRejectsATamperedToken) {
    auto token = signer.sign("user-42", {"buyer"}, "sess-1", nowUnix());
    auto first = token.find('.');
    auto second = token.find('.', first + 1);
    auto payload = *base64UrlDecode(token.substr(first + 1, second - first - 1));
    auto at = payload.find("user-42");
    ASSERT_NE(at, std::string::npos);
    payload.replace(at, 7, "user-66");
    auto tampered = token.substr(0, first + 1) + base64UrlEncode(payload) + token.substr(second);
    EXPECT_EQ(pyVerify(tampered), "REJECTED InvalidSignatureError\n");
}

TEST_F(JwtInterop, PyJwtRejectsAWrongAudience) {
    auto token = signer.sign("user-42", {}, "sess-1", nowUnix());
    EXPECT_EQ(pyVerify(token, "someone-else"), "REJECTED InvalidAudienceError\n");
}

TEST_F(JwtInterop, WeVerifyAPyJwtToken) {
    auto pem_path = dir.write("key.pem", key.private_pem);
    int status = 0;
    auto out = runPython(kSignPy, {pem_path.string(), key.kid, kIssuer, kAudience}, status);
    ASSERT_EQ(status, 0) << out;
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
        out.pop_back();
    }
    TokenVerifier verifier(kIssuer, kAudience, 30s);
    verifier.setKeys({{old_key.kid, old_key.public_pem}, {key.kid, key.public_pem}});
    std::string why;
    auto claims = verifier.verify(out, nowUnix(), &why);
    ASSERT_TRUE(claims.has_value()) << why << "\n" << out;
    EXPECT_EQ(claims->subject, "py-user");
    EXPECT_EQ(claims->roles, (std::vector<std::string>{"buyer"}));
    EXPECT_EQ(claims->session_id, "py-sess");
}

}  // namespace
}  // namespace restinu::rt
