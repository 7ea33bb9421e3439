#include "vastu_certificate.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace restinu::property::vastu {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// RFC 8032 §7.1, TEST 1 (empty message) and TEST 2 (one byte, 0x72).
constexpr std::string_view kSeed1 =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr std::string_view kPublic1 =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
constexpr std::string_view kSignature1 =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b4"
    "6"
    "bd25bf5f0595bbe24655141438e7a100b";
constexpr std::string_view kSeed2 =
    "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
constexpr std::string_view kPublic2 =
    "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
constexpr std::string_view kSignature2 =
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11"
    "d8c387b2eaeb4302aeeb00d291612bb0c00";

std::string hex(std::string_view bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += kHex[c >> 4];
        out += kHex[c & 0x0f];
    }
    return out;
}

std::string unhex(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
        out += static_cast<char>(std::stoi(std::string(text.substr(i, 2)), nullptr, 16));
    }
    return out;
}

CertificateBody sampleBody() {
    CertificateBody b;
    b.certificate_id = "vc_01JEXAMPLE";
    b.property_id = "prop_42";
    b.facing = "E";
    b.elements = {{"kitchen", "SE"}, {"main_entrance", "NE"}, {"master_bedroom", "SW"}};
    b.score = 82;
    b.grade = "A";
    b.rules_version = "2026.1";
    b.issued_at = std::chrono::sys_days{std::chrono::year{2026} / 12 / 6} + 15h + 4min + 5s;
    return b;
}

/// A fresh directory under the temp dir, removed with everything in it.
class TempDir {
public:
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "vastu-cert-XXXXXX").string();
        if (mkdtemp(tmpl.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::string write(const std::string& name, std::string_view bytes) const {
        auto p = path_ / name;
        std::ofstream(p, std::ios::binary)
            .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        return p.string();
    }
    std::string read(const std::string& name) const {
        std::ifstream in(path_ / name, std::ios::binary);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }
    std::string path(const std::string& name) const { return (path_ / name).string(); }

private:
    fs::path path_;
};

std::string shellQuoted(const std::string& s) {
    return "'" + s + "'";
}

/// Runs `command` with its output in dir/out; the exit status, or -1 if it did not exit.
int run(const TempDir& dir, const std::string& command) {
    int status = std::system((command + " >" + shellQuoted(dir.path("out")) + " 2>&1").c_str());
    return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// What anyone outside runs: `openssl pkeyutl -verify -rawin` over the exact bytes.
int opensslVerify(const TempDir& dir, std::string_view pem, std::string_view payload,
                  std::string_view signature) {
    return run(dir, "openssl pkeyutl -verify -pubin -inkey " +
                        shellQuoted(dir.write("pub.pem", pem)) + " -rawin -in " +
                        shellQuoted(dir.write("payload", payload)) + " -sigfile " +
                        shellQuoted(dir.write("sig", signature)));
}

std::string verifyScript() {
    // The test sits at services/property/src/; the script at tools/vastu-verify/.
    return (fs::path(__FILE__).parent_path() / "../../../tools/vastu-verify/verify.py")
        .lexically_normal()
        .string();
}

int verifyPy(const TempDir& dir, std::string_view pem, std::string_view response) {
    return run(dir, "python3 " + shellQuoted(verifyScript()) + " " +
                        shellQuoted(dir.write("certificate.json", response)) + " " +
                        shellQuoted(dir.write("key.pem", pem)));
}

CertificateSigner kat1() {
    return CertificateSigner(kSeed1);
}

TEST(VastuCertificate, SignedCertificateVerifiesWithOurVerifyAndOnlyWithItsKey) {
    CertificateSigner signer(CertificateSigner::generateSeedBase64());
    auto cert = signer.sign(sampleBody());
    EXPECT_EQ(cert.payload, canonicalPayload(sampleBody(), signer.keyId()));
    EXPECT_EQ(cert.key_id, signer.keyId());
    EXPECT_EQ(cert.signature.size(), 64u);
    EXPECT_TRUE(CertificateSigner::verify(cert.payload, cert.signature, signer.publicKey()));

    CertificateSigner other(CertificateSigner::generateSeedBase64());
    EXPECT_NE(other.keyId(), signer.keyId());
    EXPECT_FALSE(CertificateSigner::verify(cert.payload, cert.signature, other.publicKey()));
    EXPECT_FALSE(
        CertificateSigner::verify(cert.payload, cert.signature.substr(1), signer.publicKey()));
    EXPECT_FALSE(CertificateSigner::verify(cert.payload, cert.signature, ""));
}

TEST(VastuCertificate, KeyDerivationAndSignaturesMatchRfc8032) {
    auto signer = kat1();
    EXPECT_EQ(hex(signer.publicKey()), kPublic1);
    EXPECT_EQ(hex(signer.signBytes("")), kSignature1);
    EXPECT_TRUE(CertificateSigner::verify("", unhex(kSignature1), unhex(kPublic1)));

    CertificateSigner signer2(kSeed2);
    EXPECT_EQ(hex(signer2.publicKey()), kPublic2);
    EXPECT_EQ(hex(signer2.signBytes("\x72")), kSignature2);

    // The published forms of the RFC's public key, as computed by hand.
    EXPECT_EQ(signer.keyId(), "21fe31dfa154a261");  // sha256(public key)[:16 hex]
    EXPECT_EQ(signer.publicKeyBase64Url(), "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
    EXPECT_EQ(signer.publicKeyPem(),
              "-----BEGIN PUBLIC KEY-----\n"
              "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
              "-----END PUBLIC KEY-----\n");
    EXPECT_EQ(signer.publicKeyJson(),
              "{\"key_id\":\"21fe31dfa154a261\",\"algorithm\":\"Ed25519\",\"public_key\":"
              "\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\",\"pem\":\"-----BEGIN PUBLIC "
              "KEY-----\\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\\n-----END "
              "PUBLIC KEY-----\\n\"}");
    // The same seed as base64 is the same key.
    CertificateSigner b64("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=");
    EXPECT_EQ(b64.publicKey(), signer.publicKey());
}

TEST(VastuCertificate, OpensslVerifiesTheRfc8032VectorWithOurPem) {
    // Shows that the openssl command of the docs checks standard Ed25519 (TEST 2: OpenSSL 3.0's
    // pkeyutl cannot read TEST 1's empty message).
    CertificateSigner signer2(kSeed2);
    TempDir dir;
    EXPECT_EQ(opensslVerify(dir, signer2.publicKeyPem(), "\x72", unhex(kSignature2)), 0)
        << dir.read("out");
}

TEST(VastuCertificate, CertificateVerifiesWithOpensslPkeyutl) {
    CertificateSigner signer(CertificateSigner::generateSeedBase64());
    auto cert = signer.sign(sampleBody());
    TempDir dir;
    EXPECT_EQ(opensslVerify(dir, signer.publicKeyPem(), cert.payload, cert.signature), 0)
        << dir.read("out");
    EXPECT_NE(dir.read("out").find("Signature Verified Successfully"), std::string::npos);
}

TEST(VastuCertificate, CertificateVerifiesWithVerifyPy) {
    CertificateSigner signer(CertificateSigner::generateSeedBase64());
    auto cert = signer.sign(sampleBody());
    TempDir dir;
    ASSERT_TRUE(fs::exists(verifyScript())) << verifyScript();
    EXPECT_EQ(verifyPy(dir, signer.publicKeyPem(), responseJson(cert)), 0) << dir.read("out");
    EXPECT_EQ(dir.read("out").substr(0, 6), "valid\n");
    // The public-key document of GET /api/v1/vastu/public-key serves as the key file too.
    EXPECT_EQ(verifyPy(dir, signer.publicKeyJson(), responseJson(cert)), 0) << dir.read("out");
    // A superseded certificate is still a valid signed statement; the tool says it was replaced.
    EXPECT_EQ(verifyPy(dir, signer.publicKeyPem(), responseJson(cert, "vc_02JNEWER")), 0)
        << dir.read("out");
    EXPECT_NE(dir.read("out").find("superseded by vc_02JNEWER"), std::string::npos)
        << dir.read("out");
}

TEST(VastuCertificate, OneChangedByteFailsOpensslVerifyPyAndOurVerify) {
    CertificateSigner signer(CertificateSigner::generateSeedBase64());
    const auto cert = signer.sign(sampleBody());
    const auto pem = signer.publicKeyPem();
    TempDir dir;

    // Every single-bit change anywhere in the payload or the signature fails our verify().
    for (std::size_t i = 0; i < cert.payload.size(); ++i) {
        auto bent = cert.payload;
        bent[i] = static_cast<char>(bent[i] ^ 0x01);
        EXPECT_FALSE(CertificateSigner::verify(bent, cert.signature, signer.publicKey())) << i;
    }
    for (std::size_t i = 0; i < cert.signature.size(); ++i) {
        auto bent = cert.signature;
        bent[i] = static_cast<char>(bent[i] ^ 0x01);
        EXPECT_FALSE(CertificateSigner::verify(cert.payload, bent, signer.publicKey())) << i;
    }

    // One byte of the property id ("prop_42" → "prop_43"): the JSON stays well-formed, so the
    // tools fail on the signature, not on parsing.
    auto payload = cert.payload;
    auto at = payload.find("prop_42");
    ASSERT_NE(at, std::string::npos);
    payload[at + 6] = '3';
    EXPECT_EQ(opensslVerify(dir, pem, payload, cert.signature), 1) << dir.read("out");
    EXPECT_EQ(verifyPy(dir, pem, responseJson({payload, cert.signature, cert.key_id})), 1);
    EXPECT_EQ(dir.read("out").substr(0, 8), "INVALID:") << dir.read("out");

    auto signature = cert.signature;
    signature[17] = static_cast<char>(signature[17] ^ 0x80);
    EXPECT_EQ(opensslVerify(dir, pem, cert.payload, signature), 1) << dir.read("out");
    EXPECT_EQ(verifyPy(dir, pem, responseJson({cert.payload, signature, cert.key_id})), 1)
        << dir.read("out");

    // The signed bytes intact but the JSON shown beside them changed: verify.py refuses too.
    auto response = responseJson(cert);
    auto score = response.find("\"score\":82");
    ASSERT_NE(score, std::string::npos);
    response[score + 9] = '9';
    EXPECT_EQ(verifyPy(dir, pem, response), 1) << dir.read("out");
    EXPECT_NE(dir.read("out").find("differs from the signed payload"), std::string::npos)
        << dir.read("out");

    // Another key's PEM.
    CertificateSigner other(CertificateSigner::generateSeedBase64());
    EXPECT_EQ(verifyPy(dir, other.publicKeyPem(), responseJson(cert)), 1) << dir.read("out");
}

TEST(VastuCertificate, KeysOfTheWrongLengthAreRefusedNamingTheConfigKey) {
    const std::string hex31(62, 'a');
    const std::string hex33(66, 'a');
    for (std::string bad : {std::string(), std::string("not a key"), hex31, hex33,
                            std::string("c2hvcnQ="),                      // base64 of "short"
                            std::string(kSeed1) + std::string(kPublic1),  // libsodium's 64-byte key
                            std::string("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2B=x")}) {
        try {
            CertificateSigner signer(bad);
            ADD_FAILURE() << "accepted: " << bad;
        } catch (const std::invalid_argument& e) {
            std::string what = e.what();
            EXPECT_EQ(what.rfind("vastu.signing_key: ", 0), 0u) << what;
            EXPECT_NE(what.find("32-byte"), std::string::npos) << what;
            if (bad.size() > 4) {
                EXPECT_EQ(what.find(bad), std::string::npos) << "the secret is echoed: " << what;
            }
        }
        std::string why;
        EXPECT_FALSE(CertificateSigner::fromText(bad, &why).has_value()) << bad;
        EXPECT_FALSE(why.empty());
    }
    std::string why;
    EXPECT_TRUE(CertificateSigner::fromText(std::string(kSeed1) + "\n", &why).has_value()) << why;
    EXPECT_TRUE(
        CertificateSigner::fromText(CertificateSigner::generateSeedBase64(), &why).has_value());
}

TEST(VastuCertificate, PayloadIsCanonicalJsonWhateverTheElementOrder) {
    auto signer = kat1();
    // The exact bytes: keys sorted, no whitespace, UTC seconds.
    EXPECT_EQ(
        canonicalPayload(sampleBody(), signer.keyId()),
        "{\"certificate_id\":\"vc_01JEXAMPLE\",\"format\":\"restinu.vastu.certificate.v1\","
        "\"grade\":\"A\",\"issued_at\":\"2026-12-06T15:04:05Z\",\"key_id\":\"21fe31dfa154a261\","
        "\"layout\":{\"elements\":{\"kitchen\":\"SE\",\"main_entrance\":\"NE\",\"master_bedroom\":"
        "\"SW\"},\"facing\":\"E\"},\"property_id\":\"prop_42\",\"rules_version\":\"2026.1\","
        "\"score\":82}");

    auto reordered = sampleBody();
    reordered.elements.clear();
    reordered.elements.emplace("master_bedroom", "SW");
    reordered.elements.emplace("kitchen", "SE");
    reordered.elements.emplace("main_entrance", "NE");
    EXPECT_EQ(signer.sign(reordered).payload, signer.sign(sampleBody()).payload);
    // Ed25519 is deterministic: equal bodies, equal signatures.
    EXPECT_EQ(signer.sign(reordered).signature, signer.sign(sampleBody()).signature);

    auto moved = sampleBody();
    moved.elements["kitchen"] = "NE";
    EXPECT_NE(signer.sign(moved).payload, signer.sign(sampleBody()).payload);
}

TEST(VastuCertificate, StringsAreEscapedAsRfc8785AndBadUtf8IsRefused) {
    auto body = sampleBody();
    body.elements = {{"pooja \"room\"", "NE\\E"}, {"t\u00e9rrace", "N\n\t\x01"}};
    body.issued_at = std::chrono::sys_days{std::chrono::year{2027} / 1 / 2};
    auto payload = canonicalPayload(body, "k");
    EXPECT_NE(payload.find("\"elements\":{\"pooja \\\"room\\\"\":\"NE\\\\E\",\"t\u00e9rrace\":"
                           "\"N\\n\\t\\u0001\"}"),
              std::string::npos)
        << payload;
    EXPECT_NE(payload.find("\"issued_at\":\"2027-01-02T00:00:00Z\""), std::string::npos);

    body.facing = "\xc3\x28";  // not UTF-8
    EXPECT_THROW(canonicalPayload(body, "k"), std::invalid_argument);
    body.facing = "\xed\xa0\x80";  // a surrogate
    EXPECT_THROW(canonicalPayload(body, "k"), std::invalid_argument);
}

TEST(VastuCertificate, PythonsJsonRebuildsThePayloadByteForByte) {
    // The claim of the docs: an outsider reproduces the signed bytes from the JSON alone.
    auto body = sampleBody();
    body.elements["pooja \"room\"\\"] = "N\u00e9\n\x01";
    auto payload = canonicalPayload(body, "k");
    TempDir dir;
    auto file = dir.write("payload", payload);
    EXPECT_EQ(run(dir,
                  "python3 -c 'import json, sys; b = open(sys.argv[1], \"rb\").read(); "
                  "sys.exit(json.dumps(json.loads(b), sort_keys=True, separators=(\",\", "
                  "\":\"), ensure_ascii=False).encode() != b)' " +
                      shellQuoted(file)),
              0)
        << payload << "\n"
        << dir.read("out");
}

TEST(VastuCertificate, SupersededStatusIsServedBesideTheSignedBytesNotInThem) {
    auto signer = kat1();
    auto cert = signer.sign(sampleBody());
    auto current = responseJson(cert);
    auto superseded = responseJson(cert, "vc_02JNEWER");
    EXPECT_EQ(current.rfind("{\"certificate\":" + cert.payload + ",\"payload\":\"", 0), 0u)
        << current;
    EXPECT_NE(current.find("\"algorithm\":\"Ed25519\""), std::string::npos);
    EXPECT_NE(current.find("\"status\":\"current\",\"superseded_by\":null}"), std::string::npos);
    EXPECT_NE(superseded.find("\"status\":\"superseded\",\"superseded_by\":\"vc_02JNEWER\"}"),
              std::string::npos);
    EXPECT_EQ(cert.payload.find("superseded"), std::string::npos);
    EXPECT_EQ(cert.payload.find("status"), std::string::npos);
}

}  // namespace
}  // namespace restinu::property::vastu
