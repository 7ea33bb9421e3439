#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// The messages' words, per template and language: a subject and a plain text with {{name}}
/// placeholders; the HTML part is made from the text (escaped, paragraphs, links), so the two
/// never say different things.
namespace restinu::notification {

using Vars = std::vector<std::pair<std::string, std::string>>;

struct Rendered {
    std::string subject;
    std::string text;
    std::string html;
};

/// Renders `id` in `language` ("hi", "en", ...; English when the template has no such
/// translation). A placeholder with no value renders empty. `unsubscribe` (may be empty) adds
/// the footer line with the link. Throws std::out_of_range for an unknown template.
Rendered render(std::string_view id, std::string_view language, const Vars& vars,
                std::string_view unsubscribe = {});

/// Text with &, <, >, " and ' escaped for HTML.
std::string escapeHtml(std::string_view text);

}  // namespace restinu::notification
