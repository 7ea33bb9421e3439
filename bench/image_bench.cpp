// Property photo processing: images::process (a stripped original plus 320 and 1280 px wide
// renditions in WebP and JPEG, as an upload gets them) on 2 threads (the cores) and on 1, for
// a 12-megapixel camera-like JPEG, against vipsthumbnail (libvips-tools) making the same four
// renditions of the same file as 2 parallel workers (and 1). Prints photos/s of each, the
// ratio ours/vipsthumbnail and the peak RSS of both.
//   image_bench sample OUT.jpg [SEED [WIDTH HEIGHT]]   a photo-like JPEG (4000 x 3000), Q 90, EXIF
//   image_bench run PHOTO.jpg WORK_DIR [SLICE_SECONDS] [ROUNDS]
// The two sides are measured in alternating slices (the machine's speed drifts), so each gets
// the same mix of good and bad moments.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <vips/vips.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "image_pipeline.hpp"
#include "restinu/rt/digest.hpp"

extern char** environ;

namespace images = restinu::property::images;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// ---- the sample photo --------------------------------------------------------------------

std::uint32_t mix32(std::uint32_t h) {
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    h *= 0x846ca68bu;
    h ^= h >> 16;
    return h;
}

std::uint32_t hash3(std::int32_t x, std::int32_t y, std::uint32_t seed) {
    return mix32(mix32(mix32(seed) ^ static_cast<std::uint32_t>(x)) ^ static_cast<std::uint32_t>(y));
}

float lattice(std::int32_t x, std::int32_t y, std::uint32_t seed) {
    return static_cast<float>(hash3(x, y, seed) >> 8) * (1.0f / 16777216.0f);
}

// Smooth value noise in [0, 1) with lattice spacing `cell` pixels.
float valueNoise(float x, float y, float cell, std::uint32_t seed) {
    x /= cell;
    y /= cell;
    auto ix = static_cast<std::int32_t>(std::floor(x));
    auto iy = static_cast<std::int32_t>(std::floor(y));
    float fx = x - static_cast<float>(ix);
    float fy = y - static_cast<float>(iy);
    fx = fx * fx * (3 - 2 * fx);
    fy = fy * fy * (3 - 2 * fy);
    float a = lattice(ix, iy, seed), b = lattice(ix + 1, iy, seed);
    float c = lattice(ix, iy + 1, seed), d = lattice(ix + 1, iy + 1, seed);
    return (a + (b - a) * fx) + ((c + (d - c) * fx) - (a + (b - a) * fx)) * fy;
}

// Fractal noise in about [-0.5, 0.5]: octaves from `cell` down to `finest` pixels.
float fractal(float x, float y, float cell, float finest, std::uint32_t seed) {
    float sum = 0, amp = 0.5f, norm = 0;
    for (float c = cell; c >= finest; c /= 2.5f, amp *= 0.55f, ++seed) {
        sum += amp * (valueNoise(x, y, c, seed) - 0.5f);
        norm += amp;
    }
    return sum / norm;
}

struct Rgb {
    float r, g, b;
};
Rgb mix(Rgb a, Rgb b, float t) {
    t = std::clamp(t, 0.0f, 1.0f);
    return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t};
}

struct Building {
    int x0, x1, top;
    Rgb wall;
    int win_w, win_h, pitch_x, pitch_y;
};

// A street scene as a camera would take it: sky with clouds over a horizon, buildings with
// rows of windows (hard edges), textured ground (grass, earth), lens vignetting and sensor
// grain. Smooth areas and detail in about the proportions of a real photo, so the JPEG is
// about the size a 12 MP camera writes at Q 90 (not noise, which no camera makes).
std::vector<std::uint8_t> scene(int w, int h, std::uint32_t seed) {
    std::vector<std::uint8_t> px(static_cast<std::size_t>(w) * h * 3);
    std::uint32_t rng = seed * 2654435761u + 1;
    auto next = [&] {
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        return rng;
    };
    auto uniform = [&] { return static_cast<float>(next() >> 8) * (1.0f / 16777216.0f); };
    const float horizon = h * (0.48f + 0.08f * (uniform() - 0.5f));
    std::vector<Building> buildings;
    for (int x = -100; x < w;) {
        int width = 250 + static_cast<int>(uniform() * 450);
        if (uniform() < 0.75f) {
            Rgb wall{120 + uniform() * 110, 110 + uniform() * 100, 100 + uniform() * 90};
            buildings.push_back({x, x + width, static_cast<int>(horizon - 200 - uniform() * 900),
                                 wall, 22 + static_cast<int>(uniform() * 20),
                                 30 + static_cast<int>(uniform() * 20),
                                 50 + static_cast<int>(uniform() * 30),
                                 70 + static_cast<int>(uniform() * 30)});
        }
        x += width + static_cast<int>(uniform() * 60);
    }
    const Rgb sky_top{70, 115, 190}, sky_low{185, 205, 228}, cloud{242, 244, 248};
    const Rgb grass{78, 112, 52}, earth{128, 104, 78}, road{96, 96, 100};
    const float cx = w / 2.0f, cy = h / 2.0f, rmax = std::sqrt(cx * cx + cy * cy);
    for (int y = 0; y < h; ++y) {
        auto* row = px.data() + static_cast<std::size_t>(y) * w * 3;
        for (int x = 0; x < w; ++x) {
            const float fx = static_cast<float>(x), fy = static_cast<float>(y);
            Rgb c;
            const float edge = horizon + 40 * (valueNoise(fx, 0, 300, seed + 7) - 0.5f);
            const Building* on = nullptr;
            for (const auto& b : buildings) {
                if (x >= b.x0 && x < b.x1 && y >= b.top && fy < edge) {
                    on = &b;
                }
            }
            if (on != nullptr) {
                float shade = 0.9f + 0.25f * fractal(fx, fy, 120, 6, seed + 11) +
                              0.12f * (valueNoise(fx, fy, 2.0f, seed + 37) - 0.5f);
                c = {on->wall.r * shade, on->wall.g * shade, on->wall.b * shade};
                int wx = (x - on->x0) % on->pitch_x, wy = (y - on->top) % on->pitch_y;
                if (x - on->x0 > 20 && on->x1 - x > 20 && y - on->top > 30 && wx > 12 &&
                    wx < 12 + on->win_w && wy > 18 && wy < 18 + on->win_h) {
                    float lit = lattice((x - on->x0) / on->pitch_x, (y - on->top) / on->pitch_y,
                                        seed + 13);
                    c = lit > 0.8f ? Rgb{210, 190, 140} : Rgb{40 + 30 * lit, 50 + 30 * lit, 62};
                    c = mix(c, sky_low, 0.25f * (1.0f - static_cast<float>(wy - 18) / on->win_h));
                }
            } else if (fy < edge) {
                c = mix(sky_top, sky_low, fy / edge);
                float cl = fractal(fx, fy * 1.8f, 700, 12, seed + 17) + 0.12f;
                c = mix(c, cloud, cl * 3.0f);
            } else {
                float t = (fy - edge) / (h - edge);
                float tex = fractal(fx, fy, 400, 3, seed + 23);
                c = mix(grass, earth, 0.5f + 2.2f * fractal(fx, fy, 500, 60, seed + 29));
                float path = std::fabs(fx - (cx + (fy - edge) * 0.9f)) / (80 + 900 * t);
                if (path < 1) {
                    c = mix(road, c, path * path);
                }
                // Grass blades and gravel: fine, strong texture, coarser towards the camera.
                float fine = (1.0f - t) * (valueNoise(fx, fy, 2.0f, seed + 31) - 0.5f) +
                             t * (valueNoise(fx, fy / 3.0f, 4.0f, seed + 41) - 0.5f);
                float k = 1.0f + 0.9f * tex + 0.55f * fine;
                c = {c.r * k, c.g * k, c.b * k};
            }
            const float dx = fx - cx, dy = fy - cy;
            const float vignette = 1.0f - 0.28f * (dx * dx + dy * dy) / (rmax * rmax);
            // Sensor grain: about 2 levels (a sum of uniforms is near-Gaussian).
            float grain = (uniform() + uniform() + uniform() - 1.5f) * 4.0f;
            row[x * 3 + 0] = static_cast<std::uint8_t>(std::clamp(c.r * vignette + grain, 0.0f, 255.0f));
            row[x * 3 + 1] = static_cast<std::uint8_t>(std::clamp(c.g * vignette + grain, 0.0f, 255.0f));
            row[x * 3 + 2] = static_cast<std::uint8_t>(std::clamp(c.b * vignette + grain, 0.0f, 255.0f));
        }
    }
    return px;
}

int sample(const std::string& out, std::uint32_t seed, int w, int h) {
    if (VIPS_INIT("image_bench") != 0) {
        std::fprintf(stderr, "image_bench: libvips did not start\n");
        return 1;
    }
    auto px = scene(w, h, seed);
    VipsImage* image =
        vips_image_new_from_memory(px.data(), px.size(), w, h, 3, VIPS_FORMAT_UCHAR);
    if (image == nullptr) {
        std::fprintf(stderr, "image_bench: %s\n", vips_error_buffer());
        return 1;
    }
    // EXIF as a camera writes it (libvips builds the block from these fields when it saves).
    vips_image_set_int(image, VIPS_META_ORIENTATION, 1);
    vips_image_set_string(image, "exif-ifd0-Make", "RESTiN-U (RESTiN-U, ASCII, 9 components)");
    vips_image_set_string(image, "exif-ifd0-Model",
                          "Bench Camera 12 (Bench Camera 12, ASCII, 16 components)");
    vips_image_set_string(image, "exif-ifd0-Software", "image_bench (image_bench, ASCII, 12 components)");
    int rc = vips_jpegsave(image, out.c_str(), "Q", 90, "subsample_mode",
                           VIPS_FOREIGN_SUBSAMPLE_ON, nullptr);
    g_object_unref(image);
    if (rc != 0) {
        std::fprintf(stderr, "image_bench: %s\n", vips_error_buffer());
        return 1;
    }
    return 0;
}

// ---- the measurement ---------------------------------------------------------------------

struct Rate {
    std::uint64_t photos = 0;
    double seconds = 0;
    void add(const Rate& r) {
        photos += r.photos;
        seconds += r.seconds;
    }
    double perSecond() const { return seconds > 0 ? static_cast<double>(photos) / seconds : 0; }
};

// `workers` threads each run `one(i)` photo after photo until `seconds` have passed; the
// time counted is until the last photo started in time has finished.
template <class One>
Rate timed(int workers, double seconds, One one) {
    std::atomic<std::uint64_t> done{0};
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::duration<double>(seconds);
    std::vector<std::thread> threads;
    for (int i = 0; i < workers; ++i) {
        threads.emplace_back([&, i] {
            while (Clock::now() < deadline) {
                one(i);
                done.fetch_add(1);
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    return {done.load(), std::chrono::duration<double>(Clock::now() - start).count()};
}

void spawnAndWait(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args) {
        argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    pid_t pid = 0;
    posix_spawn_file_actions_t quiet;  // stdout to /dev/null; errors still show
    posix_spawn_file_actions_init(&quiet);
    posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawnp(&pid, argv[0], &quiet, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&quiet);
    if (rc != 0) {
        throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            throw std::runtime_error("waitpid failed");
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw std::runtime_error(args[0] + " " + args[1] + " failed (status " +
                                 std::to_string(status) + ")");
    }
}

// vipsthumbnail making the four renditions of `photo` into `dir`: one process each, one
// libvips thread each (as ours), the same widths, formats, quality and JPEG options.
void vipsthumbnailPhoto(const std::string& exe, const std::string& photo, const std::string& dir) {
    for (int width : {320, 1280}) {
        const auto base = dir + "/vt-" + std::to_string(width);
        spawnAndWait({exe, photo, "--size", std::to_string(width) + "x", "--vips-concurrency=1",
                      "-o", base + ".webp[Q=80,strip]"});
        spawnAndWait({exe, photo, "--size", std::to_string(width) + "x", "--vips-concurrency=1",
                      "-o", base + ".jpg[Q=80,strip,optimize_coding,interlace]"});
    }
}

// What vipsthumbnail does for one rendition, without starting a process: vips_thumbnail (the
// same shrink-on-load) and a save by file name with the same options, in this process, with
// the settings images::init() gives libvips (one thread per call, no operation cache).
void inProcessPhoto(const std::string& photo, const std::string& dir) {
    for (int width : {320, 1280}) {
        const auto base = dir + "/lv-" + std::to_string(width);
        for (const auto& out : {base + ".webp[Q=80,strip]",
                                base + ".jpg[Q=80,strip,optimize_coding,interlace]"}) {
            VipsImage* image = nullptr;
            if (vips_thumbnail(photo.c_str(), &image, width, "height", VIPS_MAX_COORD, nullptr) != 0) {
                throw std::runtime_error(std::string("vips_thumbnail: ") + vips_error_buffer());
            }
            int rc = vips_image_write_to_file(image, out.c_str(), nullptr);
            g_object_unref(image);
            if (rc != 0) {
                throw std::runtime_error(std::string("save: ") + vips_error_buffer());
            }
        }
    }
}

long maxRssKiB(int who) {
    rusage u{};
    ::getrusage(who, &u);
    return u.ru_maxrss;
}

// Resets this process's peak RSS to its current RSS (Linux 4.0+), so that getrusage's
// ru_maxrss then tells the peak of what runs next only.
void resetPeakRss() {
    std::ofstream("/proc/self/clear_refs") << "5";
}

long currentRssKiB() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::strtol(line.c_str() + 6, nullptr, 10);
        }
    }
    return 0;
}

int run(const std::string& photo, const std::string& work, double slice, int rounds,
        const std::string& vt) {
    // vipsthumbnail's own peak RSS, measured first: a child's ru_maxrss starts at its parent's
    // high-water mark (posix_spawn shares the parent's memory until exec), so it is only the
    // child's own while this process is still small.
    fs::create_directories(work + "/vipsthumbnail-rss");
    vipsthumbnailPhoto(vt, photo, work + "/vipsthumbnail-rss");
    const long vt_peak = maxRssKiB(RUSAGE_CHILDREN);
    const long self_before = maxRssKiB(RUSAGE_SELF);
    // What a vipsthumbnail run costs before any image: starting libvips (its modules).
    const auto t0 = Clock::now();
    for (int i = 0; i < 10; ++i) {
        spawnAndWait({vt, "--vips-version"});
    }
    const double vt_start_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / 10;
    images::init();
    std::string bytes;
    {
        std::ifstream in(photo, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    if (bytes.empty()) {
        std::fprintf(stderr, "image_bench: cannot read %s\n", photo.c_str());
        return 1;
    }
    const auto sha = restinu::rt::sha256Hex(bytes);
    const auto photo_bytes = bytes.size();
    bytes = std::string();
    std::vector<std::string> ours_dirs, vt_dirs;
    for (int i = 0; i < 2; ++i) {
        ours_dirs.push_back(work + "/ours-" + std::to_string(i));
        vt_dirs.push_back(work + "/vipsthumbnail-" + std::to_string(i));
        fs::create_directories(ours_dirs.back());
        fs::create_directories(vt_dirs.back());
    }
    auto ours = [&](int i) {
        images::process(photo, sha, ours_dirs[static_cast<std::size_t>(i)], images::Limits{},
                        images::defaultRenditions());
    };
    auto theirs = [&](int i) { vipsthumbnailPhoto(vt, photo, vt_dirs[static_cast<std::size_t>(i)]); };
    auto bare = [&](int i) { inProcessPhoto(photo, vt_dirs[static_cast<std::size_t>(i)]); };

    // Warm up (the file in the page cache, libvips' and the codecs' first use), and show what
    // one photo gives.
    const long rss_idle = currentRssKiB();
    auto first = images::process(photo, sha, ours_dirs[0], images::Limits{},
                                 images::defaultRenditions());
    theirs(0);
    bare(0);
    std::printf("photo: %d x %d JPEG (Q 90, 4:2:0, EXIF), %.2f MB; renditions:", first.probe.width,
                first.probe.height, static_cast<double>(photo_bytes) / 1e6);
    for (const auto& r : first.renditions) {
        std::printf(" %s %llu kB;", r.file.substr(65).c_str(),
                    static_cast<unsigned long long>(r.bytes / 1000));
    }
    std::printf("\n");

    // One thread, then 2 against 2 in alternating slices; ours' peak RSS is taken over its own
    // slices only.
    resetPeakRss();
    Rate ours1 = timed(1, slice, ours);
    const long peak1 = maxRssKiB(RUSAGE_SELF);
    long peak2 = 0;
    Rate ours2, theirs2, bare2;
    for (int r = 0; r < rounds; ++r) {
        resetPeakRss();
        Rate a = timed(2, slice, ours);
        peak2 = std::max(peak2, maxRssKiB(RUSAGE_SELF));
        Rate b = timed(2, slice, theirs);
        Rate c = timed(2, slice, bare);
        std::printf("round %d: ours %.2f photos/s, vipsthumbnail %.2f photos/s, libvips in "
                    "process %.2f photos/s\n",
                    r + 1, a.perSecond(), b.perSecond(), c.perSecond());
        ours2.add(a);
        theirs2.add(b);
        bare2.add(c);
    }
    Rate theirs1 = timed(1, slice, theirs);
    if (vt_peak < self_before) {
        std::printf("(vipsthumbnail's peak RSS may be overstated: this process had %ld MB)\n",
                    self_before / 1024);
    }

    std::printf("rows: photos fully processed per second (320 and 1280 px wide, WebP and JPEG, "
                "Q 80, no metadata); ours = images::process in one process, one libvips thread "
                "per photo, 2 decodes per photo (one per width) plus the stripped original; "
                "vipsthumbnail = 4 processes per photo (one per rendition, each decoding), "
                "--vips-concurrency=1\n");
    std::printf("  %-44s %7.2f photos/s  (%llu in %.1f s)  peak RSS %ld MB\n",
                "ours, 2 threads (= the cores)", ours2.perSecond(),
                static_cast<unsigned long long>(ours2.photos), ours2.seconds, peak2 / 1024);
    std::printf("  %-44s %7.2f photos/s  (%llu in %.1f s)  peak RSS %ld MB per process\n",
                "vipsthumbnail, 2 parallel workers", theirs2.perSecond(),
                static_cast<unsigned long long>(theirs2.photos), theirs2.seconds, vt_peak / 1024);
    std::printf("  ratio ours/vipsthumbnail (2 workers): %.2fx (above 1: faster than the reference)\n",
                ours2.perSecond() / std::max(theirs2.perSecond(), 1e-9));
    std::printf("  %-44s %7.2f photos/s  (%llu in %.1f s)\n",
                "libvips vips_thumbnail in process, 2 threads", bare2.perSecond(),
                static_cast<unsigned long long>(bare2.photos), bare2.seconds);
    std::printf("  ratio ours/in-process libvips: %.2fx (vipsthumbnail's work without its process "
                "starts: 4 decodes per photo against our 2)\n",
                ours2.perSecond() / std::max(bare2.perSecond(), 1e-9));
    std::printf("  %-44s %7.2f photos/s  (%llu in %.1f s)  peak RSS %ld MB\n", "ours, 1 thread",
                ours1.perSecond(), static_cast<unsigned long long>(ours1.photos), ours1.seconds,
                peak1 / 1024);
    std::printf("  %-44s %7.2f photos/s  (%llu in %.1f s)\n", "vipsthumbnail, 1 worker",
                theirs1.perSecond(), static_cast<unsigned long long>(theirs1.photos),
                theirs1.seconds);
    std::printf("  ratio ours/vipsthumbnail (1 worker): %.2fx\n",
                ours1.perSecond() / std::max(theirs1.perSecond(), 1e-9));
    std::printf("  memory: ours %ld MB before any photo, about %ld MB more per photo in flight; "
                "vipsthumbnail starts in %.0f ms (4 starts per photo)\n",
                rss_idle / 1024, (peak2 - rss_idle) / 2 / 1024, vt_start_ms);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string mode = argc > 1 ? argv[1] : "";
        if (mode == "sample" && argc >= 3) {
            return sample(argv[2], argc > 3 ? static_cast<std::uint32_t>(std::stoul(argv[3])) : 1,
                          argc > 5 ? std::stoi(argv[4]) : 4000, argc > 5 ? std::stoi(argv[5]) : 3000);
        }
        if (mode == "run" && argc >= 4) {
            const double slice = argc > 4 ? std::stod(argv[4]) : 5;
            const int rounds = argc > 5 ? std::stoi(argv[5]) : 3;
            const char* vt = std::getenv("VIPSTHUMBNAIL");
            return run(argv[2], argv[3], slice, rounds, vt != nullptr ? vt : "vipsthumbnail");
        }
        std::fprintf(stderr,
                     "usage: image_bench sample OUT.jpg [SEED [WIDTH HEIGHT]]\n"
                     "       image_bench run PHOTO.jpg WORK_DIR [SLICE_SECONDS] [ROUNDS]\n");
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "image_bench: %s\n", e.what());
        return 1;
    }
}
