// The indexer against a real anvil and PostgreSQL: what it stores equals what the contracts say
// (balanceOf, claimedRentOf), each event is written once, a reorg made with evm_snapshot /
// evm_revert is rolled back to the common ancestor, nothing is applied twice (a pass again, a
// crash before the commit, a restart), events wait until their block is deep enough, and a
// contract watched late is backfilled.
#include "indexer_fixture.hpp"

namespace restinu::blockchain::indexer_testing {
namespace {

TEST_F(IndexerTest, TablesAndHoldingsEqualTheChainAndEachEventIsWrittenOnce) {
    auto p = deployPlatform();
    watchAll(p);
    registerIdentity(p, alice_->address());
    registerIdentity(p, bob_->address());
    const std::string cid = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
    call(*op_, p.deed, "mint(address,uint256,string)",
         {abi::Value::address(treasury_->address()), abi::Value::uint(42), abi::Value::bytes(cid)});
    transferShares(p, *treasury_, alice_->address(), 300);
    transferShares(p, *alice_, bob_->address(), 100);
    call(*op_, p.payment, "mint(address,uint256)",
         {abi::Value::address(op_->address()), abi::Value::uint(1'000'000)});
    call(*op_, p.payment, "approve(address,uint256)",
         {abi::Value::address(p.shares), abi::Value::uint(100'001)});
    call(*op_, p.shares, "depositRent(uint256)", {abi::Value::uint(100'001)});
    call(*alice_, p.shares, "claimRent()", {});

    indexer(1);
    auto pass = catchUp();
    EXPECT_EQ(pass.rolled_back, 0);
    EXPECT_EQ(reorgs(), 0u);

    for (const auto* who : {treasury_.get(), alice_.get(), bob_.get()}) {
        EXPECT_EQ(indexedBalance(p, who->address()), balanceOf(p, who->address()))
            << who->address().lower();
    }
    EXPECT_EQ(indexedBalance(p, alice_->address()), U256(200));
    auto holdings = run(IndexerStore::holdings(*pool_, bob_->address().lower()));
    ASSERT_EQ(holdings.size(), 1u);
    EXPECT_EQ(holdings[0].property_id, std::string(kPropertyId));

    EXPECT_EQ(count("SELECT count(*) FROM chain_deeds_minted WHERE contract = $1 AND token_id = 42 "
                    "AND owner = $2 AND uri = $3",
                    {p.deed.lower(), treasury_->address().lower(), "ipfs://" + cid}),
              1);
    EXPECT_EQ(count("SELECT count(*) FROM chain_share_transfers"), 3);  // mint + 2 transfers
    EXPECT_EQ(count("SELECT count(*) FROM chain_rent_deposits WHERE amount = 100001"), 1);
    const auto claimed =
        viewUint(p.shares, "claimedRentOf(address)", {abi::Value::address(alice_->address())});
    EXPECT_GT(claimed, U256(0));
    EXPECT_EQ(run(IndexerStore::rentClaimed(*pool_, alice_->address().lower(), p.shares.lower())),
              claimed);
    // The registry's list: the treasury, Alice and Bob.
    EXPECT_EQ(count("SELECT count(*) FROM chain_identity_changes WHERE registered"), 3);
    // Every stored block links to the one below it.
    EXPECT_EQ(count("SELECT count(*) FROM chain_blocks b JOIN chain_blocks c "
                    "ON c.number = b.number - 1 WHERE b.parent_hash <> c.hash"),
              0);

    EXPECT_EQ(outbox("deed.minted"), 1);
    EXPECT_EQ(outbox("shares.transferred"), 3);
    EXPECT_EQ(outbox("rent.deposited"), 1);
    EXPECT_EQ(outbox("dividend.claimed"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM restinu_outbox WHERE type = 'dividend.claimed' "
                    "AND data->>'amount' = $1 AND data->>'holder' = $2 AND aggregate_id = $3",
                    {eth::decimal(claimed), alice_->address().lower(), p.shares.lower()}),
              1);
}

TEST_F(IndexerTest, AReorgIsRolledBackToTheCommonAncestorAndTheNewChainApplied) {
    auto p = deployPlatform();
    watchAll(p);
    registerIdentity(p, alice_->address());
    registerIdentity(p, bob_->address());
    indexer(3);
    catchUp();

    const auto snapshot = rpc("evm_snapshot");
    auto dropped = transferShares(p, *treasury_, alice_->address(), 50);
    catchUp();
    EXPECT_EQ(indexedBalance(p, alice_->address()), U256(50));
    const std::string dropped_block(dropped.at("blockHash").as_string());

    ASSERT_TRUE(rpc("evm_revert", {snapshot}).as_bool());
    // The other fork, as long as the one indexed: only the hash at the head tells them apart.
    transferShares(p, *treasury_, bob_->address(), 70);
    auto pass = catchUp();
    EXPECT_EQ(pass.rolled_back, 1);
    EXPECT_EQ(reorgs(), 1u);
    // Then longer.
    rpc("anvil_mine", {json::value("0x2")});
    catchUp();

    EXPECT_EQ(count("SELECT count(*) FROM chain_blocks WHERE hash = $1", {dropped_block}), 0);
    EXPECT_EQ(
        count("SELECT count(*) FROM chain_share_transfers WHERE block_hash = $1", {dropped_block}),
        0);
    EXPECT_EQ(indexedBalance(p, alice_->address()), U256(0));
    EXPECT_EQ(indexedBalance(p, bob_->address()), U256(70));
    for (const auto* who : {treasury_.get(), alice_.get(), bob_.get()}) {
        EXPECT_EQ(indexedBalance(p, who->address()), balanceOf(p, who->address()));
    }
    EXPECT_EQ(count("SELECT count(*) FROM (SELECT block_number, log_index FROM "
                    "chain_share_transfers GROUP BY 1, 2 HAVING count(*) > 1) d"),
              0);
    // The dropped transfer was never 3 deep: no event of it ever went out; the new one did.
    EXPECT_EQ(count("SELECT count(*) FROM restinu_outbox WHERE type = 'shares.transferred' "
                    "AND data->>'to' = $1",
                    {alice_->address().lower()}),
              0);
    EXPECT_EQ(count("SELECT count(*) FROM restinu_outbox WHERE type = 'shares.transferred' "
                    "AND data->>'to' = $1 AND data->>'amount' = '70'",
                    {bob_->address().lower()}),
              1);
    EXPECT_EQ(reorgs(), 1u);

    // A longer fork: the next block's parentHash is not the stored tip's hash.
    const auto again = rpc("evm_snapshot");
    auto dropped2 = transferShares(p, *bob_, alice_->address(), 7);
    catchUp();
    EXPECT_EQ(indexedBalance(p, alice_->address()), U256(7));
    ASSERT_TRUE(rpc("evm_revert", {again}).as_bool());
    transferShares(p, *bob_, alice_->address(), 3);
    transferShares(p, *treasury_, alice_->address(), 4);
    pass = catchUp();
    EXPECT_EQ(pass.rolled_back, 1);
    EXPECT_EQ(reorgs(), 2u);
    EXPECT_EQ(count("SELECT count(*) FROM chain_share_transfers WHERE block_hash = $1",
                    {std::string(dropped2.at("blockHash").as_string())}),
              0);
    for (const auto* who : {treasury_.get(), alice_.get(), bob_.get()}) {
        EXPECT_EQ(indexedBalance(p, who->address()), balanceOf(p, who->address()));
    }
    EXPECT_EQ(indexedBalance(p, alice_->address()), U256(7));  // 3 + 4 on the new fork
}

TEST_F(IndexerTest, NothingIsAppliedTwiceAfterACrashARepeatedPassOrARestart) {
    auto p = deployPlatform();
    watchAll(p);
    registerIdentity(p, alice_->address());
    transferShares(p, *treasury_, alice_->address(), 10);

    indexer(1).failBeforeCommitForTest();
    EXPECT_THROW(run(indexer_->runOnce()), std::runtime_error);
    EXPECT_EQ(count("SELECT count(*) FROM chain_blocks"), 0) << "nothing of the failed pass stays";
    EXPECT_EQ(count("SELECT count(*) FROM chain_share_transfers"), 0);

    catchUp();
    const auto blocks = count("SELECT count(*) FROM chain_blocks");
    EXPECT_EQ(count("SELECT count(*) FROM chain_share_transfers"), 2);
    EXPECT_EQ(outbox("shares.transferred"), 2);

    auto again = run(indexer_->runOnce());
    EXPECT_EQ(again.blocks, 0);
    EXPECT_EQ(again.logs, 0);
    EXPECT_EQ(again.events, 0);
    indexer(1);  // a restart: a new indexer on the same tables
    catchUp();
    EXPECT_EQ(count("SELECT count(*) FROM chain_blocks"), blocks);

    // The same logs stored again (a pass that read them twice) are refused by their key.
    std::function<rt::Task<int>(rt::PgConn&)> reapply = [](rt::PgConn& tx) -> rt::Task<int> {
        auto r = co_await tx.query(
            "SELECT contract, from_address, to_address, amount::text AS amount, block_number, "
            "block_hash, log_index, tx_hash FROM chain_share_transfers");
        int fresh = 0;
        for (std::size_t i = 0; i < r.rows(); ++i) {
            IndexedLog log{
                std::string(r.get(i, 0)),
                r.getInt(i, 4),
                std::string(r.get(i, 5)),
                r.getInt(i, 6),
                std::string(r.get(i, 7)),
                ShareTransferLog{*Address::parse(r.get(i, 1)), *Address::parse(r.get(i, 2)),
                                 *eth::parseDecimal(r.get(i, 3))},
                std::nullopt,
                std::nullopt};
            const bool inserted = co_await IndexerStore::insertLog(tx, log);
            fresh += inserted ? 1 : 0;
        }
        co_return fresh;
    };
    EXPECT_EQ(run(pool_->transaction(std::move(reapply))), 0);
    EXPECT_EQ(count("SELECT count(*) FROM chain_share_transfers"), 2);
    EXPECT_EQ(outbox("shares.transferred"), 2);
    EXPECT_EQ(indexedBalance(p, alice_->address()), balanceOf(p, alice_->address()));
}

TEST_F(IndexerTest, EventsWaitUntilTheirBlockIsConfirmationsDeep) {
    auto p = deployPlatform();
    watchAll(p);
    registerIdentity(p, alice_->address());
    rpc("anvil_mine", {json::value("0x2")});  // the setup's blocks 3 deep
    indexer(3);
    catchUp();
    EXPECT_EQ(outbox("shares.transferred"), 1);  // the mint to the treasury

    transferShares(p, *treasury_, alice_->address(), 5);
    catchUp();
    EXPECT_EQ(indexedBalance(p, alice_->address()), U256(5)) << "indexed at once";
    EXPECT_EQ(outbox("shares.transferred"), 1) << "1 deep";
    rpc("evm_mine");
    catchUp();
    EXPECT_EQ(outbox("shares.transferred"), 1) << "2 deep";
    rpc("evm_mine");
    catchUp();
    EXPECT_EQ(outbox("shares.transferred"), 2) << "3 deep";
    EXPECT_EQ(count("SELECT count(*) FROM chain_blocks WHERE NOT events_emitted"), 2);
}

TEST_F(IndexerTest, AContractWatchedAfterTheIndexerPassedItIsBackfilled) {
    auto p = deployPlatform();
    watch(p.registry, ContractKind::Registry, std::nullopt, p.first_block);
    registerIdentity(p, alice_->address());
    transferShares(p, *treasury_, alice_->address(), 25);
    indexer(1);
    catchUp();
    EXPECT_EQ(indexedBalance(p, alice_->address()), U256(0)) << "not watched yet";

    watch(p.shares, ContractKind::Shares, std::string(kPropertyId), p.first_block);
    catchUp();
    EXPECT_EQ(indexedBalance(p, alice_->address()), U256(25));
    EXPECT_EQ(indexedBalance(p, treasury_->address()), balanceOf(p, treasury_->address()));
    EXPECT_EQ(outbox("shares.transferred"), 2) << "published blocks: their events go out now";
    EXPECT_EQ(count("SELECT count(*) FROM chain_watched WHERE backfill_from IS NOT NULL"), 0);
    transferShares(p, *alice_, treasury_->address(), 5);
    catchUp();
    EXPECT_EQ(indexedBalance(p, alice_->address()), U256(20));
}

TEST_F(IndexerTest, TheBackgroundLoopFollowsTheChainUntilStopped) {
    auto p = deployPlatform();
    watchAll(p);
    registerIdentity(p, alice_->address());
    transferShares(p, *treasury_, alice_->address(), 9);
    indexer(1).start();
    for (int i = 0; i < 200 && indexedBalance(p, alice_->address()) != U256(9); ++i) {
        io_.restart();
        io_.run_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(indexedBalance(p, alice_->address()), U256(9));
    indexer_->stop();
    io_.restart();
    io_.run_for(std::chrono::milliseconds(50));
    transferShares(p, *treasury_, alice_->address(), 1);
    io_.restart();
    io_.run_for(std::chrono::milliseconds(700));
    EXPECT_EQ(indexedBalance(p, alice_->address()), U256(9)) << "stopped: nothing indexed";
    EXPECT_EQ(run(indexer_->runOnce()).blocks, 1);
    EXPECT_EQ(indexedBalance(p, alice_->address()), U256(10));
}

}  // namespace
}  // namespace restinu::blockchain::indexer_testing
