#pragma once

#include <cstdint>
#include <iosfwd>

#include "image_pipeline.hpp"

/// Lossless metadata removal: copies an image's bytes, leaving out every block that is not
/// needed to show its pixels. Nothing is decoded or re-encoded, so the pixels stay exactly
/// as uploaded. Each format keeps a list of what is needed (not a list of what to drop), so an
/// unknown or private block (C2PA, a maker's note in its own chunk) goes too:
/// - JPEG: SOI, the frame, tables and scans, EOI; APP0 JFIF without its thumbnail; APP2
///   ICC_PROFILE; APP14 Adobe (it says whether the colours are RGB, YCbCr or CMYK). Gone:
///   APP1 (EXIF, XMP), APP13 (IPTC), the other APPn (MPF and its extra images), COM, and
///   anything after EOI.
/// - PNG: IHDR, PLTE, IDAT, IEND and the colour chunks tRNS, cHRM, gAMA, iCCP, sBIT, sRGB,
///   cICP, mDCv, cLLi, bKGD, pHYs. Gone: eXIf, tEXt, zTXt, iTXt, tIME, APNG frames, the rest.
/// - WebP: VP8X (its EXIF and XMP flags cleared), ICCP, ANIM, ANMF, ALPH, VP8, VP8L, with the
///   RIFF size fixed. Gone: EXIF, XMP and the rest.
///
/// Each function reads `in` from its start to the image's end and writes the result to `out`
/// (for WebP `out` must be seekable: the RIFF size is written last). It returns the number of
/// bytes written, and throws ImageRefused(Undecodable) if the structure is broken (truncated,
/// a length past the end), std::runtime_error if a stream fails.
namespace restinu::property::images {

std::uint64_t stripJpeg(std::istream& in, std::ostream& out);
std::uint64_t stripPng(std::istream& in, std::ostream& out);
std::uint64_t stripWebp(std::istream& in, std::ostream& out);

/// Calls the one for `format`.
std::uint64_t stripMetadata(Format format, std::istream& in, std::ostream& out);

}  // namespace restinu::property::images
