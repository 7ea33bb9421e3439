#include "image_pipeline.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "image_samples.hpp"
#include "image_strip.hpp"
#include "restinu/rt/digest.hpp"

namespace restinu::property::images {
namespace {

using namespace samples;  // NOLINT(google-build-using-namespace): the test's own helpers
namespace fs = std::filesystem;

/// The refusal `call` throws.
template <class Call>
ImageRefused refusal(Call call) {
    try {
        call();
    } catch (const ImageRefused& e) {
        return e;
    }
    ADD_FAILURE() << "not refused";
    return {ImageRefused::Reason::Undecodable, "not refused"};
}

Processed processFile(const fs::path& p, const TempDir& dir) {
    return process(p.string(), rt::sha256Hex(readFile(p)), dir.out(), Limits{},
                   defaultRenditions());
}

TEST(ImagePipeline, AcceptsJpegPngAndWebpAndMakesEveryRendition) {
    init();
    for (auto [name, mime, bands, format] : {std::tuple{"a.jpg", "image/jpeg", 3, Format::Jpeg},
                                             std::tuple{"a.png", "image/png", 4, Format::Png},
                                             std::tuple{"a.webp", "image/webp", 3, Format::Webp}}) {
        SCOPED_TRACE(name);
        TempDir dir;
        fs::path upload = dir / "upload.bin";  // the name plays no part
        fs::rename(writeImage(dir, name, 1600, 1200, bands), upload);
        std::string sha = rt::sha256Hex(readFile(upload));
        Processed p = processFile(upload, dir);

        EXPECT_EQ(p.probe.format, format);
        EXPECT_EQ(mimeType(format), mime);
        EXPECT_EQ(std::tie(p.probe.width, p.probe.height, p.probe.orientation),
                  std::tuple(1600, 1200, 1));
        EXPECT_EQ(p.original_file, sha + "-orig." + std::string(extension(format)));
        EXPECT_EQ(fs::file_size(dir / ("out/" + p.original_file)), p.original_bytes);
        Decoded original = decode(dir / ("out/" + p.original_file));
        EXPECT_EQ(std::tie(original.width, original.height), std::tuple(1600, 1200));
        EXPECT_EQ(original.average, decode(upload).average);  // the same pixels

        ASSERT_EQ(p.renditions.size(), 4U);
        for (std::size_t i = 0; i < p.renditions.size(); ++i) {
            const Rendition& r = p.renditions[i];
            SCOPED_TRACE(r.file);
            RenditionSpec spec = defaultRenditions()[i];
            EXPECT_EQ(std::tie(r.spec.width, r.spec.format), std::tie(spec.width, spec.format));
            EXPECT_EQ(r.width, r.spec.width);
            EXPECT_EQ(r.height, r.spec.width * 3 / 4);
            EXPECT_EQ(r.file, sha + "-" + std::to_string(r.spec.width) + "." +
                                  std::string(extension(r.spec.format)));
            std::string bytes = readFile(dir / ("out/" + r.file));
            EXPECT_EQ(bytes.size(), r.bytes);
            EXPECT_EQ(rt::sha256Hex(bytes), r.sha256);
            Decoded d = decode(dir / ("out/" + r.file));
            EXPECT_EQ(std::tie(d.width, d.height), std::tie(r.width, r.height));
        }
        EXPECT_EQ(dir.outFiles(), 5);  // no temporary file left
    }
}

TEST(ImagePipeline, NeverUpscalesASmallPhoto) {
    TempDir dir;
    Processed p = processFile(writeImage(dir, "small.jpg", 200, 150), dir);
    ASSERT_EQ(p.renditions.size(), 4U);
    for (const auto& r : p.renditions) {
        EXPECT_EQ(std::tie(r.width, r.height), std::tuple(200, 150)) << r.file;
        EXPECT_EQ(decode(dir / ("out/" + r.file)).width, 200);
    }
}

TEST(ImagePipeline, RefusesTextNamedLikeAnImageAsUndecodable) {
    TempDir dir;
    for (const char* name : {"photo.jpg", "photo.png", "table.csv"}) {
        writeFile(dir / name, "1 2 3\n4 5 6\n");
        EXPECT_EQ(refusal([&] { processFile(dir / name, dir); }).code(), "undecodable") << name;
    }
    EXPECT_EQ(dir.outFiles(), 0);
}

TEST(ImagePipeline, RefusesGifSvgAndTiffThoughLibvipsReadsThem) {
    TempDir dir;
    std::vector<fs::path> uploads{writeImage(dir, "a.gif", 64, 48),
                                  writeImage(dir, "a.tif", 64, 48)};
    uploads.push_back(dir / "a.svg");
    writeFile(uploads.back(),
              R"(<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48"/>)");
    for (const auto& upload : uploads) {
        EXPECT_EQ(refusal([&] { probe(upload.string(), Limits{}); }).reason(),
                  ImageRefused::Reason::Undecodable)
            << upload;
        EXPECT_EQ(refusal([&] { processFile(upload, dir); }).reason(),
                  ImageRefused::Reason::Undecodable);
    }
    EXPECT_EQ(dir.outFiles(), 0);
}

TEST(ImagePipeline, RefusesATruncatedJpegWhileDecodingAndLeavesNoFile) {
    TempDir dir;
    std::string whole = readFile(writeImage(dir, "whole.jpg", 1600, 1200));
    writeFile(dir / "half.jpg", whole.substr(0, whole.size() / 2));
    // Its header is whole: only decoding (libjpeg merely warns at the early end) can refuse it.
    Probe header = probe((dir / "half.jpg").string(), Limits{});
    EXPECT_EQ(header.width, 1600);
    ImageRefused refused = refusal([&] { processFile(dir / "half.jpg", dir); });
    EXPECT_EQ(refused.reason(), ImageRefused::Reason::Undecodable);
    // libjpeg's words: the decoder refused it (fail_on), not just the stripper's EOI check.
    EXPECT_NE(std::string(refused.what()).find("Premature end"), std::string::npos)
        << refused.what();
    EXPECT_EQ(dir.outFiles(), 0);
}

TEST(ImagePipeline, RefusesADecompressionBombFromItsHeader) {
    init();
    TempDir dir;
    std::string jpeg = readFile(writeImage(dir, "small.jpg", 16, 16));
    auto sof = jpeg.find("\xFF\xC0");
    ASSERT_NE(sof, std::string::npos);
    putBe(jpeg, sof + 5, 60000, 2);
    putBe(jpeg, sof + 7, 60000, 2);
    writeFile(dir / "bomb.jpg", jpeg);

    long before = maxRssKb();
    for (const auto& bomb : {pngClaiming(dir, 50000, 50000), dir / "bomb.jpg",
                             pngClaiming(dir, 40000, 10)}) {  // a side over max_side
        SCOPED_TRACE(bomb);
        EXPECT_EQ(refusal([&] { probe(bomb.string(), Limits{}); }).reason(),
                  ImageRefused::Reason::TooManyPixels);
        EXPECT_EQ(refusal([&] { processFile(bomb, dir); }).code(), "too-many-pixels");
    }
    EXPECT_LT(maxRssKb() - before, 50 * 1024);  // 50,000² RGB would be 7.5 GB
    EXPECT_EQ(dir.outFiles(), 0);

    // The limit is width × height, not the file size: a real photo over a lowered limit.
    fs::path photo = writeImage(dir, "photo.png", 1000, 750);
    EXPECT_EQ(refusal([&] {
                  probe(photo.string(), Limits{749'999, 30'000});
              }).reason(),
              ImageRefused::Reason::TooManyPixels);
    EXPECT_EQ(probe(photo.string(), Limits{750'000, 1'000}).width, 1000);
}

void expectNoMetadata(const fs::path& p) {
    SCOPED_TRACE(p.filename());
    std::string bytes = readFile(p);
    EXPECT_EQ(bytes.find(kGpsMarker), std::string::npos);
    EXPECT_EQ(bytes.find(kExifHeader), std::string::npos);
    EXPECT_FALSE(decode(p).has_exif);
}

TEST(ImagePipeline, RemovesExifAndGpsFromTheOriginalAndEveryRendition) {
    init();
    TempDir dir;
    std::string exif = exifWithGps(1);
    for (const auto& upload : {writeJpegWithExif(dir, "gps.jpg", 800, 600, exif),
                               writeImage(dir, "gps.png", 800, 600, 3, exif),
                               writeImage(dir, "gps.webp", 800, 600, 3, exif)}) {
        SCOPED_TRACE(upload);
        // The upload does carry them, as libvips reads them.
        ASSERT_NE(readFile(upload).find(kGpsMarker), std::string::npos);
        ASSERT_TRUE(decode(upload).has_exif);

        Processed p = processFile(upload, dir);
        expectNoMetadata(dir / ("out/" + p.original_file));
        for (const auto& r : p.renditions) {
            expectNoMetadata(dir / ("out/" + r.file));
        }
    }
}

TEST(ImagePipeline, TurnsRenditionsUprightByTheExifOrientation) {
    init();
    TempDir dir;
    // Stored 2000 × 1500, orientation 6 (rotate 90° clockwise): shown 1500 × 2000.
    fs::path upload = writeJpegWithExif(dir, "portrait.jpg", 2000, 1500, exifWithGps(6));
    Processed p = processFile(upload, dir);
    EXPECT_EQ(std::tie(p.probe.width, p.probe.height, p.probe.orientation),
              std::tuple(2000, 1500, 6));
    ASSERT_EQ(p.renditions.size(), 4U);
    for (const auto& r : p.renditions) {
        SCOPED_TRACE(r.file);
        EXPECT_EQ(r.width, r.spec.width);
        EXPECT_NEAR(r.height, r.spec.width * 4 / 3.0, 1.0);
        Decoded d = decode(dir / ("out/" + r.file));
        EXPECT_EQ(std::tie(d.width, d.height), std::tie(r.width, r.height));
    }
    // The original keeps its stored pixels, and loses the orientation with the EXIF.
    Decoded original = decode(dir / ("out/" + p.original_file));
    EXPECT_EQ(original.width, 2000);
    EXPECT_FALSE(original.has_exif);
}

TEST(ImagePipeline, TheSameUploadGivesTheSameFilesTwice) {
    TempDir dir;
    TempDir other;
    fs::path upload = writeImage(dir, "twice.webp", 900, 600);
    Processed first = processFile(upload, dir);
    Processed again = processFile(upload, dir);  // over its own files
    Processed elsewhere = processFile(upload, other);
    auto files = [](const Processed& p) {
        std::vector<std::string> names{p.original_file};
        for (const auto& r : p.renditions) {
            names.push_back(r.file + " " + r.sha256);
        }
        return names;
    };
    EXPECT_EQ(files(again), files(first));
    EXPECT_EQ(files(elsewhere), files(first));
    EXPECT_EQ(readFile(dir / ("out/" + first.original_file)),
              readFile(other / ("out/" + elsewhere.original_file)));
    EXPECT_EQ(dir.outFiles(), 5);
    EXPECT_THROW(process(upload.string(), "not-a-hash/../x", dir.out(), Limits{}, {}),
                 std::invalid_argument);
}

std::string strip(Format format, const std::string& bytes) {
    std::istringstream in(bytes);
    std::stringstream out;
    std::uint64_t n = stripMetadata(format, in, out);
    EXPECT_EQ(n, out.str().size());
    return out.str();
}

TEST(ImageStrip, JpegKeepsTheImageSegmentsOnly) {
    const std::string soi = "\xFF\xD8", eoi = "\xFF\xD9";
    const std::string jfif_head("JFIF\0\x01\x02\x00\x00\x01\x00\x01", 12);
    const std::string icc = jpegSegment(0xE2, std::string("ICC_PROFILE\0\x01\x01icc", 17));
    const std::string adobe = jpegSegment(0xEE, std::string("Adobe\0\x64\0\0\0\0\x01", 12));
    const std::string tables = jpegSegment(0xDB, "dqt") + jpegSegment(0xC2, "sof");
    const std::string scan1 =
        jpegSegment(0xDA, "sos1") + std::string("\x12\xFF\x00\x34\xFF\xD0\x56", 7);
    const std::string scan2 = jpegSegment(0xC4, "dht") + jpegSegment(0xDA, "sos2") + "\x78\x9A";
    std::string in = soi + jpegSegment(0xE0, jfif_head + "\x02\x01" + "thumb!") +
                     jpegSegment(0xE1, exifWithGps(1)) + icc +
                     jpegSegment(0xE2, std::string("MPF\0more", 8)) +
                     jpegSegment(0xED, "Photoshop 3.0") + adobe + jpegSegment(0xFE, "comment") +
                     tables + scan1 + scan2 + "\xFF\xFF" + eoi + soi + "a second image, Exif";
    std::string expected = soi + jpegSegment(0xE0, jfif_head + std::string(2, '\0')) + icc + adobe +
                           tables + scan1 + scan2 + eoi;
    EXPECT_EQ(strip(Format::Jpeg, in), expected);
}

std::string pngChunk(const std::string& type, const std::string& data) {
    std::string c(4, '\0');
    putBe(c, 0, static_cast<std::uint32_t>(data.size()), 4);
    return c + type + data + "crc!";
}

TEST(ImageStrip, PngKeepsTheImageAndColourChunksOnly) {
    const std::string sig("\x89PNG\r\n\x1a\n", 8);
    std::string kept = pngChunk("IHDR", std::string(13, '\1')) + pngChunk("iCCP", "profile") +
                       pngChunk("pHYs", "123456789");
    std::string in = sig + kept + pngChunk("eXIf", exifWithGps(1)) + pngChunk("tEXt", "GPS") +
                     pngChunk("zTXt", "z") + pngChunk("iTXt", "i") + pngChunk("tIME", "1234567") +
                     pngChunk("caBX", "c2pa") + pngChunk("IDAT", "pixels") +
                     pngChunk("IDAT", "more") + pngChunk("IEND", "") + "trailing";
    EXPECT_EQ(strip(Format::Png, in), sig + kept + pngChunk("IDAT", "pixels") +
                                          pngChunk("IDAT", "more") + pngChunk("IEND", ""));
}

std::string webpChunk(const std::string& fourcc, const std::string& data) {
    std::string size{static_cast<char>(data.size()), 0, 0, 0};
    return fourcc + size + data + (data.size() % 2 == 1 ? std::string(1, '\0') : "");
}

TEST(ImageStrip, WebpDropsExifAndXmpAndFixesTheSizeAndFlags) {
    auto riff = [](const std::string& chunks) {
        std::string size{static_cast<char>((chunks.size() + 4) & 0xFF),
                         static_cast<char>((chunks.size() + 4) >> 8), 0, 0};
        return "RIFF" + size + "WEBP" + chunks;
    };
    std::string vp8x_tail(9, '\0');
    std::string in = riff(webpChunk("VP8X", "\x2C" + vp8x_tail) + webpChunk("ICCP", "icc") +
                          webpChunk("EXIF", exifWithGps(1)) + webpChunk("VP8 ", "frame!") +
                          webpChunk("XMP ", "<x:xmpmeta/>") + webpChunk("ABCD", "x")) +
                     "trailing";
    std::string expected = riff(webpChunk("VP8X", "\x20" + vp8x_tail) + webpChunk("ICCP", "icc") +
                                webpChunk("VP8 ", "frame!"));
    EXPECT_EQ(strip(Format::Webp, in), expected);
}

TEST(ImageStrip, RefusesABrokenStructure) {
    for (const auto& [format, bytes] : std::initializer_list<std::pair<Format, std::string>>{
             {Format::Jpeg, "GIF89a"},
             {Format::Jpeg, "\xFF\xD8" + jpegSegment(0xDA, "sos") + "\x12\x34"},  // no EOI
             {Format::Jpeg, std::string("\xFF\xD8\xFF\xE1\x40\x00short", 11)},
             {Format::Png, std::string("\x89PNG\r\n\x1a\n", 8) + pngChunk("IHDR", "x")},
             {Format::Webp, std::string("RIFF\x10\0\0\0WEBPVP8 \xFF\0\0\0ab", 22)}}) {
        EXPECT_EQ(refusal([&] { strip(format, bytes); }).code(), "undecodable") << bytes;
    }
}

}  // namespace
}  // namespace restinu::property::images
