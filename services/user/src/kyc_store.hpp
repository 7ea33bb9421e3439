#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "restinu/rt/task.hpp"
#include "write_context.hpp"

namespace restinu::rt {
class PgConn;
class PgPool;
}  // namespace restinu::rt

/// The KYC aggregate (table kyc, one row per user): its SQL, row mapping and events. The
/// document number is stored sealed (kyc_vault.hpp) and as a keyed fingerprint; only its
/// masked form is ever read back.
namespace restinu::user {

struct KycRecord {
    std::string user_id;
    std::string status;  ///< pending, approved or rejected
    std::string document_type;
    std::string document_masked;
    std::string full_name;
    std::string date_of_birth;
    std::string submitted_at;
    std::optional<std::string> decided_at;
    std::optional<std::string> rejection_reason;
    std::string submitted_key;  ///< submitted_at in the database's own text form, for cursors
};

struct KycSubmission {
    std::string user_id;
    std::string document_type;
    std::string sealed_hex;
    std::string masked;
    std::string full_name;
    std::string date_of_birth;  ///< YYYY-MM-DD
    std::string fingerprint_hex;
};

struct KycQueue {
    std::string status = "pending";
    std::optional<std::string> after_submitted;  ///< the cursor: the last row's submitted_key
    std::optional<std::string> after_user;       ///< and its user id
    std::int64_t limit = 50;
};

enum class KycSubmitted { Submitted, AlreadyPending, AlreadyApproved, DocumentInUse };
enum class KycDecided { Decided, NotPending, NotSubmitted };

class KycStore {
public:
    explicit KycStore(rt::PgPool& pool) : pool_(pool) {}

    rt::Task<std::optional<KycRecord>> find(const std::string& user_id);
    /// A review queue: oldest submission first.
    rt::Task<std::vector<KycRecord>> list(const KycQueue& q);

    /// A new submission, or one after a rejection (never over a pending or approved one), with
    /// its user.kyc.submitted event and audit row, in a transaction of its own.
    rt::Task<KycSubmitted> submit(const KycSubmission& s, const WriteContext& ctx);

    /// Approves or rejects a pending submission (re-checking, in the same transaction, that
    /// the deciding admin still is one: NotAdmin otherwise) with its event and audit row.
    enum class Decision { Approve, Reject };
    rt::Task<std::optional<KycDecided>> decide(const std::string& user_id, Decision decision,
                                               const std::string& reason, const WriteContext& ctx);

private:
    rt::PgPool& pool_;
};

}  // namespace restinu::user
