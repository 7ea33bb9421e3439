#include "agreement.hpp"

#include <hpdf.h>

#include <memory>
#include <stdexcept>
#include <vector>

#include "money.hpp"

namespace restinu::payment {
namespace {

// libharu is C: its error handler must not throw through it. It records the first error,
// checked once the document is written.
void onError(HPDF_STATUS error, HPDF_STATUS, void* user) {
    auto* first = static_cast<HPDF_STATUS*>(user);
    if (*first == 0) {
        *first = error;
    }
}

// UTF-8 → Latin-1 for the standard fonts; anything else becomes '?'.
std::string latin1(const std::string& in) {
    std::string out;
    for (std::size_t i = 0; i < in.size(); ++i) {
        const auto c = static_cast<unsigned char>(in[i]);
        if (c < 0x80) {
            out += static_cast<char>(c);
        } else if ((c & 0xE0) == 0xC0 && i + 1 < in.size()) {
            const unsigned cp =
                ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(in[i + 1]) & 0x3Fu);
            out += cp < 0x100 ? static_cast<char>(cp) : '?';
            ++i;
        } else {
            out += '?';
            while (i + 1 < in.size() && (static_cast<unsigned char>(in[i + 1]) & 0xC0) == 0x80) {
                ++i;
            }
        }
    }
    return out;
}

// Splits `text` into lines of at most `width` characters at spaces.
std::vector<std::string> wrap(const std::string& text, std::size_t width) {
    std::vector<std::string> lines;
    std::string line;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto space = text.find(' ', start);
        auto word =
            text.substr(start, space == std::string::npos ? std::string::npos : space - start);
        if (!line.empty() && line.size() + 1 + word.size() > width) {
            lines.push_back(line);
            line.clear();
        }
        line += (line.empty() ? "" : " ") + word;
        if (space == std::string::npos) {
            break;
        }
        start = space + 1;
    }
    if (!line.empty()) {
        lines.push_back(line);
    }
    return lines;
}

}  // namespace

std::string renderAgreement(const AgreementFacts& f) {
    HPDF_STATUS failed = 0;
    std::unique_ptr<std::remove_pointer_t<HPDF_Doc>, decltype(&HPDF_Free)> doc(
        HPDF_New(&onError, &failed), &HPDF_Free);
    if (!doc) {
        throw std::runtime_error("libharu: cannot create a document");
    }
    HPDF_SetCompressionMode(doc.get(), HPDF_COMP_ALL);
    HPDF_SetInfoAttr(doc.get(), HPDF_INFO_TITLE, "Agreement for Sale");
    HPDF_SetInfoAttr(doc.get(), HPDF_INFO_CREATOR, "REST-iN-U");
    auto* page = HPDF_AddPage(doc.get());
    HPDF_Page_SetSize(page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
    auto* regular = HPDF_GetFont(doc.get(), "Helvetica", "WinAnsiEncoding");
    auto* bold = HPDF_GetFont(doc.get(), "Helvetica-Bold", "WinAnsiEncoding");
    float y = HPDF_Page_GetHeight(page) - 72;
    auto line = [&](HPDF_Font font, float size, const std::string& text) {
        for (const auto& l : wrap(latin1(text), size > 12 ? 60 : 90)) {
            HPDF_Page_BeginText(page);
            HPDF_Page_SetFontAndSize(page, font, size);
            HPDF_Page_TextOut(page, 56, y, l.c_str());
            HPDF_Page_EndText(page);
            y -= size * 1.5f;
        }
    };
    const auto figures = f.currency + " " + money::indianFigures(f.price, f.currency);
    line(bold, 18, "Agreement for Sale");
    line(regular, 10, "Purchase " + f.purchase_id + ", made on " + f.date + ".");
    y -= 8;
    line(bold, 12, "Parties");
    line(regular, 10, "Seller: the owner of record, user " + f.seller_id + ".");
    line(regular, 10, "Buyer: user " + f.buyer_id + ", whose KYC the platform has approved.");
    y -= 8;
    line(bold, 12, "Property");
    line(regular, 10, f.property_title);
    line(regular, 10, f.property_address);
    line(regular, 10, "Listing " + f.listing_id + ".");
    y -= 8;
    line(bold, 12, "Price");
    line(regular, 10, "Price: " + figures);
    line(regular, 10, "In words: " + money::amountInWords(f.price, f.currency));
    if (f.charge != f.price) {
        line(regular, 10,
             "Paid on signing (deposit): " + f.currency + " " +
                 money::indianFigures(f.charge, f.currency));
    }
    y -= 8;
    line(regular, 10,
         "The seller agrees to sell and the buyer agrees to buy the property above for the "
         "price above. Title passes to the buyer when the price is captured; if the purchase "
         "fails, the hold on the buyer's funds is released and the reservation ends.");
    HPDF_SaveToStream(doc.get());
    const auto size = HPDF_GetStreamSize(doc.get());
    std::string out(size, '\0');
    HPDF_UINT32 got = size;
    HPDF_ReadFromStream(doc.get(), reinterpret_cast<HPDF_BYTE*>(out.data()), &got);
    out.resize(got);
    if (failed != 0 || out.empty()) {
        throw std::runtime_error("libharu error " + std::to_string(failed));
    }
    return out;
}

}  // namespace restinu::payment
