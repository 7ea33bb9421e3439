// The blob store on the local filesystem: one file per object, written by rename.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "blob_store.hpp"
#include "restinu/rt/digest.hpp"
#include "restinu/rt/worker_pool.hpp"

namespace restinu::property::images {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kTypeSuffix = "#type";  // '#' is never in a key
constexpr std::string_view kDefaultType = "application/octet-stream";

[[noreturn]] void fail(const std::string& what, const std::string& path, int error) {
    throw BlobStoreError("local blob store: " + what + " " + path + ": " + std::strerror(error), 0,
                         "", false);
}

// A file descriptor, closed at the end of its scope.
class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    // Closes now, reporting what close() says (a write error may only show here).
    int close() { return ::close(std::exchange(fd_, -1)); }

private:
    int fd_;
};

void writeAll(int fd, const char* data, std::size_t size, const std::string& path) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail("cannot write", path, errno);
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
}

// Reads `size` bytes from `offset`; fewer only when the file is shorter.
std::string readAt(int fd, std::uint64_t offset, std::uint64_t size, const std::string& path) {
    std::string out(size, '\0');
    std::size_t got = 0;
    while (got < out.size()) {
        const ssize_t n =
            ::pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(offset + got));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail("cannot read", path, errno);
        }
        if (n == 0) {
            break;
        }
        got += static_cast<std::size_t>(n);
    }
    out.resize(got);
    return out;
}

void syncDir(const std::string& dir) {
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
        fail("cannot sync the folder", dir, errno);
    }
}

// Writes `tmp` (a new file) from `fill`, synced to disk, then renames it to `final_path`. On
// any failure nothing is left under either name.
template <class Fill>
void writeAtomically(const std::string& tmp, const std::string& final_path, Fill fill) {
    try {
        Fd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
        if (out.get() < 0) {
            fail("cannot create", tmp, errno);
        }
        fill(out.get());
        if (::fsync(out.get()) != 0) {
            fail("cannot sync", tmp, errno);
        }
        if (out.close() != 0) {
            fail("cannot write", tmp, errno);
        }
        if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
            fail("cannot rename to " + final_path, tmp, errno);
        }
    } catch (...) {
        ::unlink(tmp.c_str());
        throw;
    }
}

class LocalBlobStore final : public BlobStore {
public:
    LocalBlobStore(std::string root, rt::WorkerPool& io) : root_(std::move(root)), io_(io) {}

    rt::Task<void> put(std::string key, std::string file_path, std::string content_type) override {
        checkKey(key);
        auto job = [this, key, file_path, content_type] { putNow(key, file_path, content_type); };
        co_await io_.run(std::move(job));
    }

    rt::Task<std::optional<Blob>> get(std::string key, std::optional<ByteRange> range) override {
        checkKey(key);
        if (range && range->last < range->first) {
            throw std::invalid_argument("blob range: last before first");
        }
        auto job = [this, key, range] { return getNow(key, range); };
        co_return co_await io_.run(std::move(job));
    }

    rt::Task<bool> exists(std::string key) override {
        checkKey(key);
        auto job = [this, key] {
            struct stat st {};
            const auto path = dataPath(key);
            if (::stat(path.c_str(), &st) == 0) {
                return S_ISREG(st.st_mode);
            }
            if (errno != ENOENT && errno != ENOTDIR) {
                fail("cannot stat", path, errno);
            }
            return false;
        };
        co_return co_await io_.run(std::move(job));
    }

    rt::Task<void> remove(std::string key) override {
        checkKey(key);
        auto job = [this, key] {
            // The data first: without it the object is gone, whatever happens to the type.
            for (const auto& path : {dataPath(key), dataPath(key) + std::string(kTypeSuffix)}) {
                if (::unlink(path.c_str()) != 0 && errno != ENOENT && errno != ENOTDIR) {
                    fail("cannot remove", path, errno);
                }
            }
        };
        co_await io_.run(std::move(job));
    }

private:
    std::string folder(const std::string& key) const {
        return root_ + "/" + key.substr(0, std::min<std::size_t>(2, key.size()));
    }
    std::string dataPath(const std::string& key) const { return folder(key) + "/" + key; }

    // A name in the key's folder that no key and no other writer has.
    std::string tempPath(const std::string& key, std::string_view what) const {
        std::string name = folder(key) + "/" + key + "#" + std::string(what) + ".";
        rt::appendRandomHex(name, 16);
        return name;
    }

    void putNow(const std::string& key, const std::string& file_path,
                const std::string& content_type) const {
        const auto dir = folder(key);
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec) {
            fail("cannot create the folder", dir, ec.value());
        }
        Fd in(::open(file_path.c_str(), O_RDONLY | O_CLOEXEC));
        if (in.get() < 0) {
            fail("cannot open", file_path, errno);
        }
        const auto path = dataPath(key);
        // The type before the data: once the data is there, so is its type.
        writeAtomically(tempPath(key, "type"), path + std::string(kTypeSuffix), [&](int fd) {
            writeAll(fd, content_type.data(), content_type.size(), path);
        });
        writeAtomically(tempPath(key, "data"), path, [&](int fd) {
            std::string buffer(std::size_t{1} << 20, '\0');
            std::uint64_t total = 0;
            for (;;) {
                const ssize_t n = ::read(in.get(), buffer.data(), buffer.size());
                if (n < 0 && errno == EINTR) {
                    continue;
                }
                if (n < 0) {
                    fail("cannot read", file_path, errno);
                }
                if (n == 0) {
                    break;
                }
                total += static_cast<std::uint64_t>(n);
                if (total > kMaxBlobBytes) {
                    fail("too large (more than " + std::to_string(kMaxBlobBytes) + " bytes):",
                         file_path, EFBIG);
                }
                writeAll(fd, buffer.data(), static_cast<std::size_t>(n), path);
            }
        });
        syncDir(dir);
    }

    std::optional<Blob> getNow(const std::string& key, std::optional<ByteRange> range) const {
        const auto path = dataPath(key);
        Fd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (in.get() < 0) {
            if (errno == ENOENT || errno == ENOTDIR) {
                return std::nullopt;
            }
            fail("cannot open", path, errno);
        }
        struct stat st {};
        if (::fstat(in.get(), &st) != 0) {
            fail("cannot stat", path, errno);
        }
        Blob blob;
        blob.total_size = static_cast<std::uint64_t>(st.st_size);
        std::uint64_t last = blob.total_size == 0 ? 0 : blob.total_size - 1;
        if (range) {
            if (range->first >= blob.total_size) {
                throw RangeNotSatisfiable(blob.total_size);
            }
            blob.first = range->first;
            last = std::min(range->last, last);
        }
        if (blob.total_size > 0) {
            if (last - blob.first + 1 > kMaxBlobBytes) {
                fail("too large to read:", path, EFBIG);
            }
            blob.bytes = readAt(in.get(), blob.first, last - blob.first + 1, path);
        }
        blob.content_type = readType(path + std::string(kTypeSuffix));
        return blob;
    }

    static std::string readType(const std::string& path) {
        Fd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (in.get() < 0) {
            if (errno == ENOENT) {
                return std::string(kDefaultType);  // removed by a remove() running now
            }
            fail("cannot open", path, errno);
        }
        auto type = readAt(in.get(), 0, 256, path);
        return type.empty() ? std::string(kDefaultType) : type;
    }

    std::string root_;
    rt::WorkerPool& io_;
};

}  // namespace

BlobStorePtr localBlobStore(std::string root_dir, rt::WorkerPool& io) {
    if (root_dir.empty()) {
        throw std::invalid_argument("local blob store: no folder given");
    }
    while (root_dir.size() > 1 && root_dir.back() == '/') {
        root_dir.pop_back();
    }
    return std::make_unique<LocalBlobStore>(std::move(root_dir), io);
}

}  // namespace restinu::property::images
