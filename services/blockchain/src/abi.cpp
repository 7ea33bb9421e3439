#include "abi.hpp"

#include <charconv>
#include <optional>

#include "keccak.hpp"

namespace restinu::blockchain::eth::abi {
namespace {

// A parsed type.
struct Type {
    enum Kind { Uint, Int, Addr, Bool, FixedBytes, Bytes, String, DynArray, FixedArray };
    Type(Kind k, std::size_t n = 0) : kind(k), size(n) {}  // NOLINT(google-explicit-constructor)
    Kind kind;
    std::size_t size = 0;       // bits (uint, int), bytes (bytesN), length (T[k])
    std::vector<Type> element;  // one, for arrays

    bool dynamic() const {
        return kind == Bytes || kind == String || kind == DynArray ||
               (kind == FixedArray && element[0].dynamic());
    }
    // The bytes it takes in a tuple's head.
    std::size_t headSize() const {
        if (dynamic()) {
            return 32;
        }
        return kind == FixedArray ? size * element[0].headSize() : 32;
    }
};

std::optional<std::size_t> number(std::string_view s) {
    std::size_t n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty() || s[0] == '0') {
        return std::nullopt;
    }
    return n;
}

Type parseType(std::string_view t) {
    if (!t.empty() && t.back() == ']') {
        const auto open = t.rfind('[');
        if (open == std::string_view::npos) {
            throw AbiError("bad type: " + std::string(t));
        }
        Type a(Type::DynArray);
        const auto inner = t.substr(open + 1, t.size() - open - 2);
        if (!inner.empty()) {
            auto k = number(inner);
            if (!k || *k > 4096) {
                throw AbiError("bad array length: " + std::string(t));
            }
            a.kind = Type::FixedArray;
            a.size = *k;
        }
        a.element.push_back(parseType(t.substr(0, open)));
        return a;
    }
    if (t == "address") {
        return {Type::Addr};
    }
    if (t == "bool") {
        return {Type::Bool};
    }
    if (t == "bytes") {
        return {Type::Bytes};
    }
    if (t == "string") {
        return {Type::String};
    }
    for (auto [prefix, kind] : {std::pair{std::string_view("uint"), Type::Uint},
                                std::pair{std::string_view("int"), Type::Int}}) {
        if (t.substr(0, prefix.size()) == prefix) {
            auto bits = t.size() == prefix.size() ? std::optional<std::size_t>(256)
                                                  : number(t.substr(prefix.size()));
            if (!bits || *bits == 0 || *bits > 256 || *bits % 8 != 0) {
                throw AbiError("bad type: " + std::string(t));
            }
            return {kind, *bits};
        }
    }
    if (t.substr(0, 5) == "bytes") {
        auto n = number(t.substr(5));
        if (!n || *n > 32) {
            throw AbiError("bad type: " + std::string(t));
        }
        return {Type::FixedBytes, *n};
    }
    throw AbiError("unsupported type: " + std::string(t));
}

std::string padRight(std::string_view b) {
    std::string out(b);
    out.resize((b.size() + 31) / 32 * 32, '\0');
    return out;
}

U256 maxOf(std::size_t bits) {
    return bits == 256 ? std::numeric_limits<U256>::max() : (U256(1) << bits) - 1;
}

std::string encodeTuple(const std::vector<Type>& types, const std::vector<Value>& values);

std::string encodeOne(const Type& t, const Value& v) {
    switch (t.kind) {
        case Type::Uint:
            if (v.asUint() > maxOf(t.size)) {
                throw AbiError("value does not fit uint" + std::to_string(t.size));
            }
            return toBigEndian(v.asUint());
        case Type::Int:  // two's complement already; the caller keeps it in range
            return toBigEndian(v.asUint());
        case Type::Addr:
            return toBigEndian(fromBigEndian(v.asAddress().bytes()));
        case Type::Bool:
            return toBigEndian(U256(v.asBool() ? 1 : 0));
        case Type::FixedBytes:
            if (v.asBytes().size() != t.size) {
                throw AbiError("bytes" + std::to_string(t.size) + " needs exactly that many bytes");
            }
            return padRight(v.asBytes());
        case Type::Bytes:
        case Type::String:
            return toBigEndian(U256(v.asBytes().size())) + padRight(v.asBytes());
        case Type::DynArray:
        case Type::FixedArray: {
            const auto& items = v.asArray();
            if (t.kind == Type::FixedArray && items.size() != t.size) {
                throw AbiError("fixed array of " + std::to_string(t.size) + " got " +
                               std::to_string(items.size()));
            }
            std::vector<Type> types(items.size(), t.element[0]);
            auto body = encodeTuple(types, items);
            return t.kind == Type::DynArray ? toBigEndian(U256(items.size())) + body : body;
        }
    }
    throw AbiError("unreachable");
}

std::string encodeTuple(const std::vector<Type>& types, const std::vector<Value>& values) {
    if (types.size() != values.size()) {
        throw AbiError(std::to_string(types.size()) + " types but " +
                       std::to_string(values.size()) + " values");
    }
    std::size_t head_size = 0;
    for (const auto& t : types) {
        head_size += t.headSize();
    }
    std::string head;
    std::string tail;
    for (std::size_t i = 0; i < types.size(); ++i) {
        auto enc = encodeOne(types[i], values[i]);
        if (types[i].dynamic()) {
            head += toBigEndian(U256(head_size + tail.size()));
            tail += enc;
        } else {
            head += enc;
        }
    }
    return head + tail;
}

// Decoding: `data` is the whole encoding of the enclosing tuple, `at` where the item's head is.
struct Reader {
    std::string_view data;

    std::string_view word(std::size_t at) const {
        if (at > data.size() || data.size() - at < 32) {
            throw AbiError("data ends inside a word");
        }
        return data.substr(at, 32);
    }
    std::size_t offset(std::size_t at) const {
        const U256 v = fromBigEndian(word(at));
        if (v > data.size()) {
            throw AbiError("offset past the end of the data");
        }
        return static_cast<std::size_t>(v);
    }
};

std::vector<Value> decodeTuple(const std::vector<Type>& types, std::string_view data);

Value decodeStatic(const Type& t, std::string_view w) {
    const U256 n = fromBigEndian(w);
    switch (t.kind) {
        case Type::Uint:
            if (n > maxOf(t.size)) {
                throw AbiError("value too large for uint" + std::to_string(t.size));
            }
            return Value::uint(n);
        case Type::Int:
            return Value::uint(n);
        case Type::Addr:
            if (n > maxOf(160)) {
                throw AbiError("an address with non-zero high bytes");
            }
            return Value::address(*Address::fromBytes(w.substr(12)));
        case Type::Bool:
            if (n > 1) {
                throw AbiError("a bool that is neither 0 nor 1");
            }
            return Value::boolean(n == 1);
        case Type::FixedBytes:
            if (w.substr(t.size).find_first_not_of('\0') != std::string_view::npos) {
                throw AbiError("bytes" + std::to_string(t.size) + " with non-zero padding");
            }
            return Value::bytes(std::string(w.substr(0, t.size)));
        default:
            throw AbiError("not a static type");
    }
}

Value decodeOne(const Type& t, std::string_view data, std::size_t at) {
    const Reader r{data};
    switch (t.kind) {
        case Type::Bytes:
        case Type::String: {
            const auto start = r.offset(at);
            const U256 len = fromBigEndian(r.word(start));
            if (len > data.size() - start - 32) {
                throw AbiError("bytes longer than the data");
            }
            return Value::bytes(
                std::string(data.substr(start + 32, static_cast<std::size_t>(len))));
        }
        case Type::DynArray: {
            const auto start = r.offset(at);
            const U256 count = fromBigEndian(r.word(start));
            const auto body = data.substr(start + 32);
            const auto each = t.element[0].headSize();
            if (count > body.size() / each) {
                throw AbiError("an array longer than the data");
            }
            std::vector<Type> types(static_cast<std::size_t>(count), t.element[0]);
            return Value::array(decodeTuple(types, body));
        }
        case Type::FixedArray: {
            std::vector<Type> types(t.size, t.element[0]);
            if (t.dynamic()) {
                return Value::array(decodeTuple(types, data.substr(r.offset(at))));
            }
            if (at > data.size() || data.size() - at < t.headSize()) {
                throw AbiError("data ends inside an array");
            }
            return Value::array(decodeTuple(types, data.substr(at, t.headSize())));
        }
        default:
            return decodeStatic(t, r.word(at));
    }
}

std::vector<Value> decodeTuple(const std::vector<Type>& types, std::string_view data) {
    std::vector<Value> out;
    out.reserve(types.size());
    std::size_t at = 0;
    for (const auto& t : types) {
        out.push_back(decodeOne(t, data, at));
        at += t.headSize();
    }
    return out;
}

std::vector<Type> parseAll(const std::vector<std::string>& types) {
    std::vector<Type> out;
    out.reserve(types.size());
    for (const auto& t : types) {
        out.push_back(parseType(t));
    }
    return out;
}

}  // namespace

const U256& Value::asUint() const {
    if (const auto* p = std::get_if<U256>(&v)) {
        return *p;
    }
    throw AbiError("expected a number");
}
const Address& Value::asAddress() const {
    if (const auto* p = std::get_if<Address>(&v)) {
        return *p;
    }
    throw AbiError("expected an address");
}
bool Value::asBool() const {
    if (const auto* p = std::get_if<bool>(&v)) {
        return *p;
    }
    throw AbiError("expected a bool");
}
const std::string& Value::asBytes() const {
    if (const auto* p = std::get_if<std::string>(&v)) {
        return *p;
    }
    throw AbiError("expected bytes");
}
const Value::Array& Value::asArray() const {
    if (const auto* p = std::get_if<Array>(&v)) {
        return *p;
    }
    throw AbiError("expected an array");
}

std::string selector(std::string_view signature) {
    return keccak256(signature).substr(0, 4);
}

std::string eventTopic(std::string_view signature) {
    return keccak256(signature);
}

std::vector<std::string> parameterTypes(std::string_view signature) {
    const auto open = signature.find('(');
    if (open == std::string_view::npos || signature.back() != ')') {
        throw AbiError("bad signature: " + std::string(signature));
    }
    const auto inner = signature.substr(open + 1, signature.size() - open - 2);
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < inner.size()) {
        auto comma = inner.find(',', start);
        if (comma == std::string_view::npos) {
            comma = inner.size();
        }
        out.emplace_back(inner.substr(start, comma - start));
        start = comma + 1;
    }
    return out;
}

std::string encode(const std::vector<std::string>& types, const std::vector<Value>& values) {
    return encodeTuple(parseAll(types), values);
}

std::string encodeCall(std::string_view signature, const std::vector<Value>& args) {
    return selector(signature) + encode(parameterTypes(signature), args);
}

std::vector<Value> decode(const std::vector<std::string>& types, std::string_view data) {
    return decodeTuple(parseAll(types), data);
}

Value decodeTopic(std::string_view type, std::string_view topic) {
    const auto t = parseType(type);
    if (t.dynamic() || t.kind == Type::FixedArray || topic.size() != 32) {
        throw AbiError("a topic holds one static value of 32 bytes");
    }
    return decodeStatic(t, topic);
}

}  // namespace restinu::blockchain::eth::abi
