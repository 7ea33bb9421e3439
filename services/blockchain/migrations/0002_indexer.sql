-- The indexer (docs/blockchain.md, "Indexer"): the contracts it follows, the chain as it last saw
-- it, and one table per kind of effect. Every effect row names the block (number and hash) and
-- the log (its index in the block) it came from: UNIQUE (block_hash, log_index) applies a log
-- once, and a reorg is undone by deleting the rows above the common ancestor. Addresses and
-- hashes are 0x lower-case hex; token amounts numeric(78,0) (up to 2^256 - 1).

-- What to follow. `from_block`: where its logs start (its deployment block). A contract watched
-- after the indexer passed `from_block` is backfilled: [backfill_from, backfill_to] is the range
-- of indexed blocks whose logs of this contract are still to be applied (NULL: none).
CREATE TABLE chain_watched (
    address       text   PRIMARY KEY CHECK (address ~ '^0x[0-9a-f]{40}$'),
    kind          text   NOT NULL CHECK (kind IN ('deed', 'shares', 'registry')),
    property_id   uuid,
    from_block    bigint NOT NULL CHECK (from_block >= 0),
    backfill_from bigint,
    backfill_to   bigint,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- The indexed canonical chain as the indexer last saw it, each block linked to its parent.
-- `events_emitted`: its effects' events are in the outbox (once it was `confirmations` deep).
CREATE TABLE chain_blocks (
    number         bigint  PRIMARY KEY,
    hash           text    NOT NULL UNIQUE,
    parent_hash    text    NOT NULL,
    events_emitted boolean NOT NULL DEFAULT false,
    indexed_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chain_blocks_unemitted_idx ON chain_blocks (number) WHERE NOT events_emitted;

-- Deeds minted (a Transfer from the zero address on a deed contract); `uri` as tokenURI said.
CREATE TABLE chain_deeds_minted (
    contract     text          NOT NULL,
    token_id     numeric(78,0) NOT NULL,
    owner        text          NOT NULL,
    uri          text,
    block_number bigint        NOT NULL,
    block_hash   text          NOT NULL,
    log_index    integer       NOT NULL,
    tx_hash      text          NOT NULL,
    UNIQUE (block_hash, log_index)
);
CREATE INDEX chain_deeds_minted_block_idx ON chain_deeds_minted (block_number);

-- Every move of a deed, the mint included; the owner is the `to_address` of the latest.
CREATE TABLE chain_deed_transfers (
    contract     text          NOT NULL,
    token_id     numeric(78,0) NOT NULL,
    from_address text          NOT NULL,
    to_address   text          NOT NULL,
    block_number bigint        NOT NULL,
    block_hash   text          NOT NULL,
    log_index    integer       NOT NULL,
    tx_hash      text          NOT NULL,
    UNIQUE (block_hash, log_index)
);
CREATE INDEX chain_deed_transfers_token_idx ON chain_deed_transfers (contract, token_id);
CREATE INDEX chain_deed_transfers_block_idx ON chain_deed_transfers (block_number);

-- Every share Transfer (a mint comes from the zero address). A holding is
-- SUM(amount to the holder) - SUM(amount from the holder).
CREATE TABLE chain_share_transfers (
    contract     text          NOT NULL,
    from_address text          NOT NULL,
    to_address   text          NOT NULL,
    amount       numeric(78,0) NOT NULL,
    block_number bigint        NOT NULL,
    block_hash   text          NOT NULL,
    log_index    integer       NOT NULL,
    tx_hash      text          NOT NULL,
    UNIQUE (block_hash, log_index)
);
CREATE INDEX chain_share_transfers_to_idx ON chain_share_transfers (to_address, contract);
CREATE INDEX chain_share_transfers_from_idx ON chain_share_transfers (from_address, contract);
CREATE INDEX chain_share_transfers_block_idx ON chain_share_transfers (block_number);

-- RentDeposited(by, amount, magnifiedPerShare).
CREATE TABLE chain_rent_deposits (
    contract     text          NOT NULL,
    by_address   text          NOT NULL,
    amount       numeric(78,0) NOT NULL,
    block_number bigint        NOT NULL,
    block_hash   text          NOT NULL,
    log_index    integer       NOT NULL,
    tx_hash      text          NOT NULL,
    UNIQUE (block_hash, log_index)
);
CREATE INDEX chain_rent_deposits_block_idx ON chain_rent_deposits (block_number);

-- RentClaimed(holder, amount).
CREATE TABLE chain_rent_claims (
    contract     text          NOT NULL,
    holder       text          NOT NULL,
    amount       numeric(78,0) NOT NULL,
    block_number bigint        NOT NULL,
    block_hash   text          NOT NULL,
    log_index    integer       NOT NULL,
    tx_hash      text          NOT NULL,
    UNIQUE (block_hash, log_index)
);
CREATE INDEX chain_rent_claims_holder_idx ON chain_rent_claims (holder, contract);
CREATE INDEX chain_rent_claims_block_idx ON chain_rent_claims (block_number);

-- Recovered(lost, replacement, amount): a lost wallet's shares moved by the agent (the shares'
-- Transfer is in chain_share_transfers as well).
CREATE TABLE chain_recoveries (
    contract     text          NOT NULL,
    lost         text          NOT NULL,
    replacement  text          NOT NULL,
    amount       numeric(78,0) NOT NULL,
    block_number bigint        NOT NULL,
    block_hash   text          NOT NULL,
    log_index    integer       NOT NULL,
    tx_hash      text          NOT NULL,
    UNIQUE (block_hash, log_index)
);
CREATE INDEX chain_recoveries_block_idx ON chain_recoveries (block_number);

-- IdentityRegistered / IdentityRemoved on a registry: the KYC list as the chain has it.
CREATE TABLE chain_identity_changes (
    contract     text    NOT NULL,
    wallet       text    NOT NULL,
    registered   boolean NOT NULL,
    block_number bigint  NOT NULL,
    block_hash   text    NOT NULL,
    log_index    integer NOT NULL,
    tx_hash      text    NOT NULL,
    UNIQUE (block_hash, log_index)
);
CREATE INDEX chain_identity_changes_wallet_idx ON chain_identity_changes (wallet, contract);
CREATE INDEX chain_identity_changes_block_idx ON chain_identity_changes (block_number);
