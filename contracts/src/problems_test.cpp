#include "restinu/contracts/problems.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace restinu::contracts {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// docs/problems.md's table: "| `slug` | status | when |".
std::map<std::string, int> documented() {
    std::map<std::string, int> out;
    std::istringstream in(read(fs::path(RESTINU_SOURCE_DIR) / "docs/problems.md"));
    std::regex row(R"(^\| `([a-z0-9-]+)` \| ([0-9]{3}) \|)");
    std::string line;
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_search(line, m, row)) {
            EXPECT_TRUE(out.emplace(m[1], std::stoi(m[2])).second) << "listed twice: " << m[1];
        }
    }
    return out;
}

TEST(Problems, TheCatalogueAndDocsProblemsMdListTheSameTypesWithTheSameStatus) {
    std::map<std::string, int> catalogue;
    for (const auto& p : problemCatalogue()) {
        EXPECT_TRUE(catalogue.emplace(std::string(p.slug), p.status).second)
            << "two types share the slug " << p.slug;
        EXPECT_FALSE(p.title.empty()) << p.slug;
    }
    auto docs = documented();
    EXPECT_EQ(catalogue, docs);
}

// A problem type defined anywhere but the two catalogues would answer clients with a type the
// documentation does not know: every `ProblemType k...{"slug"` in the source is in one of them.
TEST(Problems, NoProblemTypeIsDefinedOutsideTheCatalogue) {
    const fs::path root(RESTINU_SOURCE_DIR);
    const std::set<fs::path> homes{root / "runtime/include/restinu/rt/problem.hpp",
                                   root / "contracts/include/restinu/contracts/problems.hpp"};
    std::regex definition(R"re(ProblemType\s+k\w+\s*\{\s*"([a-z0-9-]+)")re");
    std::set<std::string> known;
    for (const auto& p : problemCatalogue()) {
        known.emplace(p.slug);
    }
    int homes_seen = 0;
    std::set<std::string> defined;
    for (const char* dir : {"runtime", "services", "contracts", "app"}) {
        for (const auto& e : fs::recursive_directory_iterator(root / dir)) {
            auto ext = e.path().extension();
            if (!e.is_regular_file() || (ext != ".cpp" && ext != ".hpp")) {
                continue;
            }
            auto text = read(e.path());
            bool home = homes.count(e.path()) > 0;
            homes_seen += home ? 1 : 0;
            for (std::sregex_iterator it(text.begin(), text.end(), definition), end; it != end;
                 ++it) {
                defined.emplace((*it)[1]);
                EXPECT_TRUE(home) << (*it)[1] << " is defined in " << e.path()
                                  << "; define it in contracts/problems.hpp";
                EXPECT_TRUE(known.count((*it)[1]) > 0)
                    << (*it)[1] << " is missing from problemCatalogue()";
            }
        }
    }
    EXPECT_EQ(homes_seen, 2);
    EXPECT_EQ(defined, known);  // and the catalogue holds nothing defined nowhere
}

}  // namespace
}  // namespace restinu::contracts
