#pragma once

// Test support, shared by the image unit tests (image_pipeline_test.cpp) and the service's
// integration tests (tests/images_test.cpp): sample photos made with libvips at test time (no
// binary fixtures), EXIF with GPS, decompression bombs, and what a file decodes to.

#include <sys/resource.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "image_pipeline.hpp"
#include "restinu/rt/digest.hpp"

// The test binary links libvips (through restinu_property) but does not see its include
// directories, which are private to the library; the few C calls that make and check the test
// images are declared here, with the images kept opaque.
extern "C" {
struct VipsImageT;
int vips_gaussnoise(VipsImageT** out, int width, int height, ...);
int vips_cast_uchar(VipsImageT* in, VipsImageT** out, ...);
int vips_bandjoin(VipsImageT** in, VipsImageT** out, int n, ...);
void vips_image_set_blob_copy(VipsImageT* image, const char* name, const void* data,
                              std::size_t length);
int vips_image_write_to_file(VipsImageT* image, const char* name, ...);
VipsImageT* vips_image_new_from_file(const char* name, ...);
int vips_image_get_width(const VipsImageT* image);
int vips_image_get_height(const VipsImageT* image);
unsigned long vips_image_get_typeof(const VipsImageT* image, const char* name);
int vips_avg(VipsImageT* in, double* out, ...);
const char* vips_error_buffer();
void g_object_unref(void* object);
}

namespace restinu::property::images::samples {

namespace fs = std::filesystem;

using Image = std::unique_ptr<VipsImageT, decltype(&g_object_unref)>;

inline void check(int rc) {
    if (rc != 0) {
        throw std::runtime_error(std::string("test image: ") + vips_error_buffer());
    }
}

/// The image an operation makes (`op` writes it through its argument).
template <class Op>
Image made(Op op) {
    VipsImageT* image = nullptr;
    check(op(&image));
    return Image(image, &g_object_unref);
}

class TempDir {
public:
    TempDir() {
        std::string name = "restinu-images-";
        rt::appendRandomHex(name, 16);
        path_ = fs::temp_directory_path() / name;
        fs::create_directories(path_ / "out");
    }
    ~TempDir() { fs::remove_all(path_); }
    fs::path operator/(const std::string& name) const { return path_ / name; }
    std::string out() const { return (path_ / "out").string(); }
    long outFiles() const {
        return std::distance(fs::directory_iterator(path_ / "out"), fs::directory_iterator());
    }

private:
    fs::path path_;
};

inline std::string readFile(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void writeFile(const fs::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary) << bytes;
}

/// Noise (so that a JPEG's scan is most of its file), `bands` 3 (RGB) or 4 (RGBA), saved in
/// the format of `file_name`'s suffix.
inline fs::path writeImage(const TempDir& dir, const std::string& file_name, int width, int height,
                           int bands = 3, const std::string& exif = {}) {
    init();
    std::vector<Image> planes;
    std::vector<VipsImageT*> raw;
    for (int b = 0; b < bands; ++b) {
        Image n =
            made([&](VipsImageT** out) { return vips_gaussnoise(out, width, height, nullptr); });
        planes.push_back(
            made([&](VipsImageT** out) { return vips_cast_uchar(n.get(), out, nullptr); }));
        raw.push_back(planes.back().get());
    }
    Image image =
        made([&](VipsImageT** out) { return vips_bandjoin(raw.data(), out, bands, nullptr); });
    if (!exif.empty()) {
        vips_image_set_blob_copy(image.get(), "exif-data", exif.data(), exif.size());
    }
    fs::path p = dir / file_name;
    check(vips_image_write_to_file(image.get(), p.c_str(), nullptr));
    return p;
}

/// A file decoded in full by libvips (every pixel, failing on errors).
struct Decoded {
    int width, height;
    double average;
    bool has_exif;
};
inline Decoded decode(const fs::path& p) {
    Image image = made([&](VipsImageT** out) {
        *out = vips_image_new_from_file((p.string() + "[fail_on=error]").c_str(), nullptr);
        return *out == nullptr ? -1 : 0;
    });
    double average = 0;
    check(vips_avg(image.get(), &average, nullptr));
    return {vips_image_get_width(image.get()), vips_image_get_height(image.get()), average,
            vips_image_get_typeof(image.get(), "exif-data") != 0};
}

inline constexpr std::string_view kGpsMarker = "RESTINU-GPS-MARKER";
inline const std::string kExifHeader("Exif\0\0", 6);

/// "Exif\0\0" and a little-endian TIFF: IFD0 with Orientation and a GPS IFD pointer; the GPS
/// IFD with a latitude and, as GPSMapDatum, a marker to look for in the outputs.
inline std::string exifWithGps(int orientation) {
    std::string t = "II";
    auto o = static_cast<std::uint32_t>(orientation);
    auto marker_size = static_cast<std::uint32_t>(kGpsMarker.size() + 1);
    for (auto [value, bytes] : std::initializer_list<std::pair<std::uint32_t, int>>{
             {42, 2},     {8, 4},                                             // IFD0 at 8, 30 bytes
             {2, 2},      {0x0112, 2}, {3, 2},           {1, 4},   {o, 4},    // Orientation
             {0x8825, 2}, {4, 2},      {1, 4},           {38, 4},  {0, 4},    // GPS IFD at 38
             {3, 2},      {0x0001, 2}, {2, 2},           {2, 4},   {'N', 4},  // GPSLatitudeRef
             {0x0002, 2}, {5, 2},      {3, 4},           {80, 4},             // GPSLatitude
             {0x0012, 2}, {2, 2},      {marker_size, 4}, {104, 4},            // GPSMapDatum
             {0, 4},      {48, 4},     {1, 4},           {51, 4},  {1, 4},   {30, 4}, {1, 4}}) {
        for (int i = 0; i < bytes; ++i) {
            t += static_cast<char>((value >> (8 * i)) & 0xFF);
        }
    }
    return kExifHeader + t + std::string(kGpsMarker) + '\0';  // the marker at 104
}

inline std::string jpegSegment(int marker, const std::string& payload) {
    std::size_t n = payload.size() + 2;
    return std::string{'\xFF', static_cast<char>(marker), static_cast<char>(n >> 8),
                       static_cast<char>(n & 0xFF)} +
           payload;
}

/// A JPEG with `exif` as an APP1 segment right after SOI.
inline fs::path writeJpegWithExif(const TempDir& dir, const std::string& name, int width,
                                  int height, const std::string& exif) {
    fs::path p = writeImage(dir, name, width, height);
    std::string bytes = readFile(p);
    writeFile(p, bytes.substr(0, 2) + jpegSegment(0xE1, exif) + bytes.substr(2));
    return p;
}

inline long maxRssKb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

inline std::uint32_t crc32(std::string_view data) {
    std::uint32_t crc = 0xFFFFFFFFU;
    for (unsigned char c : data) {
        crc ^= c;
        for (int k = 0; k < 8; ++k) {
            crc = (crc >> 1) ^ (0xEDB88320U & (0U - (crc & 1U)));
        }
    }
    return ~crc;
}

inline void putBe(std::string& s, std::size_t at, std::uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) {
        s[at + i] = static_cast<char>((v >> (8 * (bytes - 1 - i))) & 0xFF);
    }
}

/// A small real PNG whose IHDR (and its CRC) claims `width` × `height`.
inline fs::path pngClaiming(const TempDir& dir, std::uint32_t width, std::uint32_t height) {
    std::string png = readFile(writeImage(dir, "small.png", 16, 16));
    putBe(png, 16, width, 4);  // signature 8, length 4, "IHDR" 4
    putBe(png, 20, height, 4);
    putBe(png, 29, crc32(std::string_view(png).substr(12, 17)), 4);
    fs::path p = dir / ("claims-" + std::to_string(width) + "x" + std::to_string(height) + ".png");
    writeFile(p, png);
    return p;
}

}  // namespace restinu::property::images::samples
