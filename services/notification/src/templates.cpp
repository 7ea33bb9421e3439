#include "templates.hpp"

#include <array>
#include <stdexcept>

namespace restinu::notification {
namespace {

struct Template {
    std::string_view id;
    std::string_view language;
    std::string_view subject;
    std::string_view text;
};

// Greeting on the first line; one blank line between paragraphs.
constexpr std::array kTemplates{
    Template{"welcome", "en", "Welcome to REST-iN-U, {{name}}",
             "Hello {{name}},\n\nWelcome to REST-iN-U. Please confirm that {{email}} is your "
             "e-mail address by opening this link within {{ttl_hours}} hours:\n\n{{verify_url}}"
             "\n\nIf you did not create an account, ignore this message."},
    Template{"welcome", "hi", "REST-iN-U में आपका स्वागत है, {{name}}",
             "नमस्ते {{name}},\n\nREST-iN-U में आपका स्वागत है। कृपया {{ttl_hours}} घंटों के भीतर "
             "यह लिंक खोलकर पुष्टि करें कि {{email}} आपका ई-मेल पता है:\n\n{{verify_url}}\n\n"
             "यदि आपने खाता नहीं बनाया है, तो इस संदेश को अनदेखा करें।"},
    Template{"kyc_approved", "en", "Your identity is verified",
             "Hello {{name}},\n\nYour KYC documents were approved: you can now make offers and "
             "invest in tokenized properties."},
    Template{"kyc_approved", "hi", "आपकी पहचान सत्यापित हो गई है",
             "नमस्ते {{name}},\n\nआपके KYC दस्तावेज़ स्वीकृत हो गए हैं: अब आप प्रस्ताव दे सकते हैं "
             "और टोकन वाली संपत्तियों में निवेश कर सकते हैं।"},
    Template{"kyc_rejected", "en", "Your identity could not be verified",
             "Hello {{name}},\n\nYour KYC documents were not approved: {{reason}}\n\nYou can "
             "submit them again from your profile."},
    Template{"new_device", "en", "A new sign-in to your account",
             "Hello {{name}},\n\nYour account was just signed in to from a device it had not "
             "used before:\n\n{{device}} (address {{ip}})\n\nIf this was not you, change your "
             "password and end that session from your profile at once."},
    Template{"new_device", "hi", "आपके खाते में एक नया साइन-इन",
             "नमस्ते {{name}},\n\nआपके खाते में अभी एक ऐसे उपकरण से साइन-इन हुआ जो पहले कभी "
             "उपयोग नहीं हुआ:\n\n{{device}} (पता {{ip}})\n\nयदि यह आप नहीं थे, तो तुरंत अपना "
             "पासवर्ड बदलें।"},
    Template{"listing_published", "en", "Your listing is live: {{title}}",
             "Hello {{name}},\n\nYour listing \"{{title}}\" is now published and shows in "
             "search.\n\n{{listing_url}}"},
    Template{"listing_status", "en", "Your listing is now {{to}}: {{title}}",
             "Hello {{name}},\n\nThe status of your listing \"{{title}}\" changed from "
             "{{from}} to {{to}}.\n\n{{listing_url}}"},
    Template{"saved_search_match", "en", "New match for \"{{search}}\": {{title}}",
             "Hello {{name}},\n\nA new listing matches your saved search \"{{search}}\":\n\n"
             "{{title}} in {{city}}, {{price}}\n\n{{listing_url}}"},
};

std::string fill(std::string_view text, const Vars& vars) {
    std::string out;
    out.reserve(text.size() + 64);
    std::size_t i = 0;
    while (i < text.size()) {
        auto open = text.find("{{", i);
        if (open == std::string_view::npos) {
            out.append(text.substr(i));
            break;
        }
        auto close = text.find("}}", open + 2);
        if (close == std::string_view::npos) {
            out.append(text.substr(i));
            break;
        }
        out.append(text.substr(i, open - i));
        const auto name = text.substr(open + 2, close - open - 2);
        for (const auto& [k, v] : vars) {
            if (k == name) {
                out.append(v);
                break;
            }
        }
        i = close + 2;
    }
    return out;
}

// One paragraph of text as HTML: escaped, line breaks kept, a paragraph that is one URL a link.
std::string paragraph(std::string_view p) {
    if ((p.starts_with("https://") || p.starts_with("http://")) &&
        p.find_first_of(" \n") == std::string_view::npos) {
        const auto url = escapeHtml(p);
        return "<p><a href=\"" + url + "\">" + url + "</a></p>\n";
    }
    std::string out = "<p>";
    for (char c : escapeHtml(p)) {
        if (c == '\n') {
            out += "<br>";
        } else {
            out += c;
        }
    }
    return out + "</p>\n";
}

std::string toHtml(std::string_view subject, std::string_view text) {
    std::string out = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" +
                      escapeHtml(subject) +
                      "</title></head>\n<body style=\"font-family:sans-serif;line-height:1.5\">\n";
    std::size_t i = 0;
    while (i <= text.size()) {
        auto end = text.find("\n\n", i);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        if (end > i) {
            out += paragraph(text.substr(i, end - i));
        }
        i = end + 2;
    }
    return out + "</body></html>\n";
}

}  // namespace

std::string escapeHtml(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

Rendered render(std::string_view id, std::string_view language, const Vars& vars,
                std::string_view unsubscribe) {
    const Template* chosen = nullptr;
    for (const auto& t : kTemplates) {
        if (t.id == id && (t.language == language || (chosen == nullptr && t.language == "en"))) {
            chosen = &t;
        }
    }
    if (chosen == nullptr) {
        throw std::out_of_range("no template " + std::string(id));
    }
    Rendered r{fill(chosen->subject, vars), fill(chosen->text, vars), {}};
    if (!unsubscribe.empty()) {
        r.text += "\n\nTo stop these messages, open this link:\n\n" + std::string(unsubscribe);
    }
    r.html = toHtml(r.subject, r.text);
    return r;
}

}  // namespace restinu::notification
