#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

/// The property photos' processing (libvips): decide what an upload is by decoding it, refuse
/// what is not a JPEG, PNG or WebP and decompression bombs, and write a metadata-free original
/// plus fixed renditions, named by content hash so that one photo uploaded twice is stored once.
///
/// @par Thread safety
/// After init(), every function may run on any number of threads at once. They block and use
/// the CPU for up to seconds: call them on a worker pool, never on an event loop. libvips runs
/// each call on one thread (init() sets its concurrency to 1); parallelism is across photos.
///
/// @par Memory
/// Pixels are never decoded as a whole: the limits are checked on the header before any pixel
/// is read, and renditions are made by shrink-on-load with sequential access, so a call holds
/// about one rendition's pixels whatever the size of the photo.
namespace restinu::property::images {

/// Starts libvips for this process: one thread per call, no operation cache, and every loader
/// blocked except JPEG, PNG and WebP (no ImageMagick, PDF, SVG, ...). Idempotent and
/// thread-safe, and probe() and process() call it too; call it at startup to fail fast.
/// Throws std::runtime_error if libvips does not start.
void init();

enum class Format { Jpeg, Png, Webp };

/// "image/jpeg", "image/png", "image/webp".
std::string_view mimeType(Format f);
/// The file name extension without the dot: "jpg", "png", "webp".
std::string_view extension(Format f);

/// What an image may be. The defaults admit any camera photo (a 100 MP sensor) and refuse
/// the decompression bombs (a few kB claiming 50,000 × 50,000). They also bound the memory of
/// the two cases whose decoders keep a whole image: a progressive JPEG (libjpeg holds every
/// DCT coefficient: 3 bytes a pixel at 4:2:0, 6 at 4:4:4) and an interlaced PNG (its pixels).
struct Limits {
    std::uint64_t max_pixels = 100'000'000;
    int max_side = 30'000;
};

/// Why an upload is not accepted as a photo. `code()` is stable and meant for clients
/// ("undecodable", "too-many-pixels"); `what()` is the detail for the log.
class ImageRefused : public std::runtime_error {
public:
    enum class Reason { Undecodable, TooManyPixels };

    ImageRefused(Reason reason, const std::string& detail);

    Reason reason() const { return reason_; }
    std::string_view code() const;

private:
    Reason reason_;
};

/// An image as its header describes it.
struct Probe {
    Format format;
    /// The stored pixel grid, before the EXIF orientation: what the limits apply to.
    int width;
    int height;
    /// EXIF orientation, 1 (upright, also when there is no EXIF) to 8. 5 to 8 swap width and
    /// height for display. The stored original loses its EXIF, so keep this with the photo.
    int orientation;
};

/// Reads the header of the file at `path` (its name is ignored) and checks `limits`; decodes
/// no pixel. Throws ImageRefused: Undecodable (not a JPEG, PNG or WebP that libvips can read:
/// GIF, SVG, PDF, HEIC, text... are refused) or TooManyPixels (a side over max_side, or
/// width × height over max_pixels).
Probe probe(const std::string& path, const Limits& limits);

/// One rendition to make: this width (never upscaled), format and quality (1-100; ignored
/// for PNG).
struct RenditionSpec {
    int width;
    Format format;
    int quality = 80;
};

/// 320 and 1280 px wide, each as WebP and JPEG, quality 80.
std::vector<RenditionSpec> defaultRenditions();

struct Rendition {
    RenditionSpec spec;
    /// The real size: `spec.width` wide, or the photo's own width if that is smaller.
    int width;
    int height;
    /// The file name in the output directory: "<upload sha256>-<spec.width>.<ext>".
    std::string file;
    std::uint64_t bytes;
    /// SHA-256 of the file, 64 lowercase hex characters.
    std::string sha256;
};

struct Processed {
    Probe probe;
    /// "<upload sha256>-orig.<ext>": the upload's own bytes without metadata.
    std::string original_file;
    std::uint64_t original_bytes;
    std::vector<Rendition> renditions;
};

/// Processes the upload spooled at `path`, whose SHA-256 (64 lowercase hex characters) is
/// `upload_sha256`, writing into the existing directory `out_dir`:
/// - the original, its pixels unchanged (byte-level copy) but every metadata block removed
///   (EXIF, XMP, IPTC, comments, text chunks, thumbnails, data after the image); its ICC
///   profile stays, since its pixels mean nothing without it. Its EXIF orientation is gone
///   with the EXIF: Probe::orientation says how to show it (rotating losslessly is not
///   possible in general, and re-encoding would cost quality and a whole decoded image);
/// - every rendition of `specs`, upright (EXIF orientation applied, so `spec.width` is the
///   displayed width), converted to sRGB, with no metadata at all (not even ICC).
/// Each file is written under a temporary name and renamed, so a reader never sees half a
/// file; the same upload processed again yields the same names and bytes.
///
/// Throws ImageRefused as probe() does, and Undecodable if the image turns out broken while
/// decoding (a truncated file); the files written so far are then removed. Throws
/// std::invalid_argument for a bad hash or spec, std::runtime_error for an I/O error.
Processed process(const std::string& path, const std::string& upload_sha256,
                  const std::string& out_dir, const Limits& limits,
                  const std::vector<RenditionSpec>& specs);

}  // namespace restinu::property::images
