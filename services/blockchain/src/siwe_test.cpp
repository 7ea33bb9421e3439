// Sign-In with Ethereum (EIP-4361) messages: the EIP's own example reads and writes back byte
// for byte, our challenge has the exact shape of the ABNF, and the parser refuses whatever the
// ABNF (or our stricter reading of it) does not allow.
#include "siwe.hpp"

#include <gtest/gtest.h>

namespace restinu::blockchain::siwe {
namespace {

// The example message of EIP-4361 ("Example message").
constexpr std::string_view kSpecExample =
    "service.org wants you to sign in with your Ethereum account:\n"
    "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2\n"
    "\n"
    "I accept the ServiceOrg Terms of Service: https://service.org/tos\n"
    "\n"
    "URI: https://service.org/login\n"
    "Version: 1\n"
    "Chain ID: 1\n"
    "Nonce: 32891756\n"
    "Issued At: 2021-09-30T16:25:24Z\n"
    "Resources:\n"
    "- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/\n"
    "- https://example.com/my-web2-claim.json";

constexpr std::string_view kOurs =
    "localhost:8080 wants you to sign in with your Ethereum account:\n"
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n"
    "\n"
    "Link this Ethereum account to your REST-iN-U account.\n"
    "\n"
    "URI: http://localhost:8080\n"
    "Version: 1\n"
    "Chain ID: 31337\n"
    "Nonce: k3Jd92LqPz0aXv7WmB4t\n"
    "Issued At: 2026-05-01T10:00:00Z\n"
    "Expiration Time: 2026-05-01T10:10:00Z";

Message ours() {
    Message m;
    m.domain = "localhost:8080";
    m.address = *eth::Address::parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed");
    m.statement = "Link this Ethereum account to your REST-iN-U account.";
    m.uri = "http://localhost:8080";
    m.chain_id = 31337;
    m.nonce = "k3Jd92LqPz0aXv7WmB4t";
    m.issued_at =
        rfc3339(std::chrono::sys_days(std::chrono::year(2026) / 5 / 1) + std::chrono::hours(10));
    m.expiration_time = "2026-05-01T10:10:00Z";
    return m;
}

std::string replaced(std::string_view text, std::string_view from, std::string_view to) {
    std::string out(text);
    auto at = out.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    out.replace(at, from.size(), to);
    return out;
}

TEST(Siwe, TheSpecsExampleReadsAsItsFieldsAndWritesBackByteForByte) {
    std::string why;
    auto m = parse(kSpecExample, &why);
    ASSERT_TRUE(m) << why;
    EXPECT_EQ(m->scheme, "");
    EXPECT_EQ(m->domain, "service.org");
    EXPECT_EQ(m->address.checksummed(), "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2");
    EXPECT_EQ(m->statement, "I accept the ServiceOrg Terms of Service: https://service.org/tos");
    EXPECT_EQ(m->uri, "https://service.org/login");
    EXPECT_EQ(m->chain_id, 1U);
    EXPECT_EQ(m->nonce, "32891756");
    EXPECT_EQ(m->issued_at, "2021-09-30T16:25:24Z");
    EXPECT_FALSE(m->expiration_time);
    ASSERT_EQ(m->resources.size(), 2U);
    EXPECT_EQ(m->resources[1], "https://example.com/my-web2-claim.json");
    EXPECT_EQ(format(*m), kSpecExample);
}

TEST(Siwe, OurChallengeIsTheAbnfsShapeAndRoundTrips) {
    EXPECT_EQ(format(ours()), kOurs);
    auto back = parse(kOurs);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, ours());
}

TEST(Siwe, EveryOptionalPartRoundTripsAndNoStatementIsTwoBlankLines) {
    Message m = ours();
    m.scheme = "https";
    m.domain = "user@[::1]:8443";
    m.statement.reset();
    m.not_before = "2026-05-01T09:59:00.123+05:30";
    m.request_id = "req-42:x@y";
    m.resources = {"https://restinu.dev/terms"};
    const auto text = format(m);
    EXPECT_NE(text.find("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n\n\nURI: "), std::string::npos)
        << text;
    std::string why;
    auto back = parse(text, &why);
    ASSERT_TRUE(back) << why;
    EXPECT_EQ(*back, m);
    EXPECT_EQ(format(*back), text);

    m.statement = "";  // an empty statement is a present one: three blank lines
    auto empty = parse(format(m), &why);
    ASSERT_TRUE(empty) << why;
    EXPECT_EQ(empty->statement, "");
    m.resources.clear();  // "Resources:" with none listed is allowed
    auto none = parse(format(m) + "\nResources:", &why);
    ASSERT_TRUE(none) << why;
    EXPECT_TRUE(none->resources.empty());
}

TEST(Siwe, AMissingLineIsRefused) {
    std::vector<std::string> lines;
    std::string text(kOurs);
    for (std::size_t start = 0;;) {
        auto lf = text.find('\n', start);
        lines.push_back(text.substr(start, lf == std::string::npos ? lf : lf - start));
        if (lf == std::string::npos) {
            break;
        }
        start = lf + 1;
    }
    ASSERT_EQ(lines.size(), 11U);
    for (std::size_t drop = 0; drop < lines.size(); ++drop) {
        if (drop == 3 || drop == 10) {
            continue;  // the statement and the expiration time are optional
        }
        std::string without;
        for (std::size_t i = 0; i < lines.size(); ++i) {
            if (i != drop) {
                without += lines[i] + (i + 1 < lines.size() ? "\n" : "");
            }
        }
        std::string why;
        EXPECT_FALSE(parse(without, &why)) << "without line " << drop + 1 << ":\n" << without;
        EXPECT_FALSE(why.empty());
    }
}

TEST(Siwe, MalformedMessagesAreRefusedSayingWhy) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"a mistyped checksum", replaced(kOurs, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                                         "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD")},
        {"an all lower-case address", replaced(kOurs, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                                               "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")},
        {"a short address", replaced(kOurs, "BeAed\n", "BeAe\n")},
        {"version 2", replaced(kOurs, "Version: 1", "Version: 2")},
        {"a nonce with a dash", replaced(kOurs, "k3Jd92LqPz0aXv7WmB4t", "k3Jd92Lq-z0aXv7WmB4t")},
        {"a 7-character nonce", replaced(kOurs, "k3Jd92LqPz0aXv7WmB4t", "k3Jd92L")},
        {"a chain id with a leading zero", replaced(kOurs, "Chain ID: 31337", "Chain ID: 031337")},
        {"a chain id that is no number", replaced(kOurs, "Chain ID: 31337", "Chain ID: 0x7a69")},
        {"a trailing newline", std::string(kOurs) + "\n"},
        {"CRLF line ends", replaced(kOurs, "Version: 1\n", "Version: 1\r\n")},
        {"a statement on two lines", replaced(kOurs, "Link this", "Link\nthis")},
        {"a statement with a quote", replaced(kOurs, "Link this", "Link \"this\"")},
        {"February 30th", replaced(kOurs, "2026-05-01T10:00:00Z", "2026-02-30T10:00:00Z")},
        {"a time with a space", replaced(kOurs, "2026-05-01T10:00:00Z", "2026-05-01 10:00:00Z")},
        {"a time with no offset", replaced(kOurs, "2026-05-01T10:00:00Z", "2026-05-01T10:00:00")},
        {"fields out of order", replaced(kOurs, "Expiration Time: 2026-05-01T10:10:00Z",
                                         "Request ID: 1\nExpiration Time: 2026-05-01T10:10:00Z")},
        {"an unknown field", std::string(kOurs) + "\nColour: red"},
        {"another headline", replaced(kOurs, "sign in with", "log in with")},
        {"a URI with no scheme", replaced(kOurs, "URI: http://localhost:8080", "URI: localhost")},
        {"a URI with a space", replaced(kOurs, "URI: http://localhost:8080", "URI: http://a b")},
        {"a domain with a space", replaced(kOurs, "localhost:8080 wants", "local host wants")},
        {"a domain with a path", replaced(kOurs, "localhost:8080 wants", "localhost/x wants")},
        {"a port that is no number",
         replaced(kOurs, "localhost:8080 wants", "localhost:80a wants")},
        {"a resource without its dash", std::string(kOurs) + "\nResources:\nhttps://a.example"},
        {"nothing", ""},
    };
    for (const auto& [what, text] : cases) {
        std::string why;
        EXPECT_FALSE(parse(text, &why)) << what << ":\n" << text;
        EXPECT_FALSE(why.empty()) << what;
    }
}

TEST(Siwe, Rfc3339TimesReadToUtcAndWriteInUtc) {
    using namespace std::chrono;
    const sys_seconds t = sys_days(year(2021) / 9 / 30) + hours(16) + minutes(25) + seconds(24);
    EXPECT_EQ(rfc3339(t), "2021-09-30T16:25:24Z");
    EXPECT_EQ(parseRfc3339("2021-09-30T16:25:24Z"), t);
    EXPECT_EQ(parseRfc3339("2021-09-30t16:25:24.999z"), t);
    EXPECT_EQ(parseRfc3339("2021-09-30T21:55:24+05:30"), t);
    EXPECT_EQ(parseRfc3339("2021-09-30T11:25:24-05:00"), t);
    for (auto bad : {"2021-09-30T16:25:24", "2021-13-01T00:00:00Z", "2021-09-30T24:00:00Z",
                     "2021-09-30T16:25:24.Z", "2021-09-30T16:25:24+0530", "21-09-30T16:25:24Z",
                     "2021-09-30T16:25:24Z "}) {
        EXPECT_FALSE(parseRfc3339(bad)) << bad;
    }
}

TEST(Siwe, AKeysPersonalSignatureOfTheMessageRecoversToItsAddress) {
    auto key = eth::PrivateKey::generate();
    Message m = ours();
    m.address = key.address();
    const auto text = format(m);
    const auto sig = key.sign(eth::personalMessageDigest(text));
    EXPECT_EQ(eth::recoverSigner(eth::personalMessageDigest(text), sig), key.address());
    EXPECT_NE(eth::recoverSigner(eth::personalMessageDigest(text + " "), sig), key.address());
}

}  // namespace
}  // namespace restinu::blockchain::siwe
