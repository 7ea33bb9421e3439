#include "search_text.hpp"

#include <algorithm>
#include <functional>

namespace restinu::property::search::text {
namespace {

// A quoted lexeme at the start of `s` ('' is a quote inside it); advances past it.
std::optional<std::string> quoted(std::string_view& s) {
    if (s.empty() || s.front() != '\'') {
        return std::nullopt;
    }
    std::string out;
    std::size_t i = 1;
    while (i < s.size()) {
        if (s[i] == '\'') {
            if (i + 1 < s.size() && s[i + 1] == '\'') {
                out += '\'';
                i += 2;
                continue;
            }
            s.remove_prefix(i + 1);
            return out;
        }
        if (s[i] == '\\' && i + 1 < s.size()) {
            ++i;  // a backslash escapes the next character
        }
        out += s[i++];
    }
    return std::nullopt;  // no closing quote
}

void skipSpaces(std::string_view& s) {
    while (!s.empty() && s.front() == ' ') {
        s.remove_prefix(1);
    }
}

void sortUnique(std::vector<std::uint32_t>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

std::uint32_t Vocabulary::intern(std::string_view lexeme) {
    auto [it, added] =
        ids_.try_emplace(std::string(lexeme), static_cast<std::uint32_t>(ids_.size() + 1));
    return it->second;
}

std::uint32_t Vocabulary::find(std::string_view lexeme) const {
    auto it = ids_.find(std::string(lexeme));
    return it == ids_.end() ? 0 : it->second;
}

std::optional<Lexemes> parseVector(std::string_view s, Vocabulary& vocabulary) {
    Lexemes out;
    skipSpaces(s);
    while (!s.empty()) {
        auto lexeme = quoted(s);
        if (!lexeme) {
            return std::nullopt;
        }
        const auto id = vocabulary.intern(*lexeme);
        out.all.push_back(id);
        // Positions, each with its weight letter (none: D): ':1A,5,9B'.
        if (!s.empty() && s.front() == ':') {
            s.remove_prefix(1);
            while (!s.empty() && s.front() != ' ') {
                if (s.front() == 'A' || s.front() == 'B') {
                    out.headline.push_back(id);
                }
                s.remove_prefix(1);
            }
        }
        skipSpaces(s);
    }
    sortUnique(out.all);
    sortUnique(out.headline);
    return out;
}

bool Query::eval(int n, const std::vector<std::uint32_t>& lexemes) const {
    const auto& node = nodes_[static_cast<std::size_t>(n)];
    switch (node.kind) {
        case Node::Lexeme:
            return node.lexeme != 0 &&
                   std::binary_search(lexemes.begin(), lexemes.end(), node.lexeme);
        case Node::And:
            return eval(node.left, lexemes) && eval(node.right, lexemes);
        case Node::Or:
            return eval(node.left, lexemes) || eval(node.right, lexemes);
        case Node::Not:
            return !eval(node.left, lexemes);
    }
    return false;
}

bool Query::matches(const std::vector<std::uint32_t>& lexemes) const {
    return eval(root_, lexemes);
}

std::optional<Query> Query::parse(std::string_view text, const Vocabulary& vocabulary) {
    Query q;
    bool ok = true;
    // or := and ('|' and)*; and := unary ('&' unary)*; unary := '!' unary | '(' or ')' | lexeme
    std::function<int()> parseOr;
    auto add = [&q](Node n) {
        q.nodes_.push_back(n);
        return static_cast<int>(q.nodes_.size() - 1);
    };
    std::function<int()> unary = [&]() -> int {
        skipSpaces(text);
        if (text.empty()) {
            ok = false;
            return -1;
        }
        if (text.front() == '!') {
            text.remove_prefix(1);
            return add({Node::Not, 0, unary(), -1});
        }
        if (text.front() == '(') {
            text.remove_prefix(1);
            int inner = parseOr();
            skipSpaces(text);
            if (text.empty() || text.front() != ')') {
                ok = false;
                return -1;
            }
            text.remove_prefix(1);
            return inner;
        }
        auto lexeme = quoted(text);
        if (!lexeme || (!text.empty() && text.front() == ':')) {
            ok = false;  // not a lexeme, or a prefix or weight restriction
            return -1;
        }
        return add({Node::Lexeme, vocabulary.find(*lexeme), -1, -1});
    };
    auto parseAnd = [&]() -> int {
        int left = unary();
        while (ok) {
            skipSpaces(text);
            if (text.empty() || text.front() != '&') {
                break;
            }
            text.remove_prefix(1);
            left = add({Node::And, 0, left, unary()});
        }
        return left;
    };
    parseOr = [&]() -> int {
        int left = parseAnd();
        while (ok) {
            skipSpaces(text);
            if (text.empty() || text.front() != '|') {
                break;
            }
            text.remove_prefix(1);
            left = add({Node::Or, 0, left, parseAnd()});
        }
        return left;
    };
    q.root_ = parseOr();
    skipSpaces(text);
    if (!ok || !text.empty() || q.root_ < 0) {
        return std::nullopt;  // a phrase (<->, <N>), or not a tsquery this reads
    }
    // The lexemes every match has: the plain operands of the top-level & chain.
    std::vector<int> todo{q.root_};
    while (!todo.empty()) {
        const auto& n = q.nodes_[static_cast<std::size_t>(todo.back())];
        todo.pop_back();
        if (n.kind == Node::And) {
            todo.push_back(n.left);
            todo.push_back(n.right);
        } else if (n.kind == Node::Lexeme) {
            q.required_.push_back(n.lexeme);
        }
    }
    return q;
}

}  // namespace restinu::property::search::text
