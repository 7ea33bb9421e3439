// The load of bench/mixed_bench.sh: users' traffic through the gateway. Each connection sends
// one request at a time (keep-alive), each request as the next of many logged-in users, drawn
// from a mix of kinds; popular listings and searches come from Zipf distributions over large
// spaces, and a share of every search kind is drawn uniformly from a space no cache can hold.
// Prints, per kind and in all: requests, requests/s, p50 and p99 latency, and non-2xx answers.
//
//   mixed_load PORT TOKENS_FILE LISTING_IDS_FILE SECONDS CONNECTIONS MIX UNIFORM_PERCENT
//   MIX: e.g. listing=45,filtered=30,text=10,radius=10,profile=5
#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

enum Kind { Listing, Filtered, Text, Radius, Profile, kKinds };
constexpr std::array<const char*, kKinds> kKindNames{"listing", "filtered", "text", "radius",
                                                     "profile"};

struct City {
    const char* name;
    double lat, lng;
};
// The seed's cities (services/property/src/seed_data.cpp), with their centres.
constexpr City kCities[] = {
    {"Mumbai", 19.0760, 72.8777},
    {"Bengaluru", 12.9716, 77.5946},
    {"Delhi", 28.6139, 77.2090},
    {"Hyderabad", 17.3850, 78.4867},
    {"Pune", 18.5204, 73.8567},
    {"Chennai", 13.0827, 80.2707},
    {"Gurugram", 28.4595, 77.0266},
    {"Noida", 28.5355, 77.3910},
    {"Kolkata", 22.5726, 88.3639},
    {"Ahmedabad", 23.0225, 72.5714},
    {"Kochi", 9.9312, 76.2673},
    {"Goa", 15.4909, 73.8278},
    {"Chandigarh", 30.7333, 76.7794},
    {"Jaipur", 26.9124, 75.7873},
    {"Lucknow", 26.8467, 80.9462},
    {"Indore", 22.7196, 75.8577},
    {"Surat", 21.1702, 72.8311},
    {"Nagpur", 21.1458, 79.0882},
    {"Coimbatore", 11.0168, 76.9558},
    {"Visakhapatnam", 17.6868, 83.2185},
    {"Thiruvananthapuram", 8.5241, 76.9366},
    {"Bhubaneswar", 20.2961, 85.8245},
    {"Mysuru", 12.2958, 76.6394},
    {"Vadodara", 22.3072, 73.1812},
};
constexpr int kCityCount = static_cast<int>(std::size(kCities));
constexpr const char* kWords[] = {
    "sea view",        "lake view",     "terrace garden",  "modular kitchen", "corner unit",
    "private pool",    "home theatre",  "solar panels",    "italian marble",  "duplex layout",
    "large balcony",   "pet friendly",  "fully furnished", "ready to move",   "power backup",
    "gated community", "jogging track", "study room",      "courtyard",       "high ceilings"};
constexpr int kWordCount = static_cast<int>(std::size(kWords));

// Zipf over ranks 0..n-1 with exponent s: P(k) ∝ 1/(k+1)^s.
class Zipf {
public:
    Zipf(std::size_t n, double s) : cdf_(n) {
        double sum = 0;
        for (std::size_t k = 0; k < n; ++k) {
            sum += 1.0 / std::pow(static_cast<double>(k + 1), s);
            cdf_[k] = sum;
        }
        for (auto& c : cdf_) {
            c /= sum;
        }
    }
    template <class Rng>
    std::size_t operator()(Rng& rng) const {
        double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
        return static_cast<std::size_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) -
                                        cdf_.begin());
    }

private:
    std::vector<double> cdf_;
};

struct Load {
    std::vector<std::string> tokens;
    std::vector<std::string> listing_ids;
    std::array<int, kKinds> weights{};
    int uniform_percent = 20;
    std::string host_header;
};

// Price bands in paise: 20 lakh to 10 crore rupees, log-spaced; widths as multiples.
constexpr std::array<double, 10> kPriceFrom{2e8, 3e8, 5e8, 7.5e8, 1e9, 1.5e9, 2e9, 3e9, 5e9, 7e9};
constexpr std::array<double, 6> kPriceWidth{1.25, 1.5, 2.0, 3.0, 5.0, 10.0};

class Targets {
public:
    Targets(const Load& load, std::uint32_t seed)
        : load_(load),
          rng_(seed),
          listings_(load.listing_ids.size(), 0.9),
          filtered_(std::size_t{kCityCount} * kPriceFrom.size() * kPriceWidth.size() * 4 * 2, 0.9),
          text_(std::size_t{kWordCount} * (kCityCount + 1), 0.9),
          radius_(std::size_t{kCityCount} * 64 * 3, 0.9) {
        // Which combination is popular: a fixed shuffle, the same in every run.
        std::mt19937 shuffle(12345);
        filtered_order_.resize(std::size_t{kCityCount} * kPriceFrom.size() * kPriceWidth.size() *
                               8);
        text_order_.resize(std::size_t{kWordCount} * (kCityCount + 1));
        radius_order_.resize(std::size_t{kCityCount} * 64 * 3);
        for (auto* order : {&filtered_order_, &text_order_, &radius_order_}) {
            for (std::size_t i = 0; i < order->size(); ++i) {
                (*order)[i] = i;
            }
            std::shuffle(order->begin(), order->end(), shuffle);
        }
    }

    Kind kind() {
        int total = 0;
        for (int w : load_.weights) {
            total += w;
        }
        int roll = std::uniform_int_distribution<int>(0, total - 1)(rng_);
        for (int k = 0; k < kKinds; ++k) {
            roll -= load_.weights[static_cast<std::size_t>(k)];
            if (roll < 0) {
                return static_cast<Kind>(k);
            }
        }
        return Listing;
    }

    /// The next request of kind `k`; `uniform` says whether it came from the uniform share.
    std::string target(Kind k, bool& uniform) {
        uniform = std::uniform_int_distribution<int>(0, 99)(rng_) < load_.uniform_percent;
        switch (k) {
            case Listing: {
                auto i = uniform ? std::uniform_int_distribution<std::size_t>(
                                       0, load_.listing_ids.size() - 1)(rng_)
                                 : listings_(rng_);
                return "/api/v1/properties/" + load_.listing_ids[i];
            }
            case Filtered:
                return uniform ? uniformFiltered() : filtered(filtered_order_[filtered_(rng_)]);
            case Text:
                return uniform ? uniformText() : text(text_order_[text_(rng_)]);
            case Radius:
                return uniform ? uniformRadius() : radius(radius_order_[radius_(rng_)]);
            case Profile:
            case kKinds:
                break;
        }
        return "/api/v1/users/me";
    }

private:
    static std::string price(double paise) { return std::to_string(static_cast<long long>(paise)); }
    static std::string filteredTarget(int city, double from, double to, int bedrooms, bool newest) {
        return std::string("/api/v1/properties?city=") + kCities[city].name +
               "&min_price=" + price(from) + "&max_price=" + price(to) +
               "&min_bedrooms=" + std::to_string(bedrooms) +
               (newest ? "&sort=newest" : "&sort=price_asc") + "&limit=20";
    }
    std::string filtered(std::size_t c) {
        const auto sort = c % 2;
        c /= 2;
        const auto bedrooms = 1 + static_cast<int>(c % 4);
        c /= 4;
        const auto width = kPriceWidth[c % kPriceWidth.size()];
        c /= kPriceWidth.size();
        const auto from = kPriceFrom[c % kPriceFrom.size()];
        c /= kPriceFrom.size();
        return filteredTarget(static_cast<int>(c), from, from * width, bedrooms, sort == 0);
    }
    std::string uniformFiltered() {
        // Prices to the rupee: ~10^9 ranges per city, none asked twice.
        const int city = std::uniform_int_distribution<int>(0, kCityCount - 1)(rng_);
        const double from = std::uniform_real_distribution<double>(1e8, 8e9)(rng_);
        const double width = std::uniform_real_distribution<double>(1.2, 6.0)(rng_);
        const int bedrooms = std::uniform_int_distribution<int>(1, 4)(rng_);
        const bool newest = std::uniform_int_distribution<int>(0, 1)(rng_) == 0;
        return filteredTarget(city, std::floor(from / 100) * 100,
                              std::floor(from * width / 100) * 100, bedrooms, newest);
    }
    static std::string words(const char* w) {
        std::string out;
        for (const char* p = w; *p != '\0'; ++p) {
            out += *p == ' ' ? '+' : *p;
        }
        return out;
    }
    std::string text(std::size_t c) {
        const auto word = c % kWordCount;
        const auto city = static_cast<int>(c / kWordCount) - 1;  // -1: all of India
        std::string t = "/api/v1/properties?q=" + words(kWords[word]) + "&sort=relevance&limit=20";
        return city < 0 ? t : t + "&city=" + kCities[city].name;
    }
    std::string uniformText() {
        const int city = std::uniform_int_distribution<int>(0, kCityCount - 1)(rng_);
        const int word = std::uniform_int_distribution<int>(0, kWordCount - 1)(rng_);
        const double to = std::uniform_real_distribution<double>(5e8, 9e9)(rng_);
        return "/api/v1/properties?q=" + words(kWords[word]) +
               "&sort=relevance&limit=20&city=" + kCities[city].name +
               "&max_price=" + price(std::floor(to / 100) * 100);
    }
    static std::string radiusTarget(double lat, double lng, double km) {
        char buf[160];
        std::snprintf(buf, sizeof buf,
                      "/api/v1/properties?near=%.5f,%.5f&radius_km=%g&sort=distance&limit=20", lat,
                      lng, km);
        return buf;
    }
    std::string radius(std::size_t c) {
        constexpr std::array<double, 3> kKm{2, 5, 10};
        const double km = kKm[c % 3];
        c /= 3;
        const auto cell = static_cast<int>(c % 64);  // an 8 × 8 grid, 2 km apart, on the centre
        const auto& city = kCities[c / 64];
        return radiusTarget(city.lat + (cell / 8 - 3.5) * 0.018,
                            city.lng + (cell % 8 - 3.5) * 0.018, km);
    }
    std::string uniformRadius() {
        const auto& city = kCities[std::uniform_int_distribution<int>(0, kCityCount - 1)(rng_)];
        std::uniform_real_distribution<double> off(-0.08, 0.08);
        return radiusTarget(city.lat + off(rng_), city.lng + off(rng_),
                            std::uniform_real_distribution<double>(1.0, 8.0)(rng_));
    }

    const Load& load_;
    std::mt19937 rng_;
    Zipf listings_;
    Zipf filtered_;
    Zipf text_;
    Zipf radius_;
    std::vector<std::size_t> filtered_order_;
    std::vector<std::size_t> text_order_;
    std::vector<std::size_t> radius_order_;
};

struct Stats {
    std::array<std::vector<std::uint32_t>, kKinds> micros;          // latencies of 2xx/304 answers
    std::array<std::vector<std::uint32_t>, kKinds> uniform_micros;  // of the uniform share
    std::array<std::map<int, std::uint64_t>, kKinds> errors;        // status → count (0: I/O)
};

// Appends what the socket has to `buf`; false when the connection broke.
net::awaitable<bool> readMore(tcp::socket& s, std::string& buf) {
    char chunk[16384];
    auto [ec, n] =
        co_await s.async_read_some(net::buffer(chunk), net::as_tuple(net::use_awaitable));
    if (!ec) {
        buf.append(chunk, n);
    }
    co_return !ec;
}

// Reads one response (Content-Length bodies, as the gateway sends them); returns its status,
// or 0 when the connection broke.
net::awaitable<int> readResponse(tcp::socket& s, std::string& buf) {
    std::size_t header_end;
    while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
        if (!co_await readMore(s, buf)) {
            co_return 0;
        }
    }
    int status = std::atoi(buf.c_str() + 9);
    std::size_t length = 0;
    auto lower = buf.substr(0, header_end);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (auto at = lower.find("\r\ncontent-length:"); at != std::string::npos) {
        length = std::strtoull(lower.c_str() + at + 17, nullptr, 10);
    }
    const std::size_t total = header_end + 4 + length;
    while (buf.size() < total) {
        if (!co_await readMore(s, buf)) {
            co_return 0;
        }
    }
    buf.erase(0, total);
    co_return status;
}

net::awaitable<void> connection(int index, int connections, const Load& load, unsigned short port,
                                Clock::time_point until, Stats& stats) {
    auto ex = co_await net::this_coro::executor;
    Targets targets(load, static_cast<std::uint32_t>(1000 + index));
    tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
    tcp::socket s(ex);
    std::string buf;
    std::size_t turn = 0;
    while (Clock::now() < until) {
        if (!s.is_open()) {
            buf.clear();
            auto [ec] = co_await s.async_connect(ep, net::as_tuple(net::use_awaitable));
            if (ec) {
                s.close();
                continue;
            }
            s.set_option(tcp::no_delay(true));
        }
        // The connection speaks for the next of its users each time: at most one request of a
        // user in flight, and every user's limits in play.
        const auto user =
            (static_cast<std::size_t>(index) + turn++ * connections) % load.tokens.size();
        const auto& token = load.tokens[user];
        // Each user from an address of their own, as the load balancer in front of the gateway
        // says (it is trusted): the address the user logged in from (bench/mixed_bench.sh).
        const auto n = user + 1;
        const std::string address = "10." + std::to_string(n / 65536 % 256) + "." +
                                    std::to_string(n / 256 % 256) + "." + std::to_string(n % 256);
        const Kind kind = targets.kind();
        bool uniform = false;
        std::string req = "GET " + targets.target(kind, uniform) +
                          " HTTP/1.1\r\nHost: " + load.host_header + "\r\nAuthorization: Bearer " +
                          token + "\r\nX-Forwarded-For: " + address +
                          "\r\nAccept: application/json\r\n\r\n";
        const auto started = Clock::now();
        auto [wec, wn] =
            co_await net::async_write(s, net::buffer(req), net::as_tuple(net::use_awaitable));
        int status = wec ? 0 : co_await readResponse(s, buf);
        const auto took =
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
        if (status == 0) {
            s.close();
        }
        if (status >= 200 && status < 400) {
            stats.micros[kind].push_back(static_cast<std::uint32_t>(took.count()));
            if (uniform) {
                stats.uniform_micros[kind].push_back(static_cast<std::uint32_t>(took.count()));
            }
        } else {
            ++stats.errors[kind][status];
        }
    }
}

std::vector<std::string> lines(const char* path) {
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) {
        if (!l.empty()) {
            out.push_back(l);
        }
    }
    return out;
}

double percentile(std::vector<std::uint32_t>& v, double p) {
    if (v.empty()) {
        return 0;
    }
    auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k] / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 8) {
        std::cerr << "usage: mixed_load PORT TOKENS LISTING_IDS SECONDS CONNECTIONS MIX UNIFORM%\n";
        return 2;
    }
    const auto port = static_cast<unsigned short>(std::atoi(argv[1]));
    Load load;
    load.tokens = lines(argv[2]);
    load.listing_ids = lines(argv[3]);
    const int seconds = std::atoi(argv[4]);
    const int connections = std::atoi(argv[5]);
    load.uniform_percent = std::atoi(argv[7]);
    load.host_header = "127.0.0.1:" + std::to_string(port);
    std::string mix = argv[6];
    for (std::size_t at = 0; at < mix.size();) {
        auto comma = mix.find(',', at);
        auto part = mix.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        auto eq = part.find('=');
        for (int k = 0; k < kKinds; ++k) {
            if (part.substr(0, eq) == kKindNames[static_cast<std::size_t>(k)]) {
                load.weights[static_cast<std::size_t>(k)] = std::atoi(part.c_str() + eq + 1);
            }
        }
        at = comma == std::string::npos ? mix.size() : comma + 1;
    }
    if (load.tokens.empty() || load.listing_ids.empty()) {
        std::cerr << "mixed_load: no tokens or no listing ids\n";
        return 2;
    }
    net::io_context io(1);
    Stats stats;
    const auto started = Clock::now();
    const auto until = started + std::chrono::seconds(seconds);
    for (int i = 0; i < connections; ++i) {
        net::co_spawn(io, connection(i, connections, load, port, until, stats), net::detached);
    }
    io.run();
    const double secs = std::chrono::duration<double>(Clock::now() - started).count();

    std::vector<std::uint32_t> all;
    std::uint64_t all_errors = 0;
    std::printf("%-9s %9s %9s %8s %8s  %s\n", "kind", "requests", "req/s", "p50 ms", "p99 ms",
                "not 2xx/304");
    for (int k = 0; k < kKinds; ++k) {
        auto& v = stats.micros[static_cast<std::size_t>(k)];
        std::uint64_t errors = 0;
        std::string detail;
        for (auto [status, n] : stats.errors[static_cast<std::size_t>(k)]) {
            errors += n;
            detail += (detail.empty() ? "" : ", ") + std::to_string(n) + "×" +
                      (status == 0 ? std::string("io") : std::to_string(status));
        }
        if (v.empty() && errors == 0) {
            continue;
        }
        all.insert(all.end(), v.begin(), v.end());
        all_errors += errors;
        std::printf("%-9s %9zu %9.0f %8.1f %8.1f  %s\n", kKindNames[static_cast<std::size_t>(k)],
                    v.size() + errors, static_cast<double>(v.size() + errors) / secs,
                    percentile(v, 0.50), percentile(v, 0.99),
                    detail.empty() ? "0" : detail.c_str());
    }
    // The searches no cache can help: drawn uniformly from spaces far larger than any cache.
    for (int k = Filtered; k <= Radius; ++k) {
        auto& v = stats.uniform_micros[static_cast<std::size_t>(k)];
        if (!v.empty()) {
            std::printf("%-9s %9zu %9.0f %8.1f %8.1f  (the uniform share of %s)\n", " uniform",
                        v.size(), static_cast<double>(v.size()) / secs, percentile(v, 0.50),
                        percentile(v, 0.99), kKindNames[static_cast<std::size_t>(k)]);
        }
    }
    const double rate = static_cast<double>(all.size() + all_errors) / secs;
    std::printf("%-9s %9zu %9.0f %8.1f %8.1f  %llu\n", "all", all.size() + all_errors, rate,
                percentile(all, 0.50), percentile(all, 0.99),
                static_cast<unsigned long long>(all_errors));
    auto& f = stats.micros[Filtered];
    auto& fu = stats.uniform_micros[Filtered];
    std::printf(
        "RESULT rate=%.0f p99=%.1f errors=%llu filtered_p99=%.1f filtered_uniform_p99=%.1f\n", rate,
        percentile(all, 0.99), static_cast<unsigned long long>(all_errors), percentile(f, 0.99),
        percentile(fu, 0.99));
    return 0;
}
