#include "image_pipeline.hpp"

#include <vips/vips.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <system_error>

#include "image_strip.hpp"
#include "restinu/rt/digest.hpp"

namespace restinu::property::images {
namespace {

namespace fs = std::filesystem;

struct ImageUnref {
    void operator()(VipsImage* image) const { g_object_unref(image); }
};
using ImagePtr = std::unique_ptr<VipsImage, ImageUnref>;

/// Takes libvips' error text (its buffer is per process, so under load it may hold another
/// call's messages too: it is for the log only).
std::string vipsError() {
    std::string text;
    if (char* buffer = vips_error_buffer_copy()) {
        text = buffer;
        g_free(buffer);
    }
    while (!text.empty() && text.back() == '\n') {
        text.pop_back();
    }
    return text;
}

[[noreturn]] void undecodable(const std::string& detail) {
    throw ImageRefused(ImageRefused::Reason::Undecodable, detail);
}

ImagePtr checked(int rc, VipsImage* image, const char* what) {
    ImagePtr owned(image);
    if (rc != 0 || image == nullptr) {
        undecodable(std::string(what) + ": " + vipsError());
    }
    return owned;
}

struct Header {
    Probe probe;
    bool has_icc;
};

Header readHeader(const std::string& path, const Limits& limits) {
    init();
    // libvips sniffs the bytes (the name plays no part for these three). Only the loaders
    // named here may go on: init() blocks the others, and this check makes the refusal clear.
    const char* loader = vips_foreign_find_load(path.c_str());
    if (loader == nullptr) {
        undecodable("no loader: " + vipsError());
    }
    const char* nickname = vips_nickname_find(g_type_from_name(loader));
    std::string_view nick = nickname != nullptr ? nickname : loader;
    std::optional<Format> format;
    VipsImage* raw = nullptr;
    int rc = -1;
    // Loading builds the image from its header only; no pixel is decoded until one is asked for.
    if (nick == "jpegload") {
        format = Format::Jpeg;
        rc = vips_jpegload(path.c_str(), &raw, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                           VIPS_FAIL_ON_ERROR, nullptr);
    } else if (nick == "pngload") {
        format = Format::Png;
        rc = vips_pngload(path.c_str(), &raw, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                          VIPS_FAIL_ON_ERROR, nullptr);
    } else if (nick == "webpload") {
        format = Format::Webp;
        rc = vips_webpload(path.c_str(), &raw, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                           VIPS_FAIL_ON_ERROR, nullptr);
    } else {
        undecodable("not a JPEG, PNG or WebP (" + std::string(nick) + ")");
    }
    ImagePtr image = checked(rc, raw, "header");
    int width = vips_image_get_width(image.get());
    int height = vips_image_get_height(image.get());
    if (width > limits.max_side || height > limits.max_side ||
        static_cast<std::uint64_t>(width) * static_cast<std::uint64_t>(height) >
            limits.max_pixels) {
        throw ImageRefused(ImageRefused::Reason::TooManyPixels,
                           std::to_string(width) + " x " + std::to_string(height) + " pixels");
    }
    return {{*format, width, height, vips_image_get_orientation(image.get())},
            vips_image_get_typeof(image.get(), VIPS_META_ICC_NAME) != 0};
}

/// The photo `width` px wide, upright and in sRGB, by shrink-on-load from the file with
/// sequential access. A narrower photo keeps its width: renditions never upscale.
ImagePtr thumbnail(const std::string& path, int width, bool has_icc) {
    VipsImage* out = nullptr;
    // "height" unbounded: only the width limits the size (libvips otherwise fits a square).
    // Without export_profile libvips would keep an embedded profile's colours as they are.
    int rc = has_icc ? vips_thumbnail(path.c_str(), &out, width, "height", VIPS_MAX_COORD, "size",
                                      VIPS_SIZE_DOWN, "fail_on", VIPS_FAIL_ON_ERROR,
                                      "export_profile", "srgb", nullptr)
                     : vips_thumbnail(path.c_str(), &out, width, "height", VIPS_MAX_COORD, "size",
                                      VIPS_SIZE_DOWN, "fail_on", VIPS_FAIL_ON_ERROR, nullptr);
    return checked(rc, out, "thumbnail");
}

/// Encodes `image` (this evaluates it: a broken file fails here) with no metadata at all.
std::string encode(VipsImage* image, const RenditionSpec& spec) {
    ImagePtr flat;
    if (spec.format == Format::Jpeg && vips_image_hasalpha(image)) {
        // JPEG has no alpha: transparent parts become white, not libvips' default black.
        VipsArrayDouble* white = vips_array_double_newv(1, 255.0);
        VipsImage* out = nullptr;
        int rc = vips_flatten(image, &out, "background", white, nullptr);
        vips_area_unref(VIPS_AREA(white));
        flat = checked(rc, out, "flatten");
        image = flat.get();
    }
    void* buffer = nullptr;
    std::size_t size = 0;
    int rc = -1;
    switch (spec.format) {
        case Format::Jpeg:
            rc = vips_jpegsave_buffer(image, &buffer, &size, "Q", spec.quality, "strip", TRUE,
                                      "optimize_coding", TRUE, "interlace", TRUE, nullptr);
            break;
        case Format::Webp:
            rc = vips_webpsave_buffer(image, &buffer, &size, "Q", spec.quality, "strip", TRUE,
                                      nullptr);
            break;
        case Format::Png:
            rc = vips_pngsave_buffer(image, &buffer, &size, "strip", TRUE, nullptr);
            break;
    }
    std::unique_ptr<void, decltype(&g_free)> owned(buffer, &g_free);
    if (rc != 0) {
        undecodable("encode: " + vipsError());
    }
    // libvips 8.14 ignores "strip" when it writes WebP (libvips#3340): every WebP gets an EXIF
    // chunk, GPS included when the upload had it. So every rendition also goes through the
    // byte-level stripper, which is what the tests check.
    std::istringstream encoded(std::string(static_cast<const char*>(buffer), size));
    std::ostringstream stripped;
    stripMetadata(spec.format, encoded, stripped);
    return std::move(stripped).str();
}

/// The files of one call. Each is written under a temporary name and renamed into place; if
/// the call fails, the destructor removes the ones it created (not those an earlier upload of
/// the same photo left: they belong to it).
class Outputs {
public:
    explicit Outputs(fs::path dir) : dir_(std::move(dir)) {}
    Outputs(const Outputs&) = delete;
    Outputs& operator=(const Outputs&) = delete;
    ~Outputs() {
        if (!committed_) {
            for (const auto& p : created_) {
                std::error_code ignored;
                fs::remove(p, ignored);
            }
        }
    }

    /// `fill(std::ostream&)` writes the content and returns its size in bytes.
    template <class Fill>
    std::uint64_t write(const std::string& name, Fill&& fill) {
        fs::path final_path = dir_ / name;
        std::string tmp_name = name + ".tmp-";
        rt::appendRandomHex(tmp_name, 16);
        fs::path tmp = dir_ / tmp_name;
        std::uint64_t size = 0;
        try {
            std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
            if (!out) {
                throw std::runtime_error("images: cannot create " + tmp.string());
            }
            size = fill(out);
            out.close();
            if (!out) {
                throw std::runtime_error("images: cannot write " + tmp.string());
            }
            bool existed = fs::exists(final_path);
            fs::rename(tmp, final_path);
            if (!existed) {
                created_.push_back(final_path);
            }
        } catch (...) {
            std::error_code ignored;
            fs::remove(tmp, ignored);
            throw;
        }
        return size;
    }

    void commit() { committed_ = true; }

private:
    fs::path dir_;
    std::vector<fs::path> created_;
    bool committed_ = false;
};

void checkArguments(const std::string& sha256, const std::string& out_dir,
                    const std::vector<RenditionSpec>& specs) {
    // The hash becomes a file name: exactly 64 lowercase hex characters, nothing else.
    if (sha256.size() != 64 || !std::all_of(sha256.begin(), sha256.end(), [](char c) {
            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        })) {
        throw std::invalid_argument("images: the upload's sha256 is not 64 lowercase hex digits");
    }
    if (!fs::is_directory(out_dir)) {
        throw std::invalid_argument("images: no directory " + out_dir);
    }
    for (std::size_t i = 0; i < specs.size(); ++i) {
        if (specs[i].width < 1 || specs[i].quality < 1 || specs[i].quality > 100) {
            throw std::invalid_argument("images: a rendition needs a width >= 1, quality 1-100");
        }
        for (std::size_t j = 0; j < i; ++j) {
            if (specs[j].width == specs[i].width && specs[j].format == specs[i].format) {
                throw std::invalid_argument("images: two renditions with one file name");
            }
        }
    }
}

/// Above this many pixels a rendition is decoded again for each format rather than kept in
/// memory between them (a tall panorama); 4 M pixels are at most 16 MB.
constexpr std::uint64_t kMaxSharedPixels = 4'000'000;

}  // namespace

void init() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (VIPS_INIT("restinu") != 0) {
            throw std::runtime_error("libvips did not start: " + vipsError());
        }
        vips_concurrency_set(1);
        vips_cache_set_max(0);
        vips_cache_set_max_mem(0);
        vips_cache_set_max_files(0);
        vips_block_untrusted_set(TRUE);
        // Every loader is blocked (ImageMagick, poppler, librsvg, OpenSlide, FITS, Matlab, ...,
        // which this libvips build has), then the three photo formats are let through again.
        vips_operation_block_set("VipsForeignLoad", TRUE);
        vips_operation_block_set("VipsForeignLoadJpeg", FALSE);
        vips_operation_block_set("VipsForeignLoadPng", FALSE);
        vips_operation_block_set("VipsForeignLoadWebp", FALSE);
    });
}

std::string_view mimeType(Format f) {
    switch (f) {
        case Format::Jpeg:
            return "image/jpeg";
        case Format::Png:
            return "image/png";
        case Format::Webp:
            return "image/webp";
    }
    return "application/octet-stream";
}

std::string_view extension(Format f) {
    switch (f) {
        case Format::Jpeg:
            return "jpg";
        case Format::Png:
            return "png";
        case Format::Webp:
            return "webp";
    }
    return "bin";
}

ImageRefused::ImageRefused(Reason reason, const std::string& detail)
    : std::runtime_error(detail), reason_(reason) {}

std::string_view ImageRefused::code() const {
    return reason_ == Reason::TooManyPixels ? "too-many-pixels" : "undecodable";
}

Probe probe(const std::string& path, const Limits& limits) {
    return readHeader(path, limits).probe;
}

std::vector<RenditionSpec> defaultRenditions() {
    return {{320, Format::Webp, 80},
            {320, Format::Jpeg, 80},
            {1280, Format::Webp, 80},
            {1280, Format::Jpeg, 80}};
}

Processed process(const std::string& path, const std::string& upload_sha256,
                  const std::string& out_dir, const Limits& limits,
                  const std::vector<RenditionSpec>& specs) {
    checkArguments(upload_sha256, out_dir, specs);
    Header header = readHeader(path, limits);
    Processed result{header.probe, {}, 0, {}};
    Outputs outputs{fs::path(out_dir)};

    // The renditions first: they decode every pixel, so a broken file is refused here.
    ImagePtr shared;  // the last width's pixels, in memory, when the next spec has that width
    int shared_width = 0;
    for (std::size_t i = 0; i < specs.size(); ++i) {
        const RenditionSpec& spec = specs[i];
        ImagePtr fresh;
        VipsImage* image = nullptr;
        if (shared && shared_width == spec.width) {
            image = shared.get();
        } else {
            shared.reset();
            fresh = thumbnail(path, spec.width, header.has_icc);
            bool again = i + 1 < specs.size() && specs[i + 1].width == spec.width;
            auto pixels = static_cast<std::uint64_t>(vips_image_get_width(fresh.get())) *
                          static_cast<std::uint64_t>(vips_image_get_height(fresh.get()));
            if (again && pixels <= kMaxSharedPixels) {
                shared = checked(0, vips_image_copy_memory(fresh.get()), "decode");
                shared_width = spec.width;
                fresh.reset();
                image = shared.get();
            } else {
                image = fresh.get();
            }
        }
        std::string bytes = encode(image, spec);
        Rendition r{spec,
                    vips_image_get_width(image),
                    vips_image_get_height(image),
                    upload_sha256 + "-" + std::to_string(spec.width) + "." +
                        std::string(extension(spec.format)),
                    bytes.size(),
                    rt::sha256Hex(bytes)};
        outputs.write(r.file, [&](std::ostream& out) {
            out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
            return static_cast<std::uint64_t>(bytes.size());
        });
        result.renditions.push_back(std::move(r));
    }
    shared.reset();

    result.original_file = upload_sha256 + "-orig." + std::string(extension(header.probe.format));
    result.original_bytes = outputs.write(result.original_file, [&](std::ostream& out) {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            throw std::runtime_error("images: cannot read " + path);
        }
        return stripMetadata(header.probe.format, in, out);
    });
    outputs.commit();
    return result;
}

}  // namespace restinu::property::images
