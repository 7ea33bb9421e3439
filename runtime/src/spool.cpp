#include "restinu/rt/spool.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "restinu/rt/digest.hpp"
#include "restinu/rt/worker_pool.hpp"

namespace restinu::rt {

namespace {
std::atomic<std::uint64_t> g_spooled{0};
std::atomic<std::uint64_t> g_budget{std::uint64_t{1} << 30};
}  // namespace

void SpooledBody::setBudget(std::uint64_t bytes) {
    g_budget.store(bytes, std::memory_order_relaxed);
}

std::uint64_t SpooledBody::spooledBytes() {
    return g_spooled.load(std::memory_order_relaxed);
}

WorkerPool& fileIo() {
    // Never destroyed: loop threads may still await a job while statics are torn down.
    static auto* const pool = new WorkerPool(2);
    return *pool;
}

struct SpooledBody::Hash {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Hash() { EVP_MD_CTX_free(ctx); }
    Hash(const Hash&) = delete;
    Hash& operator=(const Hash&) = delete;
    Hash() {
        if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
            throw std::runtime_error("spool: cannot start a SHA-256");
        }
    }
};

std::shared_ptr<SpooledBody> SpooledBody::create(const std::string& dir) {
    auto where = dir.empty() ? std::filesystem::temp_directory_path().string() : dir;
    std::shared_ptr<SpooledBody> body(new SpooledBody());
    // An anonymous file: nothing to clean up after a crash. A file system without O_TMPFILE
    // gets a named file, unlinked at once.
    body->fd_ = ::open(where.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (body->fd_ < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
        std::string name = where + "/restinu-spool-XXXXXX";
        body->fd_ = ::mkostemp(name.data(), O_CLOEXEC);
        if (body->fd_ >= 0) {
            ::unlink(name.c_str());
        }
    }
    if (body->fd_ < 0) {
        throw std::system_error(errno, std::generic_category(),
                                "cannot create a spool file in " + where);
    }
    body->hash_ = std::make_unique<Hash>();
    return body;
}

SpooledBody::~SpooledBody() {
    g_spooled.fetch_sub(size_, std::memory_order_relaxed);
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

void SpooledBody::append(std::string_view data) {
    const auto before = g_spooled.fetch_add(data.size(), std::memory_order_relaxed);
    if (before + data.size() > g_budget.load(std::memory_order_relaxed)) {
        g_spooled.fetch_sub(data.size(), std::memory_order_relaxed);
        throw SpoolFull("the uploads in progress hold the spool budget (" +
                        std::to_string(g_budget.load(std::memory_order_relaxed)) + " bytes)");
    }
    size_ += data.size();  // counted from here: the destructor gives it back whatever happens
    const char* p = data.data();
    std::size_t left = data.size();
    while (left > 0) {
        auto n = ::write(fd_, p, left);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw std::system_error(errno, std::generic_category(), "cannot write a spool file");
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    EVP_DigestUpdate(hash_->ctx, data.data(), data.size());
}

void SpooledBody::finish() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(hash_->ctx, digest, &len);
    sha256_ = toHex({reinterpret_cast<const char*>(digest), len});
    hash_.reset();
}

std::string SpooledBody::read(std::uint64_t offset, std::size_t n) const {
    std::string out(n, '\0');
    std::size_t got = 0;
    while (got < n) {
        auto r = ::pread(fd_, out.data() + got, n - got, static_cast<off_t>(offset + got));
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw std::system_error(errno, std::generic_category(), "cannot read a spool file");
        }
        if (r == 0) {
            break;
        }
        got += static_cast<std::size_t>(r);
    }
    out.resize(got);
    return out;
}

Task<void> SpooledBody::appendAsync(std::string data) {
    auto job = [this, data = std::move(data)] { append(data); };
    co_await fileIo().run(std::move(job));
}

std::string SpooledBody::path() const {
    return "/proc/self/fd/" + std::to_string(fd_);
}

}  // namespace restinu::rt
