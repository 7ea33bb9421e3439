#include "image_strip.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <istream>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace restinu::property::images {
namespace {

using Traits = std::istream::traits_type;

[[noreturn]] void broken(const std::string& what) {
    throw ImageRefused(ImageRefused::Reason::Undecodable, what);
}

/// Byte reads straight from the stream's buffer (the scans of a JPEG are copied byte by byte).
class Input {
public:
    explicit Input(std::istream& in) : buf_(*in.rdbuf()) {}

    int byte() {
        auto c = buf_.sbumpc();
        if (Traits::eq_int_type(c, Traits::eof())) {
            broken("the image ends early");
        }
        return Traits::to_int_type(Traits::to_char_type(c)) & 0xFF;
    }
    void read(char* p, std::uint64_t n) {
        if (static_cast<std::uint64_t>(buf_.sgetn(p, static_cast<std::streamsize>(n))) != n) {
            broken("the image ends early");
        }
    }
    std::uint32_t be32() { return read4(false); }
    std::uint32_t le32() { return read4(true); }

private:
    std::uint32_t read4(bool little) {
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            auto b = static_cast<std::uint32_t>(byte());
            v = little ? v | (b << (8 * i)) : (v << 8) | b;
        }
        return v;
    }

    std::streambuf& buf_;
};

class Output {
public:
    explicit Output(std::ostream& out) : out_(out), buf_(*out.rdbuf()) {}

    void byte(int c) {
        if (Traits::eq_int_type(buf_.sputc(static_cast<char>(c)), Traits::eof())) {
            throw std::runtime_error("image strip: write failed");
        }
        ++count_;
    }
    void write(const char* p, std::uint64_t n) {
        if (static_cast<std::uint64_t>(buf_.sputn(p, static_cast<std::streamsize>(n))) != n) {
            throw std::runtime_error("image strip: write failed");
        }
        count_ += n;
    }
    void write(std::string_view s) { write(s.data(), s.size()); }
    void be16(unsigned v) {
        byte(static_cast<int>((v >> 8) & 0xFF));
        byte(static_cast<int>(v & 0xFF));
    }
    void be32(std::uint32_t v) {
        be16(v >> 16);
        be16(v & 0xFFFF);
    }
    void le32(std::uint32_t v) {
        for (int i = 0; i < 4; ++i) {
            byte(static_cast<int>((v >> (8 * i)) & 0xFF));
        }
    }
    std::uint64_t count() const { return count_; }
    std::ostream& stream() { return out_; }

private:
    std::ostream& out_;
    std::streambuf& buf_;
    std::uint64_t count_ = 0;
};

/// Copies (or with `out` null, skips) `n` bytes.
void pass(Input& in, Output* out, std::uint64_t n) {
    std::array<char, std::size_t{64} * 1024> chunk;
    while (n > 0) {
        auto step = std::min<std::uint64_t>(n, chunk.size());
        in.read(chunk.data(), step);
        if (out != nullptr) {
            out->write(chunk.data(), step);
        }
        n -= step;
    }
}

bool startsWith(const std::vector<char>& data, std::string_view prefix) {
    return data.size() >= prefix.size() &&
           std::memcmp(data.data(), prefix.data(), prefix.size()) == 0;
}

// ---- JPEG -------------------------------------------------------------------------------------

constexpr int kSoi = 0xD8, kEoi = 0xD9, kSos = 0xDA, kApp0 = 0xE0, kApp2 = 0xE2, kApp14 = 0xEE,
              kCom = 0xFE;

/// The next marker's code. Bytes before its 0xFF are skipped, as libjpeg does ("extraneous
/// bytes before marker"), and so are 0xFF fill bytes.
int nextMarker(Input& in) {
    int b = in.byte();
    while (b != 0xFF) {
        b = in.byte();
    }
    while (b == 0xFF) {
        b = in.byte();
    }
    if (b == 0x00) {
        broken("JPEG: a stuffed byte where a marker should be");
    }
    return b;
}

/// Copies entropy-coded data (stuffed 0xFF00 and restart markers included) up to the next
/// marker, and returns that marker's code.
int copyScan(Input& in, Output& out) {
    for (;;) {
        int b = in.byte();
        if (b != 0xFF) {
            out.byte(b);
            continue;
        }
        int next = in.byte();
        while (next == 0xFF) {
            next = in.byte();
        }
        if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
            out.byte(0xFF);
            out.byte(next);
            continue;
        }
        return next;
    }
}

void writeSegment(Output& out, int marker, const char* data, std::size_t size) {
    out.byte(0xFF);
    out.byte(marker);
    out.be16(static_cast<unsigned>(size + 2));
    out.write(data, size);
}

// ---- PNG --------------------------------------------------------------------------------------

constexpr std::string_view kPngSignature{"\x89PNG\r\n\x1a\n", 8};

bool keepPngChunk(std::string_view type) {
    static constexpr std::array<std::string_view, 15> kKeep{"IHDR", "PLTE", "IDAT", "IEND", "tRNS",
                                                            "cHRM", "gAMA", "iCCP", "sBIT", "sRGB",
                                                            "cICP", "mDCv", "cLLi", "bKGD", "pHYs"};
    return std::find(kKeep.begin(), kKeep.end(), type) != kKeep.end();
}

// ---- WebP -------------------------------------------------------------------------------------

bool keepWebpChunk(std::string_view fourcc) {
    static constexpr std::array<std::string_view, 7> kKeep{"VP8X", "ICCP", "ANIM", "ANMF",
                                                           "ALPH", "VP8 ", "VP8L"};
    return std::find(kKeep.begin(), kKeep.end(), fourcc) != kKeep.end();
}

constexpr int kVp8xExifFlag = 0x08, kVp8xXmpFlag = 0x04;

}  // namespace

std::uint64_t stripJpeg(std::istream& is, std::ostream& os) {
    Input in(is);
    Output out(os);
    if (in.byte() != 0xFF || in.byte() != kSoi) {
        broken("JPEG: no SOI marker");
    }
    out.byte(0xFF);
    out.byte(kSoi);
    std::vector<char> payload;
    int marker = nextMarker(in);
    for (;;) {
        if (marker == kEoi) {
            // Whatever follows EOI (an MPF preview or depth map with its own EXIF, a maker's
            // trailer) is not this image.
            out.byte(0xFF);
            out.byte(kEoi);
            return out.count();
        }
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // TEM, RSTn: no length
            out.byte(0xFF);
            out.byte(marker);
            marker = nextMarker(in);
            continue;
        }
        unsigned length = static_cast<unsigned>(in.byte()) << 8;
        length |= static_cast<unsigned>(in.byte());
        if (length < 2) {
            broken("JPEG: a segment shorter than its length field");
        }
        payload.resize(length - 2);
        in.read(payload.data(), payload.size());

        if (marker == kApp0) {
            // JFIF keeps its version and density (12 bytes) but loses its thumbnail, which may
            // show the photo before it was cropped. JFXX and other APP0 go.
            if (startsWith(payload, std::string_view("JFIF\0", 5)) && payload.size() >= 12) {
                payload.resize(14);
                payload[12] = 0;
                payload[13] = 0;
                writeSegment(out, marker, payload.data(), payload.size());
            }
        } else if (marker == kApp2) {
            if (startsWith(payload, std::string_view("ICC_PROFILE\0", 12))) {
                writeSegment(out, marker, payload.data(), payload.size());
            }
        } else if (marker == kApp14) {
            if (startsWith(payload, "Adobe")) {
                writeSegment(out, marker, payload.data(), payload.size());
            }
        } else if ((marker > kApp0 && marker <= 0xEF) || marker == kCom) {
            // APP1 (EXIF, XMP), APP13 (IPTC), the other APPn, comments: dropped.
        } else {
            writeSegment(out, marker, payload.data(), payload.size());
        }
        marker = marker == kSos ? copyScan(in, out) : nextMarker(in);
    }
}

std::uint64_t stripPng(std::istream& is, std::ostream& os) {
    Input in(is);
    Output out(os);
    std::array<char, 8> signature;
    in.read(signature.data(), signature.size());
    if (std::string_view(signature.data(), signature.size()) != kPngSignature) {
        broken("PNG: no signature");
    }
    out.write(kPngSignature);
    for (;;) {
        std::uint32_t length = in.be32();
        std::array<char, 4> type;
        in.read(type.data(), type.size());
        if (length > 0x7FFFFFFFU) {
            broken("PNG: a chunk longer than 2^31 - 1 bytes");
        }
        std::string_view name(type.data(), type.size());
        bool keep = keepPngChunk(name);
        if (keep) {
            out.be32(length);
            out.write(type.data(), type.size());
        }
        pass(in, keep ? &out : nullptr, std::uint64_t{length} + 4);  // data and CRC
        if (name == "IEND") {
            return out.count();
        }
    }
}

std::uint64_t stripWebp(std::istream& is, std::ostream& os) {
    Input in(is);
    Output out(os);
    std::array<char, 4> riff;
    std::array<char, 4> webp;
    in.read(riff.data(), riff.size());
    std::uint64_t riff_size = in.le32();
    in.read(webp.data(), webp.size());
    if (std::string_view(riff.data(), 4) != "RIFF" || std::string_view(webp.data(), 4) != "WEBP" ||
        riff_size < 4) {
        broken("WebP: no RIFF WEBP header");
    }
    out.write("RIFF");
    out.le32(0);  // patched below
    out.write("WEBP");
    std::uint64_t left = riff_size - 4;  // the chunks' bytes
    std::vector<char> payload;
    while (left >= 8) {
        std::array<char, 4> fourcc;
        in.read(fourcc.data(), fourcc.size());
        std::uint64_t size = in.le32();
        left -= 8;
        if (size > left) {
            broken("WebP: a chunk past the end of the RIFF");
        }
        std::string_view name(fourcc.data(), fourcc.size());
        // A chunk of odd size is followed by a pad byte, which some writers leave out at the end.
        bool padded = size % 2 == 1 && size < left;
        bool keep = keepWebpChunk(name);
        if (keep) {
            out.write(fourcc.data(), fourcc.size());
            out.le32(static_cast<std::uint32_t>(size));
        }
        if (name == "VP8X" && size >= 1) {
            payload.resize(size);
            in.read(payload.data(), size);
            payload[0] = static_cast<char>(payload[0] & ~(kVp8xExifFlag | kVp8xXmpFlag));
            out.write(payload.data(), size);
        } else {
            pass(in, keep ? &out : nullptr, size);
        }
        if (padded) {
            in.byte();
        }
        if (keep && size % 2 == 1) {
            out.byte(0);
        }
        left -= size + (padded ? 1 : 0);
    }
    // Anything after the RIFF is not the image.
    std::uint64_t total = out.count();
    auto& stream = out.stream();
    stream.seekp(4);
    Output size_field(stream);
    size_field.le32(static_cast<std::uint32_t>(total - 8));
    stream.seekp(0, std::ios::end);
    if (!stream) {
        throw std::runtime_error("image strip: the output cannot seek");
    }
    return total;
}

std::uint64_t stripMetadata(Format format, std::istream& in, std::ostream& out) {
    switch (format) {
        case Format::Jpeg:
            return stripJpeg(in, out);
        case Format::Png:
            return stripPng(in, out);
        case Format::Webp:
            return stripWebp(in, out);
    }
    throw std::invalid_argument("image strip: unknown format");
}

}  // namespace restinu::property::images
