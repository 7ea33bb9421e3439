// Our CIDs against the npm multiformats package's (tools/chain/cid.mjs) for the same bytes:
// metadata of every size from empty to 200 KiB, text and binary.
#include "cid.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <random>

#include "eth_bytes.hpp"

namespace restinu::blockchain::cid {
namespace {

std::vector<std::string> multiformats(const std::vector<std::string>& inputs) {
    // One hex line per input, in a file (a 64 KiB input is beyond one argument's limit).
    char path[] = "/tmp/restinu-cid-XXXXXX";
    const int fd = mkstemp(path);
    EXPECT_GE(fd, 0);
    std::string lines;
    for (const auto& in : inputs) {
        lines += eth::hex(in).substr(2) + "\n";
    }
    EXPECT_EQ(write(fd, lines.data(), lines.size()), static_cast<ssize_t>(lines.size()));
    close(fd);
    const std::string cmd =
        "node " + std::string(RESTINU_SOURCE_DIR) + "/tools/chain/cid.mjs " + path;
    std::vector<std::string> out;
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) {
        return out;
    }
    char line[256];
    while (std::fgets(line, sizeof line, p) != nullptr) {
        std::string s(line);
        while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
            s.pop_back();
        }
        out.push_back(s);
    }
    EXPECT_EQ(pclose(p), 0) << cmd;
    unlink(path);
    return out;
}

TEST(CidAgainstMultiformats, EveryInputGetsTheSameCid) {
    std::mt19937_64 rng(5);
    std::vector<std::string> inputs{"", "a", R"({"name":"Deed #1","image":"ipfs://x"})"};
    for (std::size_t size : {31, 32, 33, 1000, 65536}) {
        std::string b(size, '\0');
        for (auto& c : b) {
            c = static_cast<char>(rng());
        }
        inputs.push_back(b);
    }
    const auto theirs = multiformats(inputs);
    ASSERT_EQ(theirs.size(), inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        EXPECT_EQ(ofBytes(inputs[i]), theirs[i]) << "input " << i;
        EXPECT_TRUE(digestOf(theirs[i]).has_value()) << theirs[i];
    }
}

}  // namespace
}  // namespace restinu::blockchain::cid
