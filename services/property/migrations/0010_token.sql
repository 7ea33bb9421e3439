-- A tokenized listing's deed and shares (docs/blockchain.md, "Tokenize"), from the blockchain
-- service's property.tokenized: {deed_contract, token_id, shares_contract, symbol, total_shares,
-- price_per_share: {amount, currency}, metadata_uri}, or NULL.
ALTER TABLE properties ADD COLUMN token jsonb;
