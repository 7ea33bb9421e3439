#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

/// Full text for the in-memory search index (ADR 0012), on PostgreSQL's own analysis: a
/// listing's lexemes are read from its `document` (a tsvector's text) and a search's words
/// from `websearch_to_tsquery` (a tsquery's text), so stemming and stop words are the
/// database's. Only what matching needs is kept: which lexemes a listing has, and which of
/// them are in its title or locality (weights A and B: the relevance sort's first tier).
namespace restinu::property::search::text {

/// Lexemes by number; number 0 is never given (it stands for "no listing has it").
class Vocabulary {
public:
    std::uint32_t intern(std::string_view lexeme);
    std::uint32_t find(std::string_view lexeme) const;
    std::size_t size() const { return ids_.size(); }

private:
    std::unordered_map<std::string, std::uint32_t> ids_;
};

struct Lexemes {
    std::vector<std::uint32_t> all;       ///< sorted, unique
    std::vector<std::uint32_t> headline;  ///< those with weight A or B; sorted, unique
};

/// A tsvector's text (`'sea':4C,9A 'view':5C`) as lexeme numbers; nullopt if it is not one.
std::optional<Lexemes> parseVector(std::string_view text, Vocabulary& vocabulary);

/// A tsquery of lexemes joined by & and |, negated by !, grouped by parentheses.
class Query {
public:
    /// Whether a listing with these lexemes (sorted) matches.
    bool matches(const std::vector<std::uint32_t>& lexemes) const;
    /// Lexemes every match must have (the operands of a top-level &, or the only one): a
    /// search walks the listings of one of them.
    const std::vector<std::uint32_t>& required() const { return required_; }

    /// Parses a tsquery's text; nullopt for what this does not evaluate (phrases `<->`,
    /// prefixes `:*`, weights `:A`, an empty query). Lexemes no listing has get number 0.
    static std::optional<Query> parse(std::string_view text, const Vocabulary& vocabulary);

private:
    struct Node {
        enum Kind { Lexeme, And, Or, Not } kind = Lexeme;
        std::uint32_t lexeme = 0;
        int left = -1;
        int right = -1;
    };
    bool eval(int node, const std::vector<std::uint32_t>& lexemes) const;

    std::vector<Node> nodes_;
    int root_ = -1;
    std::vector<std::uint32_t> required_;
};

}  // namespace restinu::property::search::text
